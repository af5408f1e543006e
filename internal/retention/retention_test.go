package retention_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/holds"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/retention"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
	"github.com/anpr-portal/anpr/internal/store/sqlite/sqlitetest"
	"github.com/anpr-portal/anpr/internal/store/storetest"
	"github.com/anpr-portal/anpr/policies"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

const period = 365 * 24 * time.Hour

type env struct {
	reads *sqlite.Store
	hs    *sqlite.HoldStore
	log   *sqlite.AuditLog
	holds *holds.Service
	svc   *retention.Service
	clock *fakeClock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{clock: &fakeClock{now: t0}}
	var err error
	if e.reads, err = sqlite.Open(ctx, filepath.Join(dir, "reads.db"), sqlite.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.reads.Close() })
	if e.hs, err = sqlite.OpenHoldStore(ctx, filepath.Join(dir, "holds.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.hs.Close() })
	e.log = sqlitetest.AuditLog(t, dir, sqlite.AuditOptions{Clock: e.clock.Now})
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	if e.holds, err = holds.New(e.hs, e.log, az, e.clock.Now); err != nil {
		t.Fatal(err)
	}
	if e.svc, err = retention.New(retention.Deps{Reads: e.reads, Holds: e.holds, Runs: e.hs, Audit: e.log,
		Retention: period, Now: e.clock.Now}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) records(t *testing.T) []audit.Record { return sqlitetest.Records(t, e.log) }

var manager = holds.Caller{Actor: audit.Actor{Subject: "mgr-1", Name: "ANPR Manager"}, Rule: "policy.csv:70"}

func hold(t *testing.T, e *env, scope holds.Scope) holds.Hold {
	t.Helper()
	h, err := e.holds.Create(t.Context(), manager, holds.CreateRequest{CaseRef: "MPS/54321/26",
		Reason: authz.Reason{Purpose: "major_crime", OffenceCode: "HO01001",
			Justification: "homicide trial next spring; movements of the suspect vehicle before the attack are disclosed evidence"},
		Scope: scope, ReviewAt: e.clock.Now().AddDate(0, 6, 0)})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// A run deletes what is past retention except what an active hold keeps, counts both, and is
// recorded: intent before with the cutoff, outcome after with the deleted count, both counts in
// its payload and the digest of the listed report.
func TestRunDeletesExpiredKeepsHeld(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	cutoff := t0.Add(-period)
	batch := []reads.Read{
		storetest.Read("CAM-A", "LD09HBR", cutoff.Add(-24*time.Hour)),  // held by plate
		storetest.Read("CAM-B", "LD09HBR", cutoff.Add(-48*time.Hour)),  // held by plate
		storetest.Read("CAM-H", "XY34ZZZ", cutoff.Add(-72*time.Hour)),  // held by a released hold: goes
		storetest.Read("CAM-A", "AB12CDE", cutoff.Add(-time.Hour)),     // expired
		storetest.Read("CAM-A", "AB12CDE", cutoff.Add(-400*time.Hour)), // expired
		storetest.Read("CAM-A", "AB12CDE", cutoff.Add(time.Hour)),      // within retention
		storetest.Read("CAM-A", "LD09HBR", t0.Add(-time.Hour)),         // recent
	}
	if _, err := e.reads.AppendReads(ctx, batch); err != nil {
		t.Fatal(err)
	}
	hold(t, e, holds.Scope{VRMs: []string{"LD09HBR"}})
	gone := hold(t, e, holds.Scope{Cameras: []string{"CAM-H"}})
	if _, err := e.holds.Release(ctx, manager, gone.ID, "investigation closed with no further action by the review board"); err != nil {
		t.Fatal(err)
	}
	before := len(e.records(t))

	run, err := e.svc.Run(ctx, retention.Caller{Actor: audit.Actor{Subject: "mgr-1"}, Rule: "policy.csv:71", RequestID: "req-r"}, retention.TriggerAPI)
	if err != nil {
		t.Fatal(err)
	}
	if run.Deleted != 3 || run.HeldKept != 2 || run.Holds != 1 || !run.Cutoff.Equal(cutoff) || run.Status != "ok" || run.By != "mgr-1" {
		t.Fatalf("run = %+v; want 3 deleted, 2 held kept, 1 hold", run)
	}
	for i, r := range batch {
		_, err := e.reads.GetRead(ctx, reads.ReadID(r.CameraID, r.SeenAt, r.VRM))
		if kept := i < 2 || i >= 5; kept != (err == nil) {
			t.Errorf("read %d (%s %s): kept=%v, GetRead err %v", i, r.VRM, r.SeenAt, kept, err)
		}
	}
	recs := e.records(t)[before:]
	if len(recs) != 2 {
		t.Fatalf("a run left %d events, want intent + outcome", len(recs))
	}
	in, out := recs[0], recs[1]
	if in.Event.Action != retention.ActionRun || in.Event.Stage != audit.StageIntent || in.Event.RequestID != "req-r" ||
		!strings.Contains(in.Payload.Query, cutoff.Format(time.RFC3339)) {
		t.Errorf("intent = %+v %+v", in.Event, in.Payload)
	}
	runs, err := e.svc.Runs(ctx, 10)
	if err != nil || len(runs) != 1 || runs[0] != run {
		t.Fatalf("Runs = %+v, %v; want [%+v]", runs, err, run)
	}
	report, _ := json.Marshal(runs[0])
	if out.Event.Stage != audit.StageOutcome || out.Event.ResultCount != 3 || out.Event.ResultDigest != audit.Digest(sha256.Sum256(report)) ||
		out.Payload == nil || !strings.Contains(out.Payload.Query, "deleted 3, held kept 2") {
		t.Errorf("outcome = %+v %+v", out.Event, out.Payload)
	}
}

func TestScheduleNext(t *testing.T) {
	daily := retention.Schedule{Interval: 24 * time.Hour, Offset: 2 * time.Hour}
	for _, tc := range []struct{ now, want time.Time }{
		{time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)},
		{time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)},
		{time.Date(2026, 11, 20, 23, 59, 0, 0, time.UTC), time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)},
		{time.Date(2026, 11, 20, 3, 0, 0, 0, time.FixedZone("BST", 3600)), time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)},
	} {
		if got := daily.Next(tc.now); !got.Equal(tc.want) {
			t.Errorf("Next(%s) = %s, want %s", tc.now, got, tc.want)
		}
	}
	for _, bad := range []retention.Schedule{{Interval: time.Second}, {Interval: time.Hour, Offset: time.Hour}, {Interval: time.Hour, Offset: -1}} {
		if bad.Check() == nil {
			t.Errorf("schedule %+v accepted", bad)
		}
	}
}

