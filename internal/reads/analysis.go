package reads

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
)

// Analyst answers the store-side parts of the sensitive search types and of histograms. Every
// backend implements it; the conformance suite (storetest) holds them to the same answers. It is
// its own interface, embedded in Store on one line, so other additions to Store merge apart.
type Analyst interface {
	// Convoy finds vehicles seen at the target's cameras within q.Within of the target, ranked.
	Convoy(ctx context.Context, q ConvoyQuery) (ConvoyResult, error)
	// MultiLocation finds vehicles seen at every place of q.
	MultiLocation(ctx context.Context, q MultiLocationQuery) (MultiLocationResult, error)
	// Histogram counts the reads q.Query selects (cursor and limit ignored) per hour or day,
	// returning only non-empty buckets, oldest first.
	Histogram(ctx context.Context, q HistogramQuery) ([]Bucket, error)
}

// Bounds of the analysis queries. They keep one request's work bounded whatever a caller asks;
// the search service applies tighter, configurable ones first.
const (
	// MaxConvoyWithin is the widest co-sighting gap a convoy query may ask for.
	MaxConvoyWithin = time.Hour
	// DefaultConvoyTargetReads and DefaultConvoyNearby bound a convoy: the target reads examined
	// (oldest first) and the reads taken from the window around one target read.
	DefaultConvoyTargetReads = 5000
	DefaultConvoyNearby      = 500
	// DefaultMultiCandidates bounds the distinct vehicles one place of a multi-location query
	// may hold before the query is refused as too broad.
	DefaultMultiCandidates = 50000
	// MaxPlaces bounds the places of one multi-location query.
	MaxPlaces = 8
	// MaxBuckets bounds the buckets of one histogram (10,000 hours is 416 days).
	MaxBuckets = 10000
	// MaxHistogramVRMs bounds the plate list of a histogram.
	MaxHistogramVRMs = 1000
	// maxSightings bounds the evidence kept per convoy companion.
	maxSightings = 200
)

// ConvoyQuery asks which vehicles travelled with VRM: seen at the same camera as one of its reads
// in [From, To), no more than Within before or after it, at MinCameras or more distinct cameras.
type ConvoyQuery struct {
	VRM        string
	From, To   time.Time
	Within     time.Duration
	MinCameras int
	// Cameras, if set, limits the co-sightings to these cameras (an area or camera filter).
	Cameras []string
	// MaxTargetReads and MaxNearby bound the work (0: the defaults above); beyond them the
	// result is marked Truncated.
	MaxTargetReads int
	MaxNearby      int
	// Limit is how many companions to return, best first (0: 100).
	Limit int
}

// ConvoyResult is the ranked companions of a target vehicle.
type ConvoyResult struct {
	TargetReads int         `json:"target_reads"` // target reads examined
	Companions  []Companion `json:"companions"`
	// Truncated: the target had more reads than the bound (only the oldest were examined), a
	// window around one of its reads held more reads than the bound, or more companions
	// qualified than Limit.
	Truncated bool `json:"truncated"`
}

// Companion is one vehicle seen with the target, with the evidence.
type Companion struct {
	VRM string `json:"vrm"`
	// Cameras are the distinct cameras where it was seen with the target, sorted.
	Cameras []string `json:"cameras"`
	// Sightings are its reads near the target's, oldest first (at most 200 kept).
	Sightings []CoSighting `json:"sightings"`
	// MeanGapSeconds is the mean absolute gap over the sightings.
	MeanGapSeconds float64 `json:"mean_gap_seconds"`
}

// CoSighting is one read of a companion near one read of the target at the same camera.
type CoSighting struct {
	CameraID     string    `json:"camera_id"`
	TargetReadID string    `json:"target_read_id"`
	TargetSeenAt time.Time `json:"target_seen_at"`
	ReadID       string    `json:"read_id"`
	SeenAt       time.Time `json:"seen_at"`
	// GapSeconds is the companion's time minus the target's: negative when it passed first.
	GapSeconds float64 `json:"gap_seconds"`
}

