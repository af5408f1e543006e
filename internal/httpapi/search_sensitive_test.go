package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/httpapi"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/policies"
)

// searchServer is the harness's stack with a real search service wired in.
func searchServer(t *testing.T) (*harness, *httptest.Server) {
	t.Helper()
	h := newHarness(t, 4)
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := search.New(search.Deps{Reads: h.store, Audit: h.auditLog, Authz: az, Now: time.Now}, search.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := httpapi.New(httpapi.Deps{
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Store: h.store, Registry: httpapi.NewRegistry(),
		Ingest: &httpapi.IngestService{Writer: h.writer}, Identity: h.ident, Authz: az, Audit: h.auditLog,
		Reviewer: audit.Reviewer{Log: h.auditLog}, Transparency: audit.NewTransparency(nil), Search: svc,
	})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return h, srv
}

// The new search routes through the real stack: each request and response is validated against
// api/openapi.yaml. The caller is a camera feed's API key (no search role), so every well-formed
// search is refused by the policy (403, audited) and malformed ones are refused as bad input (400)
// before any decision; the camera list answers any signed-in caller.
func TestSensitiveSearchRoutesMatchSpec(t *testing.T) {
	doc := loadSpec(t)
	h, srv := searchServer(t)
	doc.Servers = openapi3.Servers{{URL: srv.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	from, to := time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339), time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	reason := `"reason":{"purpose":"stolen_vehicle","case_ref":"MPS/12345/26","offence_code":"TH68010","justification":"vehicle reported stolen from a driveway overnight and seen heading north on the A406"}`
	win := `"from":"` + from + `","to":"` + to + `",`
	circle := `"area":{"centre":[51.5,-0.3],"radius_m":1000},`
	places := `"places":[{"cameras":["CAM1"],` + win[:len(win)-1] + `},{"area":{"polygon":[[51.5,-0.31],[51.5,-0.29],[51.51,-0.29]]},` + win[:len(win)-1] + `}],`
	bearer := map[string]string{"Authorization": "Bearer " + h.key}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"area refused", "POST", "/api/v1/searches/area", `{"cameras":["CAM1"],` + win + reason + `}`, 403, httpapi.CodeForbidden},
		{"area polygon crossing itself", "POST", "/api/v1/searches/area", `{"area":{"polygon":[[51.5,-0.31],[51.51,-0.29],[51.5,-0.29],[51.51,-0.31]]},` + win + reason + `}`, 400, httpapi.CodeBadRequest},
		{"exact with area", "POST", "/api/v1/searches/exact", `{"vrm":"AB12CDE",` + circle + win + reason + `}`, 400, httpapi.CodeBadRequest}, // no camera inside
		{"convoy refused", "POST", "/api/v1/searches/convoy", `{"vrm":"AB12CDE","within_seconds":120,"min_cameras":2,` + win + reason + `,"authority_id":"auth-1"}`, 403, httpapi.CodeForbidden},
		{"convoy K=1", "POST", "/api/v1/searches/convoy", `{"vrm":"AB12CDE","within_seconds":120,"min_cameras":1,` + win + reason + `}`, 400, httpapi.CodeBadRequest},
		{"multi-location refused", "POST", "/api/v1/searches/multi-location", `{"places":[{"cameras":["CAM1"],` + win[:len(win)-1] + `},{"cameras":["CAM1"],` + win[:len(win)-1] + `}],` + reason + `}`, 403, httpapi.CodeForbidden},
		{"multi-location area without camera", "POST", "/api/v1/searches/multi-location", `{` + places + reason + `}`, 400, httpapi.CodeBadRequest},
		{"histogram refused", "POST", "/api/v1/searches/exact/histogram", `{"vrm":"AB12CDE","interval":"hour",` + win + reason + `}`, 403, httpapi.CodeForbidden},
		{"convoy histogram refused", "POST", "/api/v1/searches/convoy/histogram", `{"vrm":"AB12CDE","within_seconds":60,"min_cameras":3,"interval":"day",` + win + reason + `}`, 403, httpapi.CodeForbidden},
		{"multi-location histogram refused", "POST", "/api/v1/searches/multi-location/histogram", `{"places":[{"cameras":["CAM1"],` + win[:len(win)-1] + `},{"cameras":["CAM1"],` + win[:len(win)-1] + `}],"interval":"day",` + reason + `}`, 403, httpapi.CodeForbidden},
		{"histogram bad interval", "POST", "/api/v1/searches/area/histogram", `{"cameras":["CAM1"],"interval":"week",` + win + reason + `}`, 400, httpapi.CodeBadRequest},
		{"cameras", "GET", "/api/v1/cameras", "", 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			req, err := http.NewRequestWithContext(ctx, tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			for k, v := range bearer {
				req.Header.Set(k, v)
			}
			// The bad-interval case breaks the document's enum on purpose: the server must refuse
			// it too.
			resp, body := contractCall(t, router, http.DefaultClient, req, tc.body, tc.name == "histogram bad interval")
			if resp.StatusCode != tc.status || (tc.code != "" && !bytes.Contains(body, []byte(`"code":"`+tc.code+`"`))) {
				t.Fatalf("status %d, want %d %s: %s", resp.StatusCode, tc.status, tc.code, body)
			}
			if tc.path == "/api/v1/cameras" {
				var got struct{ Cameras []struct{ ID string } }
				if err := json.Unmarshal(body, &got); err != nil || len(got.Cameras) != 1 || got.Cameras[0].ID != "CAM1" {
					t.Errorf("cameras %s: %v", body, err)
				}
			}
		})
	}
	// An unknown search type has no histogram; the camera list needs a signed-in caller.
	for path, want := range map[string]int{"/api/v1/searches/everything/histogram": 404} {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want && resp.StatusCode != 401 {
			t.Errorf("%s: status %d", path, resp.StatusCode)
		}
	}
	resp, err := http.Get(srv.URL + "/api/v1/cameras")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous camera list: %d, want 401", resp.StatusCode)
	}
}
