package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/anpr-portal/anpr/internal/httpapi"
)

const specPath = "../../api/openapi.yaml"

// loadSpec loads and validates api/openapi.yaml (OpenAPI 3.1).
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(specPath)
	if err != nil {
		t.Fatalf("load %s: %v", specPath, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", specPath, err)
	}
	return doc
}

// specPathOf turns a gin route path into the OpenAPI template: ":id" becomes "{id}", and gin's
// escaped literal colon ("reads\:bulk") becomes a plain one.
func specPathOf(ginPath string) string {
	segs := strings.Split(ginPath, "/")
	for i, s := range segs {
		switch {
		case strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*"):
			segs[i] = "{" + s[1:] + "}"
		default:
			segs[i] = strings.ReplaceAll(s, `\:`, ":")
		}
	}
	return strings.Join(segs, "/")
}

// The document and the gin route table match both ways, and each operation's x-permission is the
// permission the route declares: a route cannot be added, removed or re-permissioned without the
// document following.
func TestOpenAPIMatchesRouteTable(t *testing.T) {
	doc := loadSpec(t)
	h := newHarness(t, 4)

	inGin := map[string]bool{}
	for _, r := range h.server.Routes() {
		key := r.Method + " " + specPathOf(r.Path)
		inGin[key] = true
		perm, ok := h.server.PermissionOf(r.Method, r.Path)
		if !ok {
			t.Errorf("%s: no declared permission", key)
			continue
		}
		item := doc.Paths.Find(specPathOf(r.Path))
		if item == nil {
			t.Errorf("%s: route missing from %s", key, specPath)
			continue
		}
		op := item.GetOperation(r.Method)
		if op == nil {
			t.Errorf("%s: method missing from %s", key, specPath)
			continue
		}
		got, _ := op.Extensions["x-permission"].(string)
		if got != perm.String() {
			t.Errorf("%s: x-permission %q, route declares %q", key, got, perm.String())
		}
	}
	var specOps []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			key := method + " " + path
			specOps = append(specOps, key)
			if !inGin[key] {
				t.Errorf("%s: in %s but not a gin route", key, specPath)
			}
		}
	}
	sort.Strings(specOps)
	if len(specOps) != len(inGin) {
		t.Errorf("%d operations in the document, %d gin routes", len(specOps), len(inGin))
	}
}

// Every problem code the server can send is in the document's enum, and nothing else is.
func TestOpenAPIProblemCodes(t *testing.T) {
	doc := loadSpec(t)
	want := []string{
		httpapi.CodeBadRequest, httpapi.CodeUnauthenticated, httpapi.CodeForbidden, httpapi.CodeNotFound,
		httpapi.CodeConflict, httpapi.CodeTooLarge, httpapi.CodeUnsupportedMedia, httpapi.CodeRateLimited,
		httpapi.CodeUnavailable, httpapi.CodeInternal,
	}
	var got []string
	for _, v := range doc.Components.Schemas["ProblemCode"].Value.Enum {
		s, _ := v.(string)
		got = append(got, s)
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("ProblemCode enum %v, server codes %v", got, want)
	}
}

// Real requests through the real stack, each request and response validated against the document.
func TestOpenAPIValidatesRealTraffic(t *testing.T) {
	// The library keeps body decoders in a package-level table; NDJSON is a string to it.
	if openapi3filter.RegisteredBodyDecoder("application/x-ndjson") == nil {
		openapi3filter.RegisterBodyDecoder("application/x-ndjson", openapi3filter.PlainBodyDecoder)
		t.Cleanup(func() { openapi3filter.UnregisterBodyDecoder("application/x-ndjson") })
	}
	doc := loadSpec(t)
	h := newHarness(t, 4)
	doc.Servers = openapi3.Servers{{URL: h.srv.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	bearer := map[string]string{"Authorization": "Bearer " + h.key}
	search := `{"vrm":"AB12CDE","from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z",` +
		`"reason":{"purpose":"investigation","case_ref":"CR/1/26","justification":"a test search"}}`

	for _, tc := range []struct {
		name, method, path, body, ctype string
		hdr                             map[string]string
		status                          []int // acceptable statuses
		code                            string
	}{
		{name: "healthz", method: "GET", path: "/healthz", status: []int{200}},
		{name: "readyz", method: "GET", path: "/readyz", status: []int{200}},
		{name: "transparency", method: "GET", path: "/api/v1/transparency", status: []int{200}},
		{name: "public keys", method: "GET", path: "/api/v1/audit/public-keys", status: []int{200}},
		{name: "ingest", method: "POST", path: "/api/v1/reads:bulk", body: ndjson(2) + "not json\n",
			ctype: "application/x-ndjson", hdr: bearer, status: []int{200}},
		{name: "ingest without key", method: "POST", path: "/api/v1/reads:bulk", body: ndjson(1),
			ctype: "application/x-ndjson", status: []int{401}, code: httpapi.CodeUnauthenticated},
		{name: "me anonymous", method: "GET", path: "/api/v1/me", status: []int{401}, code: httpapi.CodeUnauthenticated},
		{name: "admin with ingest key", method: "GET", path: "/api/v1/admin/api-keys", hdr: bearer,
			status: []int{403}, code: httpapi.CodeForbidden},
		// The harness configures no search service: the gate lets an API key through (the service
		// decides), and the route answers whatever it answers; the shape must still match.
		{name: "search with ingest key", method: "POST", path: "/api/v1/searches/exact", body: search,
			ctype: "application/json", hdr: bearer, status: []int{401, 403, 503}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			req, err := http.NewRequestWithContext(ctx, tc.method, h.srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			for k, v := range tc.hdr {
				req.Header.Set(k, v)
			}
			resp, body := contractCall(t, router, http.DefaultClient, req, tc.body, false)
			ok := false
			for _, s := range tc.status {
				ok = ok || resp.StatusCode == s
			}
			if !ok {
				t.Fatalf("status %d, want one of %v: %s", resp.StatusCode, tc.status, body)
			}
			if tc.code != "" && !bytes.Contains(body, []byte(`"code":"`+tc.code+`"`)) {
				t.Errorf("want problem code %q: %s", tc.code, body)
			}
			if resp.StatusCode >= 400 && resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("error with content type %q, want application/problem+json", resp.Header.Get("Content-Type"))
			}
		})
	}
}
