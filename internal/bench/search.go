package bench

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/seed"
)

// SearchCase is one search type measured end to end over HTTP (the portal's gate, the policy, the
// durable intent and outcome events, JSON both ways) beside the raw store call for the same query.
// SearchCases lists them; a new search type is one more line there.
type SearchCase struct {
	Name string // the row's name
	// Type is the search route's last segment: POST /api/v1/searches/<Type>.
	Type string
	// Window is how far back the searched window reaches from now; 0 for a type whose request
	// carries its windows elsewhere (multi-location: one per place).
	Window time.Duration
	// TargetP99 is the end-to-end p99 target in milliseconds; 0 for none.
	TargetP99 float64
	// Body returns the type's own fields for a query (window, reason and authority are added).
	Body func(q CaseQuery) map[string]any
	// Raw runs the same query on the store directly, as the search service would ask it.
	Raw func(ctx context.Context, st reads.Store, q CaseQuery) error
	// Scope, for the sensitive types, is the prior authority the case's searches present: the
	// benchmark asks for it and has it approved through the real authority service before the
	// case runs (SearchOptions.Authorize). Its window is fixed when asked, and so are the
	// case's. Nil for types that need no authority.
	Scope func(f *Fixture, from, to time.Time) AuthorityScope
}

// CaseQuery is one query of a case: a sampled plate (the plain types search it), the window, and
// the run's fixture (the sensitive types search it).
type CaseQuery struct {
	VRM      string
	From, To time.Time
	F        *Fixture
}

// day is a calendar day of window. Band 1 ends at 90 days old, judged when the request arrives:
// a "90-day" window starts a few minutes later so that it is still band 1 by then.
const day = 24 * time.Hour

// SearchCases are the search types the benchmark measures, each with its targets.
var SearchCases = []SearchCase{
	{"exact VRM, 30-day window", "exact", 30 * day, 10, vrmBody, rawPage(reads.MatchExact, plain), nil},
	{"partial VRM (two '?'), 30-day window", "partial", 30 * day, 50, patternBody, rawPage(reads.MatchPattern, twoUnknown), nil},
	{"misread VRM, 30-day window", "misread", 30 * day, 50, vrmBody, rawPage(reads.MatchSkeleton, plate.Skeleton), nil},
	{"journey, 90-day window", "journey", 90*day - 10*time.Minute, 20, vrmBody, rawJourney, nil},
	{"area (circle around a few cameras, with an authority), 30-day window", "area", 30 * day, 0, areaBody, rawArea, areaScope},
	{"convoy of the planted " + seed.ConvoyTargetVRM + " (T 120 s, K 3, with an authority), 30-day window", "convoy", 30 * day, 500, convoyBody, rawConvoy, convoyScope},
	{"multi-location (2 places of 1 hour, with an authority)", "multi-location", 0, 0, multiBody, rawMulti, multiScope},
}

// servicePage is the search service's default page size, which the HTTP searches above use; the
// raw call asks for the same.
const servicePage = 50

func plain(v string) string { return v }

// twoUnknown makes a partial pattern of a plate: its second and second-to-last characters
// unknown, as a witness who missed two characters would give it.
func twoUnknown(v string) string {
	b := []byte(v)
	b[1], b[len(b)-2] = '?', '?'
	return string(b)
}

func vrmBody(q CaseQuery) map[string]any     { return map[string]any{"vrm": q.VRM} }
func patternBody(q CaseQuery) map[string]any { return map[string]any{"pattern": twoUnknown(q.VRM)} }

func rawPage(m reads.MatchKind, value func(string) string) func(context.Context, reads.Store, CaseQuery) error {
	return func(ctx context.Context, st reads.Store, q CaseQuery) error {
		_, err := st.FindReads(ctx, reads.Query{Match: m, Value: value(q.VRM), From: q.From, To: q.To, Order: reads.NewestFirst, Limit: servicePage})
		return err
	}
}