// ConvoyChecked is a validated convoy query.
type ConvoyChecked struct {
	VRM                 string
	From, To            int64 // unix ms, half-open
	WithinMs            int64
	MinCameras          int
	Cameras             []string
	MaxTargets, MaxNear int
	Limit               int
}

// Check validates q.
func (q ConvoyQuery) Check() (ConvoyChecked, error) {
	vrm, err := plate.Normalize(q.VRM)
	if err != nil {
		return ConvoyChecked{}, fmt.Errorf("convoy: %w: %w", ErrInvalid, err)
	}
	base, err := Query{Match: MatchExact, Value: vrm, From: q.From, To: q.To, Cameras: q.Cameras}.Check()
	if err != nil {
		return ConvoyChecked{}, fmt.Errorf("convoy: %w", err)
	}
	c := ConvoyChecked{VRM: vrm, From: base.From, To: base.To, Cameras: base.Cameras, WithinMs: q.Within.Milliseconds(),
		MinCameras: q.MinCameras, MaxTargets: cmp.Or(q.MaxTargetReads, DefaultConvoyTargetReads),
		MaxNear: cmp.Or(q.MaxNearby, DefaultConvoyNearby), Limit: cmp.Or(q.Limit, 100)}
	switch {
	case q.Within < time.Second || q.Within > MaxConvoyWithin:
		return ConvoyChecked{}, fmt.Errorf("convoy: within %s must be 1s to %s: %w", q.Within, MaxConvoyWithin, ErrInvalid)
	case q.MinCameras < 2:
		return ConvoyChecked{}, fmt.Errorf("convoy: min cameras %d must be at least 2: %w", q.MinCameras, ErrInvalid)
	case c.MaxTargets < 1 || c.MaxNear < 1 || c.Limit < 1:
		return ConvoyChecked{}, fmt.Errorf("convoy: bounds must be positive: %w", ErrInvalid)
	}
	return c, nil
}

// NearbyFunc is a backend's part of a convoy: for each target read, the reads of other plates at
// the same camera within WithinMs of it and inside the window [From, To), at most MaxNear+1 each
// (one more tells that the bound was hit), in any order.
type NearbyFunc func(ctx context.Context, q ConvoyChecked, targets []Read) ([][]Read, error)

