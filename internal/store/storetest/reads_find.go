package storetest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// fixturePlates mixes plates that share a skeleton (AB12CDE / A812CDE: B~8, D~0), share runs
// (AB12..., ...CDE), differ in length (K1, 1A, HELLO) and look alike in pieces (ZZ12ZZZ).
var fixturePlates = []string{"AB12CDE", "A812CDE", "AB12CDF", "XY34ZZZ", "AB99XYZ", "K1", "1A", "HELLO", "ZZ12ZZZ"}

var fixtureCameras = []string{"CAM-A", "CAM-B", "CAM-C", "CAM-D"}

// fixtureStart and fixtureEnd bound the fixture's reads: 300 reads 53 minutes apart, every fifth
// at exactly the same millisecond as the one before it so that ties on seen_at are exercised.
var (
	fixtureStart = T0.AddDate(0, 0, -10)
	fixtureEnd   = fixtureStart.Add(300 * 53 * time.Minute)
)

func fixture() []reads.Read {
	var rs []reads.Read
	at := fixtureStart
	for i := range 300 {
		if i%5 != 0 {
			at = at.Add(53 * time.Minute)
		}
		rs = append(rs, Read(fixtureCameras[(i*3)%len(fixtureCameras)], fixturePlates[(i*7)%len(fixturePlates)], at))
	}
	return rs
}

func loadFixture(t *testing.T, s reads.Store) []reads.Read {
	t.Helper()
	rs := fixture()
	// Two batches, out of time order, as real ingest delivers them.
	appendOK(t, s, rs[150:])
	appendOK(t, s, rs[:150])
	return rs
}

// checkQuery compares a store's answer with the oracle three ways: paged with a small page,
// in one big page, and counted.
func checkQuery(t *testing.T, s reads.Store, stored []reads.Read, q reads.Query) []reads.Read {
	t.Helper()
	want := oracle(t, stored, q)
	q.Limit = 7
	sameIDs(t, "paged", findAll(t, s, q), want)
	q.Limit = reads.MaxPageSize
	p, err := s.FindReads(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "one page", p.Reads, want)
	if p.Next != "" {
		t.Fatalf("one page holding everything still has a next cursor")
	}
	n, err := s.CountReads(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(want)) {
		t.Fatalf("CountReads = %d, want %d", n, len(want))
	}
	return want
}

func testFindOracle(t *testing.T, s reads.Store) {
	stored := loadFixture(t, s)
	mid := fixtureStart.Add(100 * 53 * time.Minute)
	for _, q := range []reads.Query{
		{Match: reads.MatchExact, Value: "AB12CDE", From: fixtureStart, To: fixtureEnd},
		{Match: reads.MatchExact, Value: "AB12CDE", From: mid, To: fixtureEnd, Order: reads.OldestFirst},
		{Match: reads.MatchExact, Value: "K1", From: fixtureStart, To: mid, Cameras: []string{"CAM-B", "CAM-D"}},
		{Match: reads.MatchExact, Value: "NOPE123", From: fixtureStart, To: fixtureEnd},
		{Match: reads.MatchSkeleton, Value: plate.Skeleton("AB12CDE"), From: fixtureStart, To: fixtureEnd},
		{Match: reads.MatchSkeleton, Value: plate.Skeleton("ZZ12ZZZ"), From: mid, To: fixtureEnd, Order: reads.OldestFirst},
		{Match: reads.MatchPattern, Value: "AB*", From: fixtureStart, To: fixtureEnd, Cameras: []string{"CAM-A"}},
		{Match: reads.MatchPattern, Value: "*12CD*", From: fixtureStart, To: mid},
		{Match: reads.MatchPattern, Value: "?1", From: fixtureStart, To: fixtureEnd, Order: reads.OldestFirst},
	} {
		t.Run(string(q.Match)+"/"+q.Value, func(t *testing.T) {
			if want := checkQuery(t, s, stored, q); len(want) == 0 && q.Value != "NOPE123" {
				t.Fatalf("fixture gives no result for %+v; the case tests nothing", q)
			}
		})
	}
}

