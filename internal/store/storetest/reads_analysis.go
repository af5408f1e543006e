package storetest

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/seed"
)

// runAnalysis runs the analysis cases: area reads (MatchAny), convoy,
// multi-location, histograms (reads.Analyst) and snapshot paging.
func runAnalysis(t *testing.T, newStore NewReadStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s reads.Store)
	}{
		{"AreaReadsMatchOracle", testAreaReads},
		{"ConvoyRankedWithEvidence", testConvoy},
		{"ConvoyRejectsInvalid", testConvoyInvalid},
		{"ConvoyFindsSeededPlant", testConvoySeed},
		{"MultiLocationMatchesOracle", testMultiLocation},
		{"MultiLocationRejectsInvalid", testMultiInvalid},
		{"HistogramMatchesOracle", testHistogram},
		{"HistogramRejectsInvalid", testHistogramInvalid},
		{"SnapshotPaging", testSnapshotPaging},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// Area searches are MatchAny over a camera set: every plate at those cameras.
func testAreaReads(t *testing.T, s reads.Store) {
	stored := loadFixture(t, s)
	mid := fixtureStart.Add(150 * 53 * time.Minute)
	for _, q := range []reads.Query{
		{Match: reads.MatchAny, From: fixtureStart, To: fixtureEnd, Cameras: []string{"CAM-A"}},
		{Match: reads.MatchAny, From: fixtureStart, To: mid, Cameras: []string{"CAM-B", "CAM-D"}, Order: reads.OldestFirst},
		{Match: reads.MatchAny, From: mid, To: fixtureEnd, Cameras: []string{"CAM-A", "CAM-B", "CAM-C", "CAM-D"}},
		{Match: reads.MatchAny, From: fixtureStart, To: fixtureEnd, Cameras: []string{"CAM-NONE"}},
	} {
		if got := checkQuery(t, s, stored, q); len(got) == 0 && q.Cameras[0] != "CAM-NONE" {
			t.Fatalf("%+v found nothing; the case tests nothing", q)
		}
	}
	for _, q := range []reads.Query{
		{Match: reads.MatchAny, From: fixtureStart, To: fixtureEnd},                                               // every read there is
		{Match: reads.MatchAny, Value: "AB12CDE", From: fixtureStart, To: fixtureEnd, Cameras: []string{"CAM-A"}}, // a value makes no sense
	} {
		_, err := s.FindReads(t.Context(), q)
		wantErr(t, "match any without cameras or with a value", err, reads.ErrInvalid)
	}
}

// convoyFixture: the target TG11AAA passes CAM-A, CAM-B, CAM-C, CAM-D ten minutes apart, twice
// (two days). FL22AAA follows 40 s behind at every camera; SD33AAA is 90 s ahead at two
// cameras; FR44AAA is 30 s behind at one camera only; LT55AAA passes every camera 20 minutes
// later (outside T); the target itself is read twice at CAM-A (a camera reading twice).
var convoyDay = T0.Add(-48 * time.Hour)

func convoyFixture() []reads.Read {
	var rs []reads.Read
	for d := range 2 {
		base := convoyDay.Add(time.Duration(d) * 24 * time.Hour)
		for i, cam := range fixtureCameras {
			at := base.Add(time.Duration(i) * 10 * time.Minute)
			rs = append(rs, Read(cam, "TG11AAA", at))
			rs = append(rs, Read(cam, "FL22AAA", at.Add(40*time.Second)))
			rs = append(rs, Read(cam, "LT55AAA", at.Add(20*time.Minute)))
			if i < 2 {
				rs = append(rs, Read(cam, "SD33AAA", at.Add(-90*time.Second)))
			}
			if i == 3 {
				rs = append(rs, Read(cam, "FR44AAA", at.Add(30*time.Second)))
			}
		}
		rs = append(rs, Read("CAM-A", "TG11AAA", base.Add(5*time.Second)))
	}
	return rs
}

func testConvoy(t *testing.T, s reads.Store) {
	appendOK(t, s, convoyFixture())
	q := reads.ConvoyQuery{VRM: "tg11 aaa", From: convoyDay.Add(-time.Hour), To: convoyDay.Add(48 * time.Hour),
		Within: 2 * time.Minute, MinCameras: 2}
	res, err := s.Convoy(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if res.TargetReads != 10 || res.Truncated {
		t.Fatalf("target reads %d truncated %v, want 10 false", res.TargetReads, res.Truncated)
	}
	var got []string
	for _, c := range res.Companions {
		got = append(got, c.VRM)
	}
	if !slices.Equal(got, []string{"FL22AAA", "SD33AAA"}) {
		t.Fatalf("companions %v, want FL22AAA (4 cameras) then SD33AAA (2)", got)
	}
	fl := res.Companions[0]
	if !slices.Equal(fl.Cameras, fixtureCameras) || len(fl.Sightings) != 8 {
		t.Fatalf("FL22AAA evidence: cameras %v, %d sightings; want 4 cameras, 8 sightings", fl.Cameras, len(fl.Sightings))
	}
	for _, sg := range fl.Sightings {
		// At CAM-A the target was read twice (5 s apart): the follower pairs with the closer read.
		want := 40.0
		if sg.CameraID == "CAM-A" {
			want = 35
		}
		if sg.GapSeconds != want || sg.ReadID == "" || sg.TargetReadID == "" || !sg.SeenAt.Equal(sg.TargetSeenAt.Add(time.Duration(want)*time.Second)) {
			t.Errorf("FL22AAA sighting %+v, want a gap of %v s", sg, want)
		}
	}
	if sd := res.Companions[1]; sd.MeanGapSeconds < 85 || sd.MeanGapSeconds > 95 || sd.Sightings[0].GapSeconds > -85 {
		t.Errorf("SD33AAA evidence %+v, want gaps of about -90 s", sd)
	}

	// K=3 leaves only the follower; T=10 s leaves nobody; a camera filter narrows the evidence.
	q.MinCameras = 3
	if res, err = s.Convoy(t.Context(), q); err != nil || len(res.Companions) != 1 || res.Companions[0].VRM != "FL22AAA" {
		t.Fatalf("K=3: %v %+v", err, res)
	}
	q.MinCameras, q.Within = 2, 10*time.Second
	if res, err = s.Convoy(t.Context(), q); err != nil || len(res.Companions) != 0 {
		t.Fatalf("T=10s: %v %+v", err, res)
	}
	q.Within, q.Cameras = 2*time.Minute, []string{"CAM-A", "CAM-D"}
	if res, err = s.Convoy(t.Context(), q); err != nil || len(res.Companions) != 1 || !slices.Equal(res.Companions[0].Cameras, []string{"CAM-A", "CAM-D"}) {
		t.Fatalf("cameras A, D: %v %+v", err, res)
	}
	// The window clips the evidence: only the first day.
	q.Cameras, q.To = nil, convoyDay.Add(12*time.Hour)
	if res, err = s.Convoy(t.Context(), q); err != nil || res.TargetReads != 5 || len(res.Companions) != 2 || len(res.Companions[0].Sightings) != 4 {
		t.Fatalf("one day: %v %+v", err, res)
	}
	// The bounds mark the result truncated.
	q.To, q.MaxTargetReads = convoyDay.Add(48*time.Hour), 3
	if res, err = s.Convoy(t.Context(), q); err != nil || !res.Truncated || res.TargetReads != 3 {
		t.Fatalf("bounded targets: %v %+v", err, res)
	}
	q.MaxTargetReads, q.Limit = 0, 1
	if res, err = s.Convoy(t.Context(), q); err != nil || !res.Truncated || len(res.Companions) != 1 {
		t.Fatalf("limit 1: %v %+v", err, res)
	}
	// A plate never read has no companions.
	q.VRM, q.Limit = "NO11NEE", 0
	if res, err = s.Convoy(t.Context(), q); err != nil || res.TargetReads != 0 || res.Companions == nil || len(res.Companions) != 0 {
		t.Fatalf("unknown plate: %v %+v", err, res)
	}
}

func testConvoyInvalid(t *testing.T, s reads.Store) {
	ok := reads.ConvoyQuery{VRM: "TG11AAA", From: T0.Add(-time.Hour), To: T0, Within: time.Minute, MinCameras: 2}
	for name, edit := range map[string]func(q *reads.ConvoyQuery){
		"K below 2":       func(q *reads.ConvoyQuery) { q.MinCameras = 1 },
		"T zero":          func(q *reads.ConvoyQuery) { q.Within = 0 },
		"T over an hour":  func(q *reads.ConvoyQuery) { q.Within = 2 * time.Hour },
		"reversed window": func(q *reads.ConvoyQuery) { q.From, q.To = q.To, q.From },
		"bad plate":       func(q *reads.ConvoyQuery) { q.VRM = "AB#1" },
		"negative bound":  func(q *reads.ConvoyQuery) { q.MaxNearby = -1 },
		"empty camera id": func(q *reads.ConvoyQuery) { q.Cameras = []string{""} },
	} {
		q := ok
		edit(&q)
		_, err := s.Convoy(t.Context(), q)
		wantErr(t, name, err, reads.ErrInvalid)
	}
}

// The seeded network plants a convoy: LN68BWD follows LK19XRT 32-85 s behind past at least 6
// cameras on several evenings. The convoy query must rank the follower first.
func testConvoySeed(t *testing.T, s reads.Store) {
	ctx := t.Context()
	if err := s.PutCameras(ctx, seed.Cameras(1)); err != nil {
		t.Fatal(err)
	}
	sum, err := seed.Generate(ctx, seed.Config{Seed: 1, Reads: seed.MinReads, Now: T0}, 2500,
		func(ctx context.Context, batch []reads.Read) error { _, err := s.AppendReads(ctx, batch); return err }, nil)
	if err != nil {
		t.Fatal(err)
	}
	var plant *seed.Plant
	for i := range sum.Plants {
		if sum.Plants[i].Kind == "convoy" {
			plant = &sum.Plants[i]
		}
	}
	if plant == nil {
		t.Fatal("the seed planted no convoy")
	}
	res, err := s.Convoy(ctx, reads.ConvoyQuery{VRM: seed.ConvoyTargetVRM, From: plant.From.Add(-time.Hour), To: plant.To.Add(time.Hour),
		Within: 2 * time.Minute, MinCameras: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Companions) == 0 || res.Companions[0].VRM != seed.ConvoyFollowerVRM {
		t.Fatalf("companions %+v, want %s first", res.Companions, seed.ConvoyFollowerVRM)
	}
	top := res.Companions[0]
	if len(top.Cameras) < 6 {
		t.Errorf("%s seen with the target at %d cameras; the plant says at least 6", top.VRM, len(top.Cameras))
	}
	for _, sg := range top.Sightings {
		if sg.GapSeconds < 30 || sg.GapSeconds > 90 {
			t.Errorf("follower gap %v s; the plant says 32-85 s behind", sg.GapSeconds)
		}
	}
}

// multiOracle answers a multi-location query over stored reads as plainly as possible.
func multiOracle(stored []reads.Read, places []reads.Place) map[string][]reads.PlaceEvidence {
	out := map[string][]reads.PlaceEvidence{}
	per := make([]map[string]reads.PlaceEvidence, len(places))
	for i, p := range places {
		per[i] = map[string]reads.PlaceEvidence{}
		for _, r := range stored {
			r = withID(r)
			if !slices.Contains(p.Cameras, r.CameraID) || r.SeenAt.Before(p.From) || !r.SeenAt.Before(p.To) {
				continue
			}
			ev := per[i][r.VRM]
			if ev.Count == 0 || compareReads(r, ev.First) < 0 {
				ev.First = r
			}
			ev.Count++
			per[i][r.VRM] = ev
		}
	}
	for v := range per[0] {
		var evs []reads.PlaceEvidence
		for i := range places {
			ev, ok := per[i][v]
			if !ok {
				break
			}
			evs = append(evs, ev)
		}
		if len(evs) == len(places) {
			out[v] = evs
		}
	}
	return out
}

func testMultiLocation(t *testing.T, s reads.Store) {
	stored := loadFixture(t, s)
	third := 100 * 53 * time.Minute
	for _, places := range [][]reads.Place{
		{{Cameras: []string{"CAM-A"}, From: fixtureStart, To: fixtureStart.Add(third)}, {Cameras: []string{"CAM-B"}, From: fixtureStart.Add(third), To: fixtureEnd}},
		{{Cameras: []string{"CAM-A", "CAM-C"}, From: fixtureStart, To: fixtureEnd}, {Cameras: []string{"CAM-B"}, From: fixtureStart, To: fixtureEnd}, {Cameras: []string{"CAM-D"}, From: fixtureStart.Add(2 * third), To: fixtureEnd}},
		{{Cameras: []string{"CAM-A"}, From: fixtureStart, To: fixtureStart.Add(time.Hour)}, {Cameras: []string{"CAM-B"}, From: fixtureStart, To: fixtureEnd}},
	} {
		want := multiOracle(stored, places)
		res, err := s.MultiLocation(t.Context(), reads.MultiLocationQuery{Places: places})
		if err != nil {
			t.Fatal(err)
		}
		if res.Truncated {
			t.Errorf("truncated with %d vehicles", len(res.Vehicles))
		}
		var got []string
		for _, v := range res.Vehicles {
			got = append(got, v.VRM)
			w := want[v.VRM]
			if len(v.Places) != len(places) {
				t.Fatalf("%s: %d places of evidence", v.VRM, len(v.Places))
			}
			for i, ev := range v.Places {
				if ev.Count != w[i].Count || ev.First.ID != w[i].First.ID || ev.First.CameraID != w[i].First.CameraID {
					t.Errorf("%s at place %d: %d reads, first %s; want %d, %s", v.VRM, i+1, ev.Count, ev.First.ID, w[i].Count, w[i].First.ID)
				}
			}
		}
		if w := slices.Sorted(maps.Keys(want)); !slices.Equal(got, w) {
			t.Fatalf("vehicles %v, want %v", got, w)
		}
	}
	// Limit and the candidate bound.
	places := []reads.Place{{Cameras: fixtureCameras, From: fixtureStart, To: fixtureEnd}, {Cameras: fixtureCameras, From: fixtureStart, To: fixtureEnd}}
	res, err := s.MultiLocation(t.Context(), reads.MultiLocationQuery{Places: places, Limit: 2})
	if err != nil || !res.Truncated || len(res.Vehicles) != 2 {
		t.Fatalf("limit 2: %v %+v", err, res)
	}
	_, err = s.MultiLocation(t.Context(), reads.MultiLocationQuery{Places: places, MaxCandidates: 3})
	wantErr(t, "more vehicles than the bound", err, reads.ErrTooBroad)
}

func testMultiInvalid(t *testing.T, s reads.Store) {
	p := reads.Place{Cameras: []string{"CAM-A"}, From: T0.Add(-time.Hour), To: T0}
	for name, q := range map[string]reads.MultiLocationQuery{
		"one place":       {Places: []reads.Place{p}},
		"nine places":     {Places: slices.Repeat([]reads.Place{p}, 9)},
		"no cameras":      {Places: []reads.Place{p, {From: p.From, To: p.To}}},
		"reversed window": {Places: []reads.Place{p, {Cameras: p.Cameras, From: p.To, To: p.From}}},
	} {
		_, err := s.MultiLocation(t.Context(), q)
		wantErr(t, name, err, reads.ErrInvalid)
	}
}

// histOracle buckets the oracle's reads.
func histOracle(t *testing.T, stored []reads.Read, hq reads.HistogramQuery) []reads.Bucket {
	w := hq.Interval.Millis()
	count := map[int64]int64{}
	for _, r := range oracle(t, stored, hq.Query) {
		if len(hq.VRMs) > 0 && !slices.Contains(hq.VRMs, r.VRM) {
			continue
		}
		count[reads.FloorMilli(r.SeenAt.UnixMilli(), w)]++
	}
	out := []reads.Bucket{}
	for _, ms := range slices.Sorted(maps.Keys(count)) {
		out = append(out, reads.Bucket{Start: time.UnixMilli(ms).UTC(), Count: count[ms]})
	}
	return out
}

func testHistogram(t *testing.T, s reads.Store) {
	stored := loadFixture(t, s)
	mid := fixtureStart.Add(100*53*time.Minute + 17*time.Second)
	for _, hq := range []reads.HistogramQuery{
		{Query: reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: fixtureStart, To: fixtureEnd}, Interval: reads.IntervalDay},
		{Query: reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: mid, To: fixtureEnd}, Interval: reads.IntervalHour},
		{Query: reads.Query{Match: reads.MatchPattern, Value: "AB*", From: fixtureStart, To: fixtureEnd, Cameras: []string{"CAM-A", "CAM-C"}}, Interval: reads.IntervalDay},
		{Query: reads.Query{Match: reads.MatchSkeleton, Value: plate.Skeleton("AB12CDE"), From: fixtureStart, To: mid}, Interval: reads.IntervalHour},
		{Query: reads.Query{Match: reads.MatchAny, From: fixtureStart, To: fixtureEnd, Cameras: []string{"CAM-B"}}, Interval: reads.IntervalDay},
		{Query: reads.Query{Match: reads.MatchAny, From: fixtureStart, To: fixtureEnd, Cameras: fixtureCameras}, VRMs: []string{"K1", "HELLO"}, Interval: reads.IntervalHour},
		{Query: reads.Query{Match: reads.MatchExact, Value: "NOPE123", From: fixtureStart, To: fixtureEnd}, Interval: reads.IntervalDay},
	} {
		want := histOracle(t, stored, hq)
		got, err := s.Histogram(t.Context(), hq)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, want, func(a, b reads.Bucket) bool { return a.Start.Equal(b.Start) && a.Count == b.Count }) {
			t.Fatalf("histogram %+v:\n got %v\nwant %v", hq, got, want)
		}
		var total int64
		for _, b := range got {
			total += b.Count
		}
		if n, _ := s.CountReads(t.Context(), hq.Query); len(hq.VRMs) == 0 && total != n {
			t.Errorf("buckets sum to %d, CountReads says %d", total, n)
		}
	}
}

func testHistogramInvalid(t *testing.T, s reads.Store) {
	q := reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: T0.Add(-time.Hour), To: T0}
	for name, hq := range map[string]reads.HistogramQuery{
		"no interval":      {Query: q},
		"week interval":    {Query: q, Interval: "week"},
		"too many buckets": {Query: reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: T0.AddDate(-2, 0, 0), To: T0}, Interval: reads.IntervalHour},
		"bad plate filter": {Query: q, VRMs: []string{"AB#"}, Interval: reads.IntervalDay},
		"reversed window":  {Query: reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: T0, To: T0.Add(-time.Hour)}, Interval: reads.IntervalDay},
	} {
		_, err := s.Histogram(t.Context(), hq)
		wantErr(t, name, err, reads.ErrInvalid)
	}
}
