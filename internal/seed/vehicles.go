package seed

// Vehicle numbers: the planted vehicles first, then the regulars (commuters, taxis, vans) who
// follow a routine on most days, then a large pool of occasional drivers and visitors who appear
// on a few days each. Regulars give the data its shape (the same plates at the same cameras at
// the same times); the occasional pool fills each day up to its quota.

type kind uint8

const (
	commuter kind = iota
	taxi
	van
	occasional
)

// Typical reads per active vehicle-day, used only to size the population; Generate's quotas,
// not these, fix the exact count.
const (
	commuterReadsPerDay = 17
	taxiReadsPerDay     = 60
	vanReadsPerDay      = 36
)

// population sizes the fleet. regularShare of the quietest weekday's quota comes from regulars;
// on no day may they take more than regularCap of the quota, so occasional drivers always appear.
type population struct {
	commuters, taxis, vans, occasional int
}

const (
	regularShare = 0.5
	regularCap   = 0.6
)

func sizePopulation(reads int64, quietWeekday float64) population {
	reg := regularShare * quietWeekday
	// The smallest data sets have no regulars (one taxi would be most of their reads); the
	// planted vehicles still commute.
	return population{
		commuters:  int(0.55*reg/commuterReadsPerDay + 0.5),
		taxis:      int(0.25*reg/taxiReadsPerDay + 0.5),
		vans:       int(0.20*reg/vanReadsPerDay + 0.5),
		occasional: int(max(300, reads/40)),
	}
}

func (p population) regulars() int { return p.commuters + p.taxis + p.vans }
func (p population) total() int    { return numPlanted + p.regulars() + p.occasional }

// kindOf returns the kind of the ordinary vehicle o (0-based after the planted vehicles).
func (p population) kindOf(o int) kind {
	switch {
	case o < p.commuters:
		return commuter
	case o < p.commuters+p.taxis:
		return taxi
	case o < p.regulars():
		return van
	}
	return occasional
}

// Tags separate the random streams drawn for one vehicle.
const (
	tagProfile = 0x9f0f11e
	tagDay     = 0xda7
)

// vehicleDay simulates ordinary vehicle o on window w.
func (g *gen) vehicleDay(d *driver, o int, w *window) {
	veh := uint32(numPlanted + o)
	prof := newRNG(uint64(g.cfg.Seed), uint64(veh), tagProfile)
	d.reset(veh, newRNG(uint64(g.cfg.Seed)^uint64(w.date)<<20, uint64(veh), tagDay))
	switch g.pop.kindOf(o) {
	case commuter:
		g.commuterDay(d, &prof, w)
	case taxi:
		g.taxiDay(d, &prof, w)
	case van:
		g.vanDay(d, &prof, w)
	default:
		// Plates in the foreign formats belong to visitors, as do some UK plates.
		if uint64(o)%25 == 19 || prof.float() < 0.1 {
			g.visitorDay(d, w)
		} else {
			g.localDay(d, &prof, w)
		}
	}
}

// commuterDay: home to work in the morning rush and back in the evening along the same
// cameras, most weekdays; an errand now and then.
func (g *gen) commuterDay(d *driver, prof *rng, w *window) {
	nw := g.nw
	home, work := pick(nw.homeW, prof), pick(nw.workW, prof)
	if work == home {
		work = int(nw.next[home*nw.n+(home+1)%nw.n])
	}
	leave := prof.between(6.25, 8.75)
	back := prof.between(16, 18.75)
	r := &d.r
	if !w.weekday() || r.float() < 0.08 { // weekend, leave or working from home
		if r.float() < 0.4 {
			g.errand(d, home, w.at(r.between(9.5, 16)))
		}
		return
	}
	t := d.trip(home, work, w.at(leave+r.between(-0.25, 0.25)), true, true)
	t = max(t+3*msPerHour, w.at(back+r.between(-0.33, 0.33)))
	t = d.trip(work, home, t, true, true)
	if r.float() < 0.15 {
		g.errand(d, home, t+int64(r.between(0.5, 2.5)*float64(msPerHour)))
	}
}

// errand is a round trip from home to somewhere not far away.
func (g *gen) errand(d *driver, home int, t int64) {
	dest := g.near(home, 10, &d.r)
	t = d.trip(home, dest, t, true, true)
	t += int64(d.r.between(0.3, 2) * float64(msPerHour))
	d.trip(dest, home, t, true, true)
}

