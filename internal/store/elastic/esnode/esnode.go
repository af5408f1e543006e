// Package esnode starts and stops a throwaway single-node Elasticsearch from the distribution that
// deploy/elasticsearch/fetch.sh caches under .cache/ of the checkout. The test suites use it
// through estest; `anpr bench` uses it directly, which is why it is not test-only code.
package esnode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/proc"
)

// Version is the distribution Start runs. Keep it equal to ES_VERSION in
// deploy/elasticsearch/fetch.sh.
const Version = "8.19.21"

// Info describes a node.
type Info struct {
	URL     string
	Version string
	Started bool     // true when this process started the node (and will stop it)
	Modules []string // server modules the node loaded, sorted
}

// Has reports whether the node loaded the module (e.g. "wildcard", "x-pack-ilm").
func (i Info) Has(module string) bool { return slices.Contains(i.Modules, module) }

// Lacks lists the optional features the ANPR stores use that this node does not have, each with
// what it means, so that test and benchmark output say what was and was not exercised.
func (i Info) Lacks() []string {
	var out []string
	if i.Started && i.Has("x-pack-security") {
		out = append(out, "security enabled (the module is loaded but the node is started with it off: no roles or API keys to test)")
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

// Missing names the programs Start needs and cannot find: java runs the node; mvn is needed only
// to fetch a distribution that is not cached yet.
func Missing(root string) []string {
	var missing []string
	if _, err := exec.LookPath("java"); err != nil {
		missing = append(missing, "java")
	}
	if _, err := exec.LookPath("mvn"); err != nil && !Cached(root) {
		missing = append(missing, "mvn")
	}
	return missing
}

// Cached reports whether fetch.sh has already unpacked the distribution.
func Cached(root string) bool {
	_, err := os.Stat(filepath.Join(root, ".cache", "elasticsearch", "elasticsearch-"+Version, ".unpacked"))
	return err == nil
}

// Options says how to start a node.
type Options struct {
	Root string // the checkout (proc.Root)
	Heap string // JVM heap, e.g. "512m" (the default)
}

// Node is a node process Start started.
type Node struct {
	info    Info
	proc    *proc.Process
	workdir string
	// Fetched is how long fetching and unpacking took; Healthy how long the node then took to
	// answer health.
	Fetched, Healthy time.Duration
}

// Info describes the running node.
func (n *Node) Info() Info { return n.info }

// Start fetches the distribution if needed and starts one node on 127.0.0.1 on free ports, with
// its data in a new temp dir, and waits until it is healthy. The node stops when Stop is called,
// or when this process dies without calling it (a watchdog in start.sh follows this pid).
func Start(ctx context.Context, o Options) (*Node, error) {
	if o.Heap == "" {
		o.Heap = "512m"
	}
	began := time.Now()
	fetch := exec.CommandContext(ctx, filepath.Join(o.Root, "deploy", "elasticsearch", "fetch.sh"))
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

	httpPort, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	transportPort, err := proc.FreePort()
	if err != nil {
		return nil, err
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
	// Not CommandContext: the node must outlive Start's context; Stop ends it.
	cmd := exec.Command(filepath.Join(o.Root, "deploy", "elasticsearch", "start.sh"))
	cmd.Env = append(os.Environ(),
		"ES_HOME="+home,
		"ES_WORKDIR="+workdir,
		fmt.Sprintf("ES_HTTP_PORT=%d", httpPort),
		fmt.Sprintf("ES_TRANSPORT_PORT=%d", transportPort),
		"ES_HEAP="+o.Heap,
		// If this process dies without calling Stop (a test -timeout panic), the node follows it.
		fmt.Sprintf("ES_WATCH_PID=%d", os.Getpid()),
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so that Stop reaches the launcher script, the CLI and the server
	// JVM it forks, and nothing else.
	p, err := proc.StartGroup(cmd)
	if err != nil {
		os.RemoveAll(workdir)
		return nil, fmt.Errorf("start Elasticsearch: %w", err)
	}
	n := &Node{proc: p, workdir: workdir}

	url := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	if err := n.waitHealthy(ctx, url); err != nil {
		tail := proc.Tail(filepath.Join(workdir, "console.log"), 30)
		n.Stop()
		return nil, fmt.Errorf("elasticsearch at %s did not become healthy: %w\n--- console (last lines) ---\n%s", url, err, tail)
	}
	info, err := Describe(ctx, url)
	if err != nil {
		n.Stop()
		return nil, err
	}
	info.Started = true
	n.info = info
	n.Fetched, n.Healthy = fetched, time.Since(began)-fetched
	return n, nil
}

func (n *Node) waitHealthy(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, proc.WaitCap)
	defer cancel()
	return n.proc.WaitReady(ctx, 500*time.Millisecond, func(ctx context.Context) error {
		var h struct {
			Status string `json:"status"`
		}
		if err := getJSON(ctx, url+"/_cluster/health?wait_for_status=yellow&timeout=1s", &h); err != nil {
			return err
		}
		if h.Status != "green" && h.Status != "yellow" {
			return fmt.Errorf("cluster health %q", h.Status)
		}
		return nil
	})
}

// Stop ends the node's process group: SIGTERM first (the node flushes and exits), SIGKILL after
// 30 seconds. The work dir with its data and logs goes too.
func (n *Node) Stop() error {
	killed := n.proc.Stop(30 * time.Second)
	return errors.Join(killed, os.RemoveAll(n.workdir))
}

// Describe asks the node at url for its version and modules.
func Describe(ctx context.Context, url string) (Info, error) {
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

// Refresh makes everything written to the node so far searchable (POST /_refresh), for a
// benchmark that loads with refresh off and then times searches.
func Refresh(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/_refresh", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("refresh: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("refresh: POST %s/_refresh: %s", url, resp.Status)
	}
	return nil
}
