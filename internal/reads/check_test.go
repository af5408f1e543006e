package reads

import (
	"errors"
	"math"
	"testing"
	"time"
)

func testFingerprint(t testing.TB, value string) [32]byte {
	t.Helper()
	c, err := Query{Match: MatchExact, Value: value,
		From: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}.Check()
	if err != nil {
		t.Fatal(err)
	}
	return c.Fingerprint
}

// FuzzCursor: decoding never panics, accepts only what the encoder could have produced for
// this query, and every position round-trips.
func FuzzCursor(f *testing.F) {
	fp := testFingerprint(f, "AB12CDE")
	other := testFingerprint(f, "AB12CDF")
	f.Add(int64(1735689600000), int64(42), "")
	f.Add(int64(-1), int64(0), "AQ")
	f.Add(int64(0), int64(1<<62), encodeCursor(Position{SeenAt: 5, ID: 6}, "", fp))
	f.Add(int64(7), int64(8), encodeCursor(Position{SeenAt: 5, ID: 6}, "pit-id==", fp))
	f.Fuzz(func(t *testing.T, seenAt, id int64, raw string) {
		if c, token, err := decodeCursor(raw, fp); err == nil {
			if encodeCursor(c, token, fp) != raw {
				t.Fatalf("accepted %q, which the encoder would write differently", raw)
			}
		} else if !errors.Is(err, ErrInvalid) {
			t.Fatalf("decode error %v does not wrap ErrInvalid", err)
		}
		if id < 0 {
			id = -(id + 1)
		}
		c := Position{SeenAt: seenAt, ID: id}
		for _, token := range []string{"", raw} {
			if len(token) > MaxCursorToken {
				continue
			}
			enc := encodeCursor(c, token, fp)
			got, gotToken, err := decodeCursor(enc, fp)
			if err != nil || got != c || gotToken != token {
				t.Fatalf("round trip of %+v %q: %+v %q, %v", c, token, got, gotToken, err)
			}
			if _, _, err := decodeCursor(enc, other); !errors.Is(err, ErrInvalid) {
				t.Fatalf("cursor accepted by another query: %v", err)
			}
		}
	})
}

// Camera.Check refuses what no store can place, and nothing else.
func TestCameraCheck(t *testing.T) {
	ok := Camera{ID: "CAM1", Lat: 51.5, Lon: -0.1}
	if err := ok.Check(); err != nil {
		t.Fatalf("valid camera refused: %v", err)
	}
	for _, c := range []Camera{
		{Lat: 51.5, Lon: -0.1},
		{ID: "CAM1", Lat: 91, Lon: 0},
		{ID: "CAM1", Lat: math.NaN(), Lon: 0},
		{ID: "CAM1", Lat: 0, Lon: -180.5},
		{ID: "CAM1", Lat: 0, Lon: math.NaN()},
	} {
		if err := c.Check(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
