package main

import (
	"maps"
	"net/http"
	"strings"
	"testing"
)

// A second serve on a data directory that a running portal holds stops with the real reason,
// after closing what it had opened; the clean-up of the failed start must not hide it (it once
// did, with a nil-pointer panic), and the running portal is unaffected.
func TestServeOnADataDirectoryInUseSaysWhy(t *testing.T) {
	p := startPortal(t, freePort(t), "http://127.0.0.1:9/no-idp-needed", "")
	defer p.stop()
	second := maps.Clone(p.env)
	second["ANPR_LISTEN"] = freePort(t)
	out, err := run(t, second, "serve")
	if err == nil {
		t.Fatalf("a second serve on %s started:\n%s", p.env["ANPR_DATA_DIR"], out)
	}
	if !strings.Contains(err.Error(), "another process is writing") {
		t.Errorf("second serve failed for another reason: %v\n%s", err, out)
	}
	if code, _ := (&browser{t: t, c: http.DefaultClient, base: p.base}).call("GET", "/readyz", ""); code != 200 {
		t.Errorf("the running portal is no longer ready: %d", code)
	}
}
