package proc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRoot(t *testing.T) {
	root, err := WorkingRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "proc", "proc.go")); err != nil {
		t.Fatalf("root %s is not this checkout: %v", root, err)
	}
	// A tool module's own go.mod (deploy/dex) is not the checkout's root.
	if got, err := Root(filepath.Join(root, "deploy", "dex")); err != nil || got != root {
		t.Errorf("Root(deploy/dex) = %q, %v; want %q", got, err, root)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Root(other); err == nil || !strings.Contains(err.Error(), "checkout") {
		t.Errorf("outside the checkout: err = %v, want one that says to run from the checkout", err)
	}
}

func TestFreePort(t *testing.T) {
	port, err := FreePort()
	if err != nil || port <= 0 || port > 65535 {
		t.Fatalf("FreePort = %d, %v", port, err)
	}
}

func TestWaitReadyNoticesExit(t *testing.T) {
	p, err := Start(exec.Command("sh", "-c", "exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitReady(context.Background(), 10*time.Millisecond, func(context.Context) error { return errors.New("not yet") })
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("err = %v, want ErrExited with the exit status", err)
	}
	if err := p.Stop(time.Second); err != nil {
		t.Errorf("Stop after exit: %v", err)
	}
}

func TestWaitReadyTimesOutAndSucceeds(t *testing.T) {
	p, err := Start(exec.Command("sleep", "300"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop(time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := p.WaitReady(ctx, 10*time.Millisecond, func(context.Context) error { return errors.New("no") }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	calls := 0
	if err := p.WaitReady(context.Background(), 10*time.Millisecond, func(context.Context) error {
		if calls++; calls < 3 {
			return errors.New("no")
		}
		return nil
	}); err != nil || calls != 3 {
		t.Fatalf("err = %v after %d probes", err, calls)
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if p.ExitErr() == nil {
		t.Error("sleep ended by SIGTERM reports a clean exit")
	}
}

// A group is stopped as a whole, including a child that ignores SIGTERM (after the grace, with
// SIGKILL), and Stop says it had to kill.
func TestStopGroupKillsForkedChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	p, err := StartGroup(exec.Command("sh", "-c", `trap "" TERM; sleep 300 & echo $! > "$1"; wait`, "sh", pidFile))
	if err != nil {
		t.Fatal(err)
	}
	var child int
	if err := p.WaitReady(context.Background(), 10*time.Millisecond, func(context.Context) error {
		b, err := os.ReadFile(pidFile)
		if err == nil {
			child, err = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(200 * time.Millisecond); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("Stop = %v, want it to say it killed", err)
	}
	if syscall.Kill(child, 0) == nil {
		t.Errorf("forked child %d outlived Stop", child)
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := Tail(path, 2); got != "b\nc" {
		t.Errorf("Tail = %q", got)
	}
	if got := Tail(filepath.Join(path, "missing"), 2); !strings.Contains(got, "no log") {
		t.Errorf("Tail of a missing file = %q", got)
	}
}

// A wait on something running in this process (a server goroutine) ends when it ends, however
// long the cap.
func TestWaitUntilNoticesGone(t *testing.T) {
	gone := make(chan struct{})
	probes := 0
	probe := func(context.Context) error {
		if probes++; probes == 2 {
			close(gone)
		}
		return errors.New("not yet")
	}
	ctx, cancel := context.WithTimeout(context.Background(), WaitCap)
	defer cancel()
	if err := WaitUntil(ctx, gone, time.Millisecond, probe); !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "not yet") {
		t.Fatalf("err = %v, want ErrExited with the last probe's answer", err)
	}
}
