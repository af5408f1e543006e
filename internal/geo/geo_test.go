package geo

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// A square of about 1.1 km by 0.7 km around Ealing Broadway, and points in and out of it.
var square = [][2]float64{{51.510, -0.310}, {51.510, -0.300}, {51.520, -0.300}, {51.520, -0.310}}

func centre(lat, lon float64) *[2]float64 { return &[2]float64{lat, lon} }

func TestCheckRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		area Area
		want string
	}{
		{"empty", Area{}, "area is empty"},
		{"both forms", Area{Polygon: square, Centre: centre(51.5, -0.3), RadiusM: 100}, "not both"},
		{"radius without centre", Area{RadiusM: 100}, "needs a centre"},
		{"two points", Area{Polygon: square[:2]}, "at least 3 points; it has 2"},
		{"closed triangle of two points", Area{Polygon: [][2]float64{{51.5, -0.3}, {51.51, -0.3}, {51.5, -0.3}}}, "at least 3 points"},
		{"bow tie", Area{Polygon: [][2]float64{{51.510, -0.310}, {51.520, -0.300}, {51.510, -0.300}, {51.520, -0.310}}}, "crosses itself"},
		{"doubles back", Area{Polygon: [][2]float64{{51.510, -0.310}, {51.510, -0.300}, {51.510, -0.305}, {51.520, -0.305}}}, "crosses itself"},
		{"repeated point", Area{Polygon: [][2]float64{{51.510, -0.310}, {51.510, -0.310}, {51.520, -0.300}, {51.510, -0.300}}}, "are the same"},
		{"collinear", Area{Polygon: [][2]float64{{51.50, -0.30}, {51.51, -0.30}, {51.52, -0.30}}}, "crosses itself"},
		{"too large polygon", Area{Polygon: [][2]float64{{51.3, -0.5}, {51.3, 0.2}, {51.7, 0.2}, {51.7, -0.5}}}, "at most 30 km²"},
		{"off the globe", Area{Polygon: [][2]float64{{91, 0}, {51.5, 0.1}, {51.6, 0.1}}}, "not a latitude/longitude"},
		{"NaN", Area{Polygon: [][2]float64{{math.NaN(), 0}, {51.5, 0.1}, {51.6, 0.1}}}, "not a latitude/longitude"},
		{"radius too small", Area{Centre: centre(51.5, -0.3), RadiusM: 5}, "radius 5 m is out of range"},
		{"radius too large", Area{Centre: centre(51.5, -0.3), RadiusM: 5000}, "radius 5000 m is out of range"},
		{"negative radius", Area{Centre: centre(51.5, -0.3), RadiusM: -100}, "out of range"},
		{"centre off the globe", Area{Centre: centre(51.5, 200), RadiusM: 100}, "not a latitude/longitude"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.area.Check(Limits{})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrInvalid saying %q", err, tc.want)
			}
		})
	}
	// The area limit applies to circles too.
	if _, err := (Area{Centre: centre(51.5, -0.3), RadiusM: 3000}).Check(Limits{MaxAreaKM2: 10}); err == nil || !strings.Contains(err.Error(), "at most 10 km²") {
		t.Errorf("large circle: %v", err)
	}
	if _, err := (Area{Polygon: square}).Check(Limits{MaxVertices: 3}); err == nil || !strings.Contains(err.Error(), "at most 3 points") {
		t.Errorf("too many vertices: %v", err)
	}
}

func TestContains(t *testing.T) {
	sq, err := Area{Polygon: square}.Check(Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if a := sq.AreaKM2(); a < 0.7 || a > 0.8 {
		t.Errorf("square area %.3f km², want about 0.77", a)
	}
	// An L-shape (concave), drawn clockwise and closed explicitly.
	ell, err := Area{Polygon: [][2]float64{{51.50, -0.30}, {51.52, -0.30}, {51.52, -0.29}, {51.51, -0.29}, {51.51, -0.28}, {51.50, -0.28}, {51.50, -0.30}}}.Check(Limits{})
	if err != nil {
		t.Fatal(err)
	}
	circle, err := Area{Centre: centre(51.5, -0.3), RadiusM: 1000}.Check(Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		shape    Shape
		lat, lon float64
		want     bool
	}{
		{"square centre", sq, 51.515, -0.305, true},
		{"square near corner", sq, 51.5101, -0.3099, true},
		{"square west", sq, 51.515, -0.311, false},
		{"square north", sq, 51.521, -0.305, false},
		{"ell arm", ell, 51.505, -0.285, true},
		{"ell notch", ell, 51.515, -0.285, false},
		{"ell stem", ell, 51.515, -0.295, true},
		{"circle centre", circle, 51.5, -0.3, true},
		{"circle 900 m north", circle, 51.5 + 900/111195.0, -0.3, true},
		{"circle 1100 m north", circle, 51.5 + 1100/111195.0, -0.3, false},
		{"circle 990 m east", circle, 51.5, -0.3 + 990/(111195.0*math.Cos(51.5*math.Pi/180)), true},
		{"circle 1010 m east", circle, 51.5, -0.3 + 1010/(111195.0*math.Cos(51.5*math.Pi/180)), false},
		{"not a point", circle, math.NaN(), 0, false},
	} {
		if got := tc.shape.Contains(tc.lat, tc.lon); got != tc.want {
			t.Errorf("%s: Contains(%v, %v) = %v, want %v", tc.name, tc.lat, tc.lon, got, tc.want)
		}
	}
}

// FuzzCheck: no input panics; an accepted polygon has 3..MaxVertices points, an area within the
// limit and contains its own centroid-ish interior or not, but never a point far outside its
// bounding box.
func FuzzCheck(f *testing.F) {
	f.Add(51.51, -0.31, 51.51, -0.30, 51.52, -0.30, 51.52, -0.31, 0.0)
	f.Add(51.51, -0.31, 51.52, -0.30, 51.51, -0.30, 51.52, -0.31, 0.0)
	f.Add(51.5, -0.3, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 500.0)
	f.Fuzz(func(t *testing.T, a, b, c, d, e, g, h, i, r float64) {
		var area Area
		if r != 0 {
			area = Area{Centre: &[2]float64{a, b}, RadiusM: r}
		} else {
			area = Area{Polygon: [][2]float64{{a, b}, {c, d}, {e, g}, {h, i}}}
		}
		s, err := area.Check(Limits{})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if s.AreaKM2() > DefaultMaxAreaKM2 || s.AreaKM2() <= 0 {
			t.Fatalf("accepted area %v km²", s.AreaKM2())
		}
		// A point 1 degree of latitude (111 km) away is outside any accepted area.
		far := a + 1
		if far > 90 {
			far = a - 1
		}
		if s.Contains(far, b) {
			t.Fatalf("area %+v contains a point 111 km away", area)
		}
	})
}
