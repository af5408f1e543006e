package esnode

import (
	"slices"
	"strings"
	"testing"
)

// The node itself is exercised by every test of package elastic (through estest) and by the
// bench command's test; this covers what needs no node. Finding the checkout is proc.Root's, tested
// there.

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