// rawJourney reads every page of a plate's reads oldest first, as the journey does.
func rawJourney(ctx context.Context, st reads.Store, cq CaseQuery) error {
	q := reads.Query{Match: reads.MatchExact, Value: cq.VRM, From: cq.From, To: cq.To, Order: reads.OldestFirst, Limit: reads.MaxPageSize}
	for {
		p, err := st.FindReads(ctx, q)
		if err != nil || p.Next == "" {
			return err
		}
		q.Cursor = p.Next
	}
}

// SearchOptions configures RunSearch.
type SearchOptions struct {
	// URL is the base URL of a running portal over Store, and Key a credential of it that may
	// search (an API key whose scope gives the investigator role): every request goes through the
	// real gate, policy and durable audit.
	URL, Key string
	Store    reads.Store
	// Seed, Reads and Now are the seed.Config the store was loaded with; RunSearch generates the
	// same reads again (without storing them) to sample plates seen in the last 30 days.
	Seed    int64
	Reads   int64
	Now     time.Time
	Queries int // timed queries per search type (half as many again warm up first)
	Clients int // concurrent clients of the throughput row
	// Exports is how many exports the export row times.
	Exports int
	// Authorize obtains an approved authority of scope for the benchmark's credential, through
	// the real authority service: requested as that credential's principal, approved by another
	// with the rank the policy wants. It returns the authority id the searches present.
	Authorize func(ctx context.Context, scope AuthorityScope) (string, error)
	Progress  io.Writer
}

// benchReason is the structured reason every benchmark request gives, as an investigator would.
var benchReason = map[string]any{
	"purpose": "stolen_vehicle", "case_ref": "MPS/12345/26", "offence_code": "TH68010",
	"justification": "benchmark of the audited search path: vehicle reported stolen from a driveway overnight, route wanted",
}

// RunSearch measures every SearchCase, the export rate and concurrent audited exact searches,
// each beside the raw store for the same queries.
func RunSearch(ctx context.Context, o SearchOptions) ([]Row, error) {
	say := func(f string, a ...any) { fmt.Fprintf(o.Progress, f+"\n", a...) }
	plates, err := samplePlates(ctx, o)
	if err != nil {
		return nil, err
	}
	c := &client{url: o.URL, key: o.Key, http: &http.Client{Timeout: 5 * time.Minute,
		Transport: &http.Transport{MaxIdleConns: o.Clients + 4, MaxIdleConnsPerHost: o.Clients + 4}}}
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 11))
	sec := fmt.Sprintf("Searches end to end over HTTP (API key, policy, durable audit) vs the raw store, SQLite at %s reads", commas(o.Reads))
	f, err := newFixture(ctx, o.Store)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for _, sc := range SearchCases {
		say("search %s (%d each, end to end and raw)...", sc.Name, o.Queries)
		ours, raw, err := measureCase(ctx, c, o, sc, plates, f, rng)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sc.Name, err)
		}
		r := Row{Section: sec, Name: sc.Name + " p99", Unit: "ms", Ours: ours.Quantile(0.99), Raw: raw.Quantile(0.99),
			Note: fmt.Sprintf("p50 %.2f ms end to end, %.3f ms raw", ours.Quantile(0.5), raw.Quantile(0.5))}
		if sc.TargetP99 > 0 {
			r.Target, r.Met = fmt.Sprintf("p99 <= %g ms", sc.TargetP99), Met(r.Ours <= sc.TargetP99)
		}
		rows = append(rows, r)
	}
	say("export (%d files, end to end and raw)...", o.Exports)
	exp, err := measureExport(ctx, c, o, plates)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	exp.Section = sec
	rows = append(rows, exp)
	say("%d concurrent clients of audited exact searches...", o.Clients)
	conc, err := measureConcurrent(ctx, c, o, plates)
	if err != nil {
		return nil, fmt.Errorf("concurrent: %w", err)
	}
	conc.Section = sec
	return append(rows, conc), nil
}

