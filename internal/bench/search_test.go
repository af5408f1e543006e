package bench

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
)

// Every row of the search table is a search an investigator may run: a window inside band 1, a
// plate or pattern the search service accepts; a sensitive type (one the policy wants an
// authority for) asks for an authority whose scope covers exactly what it searches.
func TestSearchCasesAreBandOneSearches(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	f := &Fixture{Now: now, Target: "LK19XRT", Area: geo.Area{Centre: &[2]float64{51.5, -0.1}, RadiusM: 500}, AreaCameras: []string{"C1", "C2"},
		Places: []reads.Place{{Cameras: []string{"C2"}, From: now.Add(-50 * time.Hour), To: now.Add(-49 * time.Hour)}, {Cameras: []string{"C1"}, From: now.Add(-3 * time.Hour), To: now.Add(-2 * time.Hour)}}}
	sensitive := []string{string(search.TypeArea), string(search.TypeConvoy), string(search.TypeMultiLocation)}
	seen := map[string]bool{}
	for _, sc := range SearchCases {
		if seen[sc.Name] {
			t.Errorf("%s: named twice", sc.Name)
		}
		seen[sc.Name] = true
		if sc.Window < 0 || sc.Window > authz.DefaultBand1 || (sc.Window == 0 && sc.Type != "multi-location") {
			t.Errorf("%s: window %s is not inside band 1 (%s)", sc.Name, sc.Window, authz.DefaultBand1)
		}
		if sc.Body == nil || sc.Raw == nil || strings.ContainsAny(sc.Type, "/ ") || (sc.TargetP99 <= 0 && sc.Scope == nil) {
			t.Errorf("%s: incomplete case %+v", sc.Name, sc)
		}
		q := CaseQuery{VRM: "AB12CDE", From: now.Add(-sc.Window), To: now, F: f}
		body := sc.Body(q)
		if sc.Scope == nil {
			if p, ok := body["pattern"].(string); ok {
				pat, err := plate.ParsePattern(p)
				if err != nil || pat.FixedCount() < 3 {
					t.Errorf("%s: pattern %q would be refused (%v)", sc.Name, p, err)
				}
			} else if body["vrm"] != "AB12CDE" {
				t.Errorf("%s: body %v", sc.Name, body)
			}
			continue
		}
		s := sc.Scope(f, q.From, q.To)
		if !slices.Contains(sensitive, s.Type) {
			t.Errorf("%s: authority for type %q", sc.Name, s.Type)
		}
		switch s.Type {
		case string(search.TypeArea):
			if a, ok := body["area"].(geo.Area); s.Area != &f.Area || !ok || a.Centre != f.Area.Centre || !s.From.Equal(q.From) || !s.To.Equal(q.To) {
				t.Errorf("%s: scope %+v body %v", sc.Name, s, body)
			}
		case string(search.TypeConvoy):
			if !slices.Equal(s.VRMs, []string{f.Target}) || body["vrm"] != f.Target {
				t.Errorf("%s: scope %+v body %v", sc.Name, s, body)
			}
		case string(search.TypeMultiLocation):
			if !slices.Equal(s.Cameras, []string{"C1", "C2"}) || !s.From.Equal(f.Places[0].From) || !s.To.Equal(f.Places[1].To) {
				t.Errorf("%s: scope %+v", sc.Name, s)
			}
		}
	}
	from, to := window(30 * day)
	if b := searchBody(vrmBody(CaseQuery{VRM: "AB12CDE"}), from, to); !to.After(from) || to.After(time.Now()) || !strings.Contains(string(b), `"justification"`) || !strings.Contains(string(b), `"from"`) {
		t.Errorf("search body %s from %s to %s", b, from, to)
	}
	if b := searchBody(multiBody(CaseQuery{F: f}), time.Time{}, time.Time{}); strings.Contains(string(b), `"from":"`+now.Format(time.RFC3339)) || !strings.Contains(string(b), `"places"`) {
		t.Errorf("multi-location body %s: no window of its own, places", b)
	}
}
