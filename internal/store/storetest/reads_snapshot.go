package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// testSnapshotPaging pages with Query.Snapshot: the answer is the oracle's, and reads appended
// between pages never repeat a read, never break the order and never lose one that was there at
// the first page. Whether the new reads show up is the backend's choice (a frozen view hides
// them; keyset paging shows those ahead of the cursor).
func testSnapshotPaging(t *testing.T, s reads.Store) {
	stored := loadFixture(t, s)
	for _, q := range []reads.Query{
		{Match: reads.MatchExact, Value: "AB12CDE", From: fixtureStart, To: fixtureEnd, Snapshot: true},
		{Match: reads.MatchAny, From: fixtureStart, To: fixtureEnd, Cameras: fixtureCameras, Order: reads.OldestFirst, Snapshot: true},
		{Match: reads.MatchPattern, Value: "*Z*", From: fixtureStart, To: fixtureEnd, Snapshot: true},
	} {
		checkQuery(t, s, stored, q)
	}

	q := reads.Query{Match: reads.MatchAny, From: fixtureStart.Add(-time.Hour), To: fixtureEnd.Add(time.Hour), Cameras: []string{"CAM-A", "CAM-B"},
		Order: reads.OldestFirst, Limit: 9, Snapshot: true}
	before := oracle(t, stored, q)
	// One read ahead of the cursor, at the end of the window, after every page.
	got := findAllBetween(t, s, q, func(pages int) {
		appendOK(t, s, []reads.Read{Read("CAM-A", "NW11AAA", fixtureEnd.Add(time.Duration(pages+1)*time.Second))})
	})
	if !slices.IsSortedFunc(got, compareReads) {
		t.Fatalf("snapshot pages out of order: %s", describe(got))
	}
	var old []reads.Read
	for _, r := range got {
		if r.VRM != "NW11AAA" {
			old = append(old, r)
		}
	}
	sameIDs(t, "reads present at the first page", old, before)
}
