package esnode

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The node itself is exercised by every test of package elastic (through estest) and by the
// bench command's test; these cover what needs no node.

func TestFindRoot(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	root, err := FindRoot(wd)
	if err != nil {
		t.Fatalf("from %s: %v", wd, err)
	}
	if _, err := os.Stat(filepath.Join(root, "deploy", "elasticsearch", "start.sh")); err != nil {
		t.Errorf("root %s has no start.sh: %v", root, err)
	}
	if _, err := FindRoot(t.TempDir()); err == nil || !strings.Contains(err.Error(), "checkout") {
		t.Errorf("from a temp dir: err = %v, want one that says to run from the checkout", err)
	}
}

// Lacks names every optional feature the node does not have, and nothing it has.
func TestLacks(t *testing.T) {
	full := Info{Modules: []string{"analysis-common", "data-streams", "reindex", "wildcard", "x-pack-ilm", "x-pack-security"}}
	if got := full.Lacks(); len(got) != 0 {
		t.Errorf("a node with every module lacks %v", got)
	}
	started := full
	started.Started = true
	if got := started.Lacks(); len(got) != 1 || !strings.HasPrefix(got[0], "security enabled") {
		t.Errorf("a node started here lacks %v, want only 'security enabled'", got)
	}
	bare := Info{Modules: []string{"x-pack-security"}}
	got := bare.Lacks()
	for _, want := range []string{"wildcard field type", "ILM", "data stream REST API", "reindex module", "analysis-common"} {
		if !slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, want) }) {
			t.Errorf("a bare node's lacks %v miss %q", got, want)
		}
	}
}