func testFindPatterns(t *testing.T, s reads.Store) {
	stored := loadFixture(t, s)
	for _, tc := range []struct {
		pattern string
		plates  []string
	}{
		{"AB12*", []string{"AB12CDE", "AB12CDF"}},                         // literal run >= 3, anchored
		{"*CDE", []string{"AB12CDE", "A812CDE"}},                          // leading '*'
		{"*12CD*", []string{"AB12CDE", "A812CDE", "AB12CDF"}},             // run inside stars
		{"A?12CDE", []string{"AB12CDE", "A812CDE"}},                       // '?' inside a long run
		{"??12???", []string{"AB12CDE", "A812CDE", "AB12CDF", "ZZ12ZZZ"}}, // no run of 3, leading '?'
		{"AB*E", []string{"AB12CDE"}},                                     // anchored, no run of 3
		{"*Z*", []string{"XY34ZZZ", "AB99XYZ", "ZZ12ZZZ"}},                // no anchor, no run of 3
		{"?1", []string{"K1"}},                                            // '?' and one literal
		{"1?", []string{"1A"}},                                            // literal then '?'
		{"H*", []string{"HELLO"}},                                         // letters-only plate
		{"?E*", []string{"HELLO"}},                                        // '?' first, one literal
		{"AB12CDE", []string{"AB12CDE"}},                                  // no wildcard: exact
		{"QQ*", nil},                                                      // nothing
		{"*ZZZ", []string{"XY34ZZZ", "ZZ12ZZZ"}},                          // run at the end
	} {
		t.Run(tc.pattern, func(t *testing.T) {
			got := checkQuery(t, s, stored, reads.Query{Match: reads.MatchPattern, Value: tc.pattern, From: fixtureStart, To: fixtureEnd})
			plates := map[string]bool{}
			for _, r := range got {
				plates[r.VRM] = true
			}
			if g := slices.Sorted(maps.Keys(plates)); !slices.Equal(g, slices.Sorted(slices.Values(tc.plates))) {
				t.Fatalf("pattern %q matched plates %v, want %v", tc.pattern, g, tc.plates)
			}
		})
	}
}

func testFindSkeleton(t *testing.T, s reads.Store) {
	stored := loadFixture(t, s)
	skel := plate.Skeleton("AB12CDE")
	if skel != plate.Skeleton("A812CDE") {
		t.Fatalf("fixture assumption broken: AB12CDE and A812CDE should share a skeleton (%s, %s)",
			skel, plate.Skeleton("A812CDE"))
	}
	got := checkQuery(t, s, stored, reads.Query{Match: reads.MatchSkeleton, Value: skel, From: fixtureStart, To: fixtureEnd})
	plates := map[string]bool{}
	for _, r := range got {
		plates[r.VRM] = true
		if r.Skeleton != skel {
			t.Fatalf("read %s has skeleton %s, searched %s", r.ID, r.Skeleton, skel)
		}
	}
	if !plates["AB12CDE"] || !plates["A812CDE"] || len(plates) != 2 {
		t.Fatalf("skeleton %s matched plates %v, want AB12CDE and A812CDE", skel, plates)
	}
}

func testFindWindowEdges(t *testing.T, s reads.Store) {
	from, to := T0, T0.Add(time.Hour)
	ms := time.Millisecond
	before, first, last, after := Read("CAM-A", "AB12CDE", from.Add(-ms)), Read("CAM-A", "AB12CDE", from),
		Read("CAM-A", "AB12CDE", to.Add(-ms)), Read("CAM-A", "AB12CDE", to)
	appendOK(t, s, []reads.Read{before, first, last, after})
	q := reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: from, To: to}
	p, err := s.FindReads(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "[from, to)", p.Reads, []reads.Read{withID(last), withID(first)})
	// Adjacent windows split the reads between them without overlap.
	q.From, q.To = from.Add(-time.Hour), from
	p, err = s.FindReads(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "window ending where the next begins", p.Reads, []reads.Read{withID(before)})
	q.From, q.To = from, from.Add(ms)
	p, err = s.FindReads(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	sameIDs(t, "one-millisecond window", p.Reads, []reads.Read{withID(first)})
}

