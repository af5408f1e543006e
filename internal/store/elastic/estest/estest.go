// Package estest gives a test binary one real Elasticsearch node: the one named by
// ANPR_TEST_ES_URL, or else a throwaway single node started from the distribution that
// deploy/elasticsearch/fetch.sh caches, stopped when the binary ends. Use it from TestMain:
//
//	func TestMain(m *testing.M) { estest.Main(m) }
//
// and call estest.Node(t) in each test that needs the node.
package estest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/proc"
	"github.com/anpr-portal/anpr/internal/store/elastic/esnode"
)

// EnvURL names an existing node to test against instead of starting one.
const EnvURL = "ANPR_TEST_ES_URL"

// EnvRequire, when "1", turns a missing java or mvn into a failure instead of a skip. CI sets it:
// the CI machine has both, so a skip there would hide a broken setup.
const EnvRequire = "ANPR_TEST_ES_REQUIRE"

// Version is the distribution started when no node is named (esnode.Version).
const Version = esnode.Version

// Info describes the node the tests run against.
type Info = esnode.Info

// shared is the one node of this test binary. It is package state on purpose: it stands for one
// OS process that lives exactly as long as the test binary, which is what TestMain manages.
var shared struct {
	info Info
	skip string // why the tests cannot run, for t.Skip
	err  error  // why the node could not be had, for t.Fatal
}

// Main runs the tests with a node and exits; call it from TestMain. m is the *testing.M, or a
// wrapper of it that another helper adds its own clean-up to.
func Main(m interface{ Run() int }) {
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
	// A cap for the fetch (a first run downloads the distribution) and one for the start, whose
	// wait also ends as soon as the node's process exits (esnode prints its console log).
	ctx, cancel := context.WithTimeout(context.Background(), 2*proc.WaitCap)
	defer cancel()
	if url := os.Getenv(EnvURL); url != "" {
		info, err := esnode.Describe(ctx, strings.TrimRight(url, "/"))
		if err != nil {
			shared.err = fmt.Errorf("%s=%s: %w", EnvURL, url, err)
			return nil
		}
		shared.info = info
		report(info)
		return nil
	}
	root, err := proc.WorkingRoot()
	if err != nil {
		shared.err = err
		return nil
	}
	if missing := esnode.Missing(root); len(missing) > 0 {
		what := strings.Join(missing, " and ") + " not found"
		if os.Getenv(EnvRequire) == "1" {
			shared.err = fmt.Errorf("%s, and %s=1 says this machine must run the Elasticsearch tests", what, EnvRequire)
		} else {
			shared.skip = "SKIPPED: Elasticsearch conformance: " + what
			fmt.Println(shared.skip)
		}
		return nil
	}
	n, err := esnode.Start(ctx, esnode.Options{Root: root, Heap: "512m"})
	if err != nil {
		shared.err = err
		return nil
	}
	fmt.Printf("elasticsearch: fetch+unpack %s, start to healthy %s\n",
		n.Fetched.Round(100*time.Millisecond), n.Healthy.Round(100*time.Millisecond))
	shared.info = n.Info()
	report(shared.info)
	return n.Stop
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
