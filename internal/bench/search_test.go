package bench

import (
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/plate"
)

// Every row of the search table is a search an investigator may run without an authority: a
// window inside band 1, a plate or pattern the search service accepts, and a target.
func TestSearchCasesAreBandOneSearches(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range SearchCases {
		if seen[sc.Name] {
			t.Errorf("%s: named twice", sc.Name)
		}
		seen[sc.Name] = true
		if sc.Window <= 0 || sc.Window > authz.DefaultBand1 {
			t.Errorf("%s: window %s is not inside band 1 (%s)", sc.Name, sc.Window, authz.DefaultBand1)
		}
		if sc.TargetP99 <= 0 || sc.Body == nil || sc.Raw == nil || strings.ContainsAny(sc.Type, "/ ") {
			t.Errorf("%s: incomplete case %+v", sc.Name, sc)
		}
		body := sc.Body("LK19XRT")
		if p, ok := body["pattern"].(string); ok {
			pat, err := plate.ParsePattern(p)
			if err != nil || pat.FixedCount() < 3 {
				t.Errorf("%s: pattern %q would be refused (%v)", sc.Name, p, err)
			}
		} else if body["vrm"] != "LK19XRT" {
			t.Errorf("%s: body %v", sc.Name, body)
		}
	}
	if b, from, to := searchBody(vrmBody("AB12CDE"), 30*day); !to.After(from) || to.After(time.Now()) || !strings.Contains(string(b), `"justification"`) {
		t.Errorf("search body %s from %s to %s", b, from, to)
	}
}
