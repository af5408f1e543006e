package seed

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// testNow is a weekday afternoon; other tests move the clock around the day and the year.
var testNow = time.Date(2026, 11, 18, 14, 7, 31, 0, time.UTC)

// generate runs Generate and keeps every read (copied: the batch slice is reused).
func generate(t testing.TB, cfg Config, batchSize int) ([]reads.Read, Summary) {
	t.Helper()
	var all []reads.Read
	s, err := Generate(context.Background(), cfg, batchSize, func(_ context.Context, b []reads.Read) error {
		all = append(all, b...)
		return nil
	}, nil)
	if err != nil {
		t.Fatalf("Generate(%+v): %v", cfg, err)
	}
	return all, s
}

// hashReads is a digest of every field of every read, in order.
func hashReads(rs []reads.Read) string {
	h := sha256.New()
	for _, r := range rs {
		fmt.Fprintf(h, "%s|%s|%s|%s|%d|%g|%d\n", r.ID, r.VRM, r.Skeleton, r.CameraID, r.SeenAt.UnixMilli(), r.Confidence, r.Lane)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestConfigCheckAndSetDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{"minimal", Config{Reads: MinReads, Now: testNow}, nil},
		{"largest", Config{Reads: MaxReads, Now: testNow, Span: MaxSpan}, nil},
		{"too few reads", Config{Reads: MinReads - 1, Now: testNow}, []string{"reads is 9999"}},
		{"too many reads", Config{Reads: MaxReads + 1, Now: testNow}, []string{"reads is 100000001"}},
		{"no clock", Config{Reads: MinReads}, []string{"now is not set"}},
		{"span inside 12 months", Config{Reads: MinReads, Now: testNow, Span: 365 * 24 * time.Hour}, []string{"span is"}},
		{"span too long", Config{Reads: MinReads, Now: testNow, Span: MaxSpan + time.Hour}, []string{"span is"}},
		{"every problem at once", Config{Span: time.Hour}, []string{"reads is 0", "now is not set", "span is 1h0m0s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			err := cfg.CheckAndSetDefaults()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if cfg.Span == 0 {
					t.Error("span default not set")
				}
				return
			}
			if !errors.Is(err, reads.ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	cfg := Config{Reads: MinReads, Now: testNow}
	if err := cfg.CheckAndSetDefaults(); err != nil || cfg.Span != DefaultSpan {
		t.Errorf("default span: got %v, %v", cfg.Span, err)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	cfg := Config{Seed: 7, Reads: 30_000, Now: testNow}
	a, sa := generate(t, cfg, 1000)
	b, sb := generate(t, cfg, 777) // the batch size must not change the data
	if ha, hb := hashReads(a), hashReads(b); ha != hb {
		t.Fatalf("same config, different reads: %s vs %s", ha, hb)
	}
	if fmt.Sprint(sa) != fmt.Sprint(sb) {
		t.Errorf("same config, different summaries:\n%v\n%v", sa, sb)
	}
	cfg.Seed = 8
	c, _ := generate(t, cfg, 1000)
	if hashReads(a) == hashReads(c) {
		t.Error("different seeds gave identical reads")
	}
}

// TestGenerateReads checks the invariants of every read for several sizes and clocks, including
// clocks just after and just before the 04:00 start of a vehicle-day and on both clock changes.
func TestGenerateReads(t *testing.T) {
	tests := []struct {
		name  string
		reads int64
		now   time.Time
		span  time.Duration
	}{
		{"minimum size", MinReads, testNow, 0},
		{"odd size", 12_345, testNow, 0},
		{"just after 04:00", 20_000, time.Date(2026, 11, 18, 4, 3, 0, 0, time.UTC), 0},
		{"just before 04:00 in summer", 20_000, time.Date(2026, 7, 1, 2, 55, 0, 0, time.UTC), 0},
		{"midnight", 15_000, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 0},
		{"spring clock change", 15_000, time.Date(2026, 3, 29, 2, 30, 0, 0, time.UTC), 0},
		{"autumn clock change", 15_000, time.Date(2026, 10, 25, 23, 59, 59, 999e6, time.UTC), 0},
		{"shortest span", 12_000, testNow, MinSpan},
		{"longest span", 40_000, testNow, MaxSpan},
	}
	cams := map[string]bool{}
	for _, c := range Cameras(0) {
		cams[c.ID] = true
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Seed: 3, Reads: tc.reads, Now: tc.now, Span: tc.span}
			span := cmp.Or(tc.span, DefaultSpan)
			var all []reads.Read
			var calls, last int64
			s, err := Generate(context.Background(), cfg, 999, func(_ context.Context, b []reads.Read) error {
				if len(b) == 0 || len(b) > 999 {
					t.Errorf("batch of %d", len(b))
				}
				all = append(all, b...)
				return nil
			}, func(done int64) {
				calls++
				if done <= last {
					t.Errorf("progress went from %d to %d", last, done)
				}
				last = done
			})
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(all)) != tc.reads || s.Reads != tc.reads || last != tc.reads {
				t.Fatalf("got %d reads (summary %d, progress %d), want %d", len(all), s.Reads, last, tc.reads)
			}
			if want := (tc.reads + 998) / 999; calls != want {
				t.Errorf("progress called %d times, want %d", calls, want)
			}
			oldest := tc.now.Add(-span - 48*time.Hour)
			ids := make(map[string]bool, len(all))
			var bands [3]int64
			for i, r := range all {
				if i > 0 && r.SeenAt.Before(all[i-1].SeenAt) {
					t.Fatalf("read %d at %s is before read %d at %s", i, r.SeenAt, i-1, all[i-1].SeenAt)
				}
				if !r.SeenAt.Before(tc.now) || r.SeenAt.Before(oldest) {
					t.Fatalf("read %d at %s is outside (%s, %s)", i, r.SeenAt, oldest, tc.now)
				}
				if r.SeenAt.Location() != time.UTC || !r.SeenAt.Equal(r.SeenAt.Truncate(reads.TimePrecision)) {
					t.Fatalf("read %d time %s is not UTC milliseconds", i, r.SeenAt)
				}
				if n, err := plate.Normalize(r.VRM); err != nil || n != r.VRM {
					t.Fatalf("read %d plate %q normalises to %q, %v", i, r.VRM, n, err)
				}
				if r.Skeleton != plate.Skeleton(r.VRM) {
					t.Fatalf("read %d skeleton %q, want %q", i, r.Skeleton, plate.Skeleton(r.VRM))
				}
				if id := reads.ReadID(r.CameraID, r.SeenAt, r.VRM); r.ID != id {
					t.Fatalf("read %d id %s, reads.ReadID says %s", i, r.ID, id)
				}
				if ids[r.ID] {
					t.Fatalf("read %d duplicates id %s (camera, time and plate)", i, r.ID)
				}
				ids[r.ID] = true
				if !cams[r.CameraID] {
					t.Fatalf("read %d from unknown camera %q", i, r.CameraID)
				}
				if r.Confidence < 0.55 || r.Confidence > 0.99 || r.Lane < 1 || r.Lane > 3 {
					t.Fatalf("read %d confidence %v lane %d", i, r.Confidence, r.Lane)
				}
				age := tc.now.Sub(r.SeenAt)
				switch {
				case age < 91*24*time.Hour:
					bands[0]++
				case !r.SeenAt.Before(tc.now.AddDate(-1, 0, 0)):
					bands[1]++
				default:
					bands[2]++
				}
			}
			for i, b := range []string{BandRecent, BandYear, BandOld} {
				if bands[i] == 0 || s.Bands[b] != bands[i] {
					t.Errorf("band %s: summary %d, counted %d", b, s.Bands[b], bands[i])
				}
			}
			if !s.From.Equal(all[0].SeenAt) || !s.To.Equal(all[len(all)-1].SeenAt) {
				t.Errorf("summary span %s..%s, reads %s..%s", s.From, s.To, all[0].SeenAt, all[len(all)-1].SeenAt)
			}
			if s.Cameras != len(cams) || s.Vehicles < 100 {
				t.Errorf("summary: %d cameras, %d vehicles", s.Cameras, s.Vehicles)
			}
		})
	}
}

