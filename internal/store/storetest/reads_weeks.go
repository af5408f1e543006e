package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// Backends may partition reads by time (the SQLite backend keeps one table per ISO week, Monday
// 00:00 UTC to the next; Elasticsearch rolls indices over). These tests put reads on both sides of
// week boundaries, leave an empty week in the middle, and page one read at a time, so that a page
// ends at every position, including exactly at a boundary.

// mondays are consecutive ISO week starts around T0 (a Saturday).
var mondays = func() []time.Time {
	first := time.Date(2025, 2, 10, 0, 0, 0, 0, time.UTC)
	out := make([]time.Time, 6)
	for i := range out {
		out[i] = first.AddDate(0, 0, 7*i)
	}
	return out
}()

// weeksFixture: reads in five of six weeks (the fourth, starting mondays[3], is empty), with
// reads at the last millisecond of a week, ties at the first millisecond of the next, and reads
// mid-week.
func weeksFixture() []reads.Read {
	var rs []reads.Read
	plates := []string{"AB12CDE", "A812CDE", "XY31ZZZ"} // all contain a 1: "*1*" matches them all
	for w, monday := range mondays {
		if w == 3 {
			continue
		}
		offsets := []time.Duration{
			0, 0, // a tie on the boundary itself
			time.Millisecond,
			36 * time.Hour,
			7*24*time.Hour - time.Millisecond, // the last instant of the week
		}
		for i, off := range offsets {
			rs = append(rs, Read(fixtureCameras[(w+i)%len(fixtureCameras)], plates[(w+i)%len(plates)], monday.Add(off)))
		}
	}
	return rs
}

func testFindAcrossWeeks(t *testing.T, s reads.Store) {
	stored := weeksFixture()
	// Newest weeks first and oldest last, as a back-office catching up delivers them.
	appendOK(t, s, stored[len(stored)/2:])
	appendOK(t, s, stored[:len(stored)/2])
	end := mondays[len(mondays)-1].AddDate(0, 0, 7)
	for _, q := range []reads.Query{
		{Match: reads.MatchExact, Value: "AB12CDE", From: mondays[0], To: end},
		{Match: reads.MatchSkeleton, Value: plate.Skeleton("AB12CDE"), From: mondays[0], To: end},
		{Match: reads.MatchPattern, Value: "*1*", From: mondays[0], To: end},
		{Match: reads.MatchPattern, Value: "*Z*", From: mondays[1].Add(time.Millisecond), To: mondays[5]},
		// Windows that start and end exactly on week boundaries, and mid-week.
		{Match: reads.MatchPattern, Value: "*1*", From: mondays[1], To: mondays[4]},
		{Match: reads.MatchPattern, Value: "*1*", From: mondays[2].Add(-time.Millisecond), To: mondays[4].Add(time.Millisecond)},
		{Match: reads.MatchPattern, Value: "A*", From: mondays[0].Add(12 * time.Hour), To: mondays[5].Add(12 * time.Hour),
			Cameras: []string{"CAM-A", "CAM-C"}},
	} {
		for _, order := range []reads.Order{reads.NewestFirst, reads.OldestFirst} {
			q.Order = order
			t.Run(fmt.Sprintf("%s_%s_%s_%s", q.Match, q.Value, q.From.Format("0102T15"), order), func(t *testing.T) {
				want := checkQuery(t, s, stored, q)
				if len(want) == 0 {
					t.Fatal("the query matches nothing; it tests no boundary")
				}
				for _, limit := range []int{1, 2, 5} {
					q.Limit = limit
					sameIDs(t, fmt.Sprintf("paged by %d", limit), findAll(t, s, q), want)
				}
			})
		}
	}
}

func testRetentionWholeWeeks(t *testing.T, s reads.Store) {
	ctx := t.Context()
	stored := weeksFixture()
	held := Read("CAM-HOLD", "HD11AAA", mondays[0].Add(50*time.Hour)) // alone in an old week, held
	windowHeld := Read("CAM-A", "WN31CCC", mondays[1].Add(60*time.Hour))
	stored = append(stored, held, windowHeld)
	appendOK(t, s, stored)
	cutoff := mondays[4].Add(36*time.Hour + time.Millisecond) // inside the fifth week, after its mid-week read
	holds := []reads.HoldScope{
		{VRMs: []string{"HD11AAA"}},
		{From: windowHeld.SeenAt, To: windowHeld.SeenAt.Add(time.Millisecond)},
	}
	var wantGone, wantKept []reads.Read
	for _, r := range stored {
		switch {
		case r == held || r == windowHeld || !r.SeenAt.Before(cutoff):
			wantKept = append(wantKept, r)
		default:
			wantGone = append(wantGone, r)
		}
	}
	n, err := s.DeleteReadsBefore(ctx, cutoff, holds)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(wantGone)) {
		t.Fatalf("deleted %d reads, want %d", n, len(wantGone))
	}
	for _, r := range wantKept {
		if _, err := s.GetRead(ctx, withID(r).ID); err != nil {
			t.Fatalf("kept read %s at %s: %v", withID(r).ID, r.SeenAt.Format(time.RFC3339Nano), err)
		}
	}
	for _, r := range wantGone {
		if _, err := s.GetRead(ctx, withID(r).ID); !errors.Is(err, reads.ErrNotFound) {
			t.Fatalf("expired read %s at %s: %v, want not found", withID(r).ID, r.SeenAt.Format(time.RFC3339Nano), err)
		}
	}
	all := reads.Query{Match: reads.MatchPattern, Value: "*1*", From: mondays[0], To: mondays[5].AddDate(0, 0, 7)}
	checkQuery(t, s, wantKept, all)
	if n, err := s.DeleteReadsBefore(ctx, cutoff, holds); err != nil || n != 0 {
		t.Fatalf("second run deleted %d (%v), want 0", n, err)
	}

	// A late read for a week that retention emptied goes in and is found, and a retried one is a
	// duplicate.
	late := Read("CAM-B", "AB12CDE", mondays[1].Add(time.Hour))
	if got := appendOK(t, s, []reads.Read{late}); got.Inserted != 1 {
		t.Fatalf("late read into an emptied week: %+v", got)
	}
	if got := appendOK(t, s, []reads.Read{late}); got.Duplicates != 1 {
		t.Fatalf("late read again: %+v, want a duplicate", got)
	}
	checkQuery(t, s, append(wantKept, late), all)

	// Lifting the holds deletes the held reads and, with them, the last reads of their plates.
	if n, err := s.DeleteReadsBefore(ctx, cutoff, nil); err != nil || n != 3 {
		t.Fatalf("after lifting holds: deleted %d (%v), want the 2 held reads and the late one", n, err)
	}
	for _, v := range []string{"HD1*", "WN3*"} {
		q := all
		q.Value = v
		if c, err := s.CountReads(ctx, q); err != nil || c != 0 {
			t.Fatalf("%s after its reads were deleted: %d, %v", v, c, err)
		}
	}
	var left []reads.Read
	for _, r := range stored {
		if !r.SeenAt.Before(cutoff) {
			left = append(left, r)
		}
	}
	checkQuery(t, s, left, all) // only the reads at or after the cutoff are left
}
