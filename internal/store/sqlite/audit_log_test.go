package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
)

func TestAuditAppendSealsAndReads(t *testing.T) {
	ctx := context.Background()
	f := auditNewFixture(t, nil)
	events := f.appendN(t, 20)
	for i, e := range events {
		if e.Seq != int64(i+1) || e.Chain != "main" {
			t.Fatalf("event %d sealed as seq %d chain %q", i, e.Seq, e.Chain)
		}
		if i > 0 && e.Time.Before(events[i-1].Time) {
			t.Fatalf("time went backwards at seq %d", e.Seq)
		}
	}
	// Payload-carrying events commit to their payload; logins carry none.
	if events[0].PayloadHash.IsZero() || !events[3].PayloadHash.IsZero() {
		t.Fatal("payload hash not set as expected")
	}

	page, err := f.log.Read(ctx, audit.Filter{Limit: 7})
	if err != nil {
		t.Fatal(err)
	}
	var all []audit.Record
	for {
		all = append(all, page.Records...)
		if page.Next == "" {
			break
		}
		if page, err = f.log.Read(ctx, audit.Filter{Limit: 7, Cursor: page.Next}); err != nil {
			t.Fatal(err)
		}
	}
	if len(all) != 20 {
		t.Fatalf("paged %d records, want 20", len(all))
	}
	for i, r := range all {
		leafStored, _ := audit.EventLeaf(r.Event)
		leafSealed, _ := audit.EventLeaf(events[i])
		if leafStored != leafSealed {
			t.Fatalf("seq %d reads back differently from what was sealed:\n%+v\n%+v", r.Event.Seq, r.Event, events[i])
		}
		if (r.Payload != nil) != !events[i].PayloadHash.IsZero() {
			t.Fatalf("seq %d: payload presence wrong", r.Event.Seq)
		}
		if r.Payload != nil && audit.PayloadDigest(*r.Payload) != events[i].PayloadHash {
			t.Fatalf("seq %d: payload does not match its hash", r.Event.Seq)
		}
	}

	deny := audit.EffectDeny
	intent := audit.StageEvent
	for name, tc := range map[string]struct {
		f    audit.Filter
		want []int64
	}{
		"actor":         {audit.Filter{Actor: "user-1"}, []int64{2, 5, 8, 11, 14, 17, 20}},
		"action":        {audit.Filter{Action: audit.ActionLogin}, []int64{4, 8, 12, 16, 20}},
		"decision":      {audit.Filter{Decision: deny}, []int64{2, 6, 10, 14, 18}},
		"vrm":           {audit.Filter{VRM: "AB03CDE"}, []int64{11, 18}}, // i = 3, 10, 17; i = 3 is a login, no payload
		"case":          {audit.Filter{CaseRef: "CR/4/25", Action: audit.ActionSearch}, []int64{5, 10, 15}},
		"seq range":     {audit.Filter{FromSeq: 3, ToSeq: 5}, []int64{3, 4, 5}},
		"time":          {audit.Filter{Since: events[2].Time, Until: events[4].Time}, []int64{3, 4}},
		"newest first":  {audit.Filter{Actor: "user-0", Newest: true, Limit: 3}, []int64{19, 16, 13}},
		"stage":         {audit.Filter{Stage: &intent, ToSeq: 2}, []int64{1, 2}},
		"request id":    {audit.Filter{RequestID: "req-7"}, []int64{8}},
		"purpose, none": {audit.Filter{Purpose: "counter_terrorism"}, nil},
	} {
		t.Run(name, func(t *testing.T) {
			page, err := f.log.Read(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range page.Records {
				got = append(got, r.Event.Seq)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("seqs %v, want %v", got, tc.want)
			}
		})
	}
	for name, bad := range map[string]audit.Filter{
		"cursor":         {Cursor: "garbage"},
		"reversed times": {Since: events[4].Time, Until: events[2].Time},
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			if _, err := f.log.Read(ctx, bad); !errors.Is(err, audit.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestAuditAppendRefusesInvalid(t *testing.T) {
	f := auditNewFixture(t, nil)
	good, p := auditEvent(0)
	for name, mod := range map[string]func(*audit.Event, *audit.Payload){
		"no action":          func(e *audit.Event, _ *audit.Payload) { e.Action = "" },
		"no actor":           func(e *audit.Event, _ *audit.Payload) { e.Actor.Subject = "" },
		"bad utf8":           func(e *audit.Event, _ *audit.Payload) { e.Rule = "\xff" },
		"outcome no intent":  func(e *audit.Event, _ *audit.Payload) { e.Stage = audit.StageOutcome },
		"huge justification": func(_ *audit.Event, p *audit.Payload) { p.Justification = strings.Repeat("x", 1<<20) },
		"erasure by append":  func(e *audit.Event, _ *audit.Payload) { e.Action, e.Erases = audit.ActionErase, []int64{1} },
	} {
		t.Run(name, func(t *testing.T) {
			e, q := good, p
			mod(&e, &q)
			if _, err := f.log.Append(context.Background(), e, q); !errors.Is(err, audit.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
	if n, _ := f.log.Size(context.Background()); n != 0 {
		t.Fatalf("refused events were stored: size %d", n)
	}
}

// The store refuses every statement that would change history, even from a connection that does
// not go through this package's code.
func TestAuditTriggersRefuseChanges(t *testing.T) {
	ctx := context.Background()
	f := auditNewFixture(t, nil)
	f.appendN(t, 10)
	if _, err := f.log.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_events SET purpose = 'x' WHERE seq = 1`,
		`DELETE FROM audit_events WHERE seq = 10`,
		`INSERT OR REPLACE INTO audit_events SELECT * FROM audit_events WHERE seq = 1`,
		`INSERT INTO audit_events SELECT * FROM audit_events WHERE seq = 1`,
		`UPDATE audit_payloads SET query = 'x' WHERE seq = 1`,
		`DELETE FROM audit_payloads WHERE seq = 1`,
		`DELETE FROM audit_payload_vrms`,
		`INSERT OR REPLACE INTO audit_payloads SELECT * FROM audit_payloads WHERE seq = 1`,
		`UPDATE audit_hashes SET hash = zeroblob(32) WHERE idx = 0`,
		`DELETE FROM audit_hashes WHERE idx = 0`,
		`INSERT OR REPLACE INTO audit_hashes(idx, hash) VALUES (0, zeroblob(32))`,
		`UPDATE audit_checkpoints SET note = 'x'`,
		`DELETE FROM audit_checkpoints`,
		`INSERT INTO audit_checkpoints(size, time_us, note) VALUES (1, 0, 'x')`,
		`INSERT INTO audit_erasures(seq, erased_by) VALUES (1, 2)`,
		`UPDATE audit_meta SET value = 'other' WHERE key = 'chain'`,
		`DELETE FROM audit_meta`,
		`INSERT OR REPLACE INTO audit_meta(key, value) VALUES ('chain', 'other')`,
	} {
		t.Run(stmt, func(t *testing.T) {
			_, err := f.log.db.ExecContext(ctx, stmt)
			if err == nil || !strings.Contains(err.Error(), "audit") {
				t.Fatalf("statement ran: err = %v", err)
			}
		})
	}
	if rep := f.verify(t); !rep.OK() {
		t.Fatalf("log changed: %v", rep.Problems)
	}
}

// 64 goroutines append at once: every event gets a distinct seq, none is lost, and the tree
// verifies. Batching is what lets them share fsyncs; its speed is measured by the benchmarks.
func TestAuditConcurrentAppendsGroupCommit(t *testing.T) {
	ctx := context.Background()
	f := auditNewFixture(t, func(o *AuditOptions) { o.CheckpointEvery = 50 })
	const writers, each = 64, 10
	var wg sync.WaitGroup
	seqs := make(chan int64, writers*each)
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e, p := auditEvent(w*each + i)
				got, err := f.log.Append(ctx, e, p)
				if err != nil {
					errs <- err
					return
				}
				seqs <- got.Seq
			}
		}()
	}
	wg.Wait()
	close(seqs)
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for s := range seqs {
		if seen[s] {
			t.Fatalf("seq %d assigned twice", s)
		}
		seen[s] = true
	}
	for s := int64(1); s <= writers*each; s++ {
		if !seen[s] {
			t.Fatalf("seq %d missing", s)
		}
	}
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}
	rep := f.verify(t)
	if !rep.OK() || rep.Size != writers*each || rep.Unsigned != 0 || rep.Anchored != writers*each {
		t.Fatalf("report %+v", rep)
	}
}

func TestAuditCheckpointCadence(t *testing.T) {
	ctx := context.Background()
	f := auditNewFixture(t, func(o *AuditOptions) { o.CheckpointEvery = 10; o.CheckpointInterval = time.Minute })
	f.appendN(t, 25)
	notes, _ := f.log.Checkpoints(ctx)
	if len(notes) != 2 {
		t.Fatalf("%d checkpoints after 25 events at every 10, want 2", len(notes))
	}
	// The oldest unsigned event (seq 21) becomes a minute old: the next append signs.
	f.clock.Advance(time.Minute)
	f.appendN(t, 1)
	c, err := f.log.LatestCheckpoint(ctx)
	if err != nil || c.Size != 26 {
		t.Fatalf("latest checkpoint %d, %v; want 26 after the interval passed", c.Size, err)
	}
	a, _ := f.anchor.Latest(ctx)
	if string(a) != string(c.Note) {
		t.Fatal("the anchor does not hold the latest checkpoint")
	}
	// Close signs the tail.
	f.appendN(t, 3)
	f.log.Close()
	if rep := f.verify(t); !rep.OK() || rep.Latest != 29 || rep.Unsigned != 0 {
		t.Fatalf("after close: %+v", rep)
	}
}

// A store that is behind its anchor (restored from an old copy) must not be extended: that
// would fork the log and hide the lost events.
func TestAuditOpenRefusesStoreBehindAnchor(t *testing.T) {
	f := auditNewFixture(t, nil)
	f.appendN(t, 8) // checkpoint at 8, anchored
	f.log.Close()
	old := f.path + ".old"
	auditCopyFile(t, f.path, old)
	f.open(t, nil)
	f.appendN(t, 8) // checkpoint at 16, anchored
	f.log.Close()
	auditCopyFile(t, old, f.path)

	_, err := OpenAuditLog(context.Background(), f.path, f.options(nil))
	if !errors.Is(err, audit.ErrUnavailable) || !strings.Contains(err.Error(), "anchor") {
		t.Fatalf("opened a store behind its anchor: %v", err)
	}
}

func TestAuditOpenRefusesOtherChain(t *testing.T) {
	f := auditNewFixture(t, nil)
	f.log.Close()
	if _, err := OpenAuditLog(context.Background(), f.path, f.options(func(o *AuditOptions) { o.Chain = "other" })); err == nil {
		t.Fatal("opened chain main as other")
	}
}

func TestAuditOptionsReportEveryProblem(t *testing.T) {
	o := AuditOptions{Chain: "Bad Chain", CheckpointEvery: -1, MaxConns: 1}
	err := o.CheckAndSetDefaults("x.db")
	for _, want := range []string{"chain", "signer", "checkpoint every", "max conns"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error %v does not mention %s", err, want)
		}
	}
}

// A witness over HTTP works as the anchor, and a witness that is down stops appends (fail
// closed) until it is back, when the pending checkpoint is delivered first.
func TestAuditHTTPWitnessAnchor(t *testing.T) {
	ctx := context.Background()
	wit := auditNewWitness(t)
	f := auditNewFixture(t, func(o *AuditOptions) { o.Anchor = wit.anchor; o.CheckpointEvery = 2 })
	f.appendN(t, 2)
	if got, _ := wit.anchor.Latest(ctx); got == nil {
		t.Fatal("witness has no checkpoint")
	}
	wit.setDown(true)
	e, p := auditEvent(0)
	f.log.Append(ctx, e, p) // 3: no checkpoint due yet
	if _, err := f.log.Append(ctx, e, p); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("append with the witness down: %v, want ErrUnavailable", err)
	}
	if _, err := f.log.Append(ctx, e, p); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("append while the checkpoint is unanchored: %v, want ErrUnavailable", err)
	}
	wit.setDown(false)
	if _, err := f.log.Append(ctx, e, p); err != nil {
		t.Fatalf("append after the witness recovered: %v", err)
	}
	f.log.Close()
	r, _ := OpenAuditReader(ctx, f.path)
	defer r.Close()
	rep, err := audit.Verify(ctx, r, wit.anchor, f.ring.Verifiers())
	if err != nil || !rep.OK() || rep.Anchored != rep.Size {
		t.Fatalf("verify with witness: %+v, %v", rep, err)
	}
}

// A second writer on the same audit database is refused at open, so two processes can never
// interleave sequence numbers; once the first closes, the file can be opened again.
func TestAuditSecondWriterRefused(t *testing.T) {
	f := auditNewFixture(t, nil)
	if _, err := OpenAuditLog(context.Background(), f.path, f.options(nil)); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("second writer: %v", err)
	}
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := OpenAuditLog(context.Background(), f.path, f.options(nil))
	if err != nil {
		t.Fatalf("reopen after close: %v", err)
	}
	l2.Close()
}
