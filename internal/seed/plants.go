package seed

import "slices"

// Planted cases use fixed plates, fixed routes and random streams that depend only on how many
// days before Now they happen, never on the seed or the size, so demos, tests and the README can
// name them. Their reads are added whatever the day's quota.

// Plates of the planted cases.
const (
	ConvoyTargetVRM   = "LK19XRT" // a commuter who is followed
	ConvoyFollowerVRM = "LN68BWD" // follows ConvoyTargetVRM 30-90 s behind on several evenings
	CloneVRM          = "YR17KDX" // carried by a genuine car in west London and a clone in the south-east
	MisreadVRM        = "AB12CDE" // a real plate ...
	MisreadZeroVRM    = "AB12C0E" // ... sometimes read with D as 0
	MisreadEightVRM   = "A812CDE" // ... sometimes read with B as 8
	AgedVRM           = "LD09HBR" // has reads in all three data-age bands
)

// Planted vehicle numbers. The misread plates are pseudo-vehicles: reads of MisreadVRM's car
// attributed to the wrong plate.
const (
	vehTarget = iota
	vehFollower
	vehGenuine
	vehClone
	vehMisread
	vehMisreadZero
	vehMisreadEight
	vehAged
	numPlanted
)

var plantedVRM = [numPlanted]string{
	ConvoyTargetVRM, ConvoyFollowerVRM, CloneVRM, CloneVRM, MisreadVRM, MisreadZeroVRM, MisreadEightVRM, AgedVRM,
}

// reservedVRMs are the real planted plates, which no ordinary vehicle may be given.
var reservedVRMs = []string{ConvoyTargetVRM, ConvoyFollowerVRM, CloneVRM, MisreadVRM, AgedVRM}

const plantSalt = 0x91a47ed

// plants holds the planted schedule and, as Generate runs, the planted reads for the summary.
type plants struct {
	convoyDays, cloneDays, misreadDays, agedDays []int // days before the last window

	convoyTarget, convoyFollower []read
	clonePair                    [2]read // genuine at Perivale, copy at Falconwood, most recent clone day
	cloneDaysSeen                int
	misreads                     []read
	aged                         []read
	scratch                      []read
}

// plan fixes the planted days. Work-day cases move to the nearest earlier weekday so they happen
// on a commute.
func (p *plants) plan(wins []window) {
	last := wins[len(wins)-1].date
	weekday := func(ago int) int {
		for {
			if w := newWindow(last-int64(ago), last); w.weekday() {
				return ago
			}
			ago++
		}
	}
	p.convoyDays = append(p.convoyDays, 2, 6, 9, 15, 23)
	for _, a := range []int{3, 10, 17} {
		p.cloneDays = append(p.cloneDays, weekday(a))
	}
	for _, a := range []int{2, 5, 8, 13, 21} {
		p.misreadDays = append(p.misreadDays, weekday(a))
	}
	oldest := wins[0].ago
	p.agedDays = []int{21, 200, 366 + (oldest-366)/2}
}

// plantDay adds the planted vehicles' reads for window w.
func (g *gen) plantDay(d *driver, w *window) {
	p := &g.pl
	if w.ago < 1 {
		return
	}
	start := func(veh uint32) {
		d.reset(veh, newRNG(plantSalt, uint64(veh), uint64(w.ago)))
		d.force = true
	}
	nw := g.nw
	if w.ago <= 60 {
		start(vehTarget)
		home, work := nw.site("A10", 8), nw.site("CZ", 7)
		if w.weekday() {
			t := d.trip(home, work, w.at(7.6+d.r.between(-0.1, 0.1)), true, true)
			d.trip(work, home, max(t+msPerHour, w.at(17.7+d.r.between(-0.1, 0.1))), true, true)
		}
		if i := slices.Index(p.convoyDays, w.ago); i >= 0 {
			g.convoy(d, w, i, home)
		} else if w.ago <= 30 && !w.weekday() {
			start(vehFollower)
			g.errand(d, nw.site("A104", 1), w.at(11+d.r.between(0, 3)))
		}
	}
	if w.ago <= 60 && w.weekday() {
		g.clone(d, w, slices.Contains(p.cloneDays, w.ago))
	}
	if w.ago <= 45 && w.weekday() {
		start(vehMisread)
		d.always = true
		p.scratch = p.scratch[:0]
		if i := slices.Index(p.misreadDays, w.ago); i >= 0 {
			d.swapAt, d.swapVeh = 2+i, uint32(vehMisreadZero+i%2)
			d.record = &p.scratch
		}
		t := d.drive(nw.span("A3", 7, 1), w.at(7.8+d.r.between(-0.1, 0.1)), true, true)
		d.swapAt, d.record = 0, nil
		d.drive(nw.span("A3", 1, 7), max(t+msPerHour, w.at(17.9+d.r.between(-0.1, 0.1))), true, true)
		for _, rd := range p.scratch {
			if rd.veh == vehMisreadZero || rd.veh == vehMisreadEight {
				p.misreads = append(p.misreads, rd)
			}
		}
	}
	if slices.Contains(p.agedDays, w.ago) {
		start(vehAged)
		d.always, d.record = true, &p.aged
		t := d.drive(nw.span("A406", 1, 7), w.at(10.5+d.r.between(0, 0.5)), true, true)
		d.drive(nw.span("A406", 7, 1), t+int64(d.r.between(1, 2)*float64(msPerHour)), true, true)
	}
}

