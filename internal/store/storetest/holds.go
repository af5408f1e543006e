package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/holds"
	"github.com/anpr-portal/anpr/internal/retention"
)

// HoldStore is what a backend provides for holds and retention run reports.
type HoldStore interface {
	holds.Store
	retention.RunStore
}

// RunHoldStore runs the conformance suite of holds.Store and retention.RunStore. Every subtest
// gets a fresh store.
func RunHoldStore(t *testing.T, newStore func(t *testing.T) HoldStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s HoldStore)
	}{
		{"HoldRoundTrip", testHoldRoundTrip},
		{"HoldListNewestFirst", testHoldList},
		{"HoldRelease", testHoldRelease},
		{"HoldConcurrentReleaseOneWins", testHoldConcurrentRelease},
		{"RetentionRuns", testRetentionRuns},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func sampleHold(id string, created time.Time) holds.Hold {
	return holds.Hold{
		ID: id, CaseRef: "OP/1234/25",
		Reason: authz.Reason{Purpose: "major_crime", CaseRef: "OP/1234/25", OffenceCode: "HO01001",
			Justification: "vehicle movements of the suspects before the homicide are evidence for trial"},
		Scope: holds.Scope{VRMs: []string{"AB12CDE", "XY34ZZZ"}, Cameras: []string{"CAM-A"},
			From: T0.AddDate(-1, 0, 0), To: T0},
		ReviewAt: T0.AddDate(0, 6, 0), CreatedBy: "manager-1", CreatedAt: created,
	}
}

func testHoldRoundTrip(t *testing.T, s HoldStore) {
	ctx := t.Context()
	h := sampleHold("hold_1", T0)
	if err := s.CreateHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetHold(ctx, h.ID)
	if err != nil || !reflect.DeepEqual(got, h) {
		t.Fatalf("GetHold = %+v, %v\nwant %+v", got, err, h)
	}
	if !got.Active() {
		t.Fatal("a new hold is not active")
	}
	wantErr(t, "create with an existing id", s.CreateHold(ctx, h), holds.ErrConflict)
	_, err = s.GetHold(ctx, "hold_none")
	wantErr(t, "unknown hold", err, holds.ErrNotFound)
	// A hold with only a window round-trips with empty lists, not invented ones.
	w := holds.Hold{ID: "hold_2", CaseRef: "OP/9/25", Scope: holds.Scope{From: T0.Add(-time.Hour), To: T0},
		ReviewAt: T0.AddDate(0, 1, 0), CreatedBy: "m", CreatedAt: T0}
	if err := s.CreateHold(ctx, w); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetHold(ctx, w.ID); err != nil || !reflect.DeepEqual(got, w) {
		t.Fatalf("window hold = %+v, %v\nwant %+v", got, err, w)
	}
}

func testHoldList(t *testing.T, s HoldStore) {
	ctx := t.Context()
	if hs, err := s.ListHolds(ctx); err != nil || len(hs) != 0 {
		t.Fatalf("empty store lists %v, %v", hs, err)
	}
	for i := range 3 {
		if err := s.CreateHold(ctx, sampleHold(fmt.Sprintf("hold_%d", i), T0.Add(time.Duration(i)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	hs, err := s.ListHolds(ctx)
	if err != nil || len(hs) != 3 || hs[0].ID != "hold_2" || hs[2].ID != "hold_0" {
		t.Fatalf("ListHolds = %v, %v; want hold_2, hold_1, hold_0", hs, err)
	}
}

func testHoldRelease(t *testing.T, s HoldStore) {
	ctx := t.Context()
	h := sampleHold("hold_r", T0)
	if err := s.CreateHold(ctx, h); err != nil {
		t.Fatal(err)
	}
	at := T0.Add(24 * time.Hour)
	got, err := s.ReleaseHold(ctx, h.ID, "manager-2", "trial concluded and appeal period has ended", at)
	if err != nil {
		t.Fatal(err)
	}
	if got.Active() || got.ReleasedBy != "manager-2" || !got.ReleasedAt.Equal(at) || got.ReleaseReason == "" {
		t.Fatalf("released hold = %+v", got)
	}
	if again, err := s.GetHold(ctx, h.ID); err != nil || !reflect.DeepEqual(again, got) {
		t.Fatalf("GetHold after release = %+v, %v", again, err)
	}
	_, err = s.ReleaseHold(ctx, h.ID, "manager-3", "again", at.Add(time.Hour))
	wantErr(t, "release twice", err, holds.ErrConflict)
	if again, _ := s.GetHold(ctx, h.ID); again.ReleasedBy != "manager-2" {
		t.Fatalf("a refused release changed the hold: %+v", again)
	}
	_, err = s.ReleaseHold(ctx, "hold_none", "m", "x", at)
	wantErr(t, "release unknown", err, holds.ErrNotFound)
}

func testHoldConcurrentRelease(t *testing.T, s HoldStore) {
	ctx := t.Context()
	if err := s.CreateHold(ctx, sampleHold("hold_c", T0)); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.ReleaseHold(ctx, "hold_c", fmt.Sprintf("manager-%d", i), "case closed by the crown prosecution service", T0.Add(time.Hour))
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, holds.ErrConflict):
			t.Errorf("concurrent release: %v", err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d concurrent releases succeeded, want exactly 1", wins)
	}
}

func testRetentionRuns(t *testing.T, s HoldStore) {
	ctx := t.Context()
	if rs, err := s.ListRuns(ctx, 10); err != nil || len(rs) != 0 {
		t.Fatalf("empty store lists %v, %v", rs, err)
	}
	for i := range 3 {
		r := retention.Run{ID: fmt.Sprintf("run_%d", i), Cutoff: T0.AddDate(-1, 0, i), Deleted: int64(10 * i), HeldKept: 2,
			Holds: 1, Trigger: "schedule", By: "system", StartedAt: T0.AddDate(0, 0, i), FinishedAt: T0.AddDate(0, 0, i).Add(time.Second), Status: "ok"}
		if err := s.RecordRun(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := s.ListRuns(ctx, 2)
	if err != nil || len(rs) != 2 || rs[0].ID != "run_2" || rs[1].ID != "run_1" || rs[0].Deleted != 20 || !rs[0].Cutoff.Equal(T0.AddDate(-1, 0, 2)) {
		t.Fatalf("ListRuns(2) = %+v, %v", rs, err)
	}
	_, err = s.ListRuns(ctx, 0)
	wantErr(t, "limit 0", err, holds.ErrInvalid)
}
