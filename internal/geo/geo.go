// Package geo checks the areas investigators draw (a polygon, or a centre and radius) and says
// which fixed points (cameras) lie inside them. Areas are small (a few kilometres), so shapes are
// measured on a local equirectangular projection about their centre, which is accurate to well
// under a metre at that size.
package geo

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalid is wrapped by every refusal of an area: the shape itself is wrong.
var ErrInvalid = errors.New("invalid area")

// Area is an area filter as the API carries it: either Polygon ([lat, lon] vertices, closed
// implicitly) or Centre plus RadiusM. Exactly one form is set.
type Area struct {
	Polygon [][2]float64 `json:"polygon,omitempty"`
	Centre  *[2]float64  `json:"centre,omitempty"`
	RadiusM float64      `json:"radius_m,omitempty"`
}

// Limits bound the areas a search may name.
type Limits struct {
	MaxAreaKM2  float64 // largest area, polygon or circle (default 30 km²)
	MinRadiusM  float64 // default 10 m
	MaxRadiusM  float64 // default 3000 m
	MaxVertices int     // default 100
}

// Defaults of Limits.
const (
	DefaultMaxAreaKM2  = 30
	DefaultMinRadiusM  = 10
	DefaultMaxRadiusM  = 3000
	DefaultMaxVertices = 100
)

// WithDefaults fills zero fields.
func (l Limits) WithDefaults() Limits {
	if l.MaxAreaKM2 == 0 {
		l.MaxAreaKM2 = DefaultMaxAreaKM2
	}
	if l.MinRadiusM == 0 {
		l.MinRadiusM = DefaultMinRadiusM
	}
	if l.MaxRadiusM == 0 {
		l.MaxRadiusM = DefaultMaxRadiusM
	}
	if l.MaxVertices == 0 {
		l.MaxVertices = DefaultMaxVertices
	}
	return l
}

// IsZero reports whether no area was given.
func (a Area) IsZero() bool { return len(a.Polygon) == 0 && a.Centre == nil && a.RadiusM == 0 }

// Shape is a checked area, ready to test points.
type Shape struct {
	circle  bool
	lat0    float64 // projection centre
	lon0    float64
	radiusM float64
	pts     []xy // polygon vertices, projected (metres east, north of the centre)
	areaM2  float64
}

type xy struct{ x, y float64 }

const earthRadiusM = 6371008.8

// project maps (lat, lon) to metres east and north of (lat0, lon0).
func project(lat0, lon0, lat, lon float64) xy {
	rad := math.Pi / 180
	dLon := lon - lon0
	// Areas never straddle the antimeridian in practice; folding keeps the arithmetic sane if one
	// does.
	if dLon > 180 {
		dLon -= 360
	} else if dLon < -180 {
		dLon += 360
	}
	return xy{x: dLon * rad * earthRadiusM * math.Cos(lat0*rad), y: (lat - lat0) * rad * earthRadiusM}
}

func validPoint(p [2]float64) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && p[0] >= -90 && p[0] <= 90 && p[1] >= -180 && p[1] <= 180
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Check validates a against l and returns its shape. It refuses: both or neither form, points off
// the globe, a polygon with fewer than 3 distinct vertices or more than l.MaxVertices, a
// self-intersecting or zero-area polygon, a radius outside [MinRadiusM, MaxRadiusM], and any area
// larger than MaxAreaKM2.
func (a Area) Check(l Limits) (Shape, error) {
	l = l.WithDefaults()
	switch {
	case len(a.Polygon) > 0 && (a.Centre != nil || a.RadiusM != 0):
		return Shape{}, invalid("give either a polygon or a centre and radius, not both")
	case len(a.Polygon) > 0:
		return checkPolygon(a.Polygon, l)
	case a.Centre != nil:
		return checkCircle(*a.Centre, a.RadiusM, l)
	case a.RadiusM != 0:
		return Shape{}, invalid("a radius needs a centre")
	}
	return Shape{}, invalid("the area is empty: give a polygon or a centre and radius_m")
}

func checkCircle(c [2]float64, r float64, l Limits) (Shape, error) {
	if !validPoint(c) {
		return Shape{}, invalid("centre [%v, %v] is not a latitude/longitude", c[0], c[1])
	}
	if math.IsNaN(r) || r < l.MinRadiusM || r > l.MaxRadiusM {
		return Shape{}, invalid("radius %v m is out of range; it must be %v to %v m", r, l.MinRadiusM, l.MaxRadiusM)
	}
	s := Shape{circle: true, lat0: c[0], lon0: c[1], radiusM: r, areaM2: math.Pi * r * r}
	if s.areaM2 > l.MaxAreaKM2*1e6 {
		return Shape{}, invalid("the circle covers %.1f km²; at most %v km² may be searched at once", s.areaM2/1e6, l.MaxAreaKM2)
	}
	return s, nil
}