// convoy: the target drives out in the evening and the follower, waiting where the target joins
// a main road, follows 30-90 s behind past every camera of that road.
func (g *gen) convoy(d *driver, w *window, i int, home int) {
	nw, p := g.nw, &g.pl
	seg := [][]int{
		nw.span("A406", 13, 21), // Great Cambridge Roundabout to Beckton
		nw.span("A12", 1, 7),    // Bow to Gallows Corner
		nw.span("A13", 1, 6),    // Limehouse to Chequers Corner
		nw.span("A406", 8, 13),  // Henlys Corner to Great Cambridge Roundabout
		nw.span("A12", 7, 2),    // Gallows Corner to Leyton
	}[i%5]
	first, last := seg[0], seg[len(seg)-1]
	// The target, already set up by plantDay.
	join := d.trip(home, first, w.at(19.75+d.r.between(0, 0.33)), true, false)
	d.always, d.record = true, &p.scratch
	p.scratch = p.scratch[:0]
	end := d.drive(seg, join, true, true)
	d.always, d.record = false, nil
	target := slices.Clone(p.scratch)
	p.convoyTarget = append(p.convoyTarget, target...)
	d.trip(last, home, end+int64(d.r.between(0.6, 1)*float64(msPerHour)), true, true)

	// The follower drives from home to arrive ten minutes before the target passes.
	d.reset(vehFollower, newRNG(plantSalt, vehFollower, uint64(w.ago)))
	d.force = true
	fhome := nw.site("A104", 1)
	r0 := d.r
	leave := join - 40*60_000
	for range 3 { // fixed point: the planned and the real drive see the same traffic
		d.dry = true
		arrive := d.trip(fhome, first, leave, true, false)
		d.dry, d.r = false, r0
		leave = join - 10*60_000 - (arrive - leave)
	}
	d.trip(fhome, first, leave, true, false)
	gap := int64(40_000 + d.r.intn(35_000))
	var lastT int64
	for _, rd := range target {
		gap = min(85_000, max(32_000, gap+int64(d.r.intn(6_000))-3_000))
		lastT = rd.t + gap
		if d.col.add(vehFollower, lastT, rd.cam, true) == added {
			p.convoyFollower = append(p.convoyFollower, read{veh: vehFollower, cam: rd.cam, t: lastT})
		}
	}
	d.trip(last, fhome, lastT+int64(d.r.between(10, 25)*60_000), true, true)
}

// clone: the genuine car commutes along the A40 in west London every weekday; on clone days a
// second car with the same plate is on the A2 in the south-east at the same time.
func (g *gen) clone(d *driver, w *window, cloneDay bool) {
	nw, p := g.nw, &g.pl
	d.reset(vehGenuine, newRNG(plantSalt, vehGenuine, uint64(w.ago)))
	d.force, d.always = true, true
	var genuine []read
	d.record = &genuine
	t := d.drive(nw.span("A40", 2, 7), w.at(7.67+d.r.between(-0.08, 0.08)), true, true)
	d.record = nil
	d.drive(nw.span("A40", 7, 2), max(t+msPerHour, w.at(17.3+d.r.between(-0.15, 0.15))), true, true)
	if !cloneDay {
		return
	}
	perivale := nw.sites[nw.site("A40", 5)].cams
	falconwood := nw.sites[nw.site("A2", 6)].cams
	var atPerivale read
	for _, rd := range genuine {
		if slices.Contains(perivale, rd.cam) {
			atPerivale = rd
		}
	}
	// Plan the clone's drive so it passes Falconwood a few minutes after the genuine car passes
	// Perivale, 29 km away.
	d.reset(vehClone, newRNG(plantSalt, vehClone, uint64(w.ago)))
	d.force, d.always = true, true
	r0 := d.r
	path := nw.span("A2", 8, 4)
	want := atPerivale.t + 373_000 + int64(w.ago)*1_700
	leave := want - 15*60_000
	var planned []read
	for range 3 {
		planned = planned[:0]
		d.dry, d.record = true, &planned
		d.drive(path, leave, true, true)
		d.dry, d.record, d.r = false, nil, r0
		for _, rd := range planned {
			if slices.Contains(falconwood, rd.cam) {
				leave += want - rd.t
			}
		}
	}
	var copyReads []read
	d.record = &copyReads
	t = d.drive(path, leave, true, true)
	d.record, d.always = nil, false
	d.drive(nw.span("A2", 4, 8), t+int64(d.r.between(4, 6)*float64(msPerHour)), true, true)
	// Windows run oldest first, so the pair documented is the most recent one.
	for _, rd := range copyReads {
		if slices.Contains(falconwood, rd.cam) {
			p.clonePair = [2]read{atPerivale, rd}
		}
	}
	p.cloneDaysSeen++
}