// RunConvoy does what every backend shares: it pages the target's reads (oldest first, up to the
// bound) with f, asks near for the reads around them, pairs each nearby read with its closest
// target read, and ranks the companions.
func RunConvoy(ctx context.Context, f Finder, q ConvoyQuery, near NearbyFunc) (ConvoyResult, error) {
	c, err := q.Check()
	if err != nil {
		return ConvoyResult{}, err
	}
	var targets []Read
	var res ConvoyResult
	tq := Query{Match: MatchExact, Value: c.VRM, From: time.UnixMilli(c.From), To: time.UnixMilli(c.To),
		Cameras: c.Cameras, Order: OldestFirst, Limit: MaxPageSize, Snapshot: true}
	for {
		p, err := f.FindReads(ctx, tq)
		if err != nil {
			return ConvoyResult{}, fmt.Errorf("convoy: target reads: %w", err)
		}
		targets = append(targets, p.Reads...)
		if len(targets) > c.MaxTargets {
			targets, res.Truncated = targets[:c.MaxTargets], true
			break
		}
		if p.Next == "" {
			break
		}
		tq.Cursor = p.Next
	}
	res.TargetReads = len(targets)
	res.Companions = []Companion{}
	if len(targets) == 0 {
		return res, nil
	}
	nearby, err := near(ctx, c, targets)
	if err != nil {
		return ConvoyResult{}, fmt.Errorf("convoy: nearby reads: %w", err)
	}
	if len(nearby) != len(targets) {
		return ConvoyResult{}, fmt.Errorf("convoy: backend answered %d windows for %d target reads", len(nearby), len(targets))
	}
	// Each nearby read is paired with its closest target read (ties: the earlier one), so one
	// read is never counted twice when the target was read twice at a camera.
	best := map[string]CoSighting{}
	vrmOf := map[string]string{}
	for i, rs := range nearby {
		if len(rs) > c.MaxNear {
			res.Truncated = true
			rs = rs[:c.MaxNear]
		}
		t := targets[i]
		for _, r := range rs {
			if r.VRM == c.VRM || r.CameraID != t.CameraID {
				continue // a backend returning these is wrong; never count them
			}
			gap := r.SeenAt.Sub(t.SeenAt)
			if gap.Abs().Milliseconds() > c.WithinMs || r.SeenAt.UnixMilli() < c.From || r.SeenAt.UnixMilli() >= c.To {
				continue
			}
			s := CoSighting{CameraID: r.CameraID, TargetReadID: t.ID, TargetSeenAt: t.SeenAt, ReadID: r.ID, SeenAt: r.SeenAt, GapSeconds: gap.Seconds()}
			if old, ok := best[r.ID]; !ok || math.Abs(s.GapSeconds) < math.Abs(old.GapSeconds) {
				best[r.ID] = s
				vrmOf[r.ID] = r.VRM
			}
		}
	}
	byVRM := map[string]*Companion{}
	for id, s := range best {
		v := vrmOf[id]
		comp := byVRM[v]
		if comp == nil {
			comp = &Companion{VRM: v}
			byVRM[v] = comp
		}
		comp.Sightings = append(comp.Sightings, s)
	}
	for _, comp := range byVRM {
		slices.SortFunc(comp.Sightings, func(a, b CoSighting) int {
			return cmp.Or(a.SeenAt.Compare(b.SeenAt), cmp.Compare(a.ReadID, b.ReadID))
		})
		var sum float64
		for _, s := range comp.Sightings {
			comp.Cameras = append(comp.Cameras, s.CameraID)
			sum += math.Abs(s.GapSeconds)
		}
		slices.Sort(comp.Cameras)
		comp.Cameras = slices.Compact(comp.Cameras)
		comp.MeanGapSeconds = math.Round(sum/float64(len(comp.Sightings))*1000) / 1000
		if len(comp.Sightings) > maxSightings {
			comp.Sightings = comp.Sightings[:maxSightings]
		}
		if len(comp.Cameras) >= c.MinCameras {
			res.Companions = append(res.Companions, *comp)
		}
	}
	// Ranked: more distinct cameras, then more sightings, then closer on average; the plate breaks
	// ties so the order is total.
	slices.SortFunc(res.Companions, func(a, b Companion) int {
		return cmp.Or(cmp.Compare(len(b.Cameras), len(a.Cameras)), cmp.Compare(len(b.Sightings), len(a.Sightings)),
			cmp.Compare(a.MeanGapSeconds, b.MeanGapSeconds), cmp.Compare(a.VRM, b.VRM))
	})
	if len(res.Companions) > c.Limit {
		res.Companions, res.Truncated = res.Companions[:c.Limit], true
	}
	return res, nil
}

// Place is one (camera set, window) of a multi-location query.
type Place struct {
	Cameras  []string  `json:"cameras"`
	From, To time.Time `json:"-"`
}

// MultiLocationQuery asks for the vehicles seen at every one of Places.
type MultiLocationQuery struct {
	Places []Place
	// MaxCandidates bounds the distinct vehicles of one place (0: DefaultMultiCandidates); a
	// place holding more is refused as too broad (ErrInvalid), naming it.
	MaxCandidates int
	// Limit is how many vehicles to return, by plate (0: 100).
	Limit int
}

// MultiLocationResult lists the vehicles seen at every place, by plate.
type MultiLocationResult struct {
	Vehicles  []MultiVehicle `json:"vehicles"`
	Truncated bool           `json:"truncated"` // more vehicles qualified than Limit
}

// MultiVehicle is one vehicle and, per place in query order, its evidence there.
type MultiVehicle struct {
	VRM    string          `json:"vrm"`
	Places []PlaceEvidence `json:"places"`
}