// samplePlates regenerates the loaded reads and keeps a uniform sample of plates seen in the last
// 30 days: plates a search would really be run for.
func samplePlates(ctx context.Context, o SearchOptions) ([]string, error) {
	sample := newReservoir(2000, o.Seed, o.Now.Add(-30*day))
	_, err := seed.Generate(ctx, seed.Config{Seed: o.Seed, Reads: o.Reads, Now: o.Now}, 10000, func(_ context.Context, b []reads.Read) error {
		for _, r := range b {
			sample.offer(r)
		}
		return nil
	}, nil)
	if err != nil {
		return nil, err
	}
	if len(sample.items) == 0 {
		return nil, fmt.Errorf("no plates seen in the last 30 days")
	}
	return sample.items, nil
}

// client posts JSON to the portal with the benchmark's credential.
type client struct {
	url, key string
	http     *http.Client
}

// post sends body and drains the answer; it reports how many lines the answer had.
func (c *client) post(ctx context.Context, path string, body []byte) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		return 0, fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, msg)
	}
	var lines int64
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
		if err == io.EOF {
			return lines, nil
		}
		if err != nil {
			return lines, err
		}
	}
}

// searchBody is the JSON of one request: the type's fields, the window (none when from is zero:
// the type carries its own), the reason.
func searchBody(fields map[string]any, from, to time.Time) []byte {
	m := map[string]any{"reason": benchReason}
	if !from.IsZero() {
		m["from"], m["to"] = from, to
	}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// window is a window ending now, reaching back w.
func window(w time.Duration) (time.Time, time.Time) {
	to := time.Now().UTC().Truncate(time.Second)
	return to.Add(-w), to
}

// measureCase times Queries end-to-end requests of sc (after Queries/2 untimed warm-ups), then the
// same queries on the raw store. A sensitive type first gets its authority, for all of them.
func measureCase(ctx context.Context, c *client, o SearchOptions, sc SearchCase, plates []string, f *Fixture, rng *rand.Rand) (Latencies, Latencies, error) {
	type query struct {
		body []byte
		q    CaseQuery
	}
	n := o.Queries + o.Queries/2
	authorityID := ""
	var fixedFrom, fixedTo time.Time
	if sc.Scope != nil {
		if f == nil || o.Authorize == nil {
			return nil, nil, fmt.Errorf("a sensitive search type needs a fixture and an authoriser")
		}
		fixedFrom, fixedTo = f.Now.Add(-sc.Window), f.Now
		scope := sc.Scope(f, fixedFrom, fixedTo)
		scope.Uses = n
		id, err := o.Authorize(ctx, scope)
		if err != nil {
			return nil, nil, fmt.Errorf("authority for %s: %w", sc.Type, err)
		}
		authorityID = id
	}
	qs := make([]query, n)
	for i := range qs {
		cq := CaseQuery{VRM: plates[rng.IntN(len(plates))], F: f}
		switch {
		case sc.Scope != nil && sc.Window > 0:
			cq.From, cq.To = fixedFrom, fixedTo
		case sc.Window > 0:
			cq.From, cq.To = window(sc.Window)
		}
		fields := sc.Body(cq)
		if authorityID != "" {
			fields["authority_id"] = authorityID
		}
		qs[i] = query{searchBody(fields, cq.From, cq.To), cq}
	}
	var ours, raw Latencies
	for i, q := range qs {
		t0 := time.Now()
		if _, err := c.post(ctx, "/api/v1/searches/"+sc.Type, q.body); err != nil {
			return nil, nil, err
		}
		if i >= o.Queries/2 {
			ours = append(ours, time.Since(t0))
		}
	}
	for i, q := range qs {
		t0 := time.Now()
		if err := sc.Raw(ctx, o.Store, q.q); err != nil {
			return nil, nil, err
		}
		if i >= o.Queries/2 {
			raw = append(raw, time.Since(t0))
		}
	}
	return ours, raw, nil
}

// measureExport times Exports exports of partial searches broad enough to give many rows (a
// common three-character prefix, then '*', over the last 89 days), reading each file to its end,
// beside the raw store paging through the same queries.
func measureExport(ctx context.Context, c *client, o SearchOptions, plates []string) (Row, error) {
	// The most common three-character prefixes among the sampled plates: an export is meant to
	// be large, and its fixed costs (two audit events, the spool) should not be what is measured.
	count := map[string]int{}
	for _, p := range plates {
		count[p[:3]]++
	}
	prefixes := make([]string, 0, len(count))
	for p := range count {
		prefixes = append(prefixes, p)
	}
	slices.SortFunc(prefixes, func(a, b string) int { return cmp.Or(count[b]-count[a], strings.Compare(a, b)) })
	var rows, rawRows int64
	var ours, raw time.Duration
	for i := 0; i < o.Exports; i++ {
		pattern := prefixes[i%len(prefixes)] + "*"
		from, to := window(89 * day)
		body := searchBody(map[string]any{"type": "partial", "pattern": pattern}, from, to)
		t0 := time.Now()
		lines, err := c.post(ctx, "/api/v1/exports", body)
		if err != nil {
			return Row{}, err
		}
		ours += time.Since(t0)
		rows += lines - 1 // the header
		t0 = time.Now()
		q := reads.Query{Match: reads.MatchPattern, Value: pattern, From: from, To: to, Order: reads.NewestFirst, Limit: reads.MaxPageSize}
		for {
			p, err := o.Store.FindReads(ctx, q)
			if err != nil {
				return Row{}, err
			}
			rawRows += int64(len(p.Reads))
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
		raw += time.Since(t0)
	}
	if rows != rawRows {
		return Row{}, fmt.Errorf("exports gave %d rows, the store %d for the same queries", rows, rawRows)
	}
	r := Row{Name: "export rows/s (partial: a common 3-character prefix + '*', 89 days; CSV spooled, hashed, audited, sent; raw: the store's pages)",
		Unit: "rows/s", Ours: float64(rows) / ours.Seconds(), Raw: float64(rawRows) / raw.Seconds(),
		Note: fmt.Sprintf("%d exports, %d rows", o.Exports, rows), Target: ">= 200,000 rows/s"}
	r.Met = Met(r.Ours >= 200_000)
	return r, nil
}

// measureConcurrent runs Clients clients doing audited exact searches as fast as they can, then
// the same number of goroutines doing the raw store call, and reports searches per second.
func measureConcurrent(ctx context.Context, c *client, o SearchOptions, plates []string) (Row, error) {
	total := max(o.Queries*4, o.Clients*40)
	bodies := make([][]byte, total)
	type rq struct {
		vrm      string
		from, to time.Time
	}
	rqs := make([]rq, total)
	rng := rand.New(rand.NewPCG(uint64(o.Seed), 13))
	for i := range bodies {
		v := plates[rng.IntN(len(plates))]
		from, to := window(30 * day)
		bodies[i] = searchBody(map[string]any{"vrm": v}, from, to)
		rqs[i] = rq{v, from, to}
	}
	run := func(do func(i int) error) (float64, error) {
		var next atomic.Int64
		var firstErr error
		var once sync.Once
		var wg sync.WaitGroup
		t0 := time.Now()
		for w := 0; w < o.Clients; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= total {
						return
					}
					if err := do(i); err != nil {
						once.Do(func() { firstErr = err })
						return
					}
				}
			}()
		}
		wg.Wait()
		return float64(total) / time.Since(t0).Seconds(), firstErr
	}
	ours, err := run(func(i int) error { _, err := c.post(ctx, "/api/v1/searches/exact", bodies[i]); return err })
	if err != nil {
		return Row{}, err
	}
	exact := rawPage(reads.MatchExact, plain)
	raw, err := run(func(i int) error {
		return exact(ctx, o.Store, CaseQuery{VRM: rqs[i].vrm, From: rqs[i].from, To: rqs[i].to})
	})
	if err != nil {
		return Row{}, err
	}
	r := Row{Name: fmt.Sprintf("%d concurrent clients, audited exact searches (raw: the same lookups)", o.Clients), Unit: "searches/s",
		Ours: ours, Raw: raw, Note: fmt.Sprintf("%d searches", total), Target: ">= 2,000/s"}
	r.Met = Met(ours >= 2000)
	return r, nil
}
