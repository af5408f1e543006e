package seed

// Reads are simulated one vehicle-day at a time into a compact buffer of 64-bit keys (time
// within the window, vehicle, camera), which sort into time order and expand into reads.Read only
// when a batch is emitted. Nothing per vehicle is stored between days: a vehicle's home, work and
// habits are hashed from (seed, vehicle) every time they are needed.

const (
	keyTimeShift = 35 // bits 35..62: ms since the window start (a window is at most 25 hours)
	keyVehShift  = 9  // bits 9..34: vehicle number
	keyCamMask   = 1<<keyVehShift - 1
	maxVehicles  = 1 << (keyTimeShift - keyVehShift)
	// readProb is the chance a camera reads a passing vehicle; real sites miss some (dirty
	// plates, lane changes, occlusion by lorries).
	readProb = 0.92
)

func makeKey(rel int64, veh uint32, cam uint16) uint64 {
	return uint64(rel)<<keyTimeShift | uint64(veh)<<keyVehShift | uint64(cam)
}

func splitKey(k uint64) (rel int64, veh uint32, cam uint16) {
	return int64(k >> keyTimeShift), uint32(k>>keyVehShift) & (maxVehicles - 1), uint16(k & keyCamMask)
}

// collector gathers one window's reads up to the window's quota. Reads outside the window or
// not before Now are silently dropped: a vehicle still driving at the end of its day or after
// the clock simply was not seen.
type collector struct {
	keys       []uint64
	limit      int
	start, end int64
	now        int64
}

type addResult uint8

const (
	added addResult = iota
	skipped
	full
)

func (c *collector) add(veh uint32, t int64, cam uint16, force bool) addResult {
	if t < c.start || t >= c.end || t >= c.now {
		return skipped
	}
	if !force && len(c.keys) >= c.limit {
		return full
	}
	c.keys = append(c.keys, makeKey(t-c.start, veh, cam))
	return added
}

// read is a planted read, kept to document the planted cases.
type read struct {
	veh uint32
	cam uint16
	t   int64
}

// driver drives one vehicle through one day, adding the reads the cameras take.
type driver struct {
	nw      *network
	col     *collector
	win     *window
	veh     uint32
	r       rng
	force   bool    // planted vehicles: their reads are added even when the quota is full
	always  bool    // every camera passed reads the plate (planted routes that are documented)
	record  *[]read // planted vehicles: where the reads go for documentation
	swapAt  int     // planted misreads: the swapAt-th read of the next drive (1-based) ...
	swapVeh uint32  // ... is attributed to this pseudo-vehicle instead
	dry     bool    // plan only: compute times and record reads, add nothing
	stopped bool    // the window's quota is full
	path    []int
}

func (d *driver) reset(veh uint32, r rng) {
	d.veh, d.r, d.force, d.always, d.record = veh, r, false, false, nil
	d.swapAt, d.dry, d.stopped = 0, false, false
}

// trip drives the fastest route from one site to another starting at t and returns the arrival
// time. readFirst and readLast say whether the cameras at the two ends read the vehicle (a trip
// that starts where the last one ended has usually been read there already).
func (d *driver) trip(from, to int, t int64, readFirst, readLast bool) int64 {
	if from == to {
		return t
	}
	n := d.nw.n
	d.path = append(d.path[:0], from)
	for s := from; s != to; {
		s = int(d.nw.next[s*n+to])
		d.path = append(d.path, s)
	}
	return d.drive(d.path, t, readFirst, readLast)
}

// drive passes the sites in order. Speeds depend on the road, the hour and the driver.
func (d *driver) drive(path []int, t int64, readFirst, readLast bool) int64 {
	n := d.nw.n
	pace := d.r.between(0.9, 1.05)
	nread := 0
	for i, s := range path {
		if i > 0 {
			t += d.leg(path[i-1], s, pace, d.win.hour(t))
		}
		if d.stopped {
			continue
		}
		cam := uint16(none)
		switch {
		case i == 0 && !readFirst, i == len(path)-1 && !readLast, len(path) < 2:
		case i < len(path)-1:
			cam = d.nw.camOut[s*n+path[i+1]]
		default:
			cam = d.nw.camIn[path[i-1]*n+s]
		}
		if cam == none || (!d.always && d.r.float() >= readProb) {
			continue
		}
		at := t + int64(d.r.intn(1000)) // cameras stamp to the millisecond
		nread++
		veh := d.veh
		if nread == d.swapAt {
			veh = d.swapVeh
		}
		if d.dry {
			if d.record != nil {
				*d.record = append(*d.record, read{veh: veh, cam: cam, t: at})
			}
			continue
		}
		switch d.col.add(veh, at, cam, d.force) {
		case full:
			d.stopped = true
		case added:
			if d.record != nil {
				*d.record = append(*d.record, read{veh: veh, cam: cam, t: at})
			}
		}
	}
	return t
}

// leg returns the ms to drive from site a to its neighbour b.
func (d *driver) leg(a, b int, pace, hour float64) int64 {
	n := d.nw.n
	c := roadClass(d.nw.edge[a*n+b])
	if c == noEdge {
		c = local
	}
	lo, hi := speedMPH[c][0], speedMPH[c][1]
	traffic := 0.95
	switch h := int(hour) % 24; {
	case h >= 7 && h < 10, h >= 16 && h < 19:
		traffic = 0.75
	case h >= 22 || h < 6:
		traffic = 1.15
	}
	mph := min(d.r.between(lo, hi)*pace*traffic, hi)
	sec := float64(d.nw.dist[a*n+b])*detour[c]/(mph*1.609344)*3600 + d.r.between(8, 42)
	return int64(sec * 1000)
}

// startProfile is the relative number of journeys starting in each local hour from
// dayStartHour (04:00) to lastHour (03:00): a morning peak, a long afternoon and a quiet night.
var startProfile = [lastHour - dayStartHour]float64{
	0.5, 1.5, 4, 8, 9, 7, 6, 6, 6.5, 6.5, 7, 7.5, 8.5, 8, 6, 4.5, 3.5, 2.5, 1.5, 1, 0.6, 0.4, 0.3,
}

// startHour draws a journey start time, in local hours, from startProfile restricted to
// [dayStartHour, before).
func startHour(r *rng, before float64) float64 {
	var total float64
	for i, w := range startProfile {
		lo := float64(dayStartHour + i)
		if lo >= before {
			break
		}
		total += w * min(1, before-lo)
	}
	x := r.float() * total
	for i, w := range startProfile {
		lo := float64(dayStartHour + i)
		part := w * min(1, before-lo)
		if x < part || lo+1 >= before {
			return lo + min(1, before-lo)*x/part
		}
		x -= part
	}
	return before
}

// profileShare returns the share of a day's journeys that start before local hour h.
func profileShare(h float64) float64 {
	var total, before float64
	for i, w := range startProfile {
		lo := float64(dayStartHour + i)
		total += w
		before += w * max(0, min(1, h-lo))
	}
	return before / total
}
