package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/reads"
)

// SoakOptions configures RunSoak: mixed load on a running portal for a while, with the memory
// of this process sampled as it goes. The portal must run in this process (as anpr bench runs
// it), since RSS, heap and goroutines are read from the process itself.
type SoakOptions struct {
	// URL is the portal; SearchKey may search (the investigator role), IngestKey upload reads,
	// AuditKey read the audit log (the auditor role).
	URL                            string
	SearchKey, IngestKey, AuditKey string
	// Seed, Reads and Now are the seed.Config the portal's store was loaded with: the searches
	// ask for plates seen in it in the last 30 days.
	Seed  int64
	Reads int64
	Now   time.Time
	// Cameras are the registered cameras the uploader's reads come from.
	Cameras []reads.Camera
	// Duration of the mixed load, and how often memory is sampled (default Duration/30).
	Duration, Every time.Duration
	// Clients of each kind: searchers (exact, partial and misread searches), uploaders
	// (batches of new reads), auditors (audit log queries). Defaults 32, 1, 2.
	Searchers, Uploaders, Auditors int
	// Budget is the RSS the process should stay within after warm-up, in bytes.
	Budget   int64
	Progress io.Writer
}

// SoakSample is the process's memory at one moment of the soak, and the work done until then.
type SoakSample struct {
	At         time.Duration `json:"at_ns"`
	RSS        int64         `json:"rss_bytes"`
	Heap       int64         `json:"heap_live_bytes"` // live heap as of the last GC
	Goroutines int           `json:"goroutines"`
	Searches   int64         `json:"searches"`
	Ingested   int64         `json:"reads_ingested"`
	AuditReads int64         `json:"audit_reads"`
	Errors     int64         `json:"errors"`
}

// Soak is a soak run: its parameters and samples.
type Soak struct {
	Duration string       `json:"duration"`
	Clients  string       `json:"clients"`
	Budget   int64        `json:"budget_bytes"`
	Samples  []SoakSample `json:"samples"`
	FirstErr string       `json:"first_error,omitempty"`
}

// soakFlatness is how much a measure's median may grow from the middle third of the run to the
// last third (after the first third, the warm-up) and still count as flat.
const soakFlatness = 0.10

// RunSoak runs the mixed load for o.Duration and samples memory every o.Every.
func RunSoak(ctx context.Context, o SoakOptions) (Soak, error) {
	if o.Searchers == 0 {
		o.Searchers = 32
	}
	if o.Uploaders == 0 {
		o.Uploaders = 1
	}
	if o.Auditors == 0 {
		o.Auditors = 2
	}
	if o.Every == 0 {
		o.Every = max(time.Second, o.Duration/30)
	}
	if len(o.Cameras) == 0 {
		return Soak{}, fmt.Errorf("soak: no cameras to upload reads from")
	}
	say := func(f string, a ...any) { fmt.Fprintf(o.Progress, f+"\n", a...) }
	plates, err := samplePlates(ctx, SearchOptions{Seed: o.Seed, Reads: o.Reads, Now: o.Now})
	if err != nil {
		return Soak{}, err
	}
	s := Soak{Duration: o.Duration.String(), Budget: o.Budget,
		Clients: fmt.Sprintf("%d searchers, %d uploader(s), %d auditors", o.Searchers, o.Uploaders, o.Auditors)}
	say("soak: %s of mixed load (%s), memory sampled every %s...", o.Duration, s.Clients, o.Every)

	lctx, stop := context.WithTimeout(ctx, o.Duration)
	defer stop()
	var searches, ingested, auditReads, errs atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		if lctx.Err() != nil {
			return // the load ending cuts requests short; that is not an error of the portal
		}
		errs.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	transport := &http.Transport{MaxIdleConnsPerHost: o.Searchers + o.Uploaders + o.Auditors + 4}
	hc := &http.Client{Timeout: 5 * time.Minute, Transport: transport}
	defer transport.CloseIdleConnections()
	var wg sync.WaitGroup
	for i := range o.Searchers {
		wg.Go(func() {
			c := &client{url: o.URL, key: o.SearchKey, http: hc}
			rng := rand.New(rand.NewPCG(uint64(o.Seed), uint64(1000+i)))
			for lctx.Err() == nil {
				if err := soakSearch(lctx, c, plates, rng); err != nil {
					fail(err)
					continue
				}
				searches.Add(1)
			}
		})
	}
	for i := range o.Uploaders {
		wg.Go(func() {
			c := &ingest.Client{URL: o.URL, APIKey: o.IngestKey, HTTP: hc, ChunkLines: 5000, MaxRetries: 100}
			rng := rand.New(rand.NewPCG(uint64(o.Seed), uint64(2000+i)))
			for lctx.Err() == nil {
				rep, err := c.Upload(lctx, bytes.NewReader(soakBatch(rng, o.Cameras, plates, 5000)))
				if err == nil && rep.Rejected > 0 {
					err = fmt.Errorf("soak upload: %d lines rejected, first: %+v", rep.Rejected, rep.Errors[0])
				}
				if err != nil {
					fail(err)
					continue
				}
				ingested.Add(rep.Inserted + rep.Duplicates)
			}
		})
	}
	for range o.Auditors {
		wg.Go(func() {
			for lctx.Err() == nil {
				if err := soakAuditRead(lctx, hc, o.URL, o.AuditKey); err != nil {
					fail(err)
					continue
				}
				auditReads.Add(1)
			}
		})
	}

	start := time.Now()
	sample := func() {
		e := ""
		if v := firstErr.Load(); v != nil {
			e = v.(string)
		}
		s.FirstErr = e
		s.Samples = append(s.Samples, SoakSample{At: time.Since(start), RSS: RSSBytes(), Heap: liveHeap(), Goroutines: runtime.NumGoroutine(),
			Searches: searches.Load(), Ingested: ingested.Load(), AuditReads: auditReads.Load(), Errors: errs.Load()})
		last := s.Samples[len(s.Samples)-1]
		say("  %4.0fs  RSS %6.1f MiB  heap %6.1f MiB  %4d goroutines  %d searches, %d reads in, %d audit reads, %d errors",
			last.At.Seconds(), mib(last.RSS), mib(last.Heap), last.Goroutines, last.Searches, last.Ingested, last.AuditReads, last.Errors)
	}
	sample()
	tick := time.NewTicker(o.Every)
	for lctx.Err() == nil {
		select {
		case <-tick.C:
			sample()
		case <-lctx.Done():
		}
	}
	tick.Stop()
	wg.Wait()
	if ctx.Err() != nil {
		return s, ctx.Err()
	}
	return s, nil
}

