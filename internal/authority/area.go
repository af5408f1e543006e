package authority

import (
	"fmt"
	"math"
)

// Area is a place an authority covers, in the contract's JSON shape: a polygon of [lat, lon]
// points (closed implicitly) or a centre [lat, lon] with a radius in metres. Cameras are fixed
// points, so an area is resolved once, when requested, to the set of cameras inside it, and the
// authority covers that camera set (the lead's contract "areas are camera sets").
//
// The geometry here is the minimum an authority needs; searches resolve areas the same way.
type Area struct {
	Polygon [][2]float64 `json:"polygon,omitempty"`
	Centre  *[2]float64  `json:"centre,omitempty"`
	RadiusM float64      `json:"radius_m,omitempty"`
}

// Default bounds on areas (Config can change them).
const (
	DefaultMaxAreaKM2 = 500.0    // a borough or two, not the whole force area
	DefaultMaxRadiusM = 10_000.0 // matches the area bound for a circle of about 314 km²
	earthRadiusM      = 6_371_000.0
)

type point struct{ x, y float64 } // metres on a local equirectangular projection

// shape is a checked area that can answer "is this camera inside".
type shape struct {
	poly    []point
	lat0    float64
	lon0    float64
	centre  *[2]float64
	radiusM float64
}

func validLatLon(p [2]float64) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && p[0] >= -90 && p[0] <= 90 && p[1] >= -180 && p[1] <= 180
}

// check validates the area against the bounds and returns its shape. Every rule of the contract
// is here: at least 3 distinct points, no self-intersection, not larger than maxKM2; a bounded
// positive radius; not both forms at once.
func (a Area) check(maxKM2, maxRadiusM float64) (shape, error) {
	switch {
	case len(a.Polygon) > 0 && (a.Centre != nil || a.RadiusM != 0):
		return shape{}, fmt.Errorf("an area is a polygon or a centre with a radius, not both")
	case a.Centre != nil:
		if !validLatLon(*a.Centre) {
			return shape{}, fmt.Errorf("the centre %v is not a [lat, lon] point", *a.Centre)
		}
		if !(a.RadiusM > 0) || a.RadiusM > maxRadiusM {
			return shape{}, fmt.Errorf("radius_m %v must be more than 0 and at most %v metres", a.RadiusM, maxRadiusM)
		}
		c := *a.Centre
		return shape{centre: &c, radiusM: a.RadiusM}, nil
	case len(a.Polygon) == 0:
		return shape{}, fmt.Errorf("an area needs a polygon or a centre and radius_m")
	}
	pts := a.Polygon
	if len(pts) > 1 && pts[0] == pts[len(pts)-1] {
		pts = pts[:len(pts)-1] // closed explicitly: the same as implicitly
	}
	if len(pts) < 3 {
		return shape{}, fmt.Errorf("a polygon needs at least 3 points, got %d", len(pts))
	}
	if len(pts) > 1000 {
		return shape{}, fmt.Errorf("a polygon has at most 1000 points, got %d", len(pts))
	}
	s := shape{}
	for _, p := range pts {
		if !validLatLon(p) {
			return shape{}, fmt.Errorf("polygon point %v is not a [lat, lon] point", p)
		}
		s.lat0 += p[0] / float64(len(pts))
		s.lon0 += p[1] / float64(len(pts))
	}
	for _, p := range pts {
		s.poly = append(s.poly, s.project(p[0], p[1]))
	}
	if i, j, ok := selfIntersection(s.poly); ok {
		return shape{}, fmt.Errorf("the polygon intersects itself (edges %d and %d cross)", i+1, j+1)
	}
	km2 := math.Abs(shoelace(s.poly)) / 1e6
	if km2 == 0 {
		return shape{}, fmt.Errorf("the polygon encloses no area")
	}
	if km2 > maxKM2 {
		return shape{}, fmt.Errorf("the polygon covers %.1f km²; at most %.1f km² is allowed", km2, maxKM2)
	}
	return s, nil
}

func (s shape) project(lat, lon float64) point {
	rad := math.Pi / 180
	return point{
		x: (lon - s.lon0) * rad * earthRadiusM * math.Cos(s.lat0*rad),
		y: (lat - s.lat0) * rad * earthRadiusM,
	}
}

// contains reports whether a camera at lat, lon is inside (boundary included for circles).
func (s shape) contains(lat, lon float64) bool {
	if s.centre != nil {
		return haversineM(s.centre[0], s.centre[1], lat, lon) <= s.radiusM
	}
	p := s.project(lat, lon)
	in := false
	for i, j := 0, len(s.poly)-1; i < len(s.poly); j, i = i, i+1 {
		a, b := s.poly[i], s.poly[j]
		if (a.y > p.y) != (b.y > p.y) && p.x < (b.x-a.x)*(p.y-a.y)/(b.y-a.y)+a.x {
			in = !in
		}
	}
	return in
}

func haversineM(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * earthRadiusM * math.Asin(math.Min(1, math.Sqrt(h)))
}

func shoelace(p []point) float64 {
	var s float64
	for i := range p {
		j := (i + 1) % len(p)
		s += p[i].x*p[j].y - p[j].x*p[i].y
	}
	return s / 2
}

// selfIntersection finds two non-adjacent edges that touch.
func selfIntersection(p []point) (int, int, bool) {
	n := len(p)
	for i := 0; i < n; i++ {
		a1, a2 := p[i], p[(i+1)%n]
		for j := i + 1; j < n; j++ {
			if j == i || (j+1)%n == i || (i+1)%n == j {
				continue // adjacent edges share a vertex by construction
			}
			if segmentsTouch(a1, a2, p[j], p[(j+1)%n]) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

func cross(o, a, b point) float64 { return (a.x-o.x)*(b.y-o.y) - (a.y-o.y)*(b.x-o.x) }

func onSegment(a, b, p point) bool {
	return math.Min(a.x, b.x) <= p.x && p.x <= math.Max(a.x, b.x) && math.Min(a.y, b.y) <= p.y && p.y <= math.Max(a.y, b.y)
}

func sign(v float64) int {
	switch {
	case v > 1e-9:
		return 1
	case v < -1e-9:
		return -1
	}
	return 0
}

func segmentsTouch(a1, a2, b1, b2 point) bool {
	d1, d2 := sign(cross(b1, b2, a1)), sign(cross(b1, b2, a2))
	d3, d4 := sign(cross(a1, a2, b1)), sign(cross(a1, a2, b2))
	if d1*d2 < 0 && d3*d4 < 0 {
		return true
	}
	return (d1 == 0 && onSegment(b1, b2, a1)) || (d2 == 0 && onSegment(b1, b2, a2)) ||
		(d3 == 0 && onSegment(a1, a2, b1)) || (d4 == 0 && onSegment(a1, a2, b2))
}
