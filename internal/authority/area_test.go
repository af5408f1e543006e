package authority

import (
	"math"
	"strings"
	"testing"
)

func TestAreaCheckAndContains(t *testing.T) {
	square := [][2]float64{{51.50, -0.30}, {51.52, -0.30}, {51.52, -0.27}, {51.50, -0.27}}
	for _, tc := range []struct {
		name    string
		area    Area
		err     string
		inside  [][2]float64
		outside [][2]float64
	}{
		{name: "square", area: Area{Polygon: square}, inside: [][2]float64{{51.51, -0.285}}, outside: [][2]float64{{51.53, -0.285}, {51.51, -0.26}}},
		{name: "closed explicitly", area: Area{Polygon: append(square, square[0])}, inside: [][2]float64{{51.51, -0.285}}},
		{name: "concave", area: Area{Polygon: [][2]float64{{51.50, -0.30}, {51.52, -0.30}, {51.51, -0.285}, {51.52, -0.27}, {51.50, -0.27}}},
			inside: [][2]float64{{51.505, -0.285}}, outside: [][2]float64{{51.518, -0.285}}},
		{name: "circle", area: Area{Centre: &[2]float64{51.5, -0.1}, RadiusM: 1000},
			inside: [][2]float64{{51.5, -0.1}, {51.5089, -0.1}}, outside: [][2]float64{{51.5091, -0.1}}},
		{name: "bowtie", area: Area{Polygon: [][2]float64{{51.50, -0.30}, {51.52, -0.27}, {51.50, -0.27}, {51.52, -0.30}}}, err: "intersects itself"},
		{name: "collinear", area: Area{Polygon: [][2]float64{{51.50, -0.30}, {51.52, -0.30}, {51.51, -0.30}}}, err: "encloses no area"},
		{name: "two points", area: Area{Polygon: square[:2]}, err: "at least 3"},
		{name: "both forms", area: Area{Polygon: square, Centre: &[2]float64{51.5, -0.1}, RadiusM: 10}, err: "not both"},
		{name: "neither", area: Area{}, err: "needs a polygon"},
		{name: "bad point", area: Area{Polygon: [][2]float64{{91, 0}, {51.52, -0.30}, {51.52, -0.27}}}, err: "not a [lat, lon]"},
		{name: "zero radius", area: Area{Centre: &[2]float64{51.5, -0.1}}, err: "radius_m"},
		{name: "too large", area: Area{Polygon: [][2]float64{{51, -1}, {52, -1}, {52, 1}, {51, 1}}}, err: "km²"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sh, err := tc.area.check(DefaultMaxAreaKM2, DefaultMaxRadiusM)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tc.inside {
				if !sh.contains(p[0], p[1]) {
					t.Errorf("%v should be inside", p)
				}
			}
			for _, p := range tc.outside {
				if sh.contains(p[0], p[1]) {
					t.Errorf("%v should be outside", p)
				}
			}
		})
	}
}

// Whatever the input, check never panics, an accepted polygon is within the area bound and
// encloses something, and an accepted circle contains its centre and nothing beyond its radius.
func FuzzAreaCheck(f *testing.F) {
	f.Add(51.50, -0.30, 51.52, -0.30, 51.52, -0.27, 51.50, -0.27, 0.0)
	f.Add(51.50, -0.30, 51.52, -0.27, 51.50, -0.27, 51.52, -0.30, 0.0)
	f.Add(51.5, -0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1000.0)
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g, h, i, r float64) {
		if r != 0 {
			ar := Area{Centre: &[2]float64{a, b}, RadiusM: r}
			sh, err := ar.check(DefaultMaxAreaKM2, DefaultMaxRadiusM)
			if err != nil {
				return
			}
			if !sh.contains(a, b) {
				t.Fatalf("circle %v does not contain its centre", ar)
			}
			north := a + (r*1.01)/earthRadiusM*180/math.Pi
			if north <= 90 && sh.contains(north, b) {
				t.Fatalf("circle %v contains a point beyond its radius", ar)
			}
			return
		}
		ar := Area{Polygon: [][2]float64{{a, b}, {c, d}, {e, g}, {h, i}}}
		sh, err := ar.check(DefaultMaxAreaKM2, DefaultMaxRadiusM)
		if err != nil {
			return
		}
		km2 := math.Abs(shoelace(sh.poly)) / 1e6
		if km2 <= 0 || km2 > DefaultMaxAreaKM2 {
			t.Fatalf("accepted polygon %v of %v km²", ar.Polygon, km2)
		}
	})
}
