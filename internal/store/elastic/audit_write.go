package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/refresh"

	"github.com/anpr-portal/anpr/internal/audit"
)

// auditStore is the storage under the audit.Sequencer. Elasticsearch has no transaction over
// several documents, so a batch is written in an order that leaves, if it is cut anywhere, a
// prefix the sequencer can resume from (audit.SequencerStore):
//
//  1. the payloads (a payload whose event never arrives is never read: see auditIndices);
//  2. the events, in seq order, in one bulk to one shard, each with its stored hashes;
//  3. for an erasure, the erasure records and the payload deletes (Resume completes them if the
//     erasure event was stored but this step was cut off);
//  4. the checkpoint, once every event it covers is stored and searchable.
type auditStore struct {
	*AuditReader
	lease *auditLease
	log   *slog.Logger
}

// bulkOp is one create (doc set) or delete in a bulk request.
type bulkOp struct {
	index, id string
	doc       any // nil: delete
}

// bulk sends ops, resending items refused for overload (429, 5xx) with backoff, and returns each
// op's final answer, in order.
func (s *auditStore) bulk(ctx context.Context, ops []bulkOp, rf refresh.Refresh) ([]types.ResponseItem, error) {
	out := make([]types.ResponseItem, len(ops))
	pending := make([]int, len(ops))
	for i := range ops {
		pending[i] = i
	}
	for attempt := 0; ; attempt++ {
		req := s.es.Bulk().Refresh(rf)
		for _, i := range pending {
			op := ops[i]
			var err error
			if op.doc == nil {
				err = req.DeleteOp(types.DeleteOperation{Index_: ptr(op.index), Id_: ptr(op.id)})
			} else {
				err = req.CreateOp(types.CreateOperation{Index_: ptr(op.index), Id_: ptr(op.id)}, op.doc)
			}
			if err != nil {
				return nil, fmt.Errorf("encode audit document %s: %w", op.id, err)
			}
		}
		res, err := req.Do(ctx)
		if err != nil {
			return nil, auditUnavailable("write audit batch", err)
		}
		if len(res.Items) != len(pending) {
			return nil, fmt.Errorf("write audit batch: %w: %d items answered for %d sent", audit.ErrUnavailable, len(res.Items), len(pending))
		}
		var retry []int
		for k, item := range res.Items {
			i := pending[k]
			for _, it := range item {
				out[i] = it
			}
			if st := out[i].Status; st == http.StatusTooManyRequests || st >= 500 {
				retry = append(retry, i)
			}
		}
		if len(retry) == 0 {
			return out, nil
		}
		if attempt >= s.cfg.MaxRetries {
			return nil, fmt.Errorf("write audit batch: %w: %d documents still refused after %d retries", audit.ErrUnavailable, len(retry), attempt)
		}
		s.log.Warn("audit bulk: resending refused documents", "documents", len(retry), "attempt", attempt+1)
		if err := sleep(ctx, backoff(s.cfg, attempt+1)); err != nil {
			return nil, auditUnavailable("write audit batch", err)
		}
		pending = retry
	}
}