func testFindCameras(t *testing.T, s reads.Store) {
	stored := loadFixture(t, s)
	for _, cams := range [][]string{
		{"CAM-A"},
		{"CAM-C", "CAM-A"},
		{"CAM-B", "CAM-B", "CAM-NONE"},
		{"CAM-NONE"},
	} {
		for _, q := range []reads.Query{
			{Match: reads.MatchExact, Value: "AB12CDE", From: fixtureStart, To: fixtureEnd, Cameras: cams},
			{Match: reads.MatchPattern, Value: "*Z*", From: fixtureStart, To: fixtureEnd, Cameras: cams},
		} {
			got := checkQuery(t, s, stored, q)
			for _, r := range got {
				if !slices.Contains(cams, r.CameraID) {
					t.Fatalf("camera filter %v returned a read from %s", cams, r.CameraID)
				}
			}
		}
	}
}

func testFindOrders(t *testing.T, s reads.Store) {
	loadFixture(t, s)
	q := reads.Query{Match: reads.MatchPattern, Value: "*1*", From: fixtureStart, To: fixtureEnd, Limit: 9}
	desc := findAll(t, s, q)
	q.Order = reads.OldestFirst
	asc := findAll(t, s, q)
	if len(asc) < 50 {
		t.Fatalf("only %d reads; the fixture should give many with ties", len(asc))
	}
	if !slices.IsSortedFunc(asc, compareReads) {
		t.Fatalf("oldest first is not sorted by (seen_at, id)")
	}
	slices.Reverse(desc)
	sameIDs(t, "reversed newest-first vs oldest-first", desc, asc)
	ties := 0
	for i := 1; i < len(asc); i++ {
		if asc[i].SeenAt.Equal(asc[i-1].SeenAt) {
			ties++
		}
	}
	if ties == 0 {
		t.Fatalf("no ties on seen_at in the result; the id tie-break is untested")
	}
}

func testFindInvalid(t *testing.T, s reads.Store) {
	loadFixture(t, s)
	ok := reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: fixtureStart, To: fixtureEnd}
	for _, tc := range []struct {
		name string
		edit func(q *reads.Query)
	}{
		{"no match kind", func(q *reads.Query) { q.Match = "" }},
		{"unknown match kind", func(q *reads.Query) { q.Match = "regex" }},
		{"empty value", func(q *reads.Query) { q.Value = "" }},
		{"invalid plate", func(q *reads.Query) { q.Value = "AB12;DROP" }},
		{"pattern with SQL wildcard", func(q *reads.Query) { q.Match, q.Value = reads.MatchPattern, "AB_2%" }},
		{"pattern matching everything", func(q *reads.Query) { q.Match, q.Value = reads.MatchPattern, "*" }},
		{"reversed window", func(q *reads.Query) { q.From, q.To = q.To, q.From }},
		{"empty window", func(q *reads.Query) { q.To = q.From }},
		{"no from", func(q *reads.Query) { q.From = time.Time{} }},
		{"no to", func(q *reads.Query) { q.To = time.Time{} }},
		{"unknown order", func(q *reads.Query) { q.Order = "sideways" }},
		{"negative limit", func(q *reads.Query) { q.Limit = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := ok
			tc.edit(&q)
			_, err := s.FindReads(t.Context(), q)
			wantErr(t, "FindReads", err, reads.ErrInvalid)
			if tc.name == "negative limit" {
				return // CountReads has no page size
			}
			_, err = s.CountReads(t.Context(), q)
			wantErr(t, "CountReads", err, reads.ErrInvalid)
		})
	}
	if _, err := s.FindReads(t.Context(), ok); err != nil {
		t.Fatalf("the unedited query fails, so the cases above prove nothing: %v", err)
	}
}
