package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/seed"
)

// ReadOptions configures the read-store benchmark. The concrete store and server come in as
// factories so this package stays free of backend types (api/main.go wires them).
type ReadOptions struct {
	Dir     string // scratch directory for databases and the NDJSON file
	Reads   int64
	Seed    int64
	Now     time.Time
	Queries int // lookups per query type
	// Uploaders is how many concurrent HTTP clients push the NDJSON.
	Uploaders  int
	ChunkLines int
	OpenStore  func(ctx context.Context, path string) (reads.Store, error)
	// StartServer serves the portal's real HTTP stack on loopback over store and returns its
	// base URL, the API key to use, and a stop function that drains and shuts it down.
	StartServer func(ctx context.Context, store reads.Store) (url, apiKey string, stop func() error, err error)
	Progress    io.Writer
	// Backend names the store in the section title; default "SQLite".
	Backend string
	// NoTargets leaves the targets out: they are set for SQLite on a 2-core machine, and another
	// backend's figures are shown beside them, not judged by them.
	NoTargets bool
}

// ReadFigures are the headline figures of RunReads, for the side-by-side table.
type ReadFigures struct {
	RawAppend float64 // reads/s, store calls only
	HTTP      float64 // reads/s through the portal
	Lookups   []Lookup
}

// Lookup is one query type's latency on the raw store.
type Lookup struct {
	Name     string
	P50, P99 float64 // milliseconds
}

// RunReads measures raw append vs HTTP ingest at Reads, then lookups on the loaded store.
func RunReads(ctx context.Context, o ReadOptions) ([]Row, ReadFigures, error) {
	rows, fig, err := runReads(ctx, o)
	if err != nil {
		return nil, ReadFigures{}, fmt.Errorf("%s reads: %w", o.backend(), err)
	}
	return rows, fig, nil
}

func (o ReadOptions) backend() string {
	if o.Backend == "" {
		return "SQLite"
	}
	return o.Backend
}

