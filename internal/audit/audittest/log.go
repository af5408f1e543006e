package audittest

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

func testAppendSealsAndReads(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	f := newFixture(t, newStore, nil)
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
		"vrm, paged":    {audit.Filter{VRM: "AB03CDE", Limit: 1, Cursor: audit.EncodeCursor(11)}, []int64{18}},
		"vrm, newest":   {audit.Filter{VRM: "AB00CDE", Newest: true, Actor: "user-2"}, []int64{15}}, // i = 0, 7, 14
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

func testAppendRefusesInvalid(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, nil)
	good, p := Event(0)
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

// 64 goroutines append at once: every event gets a distinct seq, none is lost, and the tree
// verifies. Batching is what lets them share durable writes; its speed is measured by benchmarks.
func testConcurrentAppends(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	f := newFixture(t, newStore, func(o *audit.SequencerOptions) { o.CheckpointEvery = 50 })
	const writers, each = 64, 10
	var wg sync.WaitGroup
	seqs := make(chan int64, writers*each)
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e, p := Event(w*each + i)
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

func testCheckpointCadence(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	f := newFixture(t, newStore, func(o *audit.SequencerOptions) { o.CheckpointEvery = 10; o.CheckpointInterval = time.Minute })
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

// A store that is behind its anchor (restored from an old backup) must not be extended: that
// would fork the log and hide the lost events.
func testOpenRefusesStoreBehindAnchor(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, nil)
	f.appendN(t, 8) // checkpoint at 8, anchored
	f.log.Close()
	old := f.store.Copy(t)
	f.open(t, nil)
	f.appendN(t, 8) // checkpoint at 16, anchored
	f.log.Close()

	l, err := old.Open(context.Background(), f.options(nil))
	if err == nil {
		l.Close()
	}
	if !errors.Is(err, audit.ErrUnavailable) || !strings.Contains(err.Error(), "anchor") {
		t.Fatalf("opened a store behind its anchor: %v", err)
	}
}

// A second writer on the same chain is refused at open, so two processes can never interleave
// sequence numbers; once the first closes, the log can be opened again.
func testSecondWriterRefused(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, nil)
	f.appendN(t, 3)
	if l, err := f.store.Open(context.Background(), f.options(nil)); !errors.Is(err, audit.ErrUnavailable) {
		if err == nil {
			l.Close()
		}
		t.Fatalf("second writer: %v", err)
	}
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t, nil)
	if got := f.appendN(t, 1); got[0].Seq != 4 {
		t.Fatalf("reopened log appended seq %d, want 4", got[0].Seq)
	}
	f.log.Close()
	if rep := f.verify(t); !rep.OK() || rep.Size != 4 {
		t.Fatalf("report %+v", rep)
	}
}

// A reopened writer resumes from what is stored: the next seq, the tree, the checkpoint state.
func testResumeAfterReopen(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, func(o *audit.SequencerOptions) { o.CheckpointEvery = 1000 })
	f.appendN(t, 11)
	if err := f.log.Close(); err != nil { // signs 11
		t.Fatal(err)
	}
	for range 3 {
		f.open(t, func(o *audit.SequencerOptions) { o.CheckpointEvery = 1000 })
		f.appendN(t, 7)
		if err := f.log.Close(); err != nil {
			t.Fatal(err)
		}
	}
	rep := f.verify(t)
	if !rep.OK() || rep.Size != 32 || rep.Checkpoints != 4 || rep.Latest != 32 {
		t.Fatalf("report %+v", rep)
	}
}

// A witness over HTTP works as the anchor, and a witness that is down stops appends (fail
// closed) until it is back, when the pending checkpoint is delivered first.
func testHTTPWitnessAnchor(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	wit := newWitness(t)
	f := newFixture(t, newStore, func(o *audit.SequencerOptions) { o.Anchor = wit.anchor; o.CheckpointEvery = 2 })
	f.appendN(t, 2)
	if got, _ := wit.anchor.Latest(ctx); got == nil {
		t.Fatal("witness has no checkpoint")
	}
	wit.setDown(true)
	e, p := Event(0)
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
	rep, err := audit.Verify(ctx, f.store.Source(t), wit.anchor, f.ring.Verifiers())
	if err != nil || !rep.OK() || rep.Anchored != rep.Size {
		t.Fatalf("verify with witness: %+v, %v", rep, err)
	}
}
