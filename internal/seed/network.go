package seed

import (
	"fmt"
	"math"
	"slices"

	"github.com/anpr-portal/anpr/internal/reads"
)

// Charing Cross is the traditional centre of London, from which the central area is measured.
const charingCrossLat, charingCrossLon = 51.5074, -0.1278

// Distances from Charing Cross that classify where a site is, which decides how likely people
// are to live, work or take a taxi there.
const (
	centralKM = 5.0
	edgeKM    = 16.5 // sites this far out are where vehicles from outside London enter and leave
)

// none marks a missing camera or route in the uint16 tables.
const none = math.MaxUint16

// site is one camera location: one or two cameras, one per carriageway it reads.
type site struct {
	place      string
	lat, lon   float64
	class      roadClass
	cams       []uint16 // indexes into network.cams
	fromCentre float64  // km
}

// network is the road graph the vehicles drive on. Every table is n*n, indexed [a*n+b], built
// once per Generate and read-only afterwards.
type network struct {
	sites     []site
	cams      []reads.Camera
	camSite   []uint16
	camBear   []float64
	roadSites map[string][]int // road code -> site indexes in road order, for planted routes
	n         int
	next      []uint16  // next[a*n+b]: the site after a on the fastest path from a to b
	dist      []float32 // straight-line km between every pair of sites
	edge      []uint8   // road class of the direct link a->b, or noEdge
	camOut    []uint16  // camera at a that reads a vehicle leaving a towards b
	camIn     []uint16  // camera at b that reads a vehicle arriving from a
	lanes     []uint8   // lanes per camera

	homeW, workW, taxiW []float64 // cumulative weights over sites
	edgeSites           []int
}

const noEdge = 255

// Cameras returns the synthetic London camera network: about 300 cameras on real roads inside
// the M25. Ids and names never change; the seed only nudges positions by a few metres, so a
// store seeded twice with different seeds still names the same cameras.
func Cameras(seed int64) []reads.Camera {
	cams, _, _ := buildCameras(seed)
	return cams
}

// buildCameras lays out the cameras of every site, returning them with their site index and the
// bearing each one reads.
func buildCameras(seed int64) (cams []reads.Camera, camSite []uint16, bearing []float64) {
	si := 0
	for _, rd := range roadDefs {
		for i, sd := range rd.sites {
			// The primary camera reads travel along the road in table order; the bearing is taken
			// across the neighbouring sites so a camera on a bend faces the traffic it reads.
			b := sd.bearing
			if rd.chained {
				prev, next := rd.sites[max(i-1, 0)], rd.sites[min(i+1, len(rd.sites)-1)]
				b = bearingDeg(prev.lat, prev.lon, next.lat, next.lon)
			}
			var dirs []float64
			switch rd.class {
			case motorway, trunk:
				dirs = []float64{b, math.Mod(b+180, 360)}
			case urban:
				// One carriageway per site, alternating, so both directions of the road are covered.
				if i%2 == 1 {
					b = math.Mod(b+180, 360)
				}
				dirs = []float64{b}
			default:
				// Cordon points read traffic heading into the centre.
				in := bearingDeg(sd.lat, sd.lon, charingCrossLat, charingCrossLon)
				if angleDiff(b, in) > 90 {
					b = math.Mod(b+180, 360)
				}
				dirs = []float64{b}
			}
			road := rd.name
			if sd.road != "" {
				road = sd.road
			}
			for _, d := range dirs {
				bound := bound4(d)
				// Cameras of one site sit on opposite kerbs (about 12 m either side of the centre
				// line) and the seed moves each by up to ~20 m along the road.
				r := newRNG(uint64(seed), 0xca3e7a, uint64(len(cams)))
				perp := (d + 90) * math.Pi / 180
				along := d * math.Pi / 180
				off := (r.float()*2 - 1) * 20
				north := 12*math.Cos(perp) + off*math.Cos(along)
				east := 12*math.Sin(perp) + off*math.Sin(along)
				cams = append(cams, reads.Camera{
					ID:        fmt.Sprintf("%s-%02d-%s", rd.code, i+1, bound),
					Name:      fmt.Sprintf("%s / %s %s", road, sd.place, bound),
					Road:      road,
					Direction: compass8(d),
					Area:      sd.area,
					Lat:       round6(sd.lat + north/111_195),
					Lon:       round6(sd.lon + east/(111_195*math.Cos(sd.lat*math.Pi/180))),
				})
				camSite = append(camSite, uint16(si))
				bearing = append(bearing, d)
			}
			si++
		}
	}
	return cams, camSite, bearing
}

