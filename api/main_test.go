package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/proc"
)

// run executes the anpr CLI in-process with the given environment and returns its output.
func run(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	cmd := rootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

// Ingest from a file: a file with a few bad lines reports exactly those
// lines and stores the rest; loading it again adds nothing.
func TestCLISeedThenIngestFileTwice(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ANPR_DATA_DIR": dir, "ANPR_LOG_LEVEL": "error"}
	ndjson := filepath.Join(dir, "reads.ndjson")
	if out, err := run(t, env, "seed", "--reads", "10000", "--seed", "3", "--ndjson", ndjson, "--now", "2026-11-20T12:00:00Z"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(ndjson)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) != 10000 {
		t.Fatalf("seed wrote %d lines", len(lines))
	}
	// Spoil three lines: 5, 100 and 9000.
	lines[4] = `{"camera_id":"NOPE","vrm":"AB12CDE","seen_at":"2026-11-20T08:00:00Z"}`
	lines[99] = `{"vrm":"AB12CDE"`
	lines[8999] = strings.Replace(lines[8999], `"vrm":"`, `"vrm":"#`, 1)
	bad := filepath.Join(dir, "bad.ndjson")
	if err := os.WriteFile(bad, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, env, "ingest", bad)
	if err == nil || !strings.Contains(err.Error(), "3 line(s) rejected") {
		t.Fatalf("want 3 rejected, got %v\n%s", err, out)
	}
	for _, want := range []string{"line 5: unknown_camera", "line 100: malformed_json", "line 9000: invalid_vrm", "stored 9997 new"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _ = run(t, env, "ingest", bad)
	if !strings.Contains(out, "stored 0 new, 9997 already present, 3 rejected") {
		t.Fatalf("second ingest should add nothing:\n%s", out)
	}
}

// freePort is a free 127.0.0.1 address for a portal to listen on.
func freePort(t *testing.T) string {
	t.Helper()
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}

// portal is a running `anpr serve` started in-process, as make run starts it.
type portal struct {
	base   string
	env    map[string]string
	stop   func()
	served <-chan struct{} // closed when serve has returned
}

// noIdP is the issuer of tests that need no identity provider: nothing listens there, so /readyz
// reports the provider as not ready and every other check as it is.
const noIdP = "http://127.0.0.1:9/no-idp-needed"

// startPortal seeds a small store, creates the audit signing key and serves, with the IdP at
// issuer (Dex from dextest, or noIdP for machine-only tests).
func startPortal(t *testing.T, addr, issuer, secret string) *portal {
	return startPortalAfter(t, addr, issuer, secret, nil)
}

// startPortalAfter runs prepare (with the portal's environment) before serving: commands that
// write the audit log, such as apikey create, must run while no server holds it. It returns once
// /readyz says ready (with noIdP: ready but for the identity provider).
func startPortalAfter(t *testing.T, addr, issuer, secret string, prepare func(env map[string]string)) *portal {
	t.Helper()
	p := servePortal(t, addr, issuer, secret, portalOptions{prepare: prepare})
	if issuer != noIdP {
		p.waitReadyz(t, "ready", func(code int, _ map[string]string) bool { return code == http.StatusOK })
	}
	return p
}

// portalOptions vary servePortal.
type portalOptions struct {
	dataDir string            // default a new temp dir
	env     map[string]string // more settings
	prepare func(env map[string]string)
}

// servePortal seeds, serves, and returns once every /readyz check but the identity provider's
// is ok.
func servePortal(t *testing.T, addr, issuer, secret string, o portalOptions) *portal {
	t.Helper()
	dir := o.dataDir
	if dir == "" {
		dir = t.TempDir()
	}
	env := map[string]string{"ANPR_DATA_DIR": dir, "ANPR_LOG_LEVEL": "error", "ANPR_LISTEN": addr,
		"ANPR_IDENTITY_ISSUER": issuer, "ANPR_IDENTITY_CLIENT_ID": "anpr-portal", "ANPR_IDENTITY_CLIENT_SECRET": secret,
		"ANPR_IDENTITY_ALLOW_INSECURE_COOKIES": "true", "ANPR_AUDIT_CHECKPOINT_EVERY": "1"}
	maps.Copy(env, o.env)
	if out, err := run(t, env, "seed", "--reads", "10000", "--seed", "5"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	if out, err := run(t, env, "audit", "keys", "init"); err != nil {
		t.Fatalf("audit keys init: %v\n%s", err, out)
	}
	if o.prepare != nil {
		o.prepare(env)
	}
	return serveEnv(t, env)
}

// serveEnv runs `anpr serve` in-process with env (a stopped portal's, to restart it on its
// data, perhaps with other settings) and waits until it is ready.
func serveEnv(t *testing.T, env map[string]string) *portal {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	addr := env["ANPR_LISTEN"]
	ctx, cancel := context.WithCancel(context.Background())
	served, serveErr := goServe(ctx)
	p := &portal{base: "http://" + addr, env: env, served: served}
	p.stop = sync.OnceFunc(func() {
		cancel()
		select {
		case <-served:
			if *serveErr != nil {
				t.Errorf("serve returned %v", *serveErr)
			}
		case <-time.After(proc.WaitCap):
			t.Errorf("serve did not shut down within %s; goroutines:\n%s", proc.WaitCap, goroutines())
		}
	})
	p.waitReadyz(t, "ready but for the identity provider", func(_ int, checks map[string]string) bool {
		for name, v := range checks {
			if name != "identity" && v != "ok" {
				return false
			}
		}
		return len(checks) > 0
	})
	return p
}

// goServe runs `anpr serve` in this process, as a goroutine, until ctx ends: served closes when
// serve returns, which bounds every wait on it (the cap, proc.WaitCap, only catches a hang), and
// *err is then what it returned.
func goServe(ctx context.Context) (served <-chan struct{}, err *error) {
	done := make(chan struct{})
	err = new(error)
	go func() {
		defer close(done)
		cmd := rootCmd()
		cmd.SetArgs([]string{"serve"})
		cmd.SetOut(&bytes.Buffer{})
		*err = cmd.ExecuteContext(ctx)
	}()
	return done, err
}

// readyz is /readyz's status and checks.
func (p *portal) readyz(ctx context.Context) (int, map[string]string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/readyz", nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("readyz: %s: %w", resp.Status, err)
	}
	return resp.StatusCode, body.Checks, nil
}

// waitReadyz polls /readyz until ok accepts it, while serve runs (failing the test if it exits)
// and for at most proc.WaitCap.
func (p *portal) waitReadyz(t *testing.T, what string, ok func(code int, checks map[string]string) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), proc.WaitCap)
	defer cancel()
	err := proc.WaitUntil(ctx, p.served, 50*time.Millisecond, func(ctx context.Context) error {
		code, checks, err := p.readyz(ctx)
		if err != nil {
			return err
		}
		if !ok(code, checks) {
			return fmt.Errorf("readyz: %d %v", code, checks)
		}
		return nil
	})
	switch {
	case errors.Is(err, proc.ErrExited):
		p.stop() // reports serve's error
		t.Fatalf("serve exited before /readyz said %s: %v", what, err)
	case err != nil:
		stacks := goroutines()
		p.stop()
		t.Fatalf("/readyz at %s did not say %s within %s: %v; goroutines:\n%s", p.base, what, proc.WaitCap, err, stacks)
	}
}

