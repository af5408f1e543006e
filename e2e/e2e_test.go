// Package e2e runs the browser tests: the real anpr binary (built with the embedded front end) on
// SQLite with seeded demo data, the bundled Dex as identity provider, and run.mjs driving Debian's
// Chromium through playwright-core. `make e2e` builds the front end and installs what is missing.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/identity/dextest"
	"github.com/anpr-portal/anpr/internal/proc"
)

const chromium = "/usr/bin/chromium"

// TestBrowser is every role's job in a real browser against the real stack. A missing
// prerequisite (the built front end, playwright-core, Chromium) is reported with the make target
// that provides it: a SKIPPED line in a plain `go test ./...`, a failure under
// ANPR_TEST_E2E_REQUIRE=1, which `make e2e` sets, so the browser tests cannot silently not run there.
func TestBrowser(t *testing.T) {
	root, node := prerequisites(t)
	bin := buildBinary(t, root)
	addr := freeAddr(t)
	base := "http://" + addr
	dex := dextest.Start(t, dextest.Options{RedirectURIs: []string{base + "/auth/callback"}})

	p := startPortal(t, bin, addr, 20000,
		"ANPR_IDENTITY_ISSUER="+dex.Issuer, "ANPR_IDENTITY_CLIENT_ID="+dex.ClientID, "ANPR_IDENTITY_CLIENT_SECRET="+dex.ClientSecret)
	users, err := json.Marshal(dex.Users)
	if err != nil {
		t.Fatal(err)
	}
	runBrowser(t, root, node, "run.mjs", "E2E_BASE_URL="+base, "E2E_DEX_ISSUER="+dex.Issuer, "E2E_USERS="+string(users))
	p.stopAndVerify()
}

// browserPortal is `anpr serve` as its own process on a seeded SQLite store, as make run runs it.
type browserPortal struct {
	t     *testing.T
	serve *server
	env   []string
	bin   string
}

// startPortal seeds reads and an audit key into a new data directory and serves on addr with
// exactly these settings plus the identity ones given: ANPR_ variables of the caller's shell
// stay out.
func startPortal(t *testing.T, bin, addr string, reads int, identity ...string) *browserPortal {
	t.Helper()
	data := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ANPR_") {
			env = append(env, kv)
		}
	}
	env = append(env, "ANPR_DATA_DIR="+data, "ANPR_LOG_LEVEL=warn", "ANPR_LISTEN="+addr,
		"ANPR_IDENTITY_ALLOW_INSECURE_COOKIES=true", "ANPR_AUDIT_CHECKPOINT_EVERY=1")
	env = append(env, identity...)
	runCmd(t, env, bin, "seed", "--reads", strconv.Itoa(reads), "--seed", "5")
	runCmd(t, env, bin, "audit", "keys", "init")
	return &browserPortal{t: t, serve: startServe(t, env, bin, "http://"+addr, filepath.Join(data, "serve.log")), env: env, bin: bin}
}

// stopAndVerify stops the portal and checks that everything the browsers did was audited in a
// log that still verifies.
func (p *browserPortal) stopAndVerify() {
	p.serve.stop()
	if out := runCmd(p.t, p.env, p.bin, "audit", "verify"); !strings.Contains(out, "OK") {
		p.t.Errorf("audit verify after the browser tests:\n%s", out)
	}
}

// runBrowser runs one node:test script of browser tests with env added, logging its report;
// screenshots go to e2e/artifacts.
func runBrowser(t *testing.T, root, node, script string, env ...string) {
	t.Helper()
	artifacts := filepath.Join(root, "e2e", "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	// The browser run ends when node does; the cap only catches a hang. Playwright bounds each
	// step by the browser's own liveness and E2E_STEP_TIMEOUT_MS.
	ctx, cancel := context.WithTimeout(context.Background(), 3*proc.WaitCap)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "--test-concurrency=1", script)
	cmd.Dir = filepath.Join(root, "e2e")
	cmd.Env = append(append(os.Environ(), "E2E_ARTIFACTS="+artifacts, "E2E_CHROMIUM="+chromium), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("browser tests %s (screenshots in %s):\n%s", script, artifacts, out.String())
	if err != nil {
		t.Errorf("browser tests %s failed: %v", script, err)
	}
}

// prerequisites returns the checkout and node, or reports what is missing with the make target
// that provides it.
func prerequisites(t *testing.T) (root, node string) {
	t.Helper()
	root, err := proc.WorkingRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range []struct{ path, fix string }{
		{filepath.Join(root, "frontend", "dist", "app", "index.html"), "make frontend"},
		{filepath.Join(root, "e2e", "node_modules", "playwright-core", "package.json"), "cd e2e && npm ci"},
		{chromium, "make chromium"},
	} {
		if _, err := os.Stat(need.path); err != nil {
			msg := fmt.Sprintf("%s is missing; run `%s` first (make e2e does all of it)", need.path, need.fix)
			if os.Getenv("ANPR_TEST_E2E_REQUIRE") == "1" {
				t.Fatal(msg)
			}
			fmt.Println("SKIPPED browser tests:", msg)
			t.Skip(msg)
		}
	}
	node, err = exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed: %v", err)
	}
	return root, node
}

// buildBinary builds the binary under test as `make build` builds it, so the embedded front end
// is the one just built.
func buildBinary(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "anpr")
	build := exec.Command("go", "build", "-o", bin, "./api")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runCmd(t *testing.T, env []string, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("anpr %v: %v\n%s", args, err, out)
	}
	return string(out)
}

type server struct {
	stop func()
}

// startServe runs `anpr serve` as its own process (as make run does) and waits for /readyz.
func startServe(t *testing.T, env []string, bin, base, logPath string) *server {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p, err := proc.Start(cmd)
	_ = logFile.Close() // the child has its own copy
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	s := &server{stop: func() {
		if stopped {
			return
		}
		stopped = true
		// SIGTERM first: the portal closes the audit log last, and a clean exit is part of the test.
		if err := p.Stop(proc.WaitCap); err != nil {
			t.Errorf("anpr serve: %v; log %s", err, logPath)
		} else if err := p.ExitErr(); err != nil {
			t.Errorf("anpr serve exited with %v; log %s", err, logPath)
		}
	}}
	t.Cleanup(s.stop)
	ctx, cancel := context.WithTimeout(context.Background(), proc.WaitCap)
	defer cancel()
	if err := p.WaitReady(ctx, 100*time.Millisecond, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	}); err != nil {
		t.Fatalf("anpr serve at %s: %v\n%s", base, err, proc.Tail(logPath, 40))
	}
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(port)
}
