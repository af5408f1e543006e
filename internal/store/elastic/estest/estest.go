// Package estest gives a test binary one real Elasticsearch node: the one named by
// ANPR_TEST_ES_URL, or else a throwaway single node started from the distribution that
// deploy/elasticsearch/fetch.sh caches, stopped when the binary ends. Use it from TestMain:
//
//	func TestMain(m *testing.M) { estest.Main(m) }
//
// and call estest.Node(t) in each test that needs the node.
package estest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// EnvURL names an existing node to test against instead of starting one.
const EnvURL = "ANPR_TEST_ES_URL"

// EnvRequire, when "1", turns a missing java or mvn into a failure instead of a skip. CI sets it:
// the CI machine has both, so a skip there would hide a broken setup.
const EnvRequire = "ANPR_TEST_ES_REQUIRE"

// Version is the distribution started when no node is named. Keep it equal to ES_VERSION in
// deploy/elasticsearch/fetch.sh.
const Version = "8.19.21"

// Info describes the node the tests run against.
type Info struct {
	URL     string
	Version string
	Started bool     // true when estest started the node (and will stop it)
	Modules []string // server modules the node loaded, sorted
}

// Has reports whether the node loaded the module (e.g. "wildcard", "x-pack-ilm").
func (i Info) Has(module string) bool { return slices.Contains(i.Modules, module) }

// Lacks lists the optional features the ANPR stores use that this node does not have, each with
// what it means for the tests, so that the test output says what was and was not exercised.
func (i Info) Lacks() []string {
	var out []string
	if i.Started && i.Has("x-pack-security") {
		out = append(out, "security enabled (the module is loaded but estest starts the node with it off: no roles or API keys to test)")
	}
	for _, f := range []struct{ module, what string }{
		{"wildcard", "wildcard field type (plate patterns use a keyword field with a wildcard query)"},
		{"x-pack-ilm", "ILM (no rollover or lifecycle policies are set up)"},
		{"x-pack-security", "security (no roles or API keys to test)"},
		{"data-streams", "data stream REST API (data streams are created on first write; never deleted)"},
		{"reindex", "reindex module (no delete_by_query; retention deletes by id)"},
		{"analysis-common", "analysis-common (no uppercase normaliser; plates are normalised in Go)"},
	} {
		if !i.Has(f.module) {
			out = append(out, f.what)
		}
	}
	return out
}

// shared is the one node of this test binary. It is package state on purpose: it stands for one
// OS process that lives exactly as long as the test binary, which is what TestMain manages.
var shared struct {
	info Info
	skip string // why the tests cannot run, for t.Skip
	err  error  // why the node could not be had, for t.Fatal
}

// Main runs the tests with a node and exits; call it from TestMain.
func Main(m *testing.M) {
	stop := setup()
	code := m.Run()
	if stop != nil {
		if err := stop(); err != nil {
			fmt.Fprintf(os.Stderr, "estest: stopping Elasticsearch: %v\n", err)
		}
	}
	os.Exit(code)
}

// Node returns the node, or skips the test saying what is missing, or fails it when the node
// should have been there and is not.
func Node(t testing.TB) Info {
	t.Helper()
	switch {
	case shared.err != nil:
		t.Fatalf("Elasticsearch conformance: %v", shared.err)
	case shared.skip != "":
		t.Skip(shared.skip)
	case shared.info.URL == "":
		t.Fatal("estest.Node called without estest.Main in TestMain")
	}
	return shared.info
}

// setup finds or starts the node and returns how to stop it (nil when there is nothing to stop).
func setup() func() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if url := os.Getenv(EnvURL); url != "" {
		info, err := describe(ctx, strings.TrimRight(url, "/"))
		if err != nil {
			shared.err = fmt.Errorf("%s=%s: %w", EnvURL, url, err)
			return nil
		}
		shared.info = info
		report(info)
		return nil
	}
	root, err := repoRoot()
	if err != nil {
		shared.err = err
		return nil
	}
	// java runs the node; mvn is needed only to fetch a distribution that is not cached yet.
	var missing []string
	if _, err := exec.LookPath("java"); err != nil {
		missing = append(missing, "java")
	}
	if _, err := exec.LookPath("mvn"); err != nil && !cached(root) {
		missing = append(missing, "mvn")
	}
	if len(missing) > 0 {
		what := strings.Join(missing, " and ") + " not found"
		if os.Getenv(EnvRequire) == "1" {
			shared.err = fmt.Errorf("%s, and %s=1 says this machine must run the Elasticsearch tests", what, EnvRequire)
		} else {
			shared.skip = "SKIPPED: Elasticsearch conformance: " + what
			fmt.Println(shared.skip)
		}
		return nil
	}
	n, err := start(ctx, root)
	if err != nil {
		shared.err = err
		return nil
	}
	shared.info = n.info
	report(n.info)
	return n.stop
}