func runReads(ctx context.Context, o ReadOptions) ([]Row, ReadFigures, error) {
	var fig ReadFigures
	say := func(f string, a ...any) { fmt.Fprintf(o.Progress, f+"\n", a...) }
	cfg := seed.Config{Seed: o.Seed, Reads: o.Reads, Now: o.Now}
	if err := cfg.CheckAndSetDefaults(); err != nil {
		return nil, fig, err
	}
	cams := seed.Cameras(o.Seed)
	ndjsonPath := filepath.Join(o.Dir, "reads.ndjson")

	// Phase 1: raw appends, timing only the store calls; the same reads are written to NDJSON
	// for phase 2 and a sample of plates is kept for the lookups.
	rawPath := filepath.Join(o.Dir, "raw.db")
	store, err := o.OpenStore(ctx, rawPath)
	if err != nil {
		return nil, fig, err
	}
	if err := store.PutCameras(ctx, cams); err != nil {
		return nil, fig, err
	}
	f, err := os.Create(ndjsonPath)
	if err != nil {
		return nil, fig, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	sample := newReservoir(5000, o.Seed, o.Now.Add(-30*24*time.Hour))
	var appendTime time.Duration
	var rawRSSPeak int64
	say("raw append of %d reads...", o.Reads)
	_, err = seed.Generate(ctx, cfg, 5000, func(ctx context.Context, batch []reads.Read) error {
		for _, r := range batch {
			if err := seed.WriteNDJSON(bw, r); err != nil {
				return err
			}
			sample.offer(r)
		}
		t0 := time.Now()
		_, err := store.AppendReads(ctx, batch)
		appendTime += time.Since(t0)
		return err
	}, func(done int64) {
		rawRSSPeak = max(rawRSSPeak, RSSBytes())
		if done%1_000_000 < 5000 {
			say("  %d reads, %.0f reads/s so far", done, float64(done)/appendTime.Seconds())
		}
	})
	if err != nil {
		return nil, fig, fmt.Errorf("raw append: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fig, err
	}
	f.Close()
	rawRate := float64(o.Reads) / appendTime.Seconds()
	if err := store.Close(); err != nil {
		return nil, fig, err
	}
	debug.FreeOSMemory()

	// Phase 2: the same reads through the real HTTP stack into a fresh store.
	httpRate, rss, err := httpIngest(ctx, o, ndjsonPath, cams, say)
	if err != nil {
		return nil, fig, err
	}
	debug.FreeOSMemory()

	// Phase 3: lookups on the raw store.
	store, err = o.OpenStore(ctx, rawPath)
	if err != nil {
		return nil, fig, err
	}
	defer store.Close()
	say("lookups (%d each)...", o.Queries)
	lookups, lfig, err := measureLookups(ctx, store, sample.items, o)
	if err != nil {
		return nil, fig, err
	}
	fig = ReadFigures{RawAppend: rawRate, HTTP: httpRate, Lookups: lfig}

	sec := fmt.Sprintf("Reads: ingest and lookup, %s at %s reads", o.backend(), commas(o.Reads))
	rows := []Row{
		{Section: sec, Name: "ingest rate (HTTP NDJSON vs raw store append)", Unit: "reads/s", Ours: httpRate, Raw: rawRate,
			Target: ">= 50,000/s and >= 0.8x raw", Met: Met(httpRate >= 50000 && httpRate >= 0.8*rawRate)},
		{Section: sec, Name: "RSS during HTTP ingest at 10% / 50% / 100%", Unit: "MiB", Ours: float64(rss[2]) / (1 << 20),
			Note: fmt.Sprintf("%.0f / %.0f / %.0f MiB, peak %.0f MiB; raw phase peak %.0f MiB",
				mib(rss[0]), mib(rss[1]), mib(rss[2]), mib(rss[3]), mib(rawRSSPeak)),
			Target: "flat as data grows", Met: Met(rss[2] <= rss[0]*3/2+64<<20)},
	}
	for _, l := range lookups {
		l.Section = sec
		rows = append(rows, l)
	}
	if o.NoTargets {
		for i := range rows {
			rows[i].Target, rows[i].Met = "", nil
		}
	}
	return rows, fig, nil
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// httpIngest uploads the NDJSON file through the real server and returns reads/s and RSS samples
// at 10%, 50%, 100% and the peak.
func httpIngest(ctx context.Context, o ReadOptions, path string, cams []reads.Camera, say func(string, ...any)) (float64, [4]int64, error) {
	var rss [4]int64
	store, err := o.OpenStore(ctx, filepath.Join(o.Dir, "http.db"))
	if err != nil {
		return 0, rss, err
	}
	if err := store.PutCameras(ctx, cams); err != nil {
		return 0, rss, err
	}
	url, key, stop, err := o.StartServer(ctx, store)
	if err != nil {
		return 0, rss, err
	}
	in, err := os.Open(path)
	if err != nil {
		return 0, rss, err
	}
	defer in.Close()
	say("HTTP ingest of %d reads with %d uploaders...", o.Reads, o.Uploaders)

	chunks := make(chan []byte, o.Uploaders)
	var done atomic.Int64
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: o.Uploaders}}
	start := time.Now()
	for i := 0; i < o.Uploaders; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &ingest.Client{URL: url, APIKey: key, HTTP: client, ChunkLines: 1 << 30, MaxRetries: 100}
			for chunk := range chunks {
				rep, err := c.Upload(ctx, bytes.NewReader(chunk))
				if err == nil && rep.Rejected > 0 {
					err = fmt.Errorf("%d lines rejected, first: %+v", rep.Rejected, rep.Errors[0])
				}
				if err != nil {
					errOnce.Do(func() { firstErr = err })
					continue
				}
				n := done.Add(rep.Lines)
				prev := n - rep.Lines
				for i, frac := range []float64{0.1, 0.5, 1.0} {
					mark := int64(frac * float64(o.Reads))
					if prev < mark && n >= mark {
						rss[i] = RSSBytes()
					}
				}
				rss[3] = max(rss[3], RSSBytes())
				if n/1_000_000 != prev/1_000_000 {
					say("  %d reads, %.0f reads/s so far", n, float64(n)/time.Since(start).Seconds())
				}
			}
		}()
	}
	br := bufio.NewReaderSize(in, 1<<20)
	for {
		chunk, err := readLines(br, o.ChunkLines)
		if len(chunk) > 0 {
			chunks <- chunk
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, rss, err
		}
	}
	close(chunks)
	wg.Wait()
	elapsed := time.Since(start)
	if err := stop(); err != nil {
		return 0, rss, err
	}
	if err := store.Close(); err != nil {
		return 0, rss, err
	}
	if firstErr != nil {
		return 0, rss, fmt.Errorf("http ingest: %w", firstErr)
	}
	if got := done.Load(); got != o.Reads {
		return 0, rss, fmt.Errorf("http ingest acknowledged %d of %d reads", got, o.Reads)
	}
	return float64(o.Reads) / elapsed.Seconds(), rss, nil
}

