package search

import (
	"bytes"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// open accepts exactly what seal produced for the same subject and query, and never panics on
// anything else.
func FuzzCursorOpen(f *testing.F) {
	c := cursorSealer{key: bytes.Repeat([]byte{7}, 32)}
	good := c.seal("inv-1", "exact AB12CDE", "store-cursor-1")
	f.Add(good)
	f.Add("")
	f.Add("s1..")
	f.Add("s1.AAAA.AAAA")
	f.Add(good[:len(good)-1])
	f.Fuzz(func(t *testing.T, s string) {
		inner, ok := c.open("inv-1", "exact AB12CDE", s)
		if ok && (s != good || inner != "store-cursor-1") {
			t.Fatalf("accepted %q as %q", s, inner)
		}
	})
}

func TestCursorBinding(t *testing.T) {
	c := cursorSealer{key: bytes.Repeat([]byte{7}, 32)}
	s := c.seal("inv-1", "q", "inner")
	if got, ok := c.open("inv-1", "q", s); !ok || got != "inner" {
		t.Fatalf("own cursor refused")
	}
	other := cursorSealer{key: bytes.Repeat([]byte{8}, 32)}
	for name, ok := range map[string]bool{
		"other subject": func() bool { _, ok := c.open("inv-2", "q", s); return ok }(),
		"other query":   func() bool { _, ok := c.open("inv-1", "q2", s); return ok }(),
		"other key":     func() bool { _, ok := other.open("inv-1", "q", s); return ok }(),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
	if c.seal("inv-1", "q", "") != "" {
		t.Error("last page got a cursor")
	}
}

func TestImpossibleTravel(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	stop := func(cam string, lat, lon float64, at time.Duration) Stop {
		return Stop{Read: reads.Read{ID: cam + at.String(), CameraID: cam, SeenAt: t0.Add(at)}, Lat: lat, Lon: lon}
	}
	perivale := func(at time.Duration) Stop { return stop("A", 51.5370, -0.3230, at) }
	falconwood := func(at time.Duration) Stop { return stop("B", 51.4590, 0.0800, at) }
	sameSite := func(at time.Duration) Stop { return stop("A2", 51.5370, -0.3230, at) }
	for _, tc := range []struct {
		name string
		a, b Stop
		want bool
	}{
		{"28 km in 5 minutes", perivale(0), falconwood(5 * time.Minute), true},
		{"28 km in an hour", perivale(0), falconwood(time.Hour), false},
		{"same instant, different places", perivale(0), falconwood(0), true},
		{"same camera twice", perivale(0), perivale(time.Second), false},
		{"two cameras at one site at once", perivale(0), sameSite(0), false},
	} {
		f, got := impossible(tc.a, tc.b, DefaultMaxSpeedKPH)
		if got != tc.want {
			t.Errorf("%s: flagged %v (%+v), want %v", tc.name, got, f, tc.want)
		}
	}
	if km := haversineKM(51.5370, -0.3230, 51.4590, 0.0800); km < 28 || km > 30 {
		t.Errorf("Perivale-Falconwood %.1f km", km)
	}
}