// soakSearch runs one exact, partial or misread search of a plate over the last 30 days.
func soakSearch(ctx context.Context, c *client, plates []string, rng *rand.Rand) error {
	sc := SearchCases[rng.IntN(3)] // exact, partial, misread
	from, to := window(sc.Window)
	_, err := c.post(ctx, "/api/v1/searches/"+sc.Type, searchBody(sc.Body(CaseQuery{VRM: plates[rng.IntN(len(plates))]}), from, to))
	return err
}

// soakBatch is n new reads of known plates at known cameras in the last day, as a camera
// back-office sends them.
func soakBatch(rng *rand.Rand, cams []reads.Camera, plates []string, n int) []byte {
	var b bytes.Buffer
	now := time.Now().UTC()
	enc := json.NewEncoder(&b)
	for range n {
		_ = enc.Encode(map[string]any{
			"camera_id": cams[rng.IntN(len(cams))].ID, "vrm": plates[rng.IntN(len(plates))],
			"seen_at":    now.Add(-time.Duration(rng.Int64N(int64(24 * time.Hour)))).Format(time.RFC3339Nano),
			"confidence": 0.9, "lane": 1,
		})
	}
	return b.Bytes()
}

// soakAuditReason is an auditor's oversight reason: reading the audit log needs one.
var soakAuditReason = map[string]any{
	"purpose": "audit_review", "case_ref": "AUD/0042/26",
	"justification": "benchmark soak: dip sample of the searches made during the load, as an auditor reviews them",
}

// soakAuditRead is what an auditor does: record a reason (a reason token), then read the newest
// page of audit events with it.
func soakAuditRead(ctx context.Context, hc *http.Client, base, key string) error {
	body, _ := json.Marshal(map[string]any{"reason": soakAuditReason})
	var tok struct {
		Token string `json:"token"`
	}
	if err := soakDo(ctx, hc, http.MethodPost, base+"/api/v1/reason-tokens", key, body, http.StatusCreated, &tok); err != nil {
		return err
	}
	q := url.Values{"reason_token": {tok.Token}, "limit": {"100"}}
	return soakDo(ctx, hc, http.MethodGet, base+"/api/v1/audit/events?"+q.Encode(), key, nil, http.StatusOK, nil)
}