// buildNetwork builds the road graph and the fastest-path tables.
func buildNetwork(seed int64) *network {
	cams, camSite, bearing := buildCameras(seed)
	nw := &network{cams: cams, camSite: camSite, camBear: bearing, roadSites: map[string][]int{}}
	chainEdges := [][3]int{} // a, b, class
	for _, rd := range roadDefs {
		for i, sd := range rd.sites {
			idx := len(nw.sites)
			nw.sites = append(nw.sites, site{place: sd.place, lat: sd.lat, lon: sd.lon, class: rd.class,
				fromCentre: haversineKM(sd.lat, sd.lon, charingCrossLat, charingCrossLon)})
			nw.roadSites[rd.code] = append(nw.roadSites[rd.code], idx)
			if rd.chained && i > 0 {
				chainEdges = append(chainEdges, [3]int{idx - 1, idx, int(rd.class)})
			}
		}
	}
	for c, s := range camSite {
		nw.sites[s].cams = append(nw.sites[s].cams, uint16(c))
	}
	n := len(nw.sites)
	nw.n = n
	nw.dist = make([]float32, n*n)
	nw.edge = make([]uint8, n*n)
	for a := range n {
		for b := range n {
			nw.dist[a*n+b] = float32(haversineKM(nw.sites[a].lat, nw.sites[a].lon, nw.sites[b].lat, nw.sites[b].lon))
			nw.edge[a*n+b] = noEdge
		}
	}
	link := func(a, b int, c roadClass) {
		if a == b || nw.edge[a*n+b] != noEdge && roadClass(nw.edge[a*n+b]) <= c {
			return
		}
		nw.edge[a*n+b], nw.edge[b*n+a] = uint8(c), uint8(c)
	}
	for _, e := range chainEdges {
		link(e[0], e[1], roadClass(e[2]))
	}
	// Junctions: sites of different roads close together are joined by local roads, and every
	// site gets side streets to its two nearest neighbours so the graph has no dead ends.
	order := make([]int, n)
	for a := range n {
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(x, y int) int { return cmpF(nw.dist[a*n+x], nw.dist[a*n+y]) })
		for k, b := range order[1:] {
			d := nw.dist[a*n+b]
			if d <= 2.0 || (k < 2 && d <= 5) {
				link(a, b, local)
			}
		}
	}
	nw.connect()
	nw.shortestPaths()
	nw.cameraTables()
	nw.weights()
	return nw
}

// connect joins disconnected parts of the graph by their closest pair of sites, so every trip
// has a route.
func (nw *network) connect() {
	n := nw.n
	for {
		comp := make([]int, n)
		for i := range comp {
			comp[i] = -1
		}
		var stack []int
		comp[0] = 0
		stack = append(stack, 0)
		for len(stack) > 0 {
			a := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for b := range n {
				if nw.edge[a*n+b] != noEdge && comp[b] < 0 {
					comp[b] = 0
					stack = append(stack, b)
				}
			}
		}
		best, ba, bb := float32(math.MaxFloat32), -1, -1
		for a := range n {
			for b := range n {
				if comp[a] == 0 && comp[b] < 0 && nw.dist[a*n+b] < best {
					best, ba, bb = nw.dist[a*n+b], a, b
				}
			}
		}
		if ba < 0 {
			return
		}
		nw.edge[ba*n+bb], nw.edge[bb*n+ba] = uint8(local), uint8(local)
	}
}

// legSeconds is the typical time to drive the direct link a->b, used to choose routes.
func (nw *network) legSeconds(a, b int) float64 {
	c := roadClass(nw.edge[a*nw.n+b])
	mph := (speedMPH[c][0] + speedMPH[c][1]) / 2
	return float64(nw.dist[a*nw.n+b])*detour[c]/(mph*1.609344)*3600 + junctionDelaySec
}

// junctionDelaySec is the average wait at the junction at each site (lights, roundabouts).
const junctionDelaySec = 25

// shortestPaths runs Floyd-Warshall over typical leg times; with about 200 sites that is a few
// million steps, cheaper than routing each trip.
func (nw *network) shortestPaths() {
	n := nw.n
	cost := make([]float64, n*n)
	nw.next = make([]uint16, n*n)
	for a := range n {
		for b := range n {
			i := a*n + b
			switch {
			case a == b:
				cost[i] = 0
				nw.next[i] = uint16(b)
			case nw.edge[i] != noEdge:
				cost[i] = nw.legSeconds(a, b)
				nw.next[i] = uint16(b)
			default:
				cost[i] = math.Inf(1)
				nw.next[i] = none
			}
		}
	}
	for k := range n {
		for a := range n {
			ak := cost[a*n+k]
			if math.IsInf(ak, 1) {
				continue
			}
			for b := range n {
				if c := ak + cost[k*n+b]; c < cost[a*n+b] {
					cost[a*n+b] = c
					nw.next[a*n+b] = nw.next[a*n+k]
				}
			}
		}
	}
}

