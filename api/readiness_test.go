package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/diskcheck/smallfs"
	"github.com/anpr-portal/anpr/internal/identity/dextest"
	"github.com/anpr-portal/anpr/internal/proc"
)

// /readyz tells the truth about the identity provider: while nothing answers at the issuer the
// portal is not ready, saying that discovery fails, and every other check is ok; once the
// provider starts, without a restart of the portal, it is ready.
func TestReadyzFollowsTheIdentityProvider(t *testing.T) {
	addr := freePort(t)
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d/dex", port)
	secret := "readiness-test-secret"
	p := servePortal(t, addr, issuer, secret, portalOptions{})
	defer p.stop()

	code, checks, err := p.readyz(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(checks["identity"], "discovery") || !strings.Contains(checks["identity"], issuer) {
		t.Fatalf("readyz with the identity provider down: %d %v, want 503 naming its discovery", code, checks)
	}
	for _, name := range []string{"store", "audit", "disk", "ingest_writer"} {
		if checks[name] != "ok" {
			t.Errorf("readyz check %s = %q with only the identity provider down", name, checks[name])
		}
	}

	dextest.Start(t, dextest.Options{Port: port, ClientSecret: secret, RedirectURIs: []string{"http://" + addr + "/auth/callback"}})
	p.waitReadyz(t, "ready once the identity provider runs", func(code int, checks map[string]string) bool {
		return code == http.StatusOK && checks["identity"] == "ok"
	})
}

// With readiness.require_identity_provider, serve refuses to start while the provider is down,
// and says why.
func TestServeRequiringTheIdentityProviderExits(t *testing.T) {
	env := map[string]string{"ANPR_DATA_DIR": t.TempDir(), "ANPR_LOG_LEVEL": "error", "ANPR_LISTEN": freePort(t),
		"ANPR_IDENTITY_ISSUER": noIdP, "ANPR_IDENTITY_CLIENT_ID": "anpr-portal",
		"ANPR_READINESS_REQUIRE_IDENTITY_PROVIDER": "true"}
	if out, err := run(t, env, "audit", "keys", "init"); err != nil {
		t.Fatalf("audit keys init: %v\n%s", err, out)
	}
	// serve must return on its own; if it served instead (the setting ignored), /readyz answers
	// and the test stops it and fails.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served, serveErr := goServe(ctx)
	p := &portal{base: "http://" + env["ANPR_LISTEN"]}
	wctx, wcancel := context.WithTimeout(ctx, proc.WaitCap)
	defer wcancel()
	if err := proc.WaitUntil(wctx, served, 50*time.Millisecond, func(ctx context.Context) error {
		_, _, err := p.readyz(ctx)
		return err
	}); err == nil {
		cancel()
		<-served
		t.Fatal("serve started with the required identity provider down")
	}
	<-served
	if err := *serveErr; err == nil || !strings.Contains(err.Error(), noIdP) || !strings.Contains(err.Error(), "require_identity_provider") {
		t.Fatalf("serve with the required identity provider down: %v", err)
	}
}

// /readyz tells the truth about the disk: on a real small filesystem (a tmpfs in the test's own
// mount namespace) that fills up, the portal becomes not ready with "disk full" while the stores
// still answer reads, and ready again once space is freed.
func TestReadyzReportsAFullDisk(t *testing.T) {
	dir := smallfs.Run(t, 96<<20)
	if dir == "" {
		return // the child ran the test
	}
	p := servePortal(t, freePort(t), noIdP, "", portalOptions{dataDir: filepath.Join(dir, "data"),
		env: map[string]string{"ANPR_READINESS_MIN_FREE_BYTES": fmt.Sprint(8 << 20)}})
	defer p.stop()
	filler, err := smallfs.Fill(dir)
	if err != nil {
		t.Fatal(err)
	}
	code, checks, err := p.readyz(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(checks["disk"], "disk full") {
		t.Fatalf("readyz with the data disk full: %d %v, want 503 saying disk full", code, checks)
	}
	if checks["store"] != "ok" {
		t.Errorf("the store check follows the disk (%q): it should say whether reads can be served", checks["store"])
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	p.waitReadyz(t, "the disk writable again", func(_ int, checks map[string]string) bool { return checks["disk"] == "ok" })
}