func soakDo(ctx context.Context, hc *http.Client, method, u, key string, body []byte, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return fmt.Errorf("%s %s: %d %s", method, req.URL.Path, resp.StatusCode, msg)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// liveHeap is the Go heap that was live at the end of the last GC: unlike the heap in use, it
// does not follow the collector's saw-tooth, so growth in it is growth of what the portal keeps.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// Rows are the soak's figures: peak RSS after warm-up against the budget, growth of RSS, heap
// and goroutines from the middle third of the run to the last, throughput and errors.
func (s Soak) Rows() []Row {
	sec := fmt.Sprintf("Soak: %s of mixed load on the portal (%s), memory of the process", s.Duration, s.Clients)
	if len(s.Samples) < 3 {
		return []Row{{Section: sec, Name: "soak", Note: "not measured: fewer than three samples"}}
	}
	n := len(s.Samples)
	middle, last := s.Samples[n/3:2*n/3], s.Samples[2*n/3:]
	peak := func(xs []SoakSample, f func(SoakSample) int64) int64 {
		var m int64
		for _, x := range xs {
			m = max(m, f(x))
		}
		return m
	}
	rss := func(x SoakSample) int64 { return x.RSS }
	heap := func(x SoakSample) int64 { return x.Heap }
	gor := func(x SoakSample) int64 { return int64(x.Goroutines) }
	// Growth compares medians, so one sample taken during a burst (a GC cycle, a batch of
	// connections) does not decide it.
	median := func(xs []SoakSample, f func(SoakSample) int64) float64 {
		v := make([]int64, len(xs))
		for i, x := range xs {
			v[i] = f(x)
		}
		slices.Sort(v)
		return float64(v[len(v)/2])
	}
	growth := func(f func(SoakSample) int64) float64 {
		m := median(middle, f)
		if m == 0 {
			return 0
		}
		return 100 * (median(last, f) - m) / m
	}
	afterWarmUp := s.Samples[n/3:]
	end, first := s.Samples[n-1], s.Samples[0]
	secs := (end.At - first.At).Seconds()
	rssPeak := peak(afterWarmUp, rss)
	flat := fmt.Sprintf("median <= %.0f %% above the middle third's", soakFlatness*100)
	rows := []Row{
		{Section: sec, Name: "RSS after warm-up, peak", Unit: "MiB", Ours: mib(rssPeak),
			Target: fmt.Sprintf("<= %.0f MiB at the default settings", mib(s.Budget)), Met: Met(rssPeak <= s.Budget),
			Note: fmt.Sprintf("%.0f MiB at the start, %.0f MiB at the end", mib(first.RSS), mib(end.RSS))},
		{Section: sec, Name: "RSS growth after warm-up", Unit: "%", Ours: growth(rss), Target: flat, Met: Met(growth(rss) <= 100*soakFlatness)},
		{Section: sec, Name: "Go live heap growth after warm-up", Unit: "%", Ours: growth(heap), Target: flat, Met: Met(growth(heap) <= 100*soakFlatness),
			Note: fmt.Sprintf("peak %.0f MiB after warm-up", mib(peak(afterWarmUp, heap)))},
		{Section: sec, Name: "Goroutine growth after warm-up", Unit: "%", Ours: growth(gor), Target: flat, Met: Met(growth(gor) <= 100*soakFlatness),
			Note: fmt.Sprintf("peak %d after warm-up", peak(afterWarmUp, gor))},
		{Section: sec, Name: "Audited searches during the soak", Unit: "searches/s", Ours: float64(end.Searches) / secs},
		{Section: sec, Name: "Reads ingested during the soak", Unit: "reads/s", Ours: float64(end.Ingested) / secs},
		{Section: sec, Name: "Audit log queries during the soak", Unit: "queries/s", Ours: float64(end.AuditReads) / secs},
		{Section: sec, Name: "Errors during the soak", Unit: "requests", Ours: float64(end.Errors), Target: "0", Met: Met(end.Errors == 0),
			Note: s.FirstErr},
	}
	return rows
}

// markdown renders the memory over time: at most a dozen samples, evenly spaced, first and last
// included.
func (s Soak) markdown(w io.Writer) {
	if len(s.Samples) == 0 {
		return
	}
	fmt.Fprintf(w, "### Soak: memory over time (%s, %s)\n\n", s.Duration, s.Clients)
	fmt.Fprintln(w, "| time | RSS | Go live heap | goroutines | searches | reads ingested | audit queries | errors |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|")
	const rows = 12
	n := len(s.Samples)
	prev := -1
	for i := range min(rows, n) {
		j := i * (n - 1) / max(1, min(rows, n)-1)
		if j == prev {
			continue
		}
		prev = j
		x := s.Samples[j]
		fmt.Fprintf(w, "| %.0f s | %.0f MiB | %.0f MiB | %d | %s | %s | %s | %d |\n", x.At.Seconds(), mib(x.RSS), mib(x.Heap), x.Goroutines,
			commas(x.Searches), commas(x.Ingested), commas(x.AuditReads), x.Errors)
	}
	fmt.Fprintln(w)
}