// cameraTables precomputes which camera reads a vehicle at each site for each direction of
// travel: the site's camera whose carriageway bearing is within 90 degrees of the travel bearing.
func (nw *network) cameraTables() {
	n := nw.n
	nw.camOut = make([]uint16, n*n)
	nw.camIn = make([]uint16, n*n)
	pick := func(s int, travel float64) uint16 {
		best, bestD := uint16(none), 90.0
		for _, c := range nw.sites[s].cams {
			if d := angleDiff(nw.camBear[c], travel); d < bestD {
				best, bestD = c, d
			}
		}
		return best
	}
	for a := range n {
		for b := range n {
			if a == b {
				nw.camOut[a*n+b], nw.camIn[a*n+b] = none, none
				continue
			}
			sa, sb := nw.sites[a], nw.sites[b]
			brg := bearingDeg(sa.lat, sa.lon, sb.lat, sb.lon)
			nw.camOut[a*n+b] = pick(a, brg)
			nw.camIn[a*n+b] = pick(b, brg)
		}
	}
	nw.lanes = make([]uint8, len(nw.cams))
	for c, s := range nw.camSite {
		nw.lanes[c] = [...]uint8{motorway: 3, trunk: 2, urban: 2, central: 1, local: 1}[nw.sites[s].class]
	}
}

// weights sets where people live, work and hail taxis: homes spread outwards, work and taxi
// fares concentrate in the centre.
func (nw *network) weights() {
	var h, w, t float64
	for i, s := range nw.sites {
		var hw, ww, tw float64
		switch {
		case s.fromCentre < centralKM:
			hw, ww, tw = 0.4, 5, 8
		case s.fromCentre < 10:
			hw, ww, tw = 2, 1.5, 1.5
		default:
			hw, ww, tw = 3, 1, 0.2
		}
		h, w, t = h+hw, w+ww, t+tw
		nw.homeW = append(nw.homeW, h)
		nw.workW = append(nw.workW, w)
		nw.taxiW = append(nw.taxiW, t)
		if s.fromCentre >= edgeKM {
			nw.edgeSites = append(nw.edgeSites, i)
		}
	}
}

// pick draws a site index from cumulative weights.
func pick(cum []float64, r *rng) int {
	x := r.float() * cum[len(cum)-1]
	i, _ := slices.BinarySearch(cum, x)
	return min(i, len(cum)-1)
}

// site returns the index of the n-th (1-based) site of a road; it panics on a bad reference,
// which only the hard-coded planted routes make and a test covers.
func (nw *network) site(code string, nth int) int {
	s := nw.roadSites[code]
	if nth < 1 || nth > len(s) {
		panic(fmt.Sprintf("seed: road %s has no site %d", code, nth))
	}
	return s[nth-1]
}

// span returns the sites of a road from the from-th to the to-th (1-based, either direction).
func (nw *network) span(code string, from, to int) []int {
	var out []int
	step := 1
	if to < from {
		step = -1
	}
	for i := from; ; i += step {
		out = append(out, nw.site(code, i))
		if i == to {
			return out
		}
	}
}

func haversineKM(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0088
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Min(1, math.Sqrt(a)))
}

func bearingDeg(lat1, lon1, lat2, lon2 float64) float64 {
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dl := (lon2 - lon1) * math.Pi / 180
	y := math.Sin(dl) * math.Cos(p2)
	x := math.Cos(p1)*math.Sin(p2) - math.Sin(p1)*math.Cos(p2)*math.Cos(dl)
	return math.Mod(math.Atan2(y, x)*180/math.Pi+360, 360)
}

func angleDiff(a, b float64) float64 {
	d := math.Abs(math.Mod(a-b+360, 360))
	return math.Min(d, 360-d)
}

// bound4 names a carriageway the way UK signs and ANPR site lists do: NB, EB, SB, WB. Opposite
// bearings always get opposite names, so the two cameras of a site never share an id.
func bound4(b float64) string {
	return [...]string{"NB", "EB", "SB", "WB"}[int(math.Floor(math.Mod(b+45, 360)/90))%4]
}

func compass8(b float64) string {
	return [...]string{"N", "NE", "E", "SE", "S", "SW", "W", "NW"}[int(math.Floor(math.Mod(b+22.5, 360)/45))%8]
}

func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

func cmpF(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
