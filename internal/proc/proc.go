// Package proc runs the helper processes that tests and `anpr bench` start beside the portal
// (Dex, an Elasticsearch node, the anpr binary itself): it finds the checkout, picks a free port,
// waits until a process is ready while watching that it has not died, and stops exactly the
// process (or process group) it started. It is not test-only code because `anpr bench` starts
// Elasticsearch through esnode.
package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Module is the module path whose go.mod marks the checkout's root. Tool modules under deploy/
// have go.mod files of their own, so a go.mod alone would stop the search too early.
const Module = "github.com/anpr-portal/anpr"

// Root returns the checkout that holds dir: the nearest directory at or above dir whose go.mod
// declares Module. Scripts and data the helpers need (deploy/, .cache/) are found from there.
func Root(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find checkout: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		if declares(filepath.Join(d, "go.mod"), Module) {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod of module %s in %s or any parent: run from inside the checkout", Module, abs)
		}
	}
}

// WorkingRoot is Root of the working directory, which `go test` sets to the package under test.
func WorkingRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find checkout: get working directory: %w", err)
	}
	return Root(wd)
}

func declares(gomod, module string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) == 2 && fields[0] == "module" {
			return strings.Trim(fields[1], `"`) == module
		}
	}
	return false
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago. Another process may take
// it before the caller binds it; callers that care retry with a new port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ErrExited is returned by WaitReady when the process ends before it is ready.
var ErrExited = errors.New("process exited")

// Process is a started child process. Its Wait runs in the background, so Exited can be watched
// while waiting for readiness.
type Process struct {
	cmd     *exec.Cmd
	group   bool
	exited  chan struct{}
	exitErr error
}

// Start starts cmd as an ordinary child: Stop signals it alone, and the terminal's Ctrl-C still
// reaches it with the caller. Build cmd with exec.Command, not CommandContext: the process must
// outlive any one context and end only through Stop.
func Start(cmd *exec.Cmd) (*Process, error) { return start(cmd, false) }

// StartGroup starts cmd as the leader of a new process group, and Stop signals the whole group:
// for launcher scripts that fork the real server (Elasticsearch's start.sh starts a CLI that
// starts the JVM), so Stop reaches all of them and nothing else.
func StartGroup(cmd *exec.Cmd) (*Process, error) { return start(cmd, true) }

func start(cmd *exec.Cmd, group bool) (*Process, error) {
	if group {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Setpgid = true
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Process{cmd: cmd, group: group, exited: make(chan struct{})}
	go func() {
		p.exitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// Pid is the process id (with StartGroup, also the group id).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has ended and its output files are flushed.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// ExitErr is what Wait returned; valid once Exited is closed.
func (p *Process) ExitErr() error {
	<-p.exited
	return p.exitErr
}

// WaitCap bounds a test's wait for something that is still alive: a helper process becoming
// ready (Dex, Elasticsearch, the portal, a browser), a server shutting down, an event from a
// running server. A wait ends at once when what it waits for has ended (WaitReady returns
// ErrExited, and callers print the process's log); the cap only catches one that hangs while
// alive, so it is generous: a shared CI runner under load can take minutes to start a JVM.
const WaitCap = 10 * time.Minute

// WaitReady calls probe every interval until it returns nil. It returns an error wrapping
// ErrExited if the process ends first, or ctx's error (with probe's last answer) when ctx ends.
func (p *Process) WaitReady(ctx context.Context, every time.Duration, probe func(context.Context) error) error {
	err := WaitUntil(ctx, p.exited, every, probe)
	if errors.Is(err, ErrExited) {
		return fmt.Errorf("%w (%v)", err, p.exitErr)
	}
	return err
}

// WaitUntil calls probe every interval until it returns nil. It returns an error wrapping
// ErrExited if gone is closed first (what was waited for has ended: a child process, or a server
// running in this process), or ctx's error (with probe's last answer) when ctx ends.
func WaitUntil(ctx context.Context, gone <-chan struct{}, every time.Duration, probe func(context.Context) error) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := errors.New("not probed yet")
	for {
		select {
		case <-gone:
			return fmt.Errorf("%w before it was ready; last probe: %v", ErrExited, last)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last probe: %v)", ctx.Err(), last)
		case <-tick.C:
			if last = probe(ctx); last == nil {
				return nil
			}
		}
	}
}

// Stop ends the process (or its group): SIGTERM for a clean exit, SIGKILL if it is still running
// after grace. It returns an error only when it had to kill; the exit status itself is ExitErr's.
// A group is signalled even when its leader has already ended, and Stop returns only once every
// member is gone (the JVM may outlive the launcher script). Stopping a plain process that has
// already ended does nothing.
func (p *Process) Stop(grace time.Duration) error {
	select {
	case <-p.exited:
		if !p.group || !p.groupAlive() {
			return nil
		}
	default:
	}
	p.signal(syscall.SIGTERM)
	if p.gone(grace) {
		return nil
	}
	p.signal(syscall.SIGKILL)
	p.gone(time.Minute)
	return fmt.Errorf("pid %d did not stop within %s of SIGTERM: killed", p.Pid(), grace)
}

// Kill ends the process (or its group) with SIGKILL at once, as a crash or the OOM killer would,
// and returns once it has ended.
func (p *Process) Kill() {
	p.signal(syscall.SIGKILL)
	p.gone(WaitCap)
}

// gone waits up to d for the process, and with a group every member, to end.
func (p *Process) gone(d time.Duration) bool {
	deadline := time.After(d)
	select {
	case <-p.exited:
	case <-deadline:
		return false
	}
	for p.group && p.groupAlive() {
		select {
		case <-deadline:
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
	return true
}

func (p *Process) groupAlive() bool { return syscall.Kill(-p.Pid(), 0) == nil }

func (p *Process) signal(sig syscall.Signal) {
	if p.group {
		_ = syscall.Kill(-p.Pid(), sig)
		return
	}
	_ = p.cmd.Process.Signal(sig)
}

// Tail is the last n lines of the file at path, for a failure message about a helper's log.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
