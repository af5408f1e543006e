package sqlite

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/anpr-portal/anpr/internal/audit"
)

// auditFlakyAnchor is a disk (or witness) at the process boundary that can be made to fail: it
// wraps a real file anchor.
type auditFlakyAnchor struct {
	audit.Anchor
	broken atomic.Bool
}

func (a *auditFlakyAnchor) Publish(ctx context.Context, note []byte) error {
	if a.broken.Load() {
		return errors.New("anchor volume unavailable")
	}
	return a.Anchor.Publish(ctx, note)
}

// The fail-closed rule: if the audit log cannot record the intent, the operation never runs; if
// it cannot record the outcome, the operation's data is not returned. Each case breaks the real
// audit store at a different point of a request.
func TestAuditRunFailsClosed(t *testing.T) {
	ctx := context.Background()
	rows := []string{"read-1", "read-2", "read-3"}
	type result struct {
		data    []string
		err     error
		ran     bool
		fixture *auditFixture
		anchor  *auditFlakyAnchor
	}
	run := func(t *testing.T, everyEvent bool, before, during func(*auditFixture, *auditFlakyAnchor), opErr error) result {
		var anchor *auditFlakyAnchor
		f := auditNewFixture(t, func(o *AuditOptions) {
			anchor = &auditFlakyAnchor{Anchor: o.Anchor}
			o.Anchor = anchor
			if everyEvent {
				o.CheckpointEvery = 1
			}
		})
		if before != nil {
			before(f, anchor)
		}
		intent, payload := auditEvent(0)
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
		res := run(t, false, func(f *auditFixture, _ *auditFlakyAnchor) { f.log.db.Close() }, nil, nil)
		if !errors.Is(res.err, audit.ErrUnavailable) || res.data != nil || res.ran {
			t.Fatalf("data %v, err %v, ran %v", res.data, res.err, res.ran)
		}
	})

	t.Run("store breaks between intent and outcome: no data", func(t *testing.T) {
		res := run(t, false, nil, func(f *auditFixture, _ *auditFlakyAnchor) { f.log.db.Close() }, nil)
		if !errors.Is(res.err, audit.ErrUnavailable) || res.data != nil || !res.ran {
			t.Fatalf("data %v, err %v, ran %v", res.data, res.err, res.ran)
		}
		// The intent is on disk: auditors see a search that ran with no recorded outcome.
		r, err := OpenAuditReader(ctx, res.fixture.path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if n, _ := r.Size(ctx); n != 1 {
			t.Fatalf("store holds %d events, want the intent only", n)
		}
	})

	t.Run("anchor fails between intent and outcome: no data", func(t *testing.T) {
		res := run(t, true, nil, func(_ *auditFixture, a *auditFlakyAnchor) { a.broken.Store(true) }, nil)
		if !errors.Is(res.err, audit.ErrUnavailable) || res.data != nil || !res.ran {
			t.Fatalf("data %v, err %v, ran %v", res.data, res.err, res.ran)
		}
		// Once the anchor is back, the pending checkpoint goes out first and requests succeed.
		res.anchor.broken.Store(false)
		e, p := auditEvent(1)
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
		page, _ := res.fixture.log.Read(ctx, audit.Filter{Stage: auditPtr(audit.StageOutcome)})
		if len(page.Records) != 1 || page.Records[0].Event.Status != audit.StatusError || page.Records[0].Event.ResultCount != 0 {
			t.Fatalf("outcome %+v", page.Records)
		}
	})

	t.Run("client gone after the query: outcome still recorded", func(t *testing.T) {
		f := auditNewFixture(t, nil)
		cctx, cancel := context.WithCancel(ctx)
		intent, payload := auditEvent(0)
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

func auditPtr[T any](v T) *T { return &v }