// WriteBatch stores one sealed batch; see audit.SequencerStore and the type comment.
func (s *auditStore) WriteBatch(ctx context.Context, b audit.Batch) error {
	if err := s.checkBase(ctx, b.Base); err != nil {
		return err
	}
	var payloads, events, erase []bulkOp
	for _, r := range b.Records {
		e := r.Event
		if r.Payload != nil {
			payloads = append(payloads, bulkOp{s.ix.payloads, auditPayloadID(s.chain, e.Seq, e.PayloadHash), newAuditPayloadDoc(s.chain, e.Seq, *r.Payload)})
		}
		events = append(events, bulkOp{s.ix.events, auditEventID(s.chain, e.Seq), newAuditEventDoc(e, r.Hashes)})
		if e.Action == audit.ActionErase {
			ops, err := s.erasure(ctx, e, true)
			if err != nil {
				return err
			}
			erase = append(erase, ops...)
		}
	}
	if len(payloads) > 0 {
		// Payloads become searchable with their events: a filter on a plate or a reason reads
		// the payloads index, so a checkpointed (or, in tests, every) batch waits for both.
		if err := s.createAll(ctx, payloads, s.auditRefresh(b.Checkpoint != nil), nil); err != nil {
			return fmt.Errorf("append audit payloads: %w", err)
		}
	}
	// A batch with a checkpoint waits until its events are searchable, before the checkpoint is.
	if len(events) > 0 {
		if err := s.createAll(ctx, events, s.auditRefresh(b.Checkpoint != nil), s.sameEvent); err != nil {
			return fmt.Errorf("append audit events: %w", err)
		}
	} else if b.Checkpoint != nil && s.cfg.Refresh != "true" {
		// A checkpoint alone (on close, or when the interval passed): earlier batches did not wait
		// for their events to become searchable, so make them so now.
		if _, err := s.es.Indices.Refresh().Index(s.ix.events + "," + s.ix.payloads).Do(ctx); err != nil {
			return auditUnavailable("store audit checkpoint: refresh events", err)
		}
	}
	if len(erase) > 0 {
		if err := s.createAll(ctx, erase, s.auditRefresh(true), nil); err != nil {
			return fmt.Errorf("erase audit payloads: %w", err)
		}
	}
	if c := b.Checkpoint; c != nil {
		doc := auditCheckpointDoc{Chain: s.chain, Size: c.Size, TimeUS: c.Time.UnixMicro(), Note: string(c.Note)}
		op := bulkOp{s.ix.checkpoints, auditCheckpointID(s.chain, c.Size), doc}
		if err := s.createAll(ctx, []bulkOp{op}, s.auditRefresh(true), s.sameCheckpoint); err != nil {
			return fmt.Errorf("store audit checkpoint: %w", err)
		}
	}
	return nil
}

// createAll runs creates and deletes and fails unless each was done. A create that conflicts is
// accepted only if same says the stored document is the one sent (a request the transport
// resent after it had been applied); payloads, erasure records and deletes are idempotent by id.
func (s *auditStore) createAll(ctx context.Context, ops []bulkOp, rf refresh.Refresh, same func(context.Context, bulkOp) (bool, error)) error {
	items, err := s.bulk(ctx, ops, rf)
	if err != nil {
		return err
	}
	var refused []string
	for i, it := range items {
		switch {
		case it.Status == http.StatusCreated || it.Status == http.StatusOK:
		case it.Status == http.StatusNotFound && ops[i].doc == nil: // deleted already
		case it.Status == http.StatusConflict && same == nil:
		case it.Status == http.StatusConflict:
			ok, err := same(ctx, ops[i])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("%w: %s already holds another document: another writer is appending to chain %q (create refused, nothing overwritten)",
					audit.ErrUnavailable, ops[i].id, s.chain)
			}
		default:
			refused = append(refused, fmt.Sprintf("%s: %d %s", ops[i].id, it.Status, causeText(it.Error)))
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("%w: %d documents refused: %s", audit.ErrUnavailable, len(refused), strings.Join(refused[:min(3, len(refused))], "; "))
	}
	return nil
}

// sameEvent reports whether the stored event at op's id is the one op would create.
func (s *auditStore) sameEvent(ctx context.Context, op bulkOp) (bool, error) {
	want := op.doc.(auditEventDoc)
	got, err := s.events(ctx, []int64{want.Seq})
	if err != nil {
		return false, err
	}
	d, ok := got[want.Seq]
	if !ok {
		return false, nil
	}
	a, _ := json.Marshal(d)
	b, _ := json.Marshal(want)
	return string(a) == string(b), nil
}

func (s *auditStore) sameCheckpoint(ctx context.Context, op bulkOp) (bool, error) {
	want := op.doc.(auditCheckpointDoc)
	note, err := s.CheckpointNote(ctx, want.Size)
	if err != nil {
		return false, err
	}
	return string(note) == want.Note, nil
}

