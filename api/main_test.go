package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// The acceptance story for ingest: a file with a few bad lines reports exactly those
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

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serve comes up ready on a seeded store, takes uploads over HTTP with the configured key only,
// and shuts down cleanly on cancel.
func TestCLIServeReadyIngestAndShutdown(t *testing.T) {
	dir := t.TempDir()
	addr := freePort(t)
	key := "anpr_cli_test_key_123456"
	sum := sha256.Sum256([]byte(key))
	env := map[string]string{"ANPR_DATA_DIR": dir, "ANPR_LOG_LEVEL": "error", "ANPR_LISTEN": addr,
		"ANPR_INGEST_API_KEY_SHA256": hex.EncodeToString(sum[:])}
	if out, err := run(t, env, "seed", "--reads", "10000", "--seed", "5"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	ndjson := filepath.Join(dir, "more.ndjson")
	if out, err := run(t, env, "seed", "--reads", "10000", "--seed", "6", "--ndjson", ndjson); err != nil {
		t.Fatalf("seed ndjson: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		cmd := rootCmd()
		cmd.SetArgs([]string{"serve"})
		cmd.SetOut(&bytes.Buffer{})
		done <- cmd.ExecuteContext(ctx)
	}()
	base := "http://" + addr
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if err == nil {
			resp.Body.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := run(t, map[string]string{"ANPR_INGEST_API_KEY": "wrong"}, "ingest", "--server", base, ndjson)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong key accepted: %v\n%s", err, out)
	}
	out, err = run(t, map[string]string{"ANPR_INGEST_API_KEY": key}, "ingest", "--server", base, "--chunk-lines", "3000", ndjson)
	if err != nil || !strings.Contains(out, "lines 10000:") || !strings.Contains(out, "0 rejected") {
		t.Fatalf("ingest over HTTP: %v\n%s", err, out)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not shut down")
	}
}