func TestGenerateStopsOnErrors(t *testing.T) {
	cfg := Config{Reads: MinReads, Now: testNow}
	boom := errors.New("disk full")
	n := 0
	_, err := Generate(context.Background(), cfg, 100, func(context.Context, []reads.Read) error {
		n++
		if n == 3 {
			return boom
		}
		return nil
	}, nil)
	if !errors.Is(err, boom) || n != 3 {
		t.Errorf("emit error: got %v after %d batches, want %v after 3", err, n, boom)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Generate(ctx, cfg, 100, func(context.Context, []reads.Read) error { return nil }, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
	if _, err := Generate(context.Background(), cfg, 100, nil, nil); !errors.Is(err, reads.ErrInvalid) {
		t.Errorf("nil emit: got %v", err)
	}
	if _, err := Generate(context.Background(), Config{}, 100, func(context.Context, []reads.Read) error { return nil }, nil); !errors.Is(err, reads.ErrInvalid) {
		t.Errorf("invalid config: got %v", err)
	}
}

// BenchmarkGenerate measures generation alone (emit does nothing) at 1M reads per iteration.
func BenchmarkGenerate(b *testing.B) {
	cfg := Config{Seed: 1, Reads: 1_000_000, Now: testNow}
	var sink uint64
	b.ReportAllocs()
	for b.Loop() {
		_, err := Generate(context.Background(), cfg, DefaultBatchSize, func(_ context.Context, batch []reads.Read) error {
			sink += binary.LittleEndian.Uint64([]byte(batch[0].ID[:8]))
			return nil
		}, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.Reads)*float64(b.N)/b.Elapsed().Seconds(), "reads/s")
	_ = sink
}