// near picks a destination, preferring sites within km of from.
func (g *gen) near(from int, km float32, r *rng) int {
	nw := g.nw
	dest := from
	for range 6 {
		dest = pick(nw.workW, r)
		if dest != from && nw.dist[from*nw.n+dest] <= km {
			return dest
		}
	}
	if dest == from {
		dest = int(nw.next[from*nw.n+(from+1)%nw.n])
	}
	return dest
}

// taxiDay: a day or night shift of fares across the centre, six days a week.
func (g *gen) taxiDay(d *driver, prof *rng, w *window) {
	nw := g.nw
	base := pick(nw.taxiW, prof)
	night := prof.float() < 0.3
	dayOff := prof.intn(7)
	start := prof.between(6.5, 8)
	if night {
		start = prof.between(17, 19.5)
	}
	if w.dow == dayOff {
		return
	}
	r := &d.r
	t := w.at(start + r.between(-0.25, 0.25))
	end := min(t+int64(r.between(8.5, 10.5)*float64(msPerHour)), w.at(lastHour-0.75))
	cur := base
	for t < end && !d.stopped {
		dest := pick(nw.taxiW, r)
		if dest == cur {
			continue
		}
		t = d.trip(cur, dest, t, true, true)
		cur = dest
		t += int64(r.between(3, 20) * 60_000)
	}
	d.trip(cur, base, t, true, true)
}

// vanDay: a delivery round from the depot, several stops with time at each, Monday to Friday
// and some Saturdays.
func (g *gen) vanDay(d *driver, prof *rng, w *window) {
	depot := pick(g.nw.homeW, prof)
	start := prof.between(7, 8.5)
	r := &d.r
	if w.dow == 0 || (w.dow == 6 && r.float() > 0.4) {
		return
	}
	t := w.at(start + r.between(-0.2, 0.2))
	cur := depot
	for range 4 + r.intn(5) {
		dest := g.near(depot, 15, r)
		if dest == cur {
			continue
		}
		t = d.trip(cur, dest, t, true, true)
		cur = dest
		t += int64(r.between(15, 45) * 60_000)
	}
	d.trip(cur, depot, t, true, true)
}

// localDay: one outing from home, sometimes with a second stop.
func (g *gen) localDay(d *driver, prof *rng, w *window) {
	nw := g.nw
	home := pick(nw.homeW, prof)
	r := &d.r
	t := w.at(startHour(r, g.latestStart(w)))
	dest := g.destination(home, r)
	t = d.trip(home, dest, t, true, true)
	t += int64(r.between(0.3, 4) * float64(msPerHour))
	if r.float() < 0.3 {
		next := g.destination(dest, r)
		t = d.trip(dest, next, t, true, true)
		t += int64(r.between(0.2, 1.5) * float64(msPerHour))
		dest = next
	}
	d.trip(dest, home, t, true, true)
}

// visitorDay: in from the edge of London, a visit, out again by another road.
func (g *gen) visitorDay(d *driver, w *window) {
	nw := g.nw
	r := &d.r
	in := nw.edgeSites[r.intn(len(nw.edgeSites))]
	out := nw.edgeSites[r.intn(len(nw.edgeSites))]
	t := w.at(startHour(r, g.latestStart(w)))
	dest := pick(nw.workW, r)
	if r.float() < 0.5 {
		dest = pick(nw.homeW, r)
	}
	t = d.trip(in, dest, t, true, true)
	t += int64(r.between(0.5, 5) * float64(msPerHour))
	d.trip(dest, out, t, true, true)
}

// destination chooses where an occasional trip goes: nearby, into town, or anywhere.
func (g *gen) destination(from int, r *rng) int {
	nw := g.nw
	var dest int
	switch x := r.float(); {
	case x < 0.4:
		return g.near(from, 8, r)
	case x < 0.75:
		dest = pick(nw.workW, r)
	default:
		dest = pick(nw.homeW, r)
	}
	if dest == from {
		dest = g.near(from, 8, r)
	}
	return dest
}

// latestStart bounds journey starts in window w: on the window that contains Now, journeys
// must start a little before Now so that they produce reads.
func (g *gen) latestStart(w *window) float64 {
	if g.nowMS < w.end {
		return max(dayStartHour+0.05, min(lastHour, w.hour(g.nowMS)-0.2))
	}
	return lastHour
}