// goroutines is every goroutine's stack: what an in-process server that hangs is doing. Its log
// is this test's own stderr.
func goroutines() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// serve comes up ready on a seeded store, takes uploads over HTTP only with an API key the
// operator issued, and shuts down cleanly on cancel.
func TestCLIServeReadyIngestAndShutdown(t *testing.T) {
	keyFile := filepath.Join(t.TempDir(), "key")
	p := startPortalAfter(t, freePort(t), noIdP, "", func(env map[string]string) {
		if out, err := run(t, env, "apikey", "create", "--name", "test back-office", "--out", keyFile); err != nil {
			t.Fatalf("apikey create: %v\n%s", err, out)
		}
	})
	// While the server writes the audit log, a second writer is refused rather than interleaved.
	if out, err := run(t, p.env, "apikey", "create", "--name", "too late"); err == nil || !strings.Contains(err.Error(), "another process is writing") {
		t.Fatalf("apikey create beside a running server: %v\n%s", err, out)
	}
	ndjson := filepath.Join(t.TempDir(), "more.ndjson")
	if out, err := run(t, p.env, "seed", "--reads", "10000", "--seed", "6", "--ndjson", ndjson); err != nil {
		t.Fatalf("seed ndjson: %v\n%s", err, out)
	}
	raw, _ := os.ReadFile(keyFile)
	key := strings.TrimSpace(string(raw))
	out, err := run(t, map[string]string{"ANPR_INGEST_API_KEY": "anpr_wrong"}, "ingest", "--server", p.base, ndjson)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong key accepted: %v\n%s", err, out)
	}
	out, err = run(t, map[string]string{"ANPR_INGEST_API_KEY": key}, "ingest", "--server", p.base, "--chunk-lines", "3000", ndjson)
	if err != nil || !strings.Contains(out, "lines 10000:") || !strings.Contains(out, "0 rejected") {
		t.Fatalf("ingest over HTTP: %v\n%s", err, out)
	}
	p.stop()
	// The key's creation was audited, and the log verifies after a clean shutdown.
	out, err = run(t, p.env, "audit", "verify")
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	out, err = run(t, p.env, "audit", "verify", "--proof", "1")
	if err != nil || !strings.Contains(out, "anpr-audit/main") {
		t.Fatalf("audit verify --proof 1: %v\n%s", err, out)
	}

	// A hand edit of the database file, as someone with file access would make it (triggers
	// dropped first), is caught and the event named.
	db, err := sql.Open("sqlite", filepath.Join(p.env["ANPR_DATA_DIR"], "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DROP TRIGGER IF EXISTS audit_events_no_update`,
		`UPDATE audit_events SET actor_name = 'someone else' WHERE seq = 1`,
	} {
		if _, err := db.Exec(q); err != nil {
			// The trigger name is the store's business; drop whatever guards the table.
			rows, _ := db.Query(`SELECT name FROM sqlite_schema WHERE type = 'trigger'`)
			var names []string
			for rows.Next() {
				var n string
				rows.Scan(&n)
				names = append(names, n)
			}
			rows.Close()
			for _, n := range names {
				db.Exec(`DROP TRIGGER ` + n)
			}
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	db.Close()
	out, err = run(t, p.env, "audit", "verify")
	if err == nil || !strings.Contains(out, "FAILED") || !strings.Contains(out, "seq 1") {
		t.Fatalf("tampered log passed or did not name event 1: %v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Log(out)
	}
}
