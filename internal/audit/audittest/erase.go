package audittest

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/anpr-portal/anpr/internal/audit"
)

// A lawful erasure removes the personal data but not the event: the tree still verifies and
// verify reports the leaves as redacted.
func testErasure(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	f := newFixture(t, newStore, nil)
	f.appendN(t, 10)
	dpo := audit.Event{Actor: audit.Actor{Subject: "dpo-1", Name: "Data Protection Officer"}, Decision: audit.EffectAllow,
		Rule: "erasure.request", Reason: audit.Reason{Purpose: "data_subject_erasure", CaseRef: "DSR/7"}}
	for name, seqs := range map[string][]int64{
		"no payload (a login)": {4},
		"no such event":        {99},
		"nothing named":        nil,
	} {
		t.Run("refuses "+name, func(t *testing.T) {
			if _, err := f.log.Erase(ctx, dpo, seqs); !errors.Is(err, audit.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}

	er, err := f.log.Erase(ctx, dpo, []int64{2, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if er.Seq != 11 || er.Action != audit.ActionErase || len(er.Erases) != 2 {
		t.Fatalf("erasure event %+v", er)
	}
	page, _ := f.log.Read(ctx, audit.Filter{ToSeq: 2})
	for _, r := range page.Records {
		if r.Payload != nil || r.ErasedBy != 11 || r.Event.PayloadHash.IsZero() {
			t.Fatalf("seq %d after erasure: payload %v erased by %d", r.Event.Seq, r.Payload, r.ErasedBy)
		}
	}
	if page, _ := f.log.Read(ctx, audit.Filter{VRM: "AB01CDE"}); len(page.Records) != 1 || page.Records[0].Event.Seq != 9 {
		t.Fatalf("the erased VRM index still finds seq 2: %v", page.Records)
	}
	if _, err := f.log.Erase(ctx, dpo, []int64{1}); !errors.Is(err, audit.ErrInvalid) {
		t.Fatalf("second erasure of seq 1: %v", err)
	}
	if got := f.appendN(t, 1); got[0].Seq != 12 {
		t.Fatalf("append after refused erasures got seq %d, want 12", got[0].Seq)
	}
	f.log.Close()
	rep := f.verify(t)
	if !rep.OK() || rep.Redacted != 2 || len(rep.RedactedSeqs) != 2 {
		t.Fatalf("report %+v", rep)
	}
}

// An inclusion proof for one event checks with nothing but the public key, survives its text
// form, and fails if anything in it is changed.
func testInclusionProof(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	f := newFixture(t, newStore, nil)
	events := f.appendN(t, 21) // checkpoints at 8 and 16; 17..21 not yet covered
	if _, err := audit.InclusionProof(ctx, f.log, 20, 0, f.ring.Verifiers()); !errors.Is(err, audit.ErrNotFound) {
		t.Fatalf("proof before a checkpoint covers the event: %v", err)
	}
	var out bytes.Buffer
	p, err := audit.RunProof(ctx, &out, f.log, 13, f.ring.Verifiers())
	if err != nil {
		t.Fatal(err)
	}
	var parsed audit.Proof
	if err := parsed.UnmarshalText(out.Bytes()); err != nil {
		t.Fatal(err)
	}
	got, err := audit.CheckProof(parsed, f.ring.Verifiers())
	if err != nil {
		t.Fatal(err)
	}
	wantLeaf, _ := audit.EventLeaf(events[12])
	if gotLeaf, _ := audit.EventLeaf(got); gotLeaf != wantLeaf {
		t.Fatal("proof shows a different event")
	}
	if parsed.Payload == nil {
		t.Fatal("proof of a search should carry its payload")
	}

	tampered := map[string]func(*audit.Proof){
		"event":   func(p *audit.Proof) { p.Event = bytes.Replace(p.Event, []byte("Officer"), []byte("Offic3r"), 1) },
		"seq":     func(p *audit.Proof) { p.Seq = 12 },
		"hash":    func(p *audit.Proof) { p.Hashes[0][0] ^= 1 },
		"payload": func(p *audit.Proof) { p.Payload = bytes.Replace(p.Payload, []byte("burglary"), []byte("robbery!"), 1) },
		"checkpoint": func(p *audit.Proof) {
			p.Checkpoint = bytes.Replace(p.Checkpoint, []byte("\n16\n"), []byte("\n15\n"), 1)
		},
	}
	for name, mod := range tampered {
		t.Run("refuses edited "+name, func(t *testing.T) {
			q := p
			q.Event, q.Payload, q.Checkpoint = bytes.Clone(p.Event), bytes.Clone(p.Payload), bytes.Clone(p.Checkpoint)
			q.Hashes = append(q.Hashes[:0:0], p.Hashes...)
			mod(&q)
			if _, err := audit.CheckProof(q, f.ring.Verifiers()); err == nil {
				t.Fatal("edited proof accepted")
			}
		})
	}
}

// flakyAnchor is an anchor volume (or witness) at the process boundary that can be made to fail:
// it wraps the real file anchor.
type flakyAnchor struct {
	audit.Anchor
	broken atomic.Bool
}

func (a *flakyAnchor) Publish(ctx context.Context, note []byte) error {
	if a.broken.Load() {
		return errors.New("anchor volume unavailable")
	}
	return a.Anchor.Publish(ctx, note)
}

// The fail-closed rule: if the audit log cannot record the intent, the operation never runs; if
// it cannot record the outcome, the operation's data is not returned. Each case breaks the real
// audit store at a different point of a request.
func testRunFailsClosed(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	rows := []string{"read-1", "read-2", "read-3"}
	type result struct {
		data    []string
		err     error
		ran     bool
		fixture *fixture
		anchor  *flakyAnchor
	}
	run := func(t *testing.T, everyEvent bool, before, during func(*fixture, *flakyAnchor), opErr error) result {
		var anchor *flakyAnchor
		f := newFixture(t, newStore, func(o *audit.SequencerOptions) {
			anchor = &flakyAnchor{Anchor: o.Anchor}
			o.Anchor = anchor
			if everyEvent {
				o.CheckpointEvery = 1
			}
		})
		if before != nil {
			before(f, anchor)
		}
		intent, payload := Event(0)
		var res result
		res.fixture, res.anchor = f, anchor
		res.data, res.err = audit.Run(ctx, f.log, intent, payload, func(ctx context.Context) ([]string, audit.Outcome, error) {
			res.ran = true
			if during != nil {
				during(f, anchor)
			}
			return rows, audit.Outcome{Count: int64(len(rows)), Digest: audit.DigestIDs(rows)}, opErr
		})
		return res
	}

	t.Run("healthy: both events recorded, data returned", func(t *testing.T) {
		res := run(t, false, nil, nil, nil)
		if res.err != nil || len(res.data) != 3 {
			t.Fatalf("data %v, err %v", res.data, res.err)
		}
		page, err := res.fixture.log.Read(ctx, audit.Filter{})
		if err != nil || len(page.Records) != 2 {
			t.Fatalf("records %v, %v", page.Records, err)
		}
		in, out := page.Records[0].Event, page.Records[1].Event
		if in.Stage != audit.StageIntent || out.Stage != audit.StageOutcome || out.IntentSeq != in.Seq ||
			out.ResultCount != 3 || out.ResultDigest != audit.DigestIDs(rows) || out.Status != audit.StatusOK {
			t.Fatalf("intent %+v\noutcome %+v", in, out)
		}
		if page.Records[0].Payload == nil || page.Records[1].Payload != nil {
			t.Fatal("the payload belongs to the intent only")
		}
	})

	t.Run("store down before the request: operation never runs", func(t *testing.T) {
		res := run(t, false, func(f *fixture, _ *flakyAnchor) { f.store.Break(t) }, nil, nil)
		if !errors.Is(res.err, audit.ErrUnavailable) || res.data != nil || res.ran {
			t.Fatalf("data %v, err %v, ran %v", res.data, res.err, res.ran)
		}
	})

	t.Run("store breaks between intent and outcome: no data", func(t *testing.T) {
		res := run(t, false, nil, func(f *fixture, _ *flakyAnchor) { f.store.Break(t) }, nil)
		if !errors.Is(res.err, audit.ErrUnavailable) || res.data != nil || !res.ran {
			t.Fatalf("data %v, err %v, ran %v", res.data, res.err, res.ran)
		}
		// The intent is stored: auditors see a search that ran with no recorded outcome.
		if n, err := res.fixture.store.Source(t).Size(ctx); n != 1 || err != nil {
			t.Fatalf("store holds %d events (%v), want the intent only", n, err)
		}
	})

	t.Run("anchor fails between intent and outcome: no data", func(t *testing.T) {
		res := run(t, true, nil, func(_ *fixture, a *flakyAnchor) { a.broken.Store(true) }, nil)
		if !errors.Is(res.err, audit.ErrUnavailable) || res.data != nil || !res.ran {
			t.Fatalf("data %v, err %v, ran %v", res.data, res.err, res.ran)
		}
		// Once the anchor is back, the pending checkpoint goes out first and requests succeed.
		res.anchor.broken.Store(false)
		e, p := Event(1)
		if _, err := res.fixture.log.Append(ctx, e, p); err != nil {
			t.Fatalf("append after the anchor recovered: %v", err)
		}
		res.fixture.log.Close()
		if rep := res.fixture.verify(t); !rep.OK() {
			t.Fatalf("log after recovery: %+v", rep)
		}
	})

	t.Run("operation fails: its error, a failed outcome, no data", func(t *testing.T) {
		boom := errors.New("backend down")
		res := run(t, false, nil, nil, boom)
		if !errors.Is(res.err, boom) || res.data != nil {
			t.Fatalf("data %v, err %v", res.data, res.err)
		}
		outcome := audit.StageOutcome
		page, _ := res.fixture.log.Read(ctx, audit.Filter{Stage: &outcome})
		if len(page.Records) != 1 || page.Records[0].Event.Status != audit.StatusError || page.Records[0].Event.ResultCount != 0 {
			t.Fatalf("outcome %+v", page.Records)
		}
	})

	t.Run("client gone after the query: outcome still recorded", func(t *testing.T) {
		f := newFixture(t, newStore, nil)
		cctx, cancel := context.WithCancel(ctx)
		intent, payload := Event(0)
		_, err := audit.Run(cctx, f.log, intent, payload, func(context.Context) ([]string, audit.Outcome, error) {
			cancel()
			return rows, audit.Outcome{Count: 3}, nil
		})
		if err != nil {
			t.Fatalf("err %v", err)
		}
		if n, _ := f.log.Size(ctx); n != 2 {
			t.Fatalf("%d events, want intent and outcome", n)
		}
	})
}