// PlaceEvidence is what a vehicle did at one place: how often it was read there and its first
// read there.
type PlaceEvidence struct {
	Count int64 `json:"count"`
	First Read  `json:"first"`
}

// PlaceChecked is a validated place.
type PlaceChecked struct {
	Cameras  []string
	From, To int64
}

// MultiChecked is a validated multi-location query.
type MultiChecked struct {
	Places        []PlaceChecked
	MaxCandidates int
	Limit         int
}

// Check validates q.
func (q MultiLocationQuery) Check() (MultiChecked, error) {
	if len(q.Places) < 2 || len(q.Places) > MaxPlaces {
		return MultiChecked{}, fmt.Errorf("multi-location: %d places; give 2 to %d: %w", len(q.Places), MaxPlaces, ErrInvalid)
	}
	c := MultiChecked{MaxCandidates: cmp.Or(q.MaxCandidates, DefaultMultiCandidates), Limit: cmp.Or(q.Limit, 100)}
	if c.MaxCandidates < 1 || c.Limit < 1 {
		return MultiChecked{}, fmt.Errorf("multi-location: bounds must be positive: %w", ErrInvalid)
	}
	for i, p := range q.Places {
		pc, err := Query{Match: MatchAny, From: p.From, To: p.To, Cameras: p.Cameras}.Check()
		if err != nil {
			return MultiChecked{}, fmt.Errorf("multi-location: place %d: %w", i+1, err)
		}
		c.Places = append(c.Places, PlaceChecked{Cameras: pc.Cameras, From: pc.From, To: pc.To})
	}
	return c, nil
}

// PlaceFunc is a backend's part of a multi-location query: per plate, the count and first read
// of the reads at place p, only of the plates in only when only is not nil. More than max plates
// is refused with ErrTooBroad.
type PlaceFunc func(ctx context.Context, p PlaceChecked, only []string, max int) (map[string]PlaceEvidence, error)

// ErrTooBroad is returned by a PlaceFunc whose place holds more vehicles than allowed.
var ErrTooBroad = fmt.Errorf("too broad: %w", ErrInvalid)

// RunMultiLocation does what every backend shares: it counts the reads of each place with f,
// resolves the places smallest first with place, each restricted to the vehicles of the places
// before it, and returns the vehicles seen at all of them, by plate.
func RunMultiLocation(ctx context.Context, f Finder, q MultiLocationQuery, place PlaceFunc) (MultiLocationResult, error) {
	c, err := q.Check()
	if err != nil {
		return MultiLocationResult{}, err
	}
	order := make([]int, len(c.Places))
	sizes := make([]int64, len(c.Places))
	for i, p := range c.Places {
		order[i] = i
		n, err := f.CountReads(ctx, Query{Match: MatchAny, From: time.UnixMilli(p.From), To: time.UnixMilli(p.To), Cameras: p.Cameras})
		if err != nil {
			return MultiLocationResult{}, fmt.Errorf("multi-location: count place %d: %w", i+1, err)
		}
		sizes[i] = n
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[a], sizes[b]) })
	evidence := make([]map[string]PlaceEvidence, len(c.Places))
	var only []string
	for k, i := range order {
		ev, err := place(ctx, c.Places[i], only, c.MaxCandidates)
		if err != nil {
			if k == 0 && errors.Is(err, ErrTooBroad) {
				return MultiLocationResult{}, fmt.Errorf("multi-location: place %d holds more than %d vehicles; narrow its window or cameras: %w", i+1, c.MaxCandidates, ErrTooBroad)
			}
			return MultiLocationResult{}, fmt.Errorf("multi-location: place %d: %w", i+1, err)
		}
		evidence[i] = ev
		// ev holds only plates of the places before, so its plates are the intersection so far.
		only = slices.Sorted(maps.Keys(ev))
		if len(only) == 0 {
			break
		}
	}
	res := MultiLocationResult{Vehicles: []MultiVehicle{}}
	for _, v := range only {
		mv := MultiVehicle{VRM: v}
		for i := range c.Places {
			ev, ok := evidence[i][v]
			if !ok {
				break
			}
			mv.Places = append(mv.Places, ev)
		}
		if len(mv.Places) == len(c.Places) {
			res.Vehicles = append(res.Vehicles, mv)
		}
	}
	if len(res.Vehicles) > c.Limit {
		res.Vehicles, res.Truncated = res.Vehicles[:c.Limit], true
	}
	return res, nil
}

