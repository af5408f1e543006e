package main

import (
	"context"
	"maps"
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
	// This portal has no identity provider on purpose, so /readyz is 503 for that check alone;
	// every other check (stores, audit, disk) must still be ok after the failed second start.
	_, checks, err := p.readyz(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) == 0 {
		t.Fatal("/readyz reported no checks")
	}
	for name, state := range checks {
		if name != "identity" && state != "ok" {
			t.Errorf("the running portal's %s check is no longer ok: %s (all: %v)", name, state, checks)
		}
	}
}
