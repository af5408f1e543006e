package storetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// RectifyStore is a read store that also corrects and erases reads.
type RectifyStore interface {
	reads.Store
	reads.Rectifier
}

// RunRectifier runs the conformance cases of reads.Rectifier. Every subtest gets a fresh store.
func RunRectifier(t *testing.T, newStore func(t *testing.T) RectifyStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s RectifyStore)
	}{
		{"CorrectMovesTheRead", testCorrect},
		{"CorrectRefusals", testCorrectRefusals},
		{"EraseRemovesTheRead", testErase},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// count counts reads of a pattern or plate over a wide window around T0.
func count(t *testing.T, s reads.Store, m reads.MatchKind, v string) int64 {
	t.Helper()
	n, err := s.CountReads(t.Context(), reads.Query{Match: m, Value: v, From: T0.AddDate(-1, 0, 0), To: T0.AddDate(1, 0, 0)})
	if err != nil {
		t.Fatalf("count %s %s: %v", m, v, err)
	}
	return n
}

func testCorrect(t *testing.T, s RectifyStore) {
	ctx := t.Context()
	wrong := Read("CAM-A", "AB12C0E", T0.Add(-time.Hour)) // D read as 0
	wrong.PatchSHA = strings.Repeat("ab", 32)
	other := Read("CAM-B", "AB12C0E", T0.Add(-2*time.Hour)) // another read of the misread plate
	lone := Read("CAM-A", "ZZ99ZZZ", T0.Add(-3*time.Hour))  // the only read of its plate
	appendOK(t, s, []reads.Read{wrong, other, lone})

	before, after, err := s.CorrectRead(ctx, withID(wrong).ID, "ab12 cde")
	if err != nil {
		t.Fatal(err)
	}
	want := withID(wrong)
	if before != want {
		t.Fatalf("before = %+v, want %+v", before, want)
	}
	right := withID(Read("CAM-A", "AB12CDE", wrong.SeenAt))
	right.PatchSHA = wrong.PatchSHA
	if after != right || after.Skeleton != plate.Skeleton("AB12CDE") {
		t.Fatalf("after = %+v, want %+v", after, right)
	}
	if _, err := s.GetRead(ctx, before.ID); !errors.Is(err, reads.ErrNotFound) {
		t.Fatalf("old id still found: %v", err)
	}
	if got, err := s.GetRead(ctx, after.ID); err != nil || got != right {
		t.Fatalf("GetRead(new id) = %+v, %v", got, err)
	}
	for _, c := range []struct {
		m    reads.MatchKind
		v    string
		want int64
	}{
		{reads.MatchExact, "AB12CDE", 1},
		{reads.MatchExact, "AB12C0E", 1},
		{reads.MatchPattern, "AB12CD*", 1},
		{reads.MatchPattern, "AB12C0*", 1},
	} {
		if n := count(t, s, c.m, c.v); n != c.want {
			t.Errorf("%s %s: %d reads, want %d", c.m, c.v, n, c.want)
		}
	}

	// Correcting a plate's only read forgets the plate, so no partial search finds it.
	if _, _, err := s.CorrectRead(ctx, withID(lone).ID, "ZZ99ZZY"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, reads.MatchPattern, "ZZ99ZZZ*"); n != 0 {
		t.Fatalf("corrected-away plate still found by pattern: %d", n)
	}
	if n := count(t, s, reads.MatchPattern, "ZZ99ZZ*"); n != 1 {
		t.Fatalf("corrected plate: %d reads by pattern, want 1", n)
	}
}

func testCorrectRefusals(t *testing.T, s RectifyStore) {
	ctx := t.Context()
	a := Read("CAM-A", "AB12C0E", T0)
	b := Read("CAM-A", "AB12CDE", T0) // same camera, same instant, the true plate
	appendOK(t, s, []reads.Read{a, b})
	for _, tc := range []struct {
		name, id, vrm string
		kind          error
	}{
		{"unknown id", "0123456789abcdef", "AB12CDE", reads.ErrNotFound},
		{"malformed id", "nope", "AB12CDE", reads.ErrInvalid},
		{"invalid plate", withID(a).ID, "!!", reads.ErrInvalid},
		{"same plate", withID(a).ID, "AB12 C0E", reads.ErrInvalid},
		{"sighting of the new plate exists", withID(a).ID, "AB12CDE", reads.ErrConflict},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := s.CorrectRead(ctx, tc.id, tc.vrm)
			wantErr(t, "CorrectRead", err, tc.kind)
		})
	}
	for _, r := range []reads.Read{a, b} {
		if got, err := s.GetRead(ctx, withID(r).ID); err != nil || got != withID(r) {
			t.Fatalf("a refused correction changed %s: %+v, %v", r.VRM, got, err)
		}
	}
}

func testErase(t *testing.T, s RectifyStore) {
	ctx := t.Context()
	gone := Read("CAM-A", "ER45ASE", T0.Add(-time.Hour))
	kept := Read("CAM-B", "KE56EPT", T0.Add(-time.Hour))
	appendOK(t, s, []reads.Read{gone, kept})
	got, err := s.EraseRead(ctx, withID(gone).ID)
	if err != nil || got != withID(gone) {
		t.Fatalf("EraseRead = %+v, %v", got, err)
	}
	if _, err := s.GetRead(ctx, withID(gone).ID); !errors.Is(err, reads.ErrNotFound) {
		t.Fatalf("erased read still found: %v", err)
	}
	for _, c := range []struct {
		m reads.MatchKind
		v string
	}{{reads.MatchExact, "ER45ASE"}, {reads.MatchPattern, "ER45*"}, {reads.MatchSkeleton, "ER45ASE"}} {
		if n := count(t, s, c.m, c.v); n != 0 {
			t.Errorf("erased read found by %s %s", c.m, c.v)
		}
	}
	if _, err := s.GetRead(ctx, withID(kept).ID); err != nil {
		t.Fatalf("other read lost: %v", err)
	}
	_, err = s.EraseRead(ctx, withID(gone).ID)
	wantErr(t, "erase twice", err, reads.ErrNotFound)
	_, err = s.EraseRead(ctx, "xyz")
	wantErr(t, "erase malformed id", err, reads.ErrInvalid)
}