func checkPolygon(poly [][2]float64, l Limits) (Shape, error) {
	// A closing vertex equal to the first is accepted and dropped: the polygon closes implicitly.
	if n := len(poly); n > 1 && poly[0] == poly[n-1] {
		poly = poly[:n-1]
	}
	if len(poly) < 3 {
		return Shape{}, invalid("a polygon needs at least 3 points; it has %d", len(poly))
	}
	if len(poly) > l.MaxVertices {
		return Shape{}, invalid("a polygon may have at most %d points; it has %d", l.MaxVertices, len(poly))
	}
	var lat0, lon0 float64
	for i, p := range poly {
		if !validPoint(p) {
			return Shape{}, invalid("point %d [%v, %v] is not a latitude/longitude", i+1, p[0], p[1])
		}
		lat0 += p[0]
		lon0 += p[1]
	}
	lat0, lon0 = lat0/float64(len(poly)), lon0/float64(len(poly))
	s := Shape{lat0: lat0, lon0: lon0, pts: make([]xy, len(poly))}
	for i, p := range poly {
		s.pts[i] = project(lat0, lon0, p[0], p[1])
	}
	for i := range s.pts {
		if s.pts[i] == s.pts[(i+1)%len(s.pts)] {
			return Shape{}, invalid("points %d and %d are the same", i+1, (i+1)%len(s.pts)+1)
		}
	}
	if i, j, ok := selfIntersection(s.pts); ok {
		return Shape{}, invalid("the polygon crosses itself (edge %d meets edge %d); draw its outline without crossings", i+1, j+1)
	}
	s.areaM2 = math.Abs(shoelace(s.pts))
	if s.areaM2 < 1 {
		return Shape{}, invalid("the polygon has no area (its points are in a line)")
	}
	if s.areaM2 > l.MaxAreaKM2*1e6 {
		return Shape{}, invalid("the polygon covers %.1f km²; at most %v km² may be searched at once", s.areaM2/1e6, l.MaxAreaKM2)
	}
	return s, nil
}

// AreaKM2 is the area of the shape in square kilometres.
func (s Shape) AreaKM2() float64 { return s.areaM2 / 1e6 }

// Contains reports whether (lat, lon) lies inside the shape (on the boundary counts as inside for
// circles; for polygons a point exactly on an edge may fall either way, which at camera spacing
// does not matter).
func (s Shape) Contains(lat, lon float64) bool {
	if !validPoint([2]float64{lat, lon}) {
		return false
	}
	if s.circle {
		return HaversineM(s.lat0, s.lon0, lat, lon) <= s.radiusM
	}
	p := project(s.lat0, s.lon0, lat, lon)
	in := false
	for i, j := 0, len(s.pts)-1; i < len(s.pts); j, i = i, i+1 {
		a, b := s.pts[i], s.pts[j]
		if (a.y > p.y) != (b.y > p.y) && p.x < (b.x-a.x)*(p.y-a.y)/(b.y-a.y)+a.x {
			in = !in
		}
	}
	return in
}

// HaversineM is the great-circle distance between two points in metres.
func HaversineM(lat1, lon1, lat2, lon2 float64) float64 {
	rad := math.Pi / 180
	dLat, dLon := (lat2-lat1)*rad, (lon2-lon1)*rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * earthRadiusM * math.Asin(math.Min(1, math.Sqrt(h)))
}

func shoelace(p []xy) float64 {
	var sum float64
	for i := range p {
		j := (i + 1) % len(p)
		sum += p[i].x*p[j].y - p[j].x*p[i].y
	}
	return sum / 2
}

// selfIntersection finds two non-adjacent edges that touch or cross, or adjacent edges that fold
// back over each other. n is at most Limits.MaxVertices, so the quadratic scan is cheap.
func selfIntersection(p []xy) (int, int, bool) {
	n := len(p)
	for i := 0; i < n; i++ {
		a1, a2 := p[i], p[(i+1)%n]
		for j := i + 1; j < n; j++ {
			b1, b2 := p[j], p[(j+1)%n]
			adjacent := j == i+1 || (i == 0 && j == n-1)
			if adjacent {
				// Adjacent edges share a vertex; they intersect improperly only when they are
				// collinear and overlap (the outline doubles back on itself).
				shared, other1, other2 := a2, a1, b2
				if i == 0 && j == n-1 {
					shared, other1, other2 = a1, a2, b1
				}
				if cross(shared, other1, other2) == 0 && dot(shared, other1, other2) > 0 {
					return i, j, true
				}
				continue
			}
			if segmentsTouch(a1, a2, b1, b2) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

// cross is the z component of (b-o) x (c-o).
func cross(o, b, c xy) float64 { return (b.x-o.x)*(c.y-o.y) - (b.y-o.y)*(c.x-o.x) }

// dot is (b-o) . (c-o).
func dot(o, b, c xy) float64 { return (b.x-o.x)*(c.x-o.x) + (b.y-o.y)*(c.y-o.y) }

func sign(v float64) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

func onSegment(a, b, p xy) bool {
	return math.Min(a.x, b.x) <= p.x && p.x <= math.Max(a.x, b.x) && math.Min(a.y, b.y) <= p.y && p.y <= math.Max(a.y, b.y)
}

// segmentsTouch reports whether segments a1a2 and b1b2 share any point.
func segmentsTouch(a1, a2, b1, b2 xy) bool {
	d1, d2 := sign(cross(b1, b2, a1)), sign(cross(b1, b2, a2))
	d3, d4 := sign(cross(a1, a2, b1)), sign(cross(a1, a2, b2))
	if d1*d2 < 0 && d3*d4 < 0 {
		return true
	}
	return d1 == 0 && onSegment(b1, b2, a1) || d2 == 0 && onSegment(b1, b2, a2) ||
		d3 == 0 && onSegment(a1, a2, b1) || d4 == 0 && onSegment(a1, a2, b2)
}