func readLines(br *bufio.Reader, n int) ([]byte, error) {
	var buf []byte
	for i := 0; i < n; i++ {
		line, err := br.ReadSlice('\n')
		buf = append(buf, line...)
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// measureLookups times exact, skeleton and partial lookups on the raw store.
func measureLookups(ctx context.Context, store reads.Store, vrms []string, o ReadOptions) ([]Row, []Lookup, error) {
	if len(vrms) == 0 {
		return nil, nil, fmt.Errorf("no plates sampled in the last 30 days")
	}
	var figs []Lookup
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 7))
	from, to := o.Now.Add(-30*24*time.Hour), o.Now
	kinds := []struct {
		name, target string
		targetMs     float64
		query        func(v string) reads.Query
	}{
		{"exact VRM, 30-day window", "p99 <= 1 ms", 1, func(v string) reads.Query {
			return reads.Query{Match: reads.MatchExact, Value: v, From: from, To: to, Limit: 100}
		}},
		{"misread skeleton, 30-day window", "", 0, func(v string) reads.Query {
			return reads.Query{Match: reads.MatchSkeleton, Value: plate.Skeleton(v), From: from, To: to, Limit: 100}
		}},
		{"partial VRM (two '?' positions), 30-day window", "", 0, func(v string) reads.Query {
			b := []byte(v)
			b[1], b[len(b)-2] = '?', '?'
			return reads.Query{Match: reads.MatchPattern, Value: string(b), From: from, To: to, Limit: 100}
		}},
		{"partial VRM (prefix + '*'), 30-day window", "", 0, func(v string) reads.Query {
			return reads.Query{Match: reads.MatchPattern, Value: v[:4] + "*", From: from, To: to, Limit: 100}
		}},
	}
	var rows []Row
	for _, k := range kinds {
		// Warm-up, not counted: the store was just reopened, and a serving portal's cache is warm.
		for i := 0; i < o.Queries/2; i++ {
			if _, err := store.FindReads(ctx, k.query(vrms[rng.IntN(len(vrms))])); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", k.name, err)
			}
		}
		var lat Latencies
		hits := 0
		for i := 0; i < o.Queries; i++ {
			q := k.query(vrms[rng.IntN(len(vrms))])
			t0 := time.Now()
			page, err := store.FindReads(ctx, q)
			lat = append(lat, time.Since(t0))
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", k.name, err)
			}
			hits += len(page.Reads)
		}
		p50, p99 := lat.Quantile(0.5), lat.Quantile(0.99)
		note := fmt.Sprintf("p50 %.3f ms, %.1f rows/query, after %d warm-up queries", p50, float64(hits)/float64(o.Queries), o.Queries/2)
		r := Row{Name: k.name + " p99", Unit: "ms", Raw: p99, Target: k.target, Note: note}
		if k.targetMs > 0 {
			r.Met = Met(p99 <= k.targetMs)
		}
		rows = append(rows, r)
		figs = append(figs, Lookup{Name: k.name, P50: p50, P99: p99})
	}
	return rows, figs, nil
}

// reservoir keeps a uniform sample of plates seen after a time, for realistic lookups.
type reservoir struct {
	items []string
	n     int
	after time.Time
	rng   *rand.Rand
}

func newReservoir(size int, s int64, after time.Time) *reservoir {
	return &reservoir{items: make([]string, 0, size), after: after, rng: rand.New(rand.NewPCG(uint64(s), 99))}
}

func (r *reservoir) offer(rd reads.Read) {
	if rd.SeenAt.Before(r.after) || len(rd.VRM) < 5 {
		return
	}
	r.n++
	if len(r.items) < cap(r.items) {
		r.items = append(r.items, rd.VRM)
		return
	}
	if j := r.rng.IntN(r.n); j < len(r.items) {
		r.items[j] = rd.VRM
	}
}
