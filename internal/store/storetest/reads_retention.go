package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

func testCameras(t *testing.T, s reads.Store) {
	ctx := t.Context()
	if cams, err := s.Cameras(ctx); err != nil || len(cams) != 0 {
		t.Fatalf("empty registry: %v, %v", cams, err)
	}
	c1 := reads.Camera{ID: "CAM-1", Name: "A40 Western Avenue", Road: "A40", Direction: "E", Area: "Ealing", Lat: 51.52, Lon: -0.29}
	c2 := reads.Camera{ID: "CAM-2", Name: "A2 Old Kent Road", Road: "A2", Direction: "NW", Area: "Southwark", Lat: 51.48, Lon: -0.07}
	c3 := reads.Camera{ID: "CAM-0", Name: "M25 J10", Road: "M25", Direction: "N", Area: "Elmbridge", Lat: 51.32, Lon: -0.45}
	if err := s.PutCameras(ctx, []reads.Camera{c2, c1}); err != nil {
		t.Fatal(err)
	}
	moved := c1
	moved.Name, moved.Direction, moved.Lat = "A40 Western Avenue (moved)", "W", 51.53
	if err := s.PutCameras(ctx, []reads.Camera{moved, c3}); err != nil {
		t.Fatal(err)
	}
	cams, err := s.Cameras(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []reads.Camera{c3, moved, c2} // sorted by id; CAM-1 updated in place, not added twice
	if !slices.Equal(cams, want) {
		t.Fatalf("Cameras() =\n %+v\nwant\n %+v", cams, want)
	}
	got, err := s.Camera(ctx, "CAM-1")
	if err != nil || got != moved {
		t.Fatalf("Camera(CAM-1) = %+v, %v; want %+v", got, err, moved)
	}
	_, err = s.Camera(ctx, "CAM-404")
	wantErr(t, "unknown camera", err, reads.ErrNotFound)

	// A batch with an invalid camera changes nothing, not even its valid members.
	c4 := reads.Camera{ID: "CAM-4", Name: "new", Lat: 51.5, Lon: 0}
	for _, bad := range []reads.Camera{{ID: "", Name: "no id"}, {ID: "CAM-5", Lat: 91}, {ID: "CAM-5", Lon: -181}} {
		err := s.PutCameras(ctx, []reads.Camera{c4, bad})
		wantErr(t, fmt.Sprintf("PutCameras with %+v", bad), err, reads.ErrInvalid)
	}
	if _, err := s.Camera(ctx, "CAM-4"); !errors.Is(err, reads.ErrNotFound) {
		t.Fatalf("camera from a refused batch was stored: %v", err)
	}
}

// retentionCase is one read in the retention test and whether DeleteReadsBefore must keep it.
type retentionCase struct {
	why  string
	read reads.Read
	keep bool
}

func testRetentionHolds(t *testing.T, s reads.Store) {
	ctx := t.Context()
	cutoff := T0
	day := 24 * time.Hour
	holds := []reads.HoldScope{
		{VRMs: []string{"HD11AAA"}},
		{Cameras: []string{"CAM-HOLD"}},
		{From: cutoff.Add(-31 * time.Hour), To: cutoff.Add(-29 * time.Hour)},
		{VRMs: []string{"CB44DDD"}, Cameras: []string{"CAM-B"}},
	}
	cases := []retentionCase{
		{"VRM hold", Read("CAM-A", "HD11AAA", cutoff.Add(-2*day)), true},
		{"VRM hold, any camera, any age", Read("CAM-B", "HD11AAA", cutoff.AddDate(-1, 0, 0)), true},
		{"camera hold", Read("CAM-HOLD", "CH22BBB", cutoff.Add(-2*day)), true},
		{"window hold", Read("CAM-A", "WN33CCC", cutoff.Add(-30*time.Hour)), true},
		{"window hold start is inclusive", Read("CAM-C", "WN33CCC", cutoff.Add(-31*time.Hour)), true},
		{"window hold end is exclusive", Read("CAM-A", "WN33CCC", cutoff.Add(-29*time.Hour)), false},
		{"VRM and camera hold", Read("CAM-B", "CB44DDD", cutoff.Add(-2*day)), true},
		{"VRM and camera hold needs both", Read("CAM-A", "CB44DDD", cutoff.Add(-2*day)), false},
		{"one millisecond before the cutoff", Read("CAM-A", "AB12CDE", cutoff.Add(-time.Millisecond)), false},
		{"at the cutoff", Read("CAM-A", "AB12CDE", cutoff), true},
		{"after the cutoff", Read("CAM-A", "XY34ZZZ", cutoff.Add(time.Hour)), true},
		{"after the cutoff, plate with deleted reads", Read("CAM-A", "CB44DDD", cutoff.Add(time.Hour)), true},
	}
	for i := range 50 { // the bulk of expired data, older than every hold window
		cases = append(cases, retentionCase{"expired", Read(fixtureCameras[i%4], fixturePlates[i%len(fixturePlates)],
			cutoff.Add(-time.Duration(40+i)*day)), false})
	}
	batch := make([]reads.Read, len(cases))
	wantDeleted := int64(0)
	for i, c := range cases {
		batch[i] = c.read
		if !c.keep {
			wantDeleted++
		}
	}
	appendOK(t, s, batch)

	n, err := s.DeleteReadsBefore(ctx, cutoff, holds)
	if err != nil {
		t.Fatal(err)
	}
	if n != wantDeleted {
		t.Errorf("deleted %d reads, want %d", n, wantDeleted)
	}
	for _, c := range cases {
		_, err := s.GetRead(ctx, withID(c.read).ID)
		switch {
		case c.keep && err != nil:
			t.Errorf("%s: read should be kept, GetRead: %v", c.why, err)
		case !c.keep && !errors.Is(err, reads.ErrNotFound):
			t.Errorf("%s: read should be deleted, GetRead: %v", c.why, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	if n, err := s.DeleteReadsBefore(ctx, cutoff, holds); err != nil || n != 0 {
		t.Fatalf("second run deleted %d (%v), want 0", n, err)
	}
	// Lifting the holds releases exactly the held reads older than the cutoff.
	n, err = s.DeleteReadsBefore(ctx, cutoff, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n != 6 {
		t.Fatalf("deleted %d reads after lifting holds, want the 6 held ones", n)
	}
	q := reads.Query{Match: reads.MatchPattern, Value: "HD1*", From: cutoff.AddDate(-2, 0, 0), To: cutoff.AddDate(1, 0, 0)}
	if c, err := s.CountReads(ctx, q); err != nil || c != 0 {
		t.Fatalf("reads of a fully deleted plate still found: %d, %v", c, err)
	}
	q.Value = "CB44*" // one read of this plate is newer than the cutoff and must still be found
	if c, err := s.CountReads(ctx, q); err != nil || c != 1 {
		t.Fatalf("plate with a surviving read: count %d, %v; want 1", c, err)
	}
}

func testRetentionReappend(t *testing.T, s reads.Store) {
	ctx := t.Context()
	var old []reads.Read
	for i := range 30 {
		old = append(old, Read("CAM-A", "AB12CDE", T0.Add(-time.Duration(i+1)*time.Hour)))
	}
	appendOK(t, s, old)
	if n, err := s.DeleteReadsBefore(ctx, T0, nil); err != nil || n != 30 {
		t.Fatalf("delete: %d, %v", n, err)
	}
	window := func(q reads.Query) reads.Query {
		q.From, q.To = T0.AddDate(0, 0, -7), T0.AddDate(0, 0, 7)
		return q
	}
	queries := []reads.Query{
		window(reads.Query{Match: reads.MatchExact, Value: "AB12CDE"}),
		window(reads.Query{Match: reads.MatchSkeleton, Value: plate.Skeleton("AB12CDE")}),
		window(reads.Query{Match: reads.MatchPattern, Value: "*12CD*"}),
		window(reads.Query{Match: reads.MatchPattern, Value: "A?1*"}),
	}
	for _, q := range queries {
		if c, err := s.CountReads(ctx, q); err != nil || c != 0 {
			t.Fatalf("%s %s after delete: %d, %v", q.Match, q.Value, c, err)
		}
	}
	// The plate comes back with a new read and every kind of search finds it again.
	fresh := Read("CAM-B", "AB12CDE", T0.Add(time.Hour))
	appendOK(t, s, []reads.Read{fresh})
	for _, q := range queries {
		p, err := s.FindReads(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		sameIDs(t, fmt.Sprintf("%s %s after re-append", q.Match, q.Value), p.Reads, []reads.Read{withID(fresh)})
	}
}

func testRetentionBadHolds(t *testing.T, s reads.Store) {
	ctx := t.Context()
	old := []reads.Read{Read("CAM-A", "AB12CDE", T0.Add(-48*time.Hour)), Read("CAM-B", "XY34ZZZ", T0.Add(-47*time.Hour))}
	appendOK(t, s, old)
	for _, tc := range []struct {
		name  string
		holds []reads.HoldScope
	}{
		{"reversed window", []reads.HoldScope{{From: T0, To: T0.Add(-time.Hour)}}},
		{"invalid VRM", []reads.HoldScope{{VRMs: []string{"AB12CDE"}}, {VRMs: []string{"!"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := s.DeleteReadsBefore(ctx, T0, tc.holds)
			wantErr(t, "DeleteReadsBefore", err, reads.ErrInvalid)
			if n != 0 {
				t.Fatalf("a refused retention run deleted %d reads", n)
			}
		})
	}
	// A scope with no fields matches every read: it keeps everything rather than nothing.
	if n, err := s.DeleteReadsBefore(ctx, T0, []reads.HoldScope{{}}); err != nil || n != 0 {
		t.Fatalf("empty hold scope: deleted %d, %v; want 0", n, err)
	}
	for _, r := range old {
		if _, err := s.GetRead(ctx, withID(r).ID); err != nil {
			t.Fatalf("read deleted by a refused run: %v", err)
		}
	}
}
