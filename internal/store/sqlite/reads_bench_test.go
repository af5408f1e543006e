package sqlite

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// Benchmarks run on a store preloaded with readsBenchPreload reads: 20,000 distinct plates (so a
// plate is seen about ten times, as commuters are), 300 cameras, 120 days. They are informative;
// the targets are measured at 10M reads by `anpr bench`.
const (
	readsBenchPreload = 200_000
	readsBenchPlates  = 20_000
	readsBenchCameras = 300
	readsBenchBatch   = 1000
)

// readsBenchGen produces a deterministic stream of plausible reads in time order.
type readsBenchGen struct {
	rng    *rand.Rand
	plates []string
	at     time.Time
	step   time.Duration
}

func newReadsBenchGen() *readsBenchGen {
	rng := rand.New(rand.NewPCG(1, 2))
	const letters, digits = "ABCDEFGHJKLMNPRSTUVWXYZ", "0123456789"
	seen := map[string]bool{}
	var plates []string
	for len(plates) < readsBenchPlates {
		b := []byte{letters[rng.IntN(len(letters))], letters[rng.IntN(len(letters))],
			digits[rng.IntN(10)], digits[rng.IntN(10)],
			letters[rng.IntN(len(letters))], letters[rng.IntN(len(letters))], letters[rng.IntN(len(letters))]}
		if p := string(b); !seen[p] {
			seen[p] = true
			plates = append(plates, p)
		}
	}
	return &readsBenchGen{
		rng:    rng,
		plates: plates,
		at:     time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		step:   120 * 24 * time.Hour / readsBenchPreload,
	}
}

func (g *readsBenchGen) next() reads.Read {
	g.at = g.at.Add(g.step)
	vrm := g.plates[g.rng.IntN(len(g.plates))]
	return reads.Read{
		VRM:        vrm,
		Skeleton:   plate.Skeleton(vrm),
		CameraID:   fmt.Sprintf("CAM-%04d", g.rng.IntN(readsBenchCameras)),
		SeenAt:     g.at.Add(time.Duration(g.rng.IntN(1000)) * time.Millisecond),
		Confidence: 0.9,
		Lane:       1 + g.rng.IntN(3),
	}
}

func (g *readsBenchGen) batch(n int) []reads.Read {
	b := make([]reads.Read, n)
	for i := range b {
		b[i] = g.next()
	}
	return b
}

func readsBenchStore(b *testing.B) (*Store, *readsBenchGen) {
	b.Helper()
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "reads.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	g := newReadsBenchGen()
	for range readsBenchPreload / readsBenchBatch {
		if _, err := s.AppendReads(b.Context(), g.batch(readsBenchBatch)); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Optimize(b.Context()); err != nil {
		b.Fatal(err)
	}
	return s, g
}

// BenchmarkAppend: one op is one batch of new reads in one transaction, on top of the preloaded
// store; 5000 is the ingest default batch size. reads/s is the figure to compare with the ingest
// target.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{1000, 5000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			s, g := readsBenchStore(b)
			var next [][]reads.Read
			var n int
			for b.Loop() {
				b.StopTimer()
				if len(next) == 0 {
					for range 16 {
						next = append(next, g.batch(size))
					}
				}
				batch := next[len(next)-1]
				next = next[:len(next)-1]
				b.StartTimer()
				res, err := s.AppendReads(b.Context(), batch)
				if err != nil {
					b.Fatal(err)
				}
				n += res.Inserted
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "reads/s")
		})
	}
}

// BenchmarkExactLookup: one op is the first page (100 newest) of one plate's reads in a 30-day
// window, the commonest investigator search. p50/p99 are per-op latencies.
func BenchmarkExactLookup(b *testing.B) {
	s, g := readsBenchStore(b)
	readsBenchLookups(b, s, g, func(vrm string) reads.Query {
		return reads.Query{Match: reads.MatchExact, Value: vrm}
	})
}

// BenchmarkExactLookupAnalyzed: the same after a full ANALYZE without analysis_limit (as an
// operator's sqlite3 shell would run it), which gives every index STAT4 samples. The planner may
// then read bare bound values, and a statement whose planner did is compiled again every time
// they are rebound (sqlite3Reprepare in a CPU profile); see readsSQL.param.
func BenchmarkExactLookupAnalyzed(b *testing.B) {
	s, g := readsBenchStore(b)
	conn, err := s.db.Conn(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{"PRAGMA analysis_limit=0", "ANALYZE"} {
		if _, err := conn.ExecContext(b.Context(), q); err != nil {
			b.Fatal(err)
		}
	}
	var samples int
	if err := conn.QueryRowContext(b.Context(), "SELECT count(*) FROM sqlite_stat4").Scan(&samples); err != nil || samples == 0 {
		b.Fatalf("no STAT4 samples after ANALYZE: %d, %v", samples, err)
	}
	conn.Close()
	readsBenchLookups(b, s, g, func(vrm string) reads.Query {
		return reads.Query{Match: reads.MatchExact, Value: vrm}
	})
}

// BenchmarkSkeletonLookup: misread-tolerant search, same window.
func BenchmarkSkeletonLookup(b *testing.B) {
	s, g := readsBenchStore(b)
	readsBenchLookups(b, s, g, func(vrm string) reads.Query {
		return reads.Query{Match: reads.MatchSkeleton, Value: plate.Skeleton(vrm)}
	})
}

// BenchmarkPatternLookup: partial plate with the middle unknown, e.g. "AB1?CD*".
func BenchmarkPatternLookup(b *testing.B) {
	s, g := readsBenchStore(b)
	readsBenchLookups(b, s, g, func(vrm string) reads.Query {
		return reads.Query{Match: reads.MatchPattern, Value: vrm[:3] + "?" + vrm[4:6] + "*"}
	})
}

func readsBenchLookups(b *testing.B, s *Store, g *readsBenchGen, query func(vrm string) reads.Query) {
	rng := rand.New(rand.NewPCG(3, 4))
	to := g.at
	from := to.AddDate(0, 0, -30)
	var lat []time.Duration
	found := 0
	for b.Loop() {
		q := query(g.plates[rng.IntN(len(g.plates))])
		q.From, q.To = from, to
		t0 := time.Now()
		p, err := s.FindReads(b.Context(), q)
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		found += len(p.Reads)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(found)/float64(len(lat)), "reads/op")
}