// checkBase makes sure, in one real-time multi-get, that this process still holds the writer
// lease and that the store holds exactly base events: seq base is there and base+1 is not.
func (s *auditStore) checkBase(ctx context.Context, base int64) error {
	ops := []types.MgetOperation{mgetOp(s.ix.writers, s.chain), mgetOp(s.ix.events, auditEventID(s.chain, base+1))}
	if base > 0 {
		ops = append(ops, mgetOp(s.ix.events, auditEventID(s.chain, base)))
	}
	got, err := s.mget(ctx, ops, "owner", "seq")
	if err != nil {
		return fmt.Errorf("append audit events: %w", err)
	}
	if err := s.lease.checkDoc(got[s.ix.writers+"/"+s.chain]); err != nil {
		return fmt.Errorf("append audit events: %w", err)
	}
	_, next := got[s.ix.events+"/"+auditEventID(s.chain, base+1)]
	_, last := got[s.ix.events+"/"+auditEventID(s.chain, base)]
	if next || (base > 0 && !last) {
		return fmt.Errorf("append audit events: %w: the store does not end at seq %d as this sequencer does: another writer is appending to chain %q",
			audit.ErrUnavailable, base, s.chain)
	}
	return nil
}

// erasure returns the writes that carry out erasure event e: an erasure record per seq and the
// delete of its payload. With check, a seq that holds no payload (never had one, or was erased)
// is refused with ErrInvalid before anything is written.
func (s *auditStore) erasure(ctx context.Context, e audit.Event, check bool) ([]bulkOp, error) {
	evs, err := s.events(ctx, e.Erases, "chain", "seq", "payload_hash")
	if err != nil {
		return nil, fmt.Errorf("erase audit payloads: %w", err)
	}
	var ops []bulkOp
	var lookups []types.MgetOperation
	for _, seq := range e.Erases {
		d, ok := evs[seq]
		var h audit.Digest
		if !ok || !decodeDigest(d.PayloadHash, &h) || h.IsZero() {
			if check {
				return nil, fmt.Errorf("erase audit payloads: %w: event %d holds no payload", audit.ErrInvalid, seq)
			}
			continue
		}
		pid := auditPayloadID(s.chain, seq, h)
		lookups = append(lookups, mgetOp(s.ix.payloads, pid), mgetOp(s.ix.erasures, auditEventID(s.chain, seq)))
		ops = append(ops, bulkOp{s.ix.erasures, auditEventID(s.chain, seq), auditErasureDoc{Chain: s.chain, Seq: seq, ErasedBy: e.Seq}},
			bulkOp{index: s.ix.payloads, id: pid})
	}
	if check {
		got, err := s.mget(ctx, lookups)
		if err != nil {
			return nil, fmt.Errorf("erase audit payloads: %w", err)
		}
		for i := 0; i < len(lookups); i += 2 {
			_, held := got[s.ix.payloads+"/"+lookups[i].Id_]
			_, erased := got[s.ix.erasures+"/"+lookups[i+1].Id_]
			if !held || erased {
				return nil, fmt.Errorf("erase audit payloads: %w: event %d holds no payload", audit.ErrInvalid, e.Erases[i/2])
			}
		}
	}
	return ops, nil
}

// Resume makes what is stored searchable (a cut batch may not have been refreshed) and completes
// the newest erasure if its event was stored but its deletes were cut off: that event is signed
// into the log, so carrying it out is what was decided, not a new decision.
func (s *auditStore) Resume(ctx context.Context) error {
	if _, err := s.es.Indices.Refresh().Index(strings.Join(s.ix.all(), ",")).Do(ctx); err != nil {
		return auditUnavailable("refresh audit indices", err)
	}
	hits, err := s.search(ctx, s.ix.events, map[string]any{"size": 1,
		"query": map[string]any{"bool": map[string]any{"filter": []any{termQ("chain", s.chain), termQ("action", string(audit.ActionErase))}}},
		"sort":  []any{map[string]any{"seq": "desc"}}})
	if err != nil || len(hits) == 0 {
		return err
	}
	var d auditEventDoc
	if err := json.Unmarshal(hits[0].Source_, &d); err != nil {
		return fmt.Errorf("read audit erasure: %w", err)
	}
	e, _ := d.event()
	ops, err := s.erasure(ctx, e, false)
	if err != nil {
		return err
	}
	if len(ops) == 0 {
		return nil
	}
	// Erasure records of this event already there conflict (409) and count as done.
	return s.createAll(ctx, slices.Clip(ops), s.auditRefresh(true), nil)
}
