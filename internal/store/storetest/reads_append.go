package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// window is wide enough to hold every read the append tests store.
func everything(vrm string) reads.Query {
	return reads.Query{Match: reads.MatchExact, Value: vrm, From: T0.AddDate(-1, 0, 0), To: T0.AddDate(1, 0, 0),
		Limit: reads.MaxPageSize}
}

func testAppendIdempotent(t *testing.T, s reads.Store) {
	batch := make([]reads.Read, 0, 40)
	for i := range 40 {
		batch = append(batch, Read([]string{"CAM-A", "CAM-B"}[i%2], "AB12CDE", T0.Add(time.Duration(i)*time.Minute)))
	}
	if got := appendOK(t, s, batch); got != (reads.AppendResult{Inserted: 40}) {
		t.Fatalf("first append: %+v, want 40 inserted", got)
	}
	// A retried batch (the client never saw the acknowledgement) adds nothing.
	if got := appendOK(t, s, batch); got != (reads.AppendResult{Duplicates: 40}) {
		t.Fatalf("same batch again: %+v, want 40 duplicates", got)
	}
	// A batch mixing old and new reads, with a read repeated inside the batch, and a re-sent read
	// whose non-identifying fields differ: same sighting, so still a duplicate, first copy kept.
	changed := batch[3]
	changed.Confidence, changed.Lane = 0.25, 3
	fresh := Read("CAM-C", "AB12CDE", T0.Add(-time.Hour))
	mixed := []reads.Read{batch[0], fresh, fresh, changed, Read("CAM-C", "XY34ZZZ", T0)}
	if got := appendOK(t, s, mixed); got != (reads.AppendResult{Inserted: 2, Duplicates: 3}) {
		t.Fatalf("mixed batch: %+v, want 2 inserted and 3 duplicates", got)
	}
	n, err := s.CountReads(t.Context(), everything("AB12CDE"))
	if err != nil {
		t.Fatal(err)
	}
	if n != 41 {
		t.Fatalf("count after retries = %d, want 41", n)
	}
	got, err := s.GetRead(t.Context(), withID(batch[3]).ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Confidence != batch[3].Confidence || got.Lane != batch[3].Lane {
		t.Fatalf("duplicate overwrote the stored read: %+v", got)
	}
	if got, err := s.AppendReads(t.Context(), nil); err != nil || got != (reads.AppendResult{}) {
		t.Fatalf("empty batch: %+v, %v", got, err)
	}
}

// ReadIDGolden pins reads.ReadID: ids must be identical on every backend and across releases,
// or re-sent batches would be stored twice after an upgrade or a backend switch.
const ReadIDGolden = "197ac2c071c7fe28"

func testAppendIDs(t *testing.T, s reads.Store) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	if got := reads.ReadID("CAM-0001", at, "AB12CDE"); got != ReadIDGolden {
		t.Fatalf("ReadID = %s, want the pinned %s", got, ReadIDGolden)
	}
	// Sub-millisecond digits and the time zone do not change the id.
	if got := reads.ReadID("CAM-0001", at.Add(999*time.Microsecond).In(time.FixedZone("X", 3600)), "AB12CDE"); got != ReadIDGolden {
		t.Fatalf("ReadID depends on precision or zone: %s", got)
	}
	appendOK(t, s, []reads.Read{Read("CAM-0001", "AB12CDE", at)})
	r, err := s.GetRead(t.Context(), ReadIDGolden)
	if err != nil {
		t.Fatalf("GetRead(golden id): %v", err)
	}
	if r.ID != ReadIDGolden || r.VRM != "AB12CDE" || r.CameraID != "CAM-0001" || !r.SeenAt.Equal(at) {
		t.Fatalf("stored read = %+v", r)
	}
	// A read that already carries the right id is accepted as the same read.
	if got := appendOK(t, s, []reads.Read{withID(Read("CAM-0001", "AB12CDE", at))}); got.Duplicates != 1 {
		t.Fatalf("same read with id set: %+v, want a duplicate", got)
	}
}

func testAppendWrongID(t *testing.T, s reads.Store) {
	r := Read("CAM-A", "AB12CDE", T0)
	r.ID = reads.ReadID("CAM-A", T0, "AB12CDF") // the id of a different read
	_, err := s.AppendReads(t.Context(), []reads.Read{r})
	wantErr(t, "append with a forged id", err, reads.ErrInvalid)
	if _, err := s.GetRead(t.Context(), r.ID); !isNotFound(err) {
		t.Fatalf("forged read was stored: %v", err)
	}
}

func isNotFound(err error) bool {
	return errors.Is(err, reads.ErrNotFound)
}

func testAppendAtomic(t *testing.T, s reads.Store) {
	good := []reads.Read{Read("CAM-A", "AB12CDE", T0), Read("CAM-B", "XY34ZZZ", T0.Add(time.Second))}
	for _, bad := range []struct {
		name string
		read reads.Read
	}{
		{"wrong id", func() reads.Read {
			r := Read("CAM-C", "AB12CDE", T0)
			r.ID = "0000000000000001"
			return r
		}()},
		{"invalid plate", Read("CAM-C", "AB 12!", T0)},
		{"empty camera", Read("", "AB12CDE", T0)},
		{"no time", Read("CAM-C", "AB12CDE", time.Time{})},
	} {
		t.Run(bad.name, func(t *testing.T) {
			batch := append(append([]reads.Read{}, good...), bad.read) // the bad read comes last
			_, err := s.AppendReads(t.Context(), batch)
			wantErr(t, "append batch with a bad read", err, reads.ErrInvalid)
			for _, r := range good {
				if _, err := s.GetRead(t.Context(), withID(r).ID); !isNotFound(err) {
					t.Fatalf("read %s of a failed batch was stored (err %v)", withID(r).ID, err)
				}
			}
		})
	}
	// The same good reads alone go in, proving the failures above were about the bad read.
	if got := appendOK(t, s, good); got.Inserted != 2 {
		t.Fatalf("good batch: %+v", got)
	}
}

func testAppendRoundTrip(t *testing.T, s reads.Store) {
	full := Read("CAM-A", "AB12CDE", time.Date(2025, 2, 3, 4, 5, 6, 789_000_000, time.FixedZone("BST", 3600)))
	full.Confidence, full.Lane = 0.5, 2
	full.PatchSHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	full.OverviewSHA = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"
	bare := Read("CAM-B", "XY34ZZZ", T0)
	bare.Confidence, bare.Lane = 0, 0
	appendOK(t, s, []reads.Read{full, bare})
	for _, want := range []reads.Read{full, bare} {
		want = withID(want)
		want.SeenAt = want.SeenAt.UTC()
		got, err := s.GetRead(t.Context(), want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.SeenAt.Location() != time.UTC {
			t.Errorf("seen_at comes back in %v, want UTC", got.SeenAt.Location())
		}
		if !got.SeenAt.Equal(want.SeenAt) {
			t.Errorf("seen_at = %v, want %v", got.SeenAt, want.SeenAt)
		}
		got.SeenAt = want.SeenAt
		if got != want {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
		}
	}
}