// The job inside serve: runs happen at the scheduled times as the (fake) clock reaches them, and
// cancelling stops the job; nothing waits on the wall clock.
func TestScheduledRunsAndCleanStop(t *testing.T) {
	e := newEnv(t)
	old := storetest.Read("CAM-A", "AB12CDE", t0.Add(-period-time.Hour))
	if _, err := e.reads.AppendReads(t.Context(), []reads.Read{old}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	sched := retention.Schedule{Interval: 24 * time.Hour, Offset: 2 * time.Hour}
	go func() { done <- e.svc.RunScheduled(ctx, sched, e.clock) }()

	for want := 1; want <= 2; want++ {
		e.clock.waitForWaiter(t)
		e.clock.advanceTo(sched.Next(e.clock.Now()))
		e.clock.waitForWaiter(t) // the run finished and the next one is scheduled
		runs, err := e.svc.Runs(t.Context(), 10)
		if err != nil || len(runs) != want {
			t.Fatalf("after %d scheduled times: %d runs, %v", want, len(runs), err)
		}
		if runs[0].Trigger != retention.TriggerSchedule || runs[0].By != "system:retention" {
			t.Fatalf("run = %+v", runs[0])
		}
	}
	runs, _ := e.svc.Runs(t.Context(), 10)
	if runs[1].Deleted != 1 || runs[0].Deleted != 0 {
		t.Fatalf("deleted %d then %d; want 1 then 0", runs[1].Deleted, runs[0].Deleted)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("RunScheduled returned %v", err)
	}
}

// Runs never overlap: a second run while one is in progress is refused, not queued.
func TestRunRefusesOverlap(t *testing.T) {
	e := newEnv(t)
	blocking := &blockingHolds{release: make(chan struct{}), entered: make(chan struct{})}
	svc, err := retention.New(retention.Deps{Reads: e.reads, Holds: blocking, Runs: e.hs, Audit: e.log, Retention: period, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := svc.Run(context.Background(), retention.System(), retention.TriggerCLI); err != nil {
			t.Errorf("first run: %v", err)
		}
	})
	<-blocking.entered
	if _, err := svc.Run(t.Context(), retention.System(), retention.TriggerCLI); !errors.Is(err, retention.ErrBusy) {
		t.Errorf("overlapping run: %v; want ErrBusy", err)
	}
	close(blocking.release)
	wg.Wait()
}

// blockingHolds holds a run inside its sweep until released: a process-boundary stand-in for a
// slow store, so the overlap can be shown without timing.
type blockingHolds struct{ release, entered chan struct{} }

func (b *blockingHolds) ActiveScopes(ctx context.Context) ([]reads.HoldScope, error) {
	close(b.entered)
	<-b.release
	return nil, nil
}

// fakeClock is a clock tests move by hand. After returns a channel that fires when the clock is
// advanced to or past its deadline.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) advanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
	var left []waiter
	for _, w := range c.waiters {
		if !w.at.After(t) {
			w.ch <- t
		} else {
			left = append(left, w)
		}
	}
	c.waiters = left
}

// waitForWaiter blocks until some goroutine waits on the clock.
func (c *fakeClock) waitForWaiter(t *testing.T) {
	t.Helper()
	for i := 0; ; i++ {
		c.mu.Lock()
		n := len(c.waiters)
		c.mu.Unlock()
		if n > 0 {
			return
		}
		if i > 100000 {
			t.Fatal("the scheduler never waited on the clock")
		}
		time.Sleep(100 * time.Microsecond)
	}
}
