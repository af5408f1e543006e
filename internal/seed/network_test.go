package seed

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestCameras(t *testing.T) {
	cams := Cameras(1)
	if len(cams) < 280 || len(cams) > 320 {
		t.Errorf("%d cameras, want about 300", len(cams))
	}
	ids := map[string]bool{}
	for _, c := range cams {
		if ids[c.ID] {
			t.Errorf("duplicate camera id %s", c.ID)
		}
		ids[c.ID] = true
		// Inside the M25.
		if c.Lat < 51.28 || c.Lat > 51.69 || c.Lon < -0.51 || c.Lon > 0.33 {
			t.Errorf("camera %s at %.4f,%.4f is outside the M25 box", c.ID, c.Lat, c.Lon)
		}
		if c.Name == "" || c.Road == "" || c.Area == "" {
			t.Errorf("camera %s lacks name, road or area: %+v", c.ID, c)
		}
		if !slices.Contains([]string{"N", "NE", "E", "SE", "S", "SW", "W", "NW"}, c.Direction) {
			t.Errorf("camera %s direction %q", c.ID, c.Direction)
		}
	}
	if !reflect.DeepEqual(cams, Cameras(1)) {
		t.Error("Cameras is not deterministic")
	}
	// Another seed moves cameras a few metres but keeps ids, names and order.
	other := Cameras(2)
	moved := false
	for i, c := range other {
		if c.ID != cams[i].ID || c.Name != cams[i].Name {
			t.Fatalf("camera %d is %s with seed 2, %s with seed 1", i, c.ID, cams[i].ID)
		}
		if d := haversineKM(c.Lat, c.Lon, cams[i].Lat, cams[i].Lon); d > 0.05 {
			t.Errorf("camera %s moved %.0f m between seeds", c.ID, d*1000)
		}
		moved = moved || c.Lat != cams[i].Lat
	}
	if !moved {
		t.Error("seed does not change camera positions at all")
	}
}

// TestNetworkRoutes: every site reaches every other, and the planted routes name real sites.
func TestNetworkRoutes(t *testing.T) {
	nw := buildNetwork(0)
	n := nw.n
	for a := range n {
		for b := range n {
			steps := 0
			for s := a; s != b; s = int(nw.next[s*n+b]) {
				if nw.next[s*n+b] == none || steps > n {
					t.Fatalf("no route from %s to %s", nw.sites[a].place, nw.sites[b].place)
				}
				steps++
			}
		}
	}
	for _, r := range []struct {
		code     string
		from, to int
	}{{"A406", 13, 21}, {"A12", 1, 7}, {"A13", 1, 6}, {"A406", 8, 13}, {"A12", 7, 2}, {"A40", 2, 7}, {"A2", 8, 4}, {"A3", 7, 1}, {"A406", 1, 7}} {
		p := nw.span(r.code, r.from, r.to)
		for i := 1; i < len(p); i++ {
			if nw.edge[p[i-1]*n+p[i]] == noEdge {
				t.Errorf("%s %d-%d: sites %d and %d are not linked", r.code, r.from, r.to, p[i-1], p[i])
			}
		}
	}
	if nw.site("A10", 8) < 0 || nw.site("CZ", 7) < 0 || nw.site("A104", 1) < 0 {
		t.Error("planted home and work sites missing")
	}
	if len(nw.edgeSites) < 10 {
		t.Errorf("%d edge sites for visitors", len(nw.edgeSites))
	}
}

func TestLondonTime(t *testing.T) {
	tests := []struct {
		utc  string
		want int64 // offset hours
	}{
		{"2026-01-15T12:00:00Z", 0},
		{"2026-03-29T00:59:59Z", 0},
		{"2026-03-29T01:00:00Z", 1},
		{"2026-07-01T12:00:00Z", 1},
		{"2026-10-25T00:59:59Z", 1},
		{"2026-10-25T01:00:00Z", 0},
	}
	for _, tc := range tests {
		ts := mustTime(t, tc.utc)
		if got := ukOffsetMS(ts.UnixMilli()) / msPerHour; got != tc.want {
			t.Errorf("offset at %s = %d h, want %d", tc.utc, got, tc.want)
		}
	}
	// 23:30 UTC on 1 July is 00:30 BST on 2 July.
	d := localDate(mustTime(t, "2026-07-01T23:30:00Z").UnixMilli())
	w := newWindow(d, d)
	if got := w.start; got != mustTime(t, "2026-07-02T03:00:00Z").UnixMilli() {
		t.Errorf("window of 2 July starts at %d", got)
	}
	if w.dow != 4 {
		t.Errorf("2 July 2026 is a Thursday, got day %d", w.dow)
	}
}
func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}
