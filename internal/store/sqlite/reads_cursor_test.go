package sqlite

import (
	"errors"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

func readsTestFingerprint(t testing.TB, value string) [32]byte {
	t.Helper()
	rq, err := readsCheckQuery(reads.Query{Match: reads.MatchExact, Value: value,
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return rq.fp
}

// FuzzReadsCursor: decoding never panics, accepts only what the encoder could have produced for
// this query, and every position round-trips.
func FuzzReadsCursor(f *testing.F) {
	fp := readsTestFingerprint(f, "AB12CDE")
	other := readsTestFingerprint(f, "AB12CDF")
	f.Add(int64(1735689600000), int64(42), "")
	f.Add(int64(-1), int64(0), "AQ")
	f.Add(int64(0), int64(1<<62), readsEncodeCursor(readsCursor{seenAt: 5, id: 6}, fp))
	f.Fuzz(func(t *testing.T, seenAt, id int64, raw string) {
		if c, err := readsDecodeCursor(raw, fp); err == nil {
			if readsEncodeCursor(c, fp) != raw {
				t.Fatalf("accepted %q, which the encoder would write differently", raw)
			}
		} else if !errors.Is(err, reads.ErrInvalid) {
			t.Fatalf("decode error %v does not wrap ErrInvalid", err)
		}
		if id < 0 {
			id = -(id + 1)
		}
		c := readsCursor{seenAt: seenAt, id: id}
		enc := readsEncodeCursor(c, fp)
		got, err := readsDecodeCursor(enc, fp)
		if err != nil || got != c {
			t.Fatalf("round trip of %+v: %+v, %v", c, got, err)
		}
		if _, err := readsDecodeCursor(enc, other); !errors.Is(err, reads.ErrInvalid) {
			t.Fatalf("cursor accepted by another query: %v", err)
		}
	})
}