func report(info Info) {
	how := "given by " + EnvURL
	if info.Started {
		how = "started for this test binary"
	}
	fmt.Printf("elasticsearch: %s at %s (%s)\n", info.Version, info.URL, how)
	for _, l := range info.Lacks() {
		fmt.Printf("elasticsearch: node lacks %s\n", l)
	}
}

// node is a process estest started.
type node struct {
	info    Info
	cmd     *exec.Cmd
	workdir string
	exited  chan struct{}
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "deploy", "elasticsearch", "fetch.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no deploy/elasticsearch/fetch.sh above the working directory")
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// cached reports whether fetch.sh has already unpacked the distribution.
func cached(root string) bool {
	_, err := os.Stat(filepath.Join(root, ".cache", "elasticsearch", "elasticsearch-"+Version, ".unpacked"))
	return err == nil
}

func start(ctx context.Context, root string) (*node, error) {
	began := time.Now()
	fetch := exec.CommandContext(ctx, filepath.Join(root, "deploy", "elasticsearch", "fetch.sh"))
	fetch.Env = append(os.Environ(), "ES_VERSION="+Version)
	var fetchErr bytes.Buffer
	fetch.Stderr = &fetchErr
	out, err := fetch.Output()
	if err != nil {
		return nil, fmt.Errorf("fetch Elasticsearch %s: %w\n%s", Version, err, fetchErr.String())
	}
	home := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(home, '\n'); i >= 0 {
		home = home[i+1:]
	}
	fetched := time.Since(began)

	httpPort, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("pick a port: %w", err)
	}
	transportPort, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("pick a port: %w", err)
	}
	workdir, err := os.MkdirTemp("", "anpr-es-")
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(workdir, "console.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// Not CommandContext: the node must outlive setup's context; stop ends it.
	cmd := exec.Command(filepath.Join(root, "deploy", "elasticsearch", "start.sh"))
	cmd.Env = append(os.Environ(),
		"ES_HOME="+home,
		"ES_WORKDIR="+workdir,
		fmt.Sprintf("ES_HTTP_PORT=%d", httpPort),
		fmt.Sprintf("ES_TRANSPORT_PORT=%d", transportPort),
		"ES_HEAP=512m",
		// If this binary dies without calling stop (a -timeout panic), the node follows it.
		fmt.Sprintf("ES_WATCH_PID=%d", os.Getpid()),
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so that stop reaches the launcher script, the CLI and the server
	// JVM it forks, and nothing else.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(workdir)
		return nil, fmt.Errorf("start Elasticsearch: %w", err)
	}
	n := &node{cmd: cmd, workdir: workdir, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(n.exited) }()

	url := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	if err := n.waitHealthy(ctx, url); err != nil {
		tail := n.consoleTail()
		n.stop()
		return nil, fmt.Errorf("elasticsearch at %s did not become healthy: %w\n--- console (last lines) ---\n%s", url, err, tail)
	}
	info, err := describe(ctx, url)
	if err != nil {
		n.stop()
		return nil, err
	}
	info.Started = true
	n.info = info
	fmt.Printf("elasticsearch: fetch+unpack %s, start to healthy %s\n",
		fetched.Round(100*time.Millisecond), (time.Since(began) - fetched).Round(100*time.Millisecond))
	return n, nil
}

func (n *node) waitHealthy(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var last error
	for {
		select {
		case <-n.exited:
			return fmt.Errorf("the node exited (%v)", n.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(500 * time.Millisecond):
		}
		var h struct {
			Status string `json:"status"`
		}
		if last = getJSON(ctx, url+"/_cluster/health?wait_for_status=yellow&timeout=1s", &h); last == nil &&
			(h.Status == "green" || h.Status == "yellow") {
			return nil
		}
	}
}

func (n *node) consoleTail() string {
	b, _ := os.ReadFile(filepath.Join(n.workdir, "console.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// stop ends the node's process group: SIGTERM first (the node flushes and exits), SIGKILL after
// 30 seconds. The work dir with its data and logs goes too.
func (n *node) stop() error {
	pgid := n.cmd.Process.Pid // Setpgid made the launcher the leader of its own group
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-n.exited
	}
	// The server JVM may outlive the launcher by a moment; the group is gone once kill fails.
	for range 100 {
		if syscall.Kill(-pgid, 0) != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return os.RemoveAll(n.workdir)
}

// describe asks the node for its version and modules.
func describe(ctx context.Context, url string) (Info, error) {
	// Not GET /: the test distribution answers it with 405.
	var nodes struct {
		Nodes map[string]struct {
			Version string `json:"version"`
			Modules []struct {
				Name string `json:"name"`
			} `json:"modules"`
		} `json:"nodes"`
	}
	if err := getJSON(ctx, url+"/_nodes/_local/plugins", &nodes); err != nil {
		return Info{}, err
	}
	info := Info{URL: url}
	for _, n := range nodes.Nodes {
		info.Version = n.Version
		for _, m := range n.Modules {
			info.Modules = append(info.Modules, m.Name)
		}
	}
	slices.Sort(info.Modules)
	return info, nil
}

func getJSON(ctx context.Context, url string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}
