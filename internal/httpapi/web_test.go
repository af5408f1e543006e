package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/anpr-portal/anpr/frontend"
)

// The front end is served for page paths only: API paths keep their problem+json 404, writes to a
// page path are refused, and every page carries the strict policy (no 'unsafe-inline', no other
// origin). Works whether or not `npm run build` has run (the placeholder page stands in).
func TestWebServesPagesOutsideTheAPI(t *testing.T) {
	h := newHarness(t, 4)
	_, built := frontend.App()
	for _, tc := range []struct {
		name, method, path string
		status             int
		ctype              string // prefix
		page               bool
	}{
		{"root", "GET", "/", 200, "text/html", true},
		{"client route", "GET", "/journey/YR17KDX", 200, "text/html", true},
		{"head of a page", "HEAD", "/search", 200, "text/html", true},
		{"unknown API path", "GET", "/api/v1/nope", 404, "application/problem+json", false},
		{"bare api", "GET", "/api", 404, "application/problem+json", false},
		{"unknown auth path", "GET", "/auth/nope", 404, "application/problem+json", false},
		{"post to a page path", "POST", "/search", 404, "application/problem+json", false},
		{"missing asset", "GET", "/assets/nope-1234.js", map[bool]int{true: 404, false: 200}[built],
			map[bool]string{true: "application/problem+json", false: "text/html"}[built], !built},
		{"api route untouched", "GET", "/healthz", 200, "application/json", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, h.srv.URL+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.ctype) {
				t.Fatalf("%s %s: %d %q, want %d %q: %.200s", tc.method, tc.path, resp.StatusCode,
					resp.Header.Get("Content-Type"), tc.status, tc.ctype, body)
			}
			csp := resp.Header.Get("Content-Security-Policy")
			if !tc.page {
				if csp != "default-src 'none'; frame-ancestors 'none'" {
					t.Errorf("API answer's policy changed: %q", csp)
				}
				return
			}
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("policy %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-") || strings.Contains(csp, "http") || strings.Contains(csp, "*") {
				t.Errorf("policy %q allows inline code or another origin", csp)
			}
			for _, hdr := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy"} {
				if resp.Header.Get(hdr) == "" {
					t.Errorf("page lacks %s", hdr)
				}
			}
		})
	}
}
