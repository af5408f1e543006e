// Package auditbench measures the audit log for `anpr bench`: append throughput and latency with
// one writer and with many concurrent appenders (which share fsyncs through group commit), and
// verification throughput, beside the raw fsync rate of the same disk as the baseline.
package auditbench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/anpr-portal/anpr/internal/audit"
)

// Log is one freshly opened, empty audit log to measure, with what verifying it needs.
type Log struct {
	Appender  audit.Appender
	Source    audit.VerifySource
	Anchor    audit.Anchor
	Verifiers note.Verifiers
	Close     func() error
}

// Config says what to measure. Open is called once per phase with the phase name and must
// return an empty log (a new file, for SQLite).
type Config struct {
	Open        func(ctx context.Context, phase string) (Log, error)
	Events      int    // appends per phase; default 5,000
	Concurrency int    // appenders in the concurrent phase; default 64
	Dir         string // where to measure the raw fsync baseline; "" skips it
}

// Phase is one measured run.
type Phase struct {
	Name      string        `json:"name"`
	Events    int64         `json:"events"`
	Seconds   float64       `json:"seconds"`
	PerSecond float64       `json:"per_second"`
	P50       time.Duration `json:"p50_ns,omitempty"`
	P99       time.Duration `json:"p99_ns,omitempty"`
	Max       time.Duration `json:"max_ns,omitempty"`
}

// Result holds the phases. RawFsync is the baseline: how many 4 KiB write+fsync a second the
// disk does, which bounds a single writer that waits for each commit.
type Result struct {
	RawFsync   *Phase `json:"raw_fsync,omitempty"`
	Single     Phase  `json:"append_single"`
	Concurrent Phase  `json:"append_concurrent"`
	Verify     Phase  `json:"verify"`
}

// Run measures every phase in turn.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Open == nil {
		return Result{}, errors.New("auditbench: Config.Open is required")
	}
	if cfg.Events <= 0 {
		cfg.Events = 5000
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 64
	}
	var res Result
	if cfg.Dir != "" {
		p, err := rawFsync(cfg.Dir, min(cfg.Events, 2000))
		if err != nil {
			return Result{}, err
		}
		res.RawFsync = &p
	}
	single, err := cfg.Open(ctx, "append-single")
	if err != nil {
		return Result{}, fmt.Errorf("auditbench: open: %w", err)
	}
	res.Single, err = appendPhase(ctx, "append, 1 writer", single.Appender, cfg.Events, 1)
	if cerr := single.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Result{}, err
	}

	conc, err := cfg.Open(ctx, "append-concurrent")
	if err != nil {
		return Result{}, fmt.Errorf("auditbench: open: %w", err)
	}
	closeConc := sync.OnceValue(conc.Close)
	defer closeConc()
	res.Concurrent, err = appendPhase(ctx, fmt.Sprintf("append, %d writers", cfg.Concurrency), conc.Appender, cfg.Events, cfg.Concurrency)
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	rep, err := audit.Verify(ctx, conc.Source, conc.Anchor, conc.Verifiers)
	if err != nil {
		return Result{}, fmt.Errorf("auditbench: verify: %w", err)
	}
	if !rep.OK() {
		first, _ := rep.FirstBad()
		return Result{}, fmt.Errorf("auditbench: the benchmark log does not verify: %s", first)
	}
	res.Verify = rate(Phase{Name: "verify", Events: rep.Size}, time.Since(start))
	return res, closeConc()
}

// Event is the benchmark's event: an audited search intent with a payload, as the search
// service writes.
func Event(i int) (audit.Event, audit.Payload) {
	return audit.Event{
			Actor:      audit.Actor{Subject: fmt.Sprintf("user-%d", i%50), Name: "Bench User", Roles: []string{"investigator"}, Session: "bench"},
			ClientAddr: "10.0.0.1", RequestID: fmt.Sprintf("bench-%d", i),
			Action: audit.ActionSearch, Stage: audit.StageIntent, Decision: audit.EffectAllow, Rule: "band1.search",
			Reason:     audit.Reason{Purpose: "serious_crime", CaseRef: fmt.Sprintf("CR/%d/25", i%997)},
			SearchType: "exact", Band: 1,
		}, audit.Payload{VRMs: []string{fmt.Sprintf("BN%02dXYZ", i%100)}, Query: fmt.Sprintf("exact vrm=BN%02dXYZ from=2025-05-01 to=2025-06-01", i%100),
			Justification: "vehicle seen leaving the scene of an aggravated burglary, CAD 1234"}
}

func appendPhase(ctx context.Context, name string, app audit.Appender, events, writers int) (Phase, error) {
	lat := make([]time.Duration, events)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	start := time.Now()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < events; i += writers {
				e, p := Event(i)
				t0 := time.Now()
				if _, err := app.Append(ctx, e, p); err != nil {
					errs <- fmt.Errorf("auditbench: %s: %w", name, err)
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return Phase{}, err
	}
	slices.Sort(lat)
	p := rate(Phase{Name: name, Events: int64(events)}, elapsed)
	p.P50, p.P99, p.Max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	return p, nil
}

func rate(p Phase, d time.Duration) Phase {
	p.Seconds = d.Seconds()
	if p.Seconds > 0 {
		p.PerSecond = float64(p.Events) / p.Seconds
	}
	return p
}

func rawFsync(dir string, n int) (Phase, error) {
	f, err := os.CreateTemp(dir, "fsync-baseline-*")
	if err != nil {
		return Phase{}, fmt.Errorf("auditbench: fsync baseline: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	lat := make([]time.Duration, n)
	start := time.Now()
	for i := range n {
		t0 := time.Now()
		if _, err := f.Write(buf); err != nil {
			return Phase{}, fmt.Errorf("auditbench: fsync baseline: %w", err)
		}
		if err := f.Sync(); err != nil {
			return Phase{}, fmt.Errorf("auditbench: fsync baseline: %w", err)
		}
		lat[i] = time.Since(t0)
	}
	p := rate(Phase{Name: "raw write+fsync (" + filepath.Base(dir) + ")", Events: int64(n)}, time.Since(start))
	slices.Sort(lat)
	p.P50, p.P99, p.Max = lat[n/2], lat[n*99/100], lat[n-1]
	return p, nil
}