// Interval is a histogram bucket width.
type Interval string

// Histogram intervals: UTC hours and UTC days.
const (
	IntervalHour Interval = "hour"
	IntervalDay  Interval = "day"
)

// Millis is the width of the interval in milliseconds (0 for an unknown one).
func (i Interval) Millis() int64 {
	switch i {
	case IntervalHour:
		return int64(time.Hour / time.Millisecond)
	case IntervalDay:
		return int64(24 * time.Hour / time.Millisecond)
	}
	return 0
}

// HistogramQuery counts the reads Query selects per Interval; VRMs, if set, further limits them
// to those plates (the vehicles a multi-location search found).
type HistogramQuery struct {
	Query    Query
	VRMs     []string
	Interval Interval
}

// Bucket is the count of reads in [Start, Start+interval).
type Bucket struct {
	Start time.Time `json:"start"`
	Count int64     `json:"count"`
}

// HistogramChecked is a validated histogram query.
type HistogramChecked struct {
	Query    Checked
	VRMs     []string // normalised, sorted, unique
	Width    int64    // bucket width in ms
	Interval Interval
}

// Check validates q; the query's cursor and limit are ignored.
func (q HistogramQuery) Check() (HistogramChecked, error) {
	q.Query.Cursor, q.Query.Limit = "", 0
	c, err := q.Query.Check()
	if err != nil {
		return HistogramChecked{}, fmt.Errorf("histogram: %w", err)
	}
	w := q.Interval.Millis()
	if w == 0 {
		return HistogramChecked{}, fmt.Errorf("histogram: interval %q: want hour or day: %w", q.Interval, ErrInvalid)
	}
	if n := (FloorMilli(c.To-1, w)-FloorMilli(c.From, w))/w + 1; n > MaxBuckets {
		return HistogramChecked{}, fmt.Errorf("histogram: %d %s buckets; at most %d: %w", n, q.Interval, MaxBuckets, ErrInvalid)
	}
	if len(q.VRMs) > MaxHistogramVRMs {
		return HistogramChecked{}, fmt.Errorf("histogram: %d plates; at most %d: %w", len(q.VRMs), MaxHistogramVRMs, ErrInvalid)
	}
	out := HistogramChecked{Query: c, Width: w, Interval: q.Interval}
	for _, v := range q.VRMs {
		n, err := plate.Normalize(v)
		if err != nil {
			return HistogramChecked{}, fmt.Errorf("histogram: %w: %w", ErrInvalid, err)
		}
		out.VRMs = append(out.VRMs, n)
	}
	slices.Sort(out.VRMs)
	out.VRMs = slices.Compact(out.VRMs)
	return out, nil
}

// FloorMilli rounds ms down to a multiple of width (also before 1970).
func FloorMilli(ms, width int64) int64 {
	r := ms % width
	if r < 0 {
		r += width
	}
	return ms - r
}

// MergeBuckets sums bucket counts by start and returns the non-empty ones oldest first; backends
// that count partition by partition use it.
func MergeBuckets(parts ...[]Bucket) []Bucket {
	sum := map[int64]int64{}
	for _, bs := range parts {
		for _, b := range bs {
			sum[b.Start.UnixMilli()] += b.Count
		}
	}
	out := make([]Bucket, 0, len(sum))
	for ms, n := range sum {
		if n > 0 {
			out = append(out, Bucket{Start: time.UnixMilli(ms).UTC(), Count: n})
		}
	}
	slices.SortFunc(out, func(a, b Bucket) int { return a.Start.Compare(b.Start) })
	return out
}
