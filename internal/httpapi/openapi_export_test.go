package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Real export and image traffic, each request and response validated against the document.
func TestOpenAPIValidatesExportAndImageTraffic(t *testing.T) {
	// The library keeps body decoders in a package-level table; CSV and PNG are opaque to it.
	for _, ct := range []string{"text/csv", "image/png"} {
		if openapi3filter.RegisteredBodyDecoder(ct) == nil {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
			t.Cleanup(func() { openapi3filter.UnregisterBodyDecoder(ct) })
		}
	}
	doc := loadSpec(t)
	h := newSearchHarness(t)
	doc.Servers = openapi3.Servers{{URL: h.srv.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	imageQuery := h.reasonQuery(t, h.investigator, imageReason)
	for _, tc := range []struct {
		name, method, path, key, body string
		status                        int
	}{
		{"export", "POST", "/api/v1/exports", h.investigator, `{"type":"exact","vrm":"AB12CDE",` + window(1) + `,` + exportReason + `}`, 200},
		{"export refused", "POST", "/api/v1/exports", h.audr, `{"type":"partial","pattern":"AB12*",` + window(1) + `,` + exportReason + `}`, 403},
		{"export bad input", "POST", "/api/v1/exports", h.investigator, `{"type":"journey","vrm":"AB12CDE","limit":5,` + window(1) + `,` + exportReason + `}`, 400},
		{"patch", "GET", "/api/v1/reads/" + h.recent.ID + "/images/patch" + imageQuery, h.investigator, "", 200},
		{"overview", "GET", "/api/v1/reads/" + h.recent.ID + "/images/overview" + imageQuery, h.investigator, "", 200},
		{"no overview", "GET", "/api/v1/reads/" + h.bare.ID + "/images/overview" + imageQuery, h.investigator, "", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			req, err := http.NewRequestWithContext(ctx, tc.method, h.srv.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("Authorization", "Bearer "+tc.key)
			resp, body := contractCall(t, router, http.DefaultClient, req, tc.body, false)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, body)
			}
		})
	}
}
