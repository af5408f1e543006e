package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// run is the sequencer: the only goroutine that assigns seqs, extends the tree and writes.
func (s *Sequencer) run() {
	defer close(s.done)
	tick := time.NewTicker(max(s.opts.CheckpointInterval/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		var batch []*seqReq
		if s.held != nil {
			batch, s.held = []*seqReq{s.held}, nil
		} else {
			select {
			case r := <-s.reqs:
				batch = []*seqReq{r}
			case <-tick.C:
				s.commit(nil, false) // a checkpoint if the oldest unsigned event is due
				continue
			case <-s.quit:
				s.closeErr = s.commit(nil, true)
				return
			}
		}
		if batch[0].kind == seqAppend {
			batch = s.drain(batch)
		}
		s.commit(batch, false)
	}
}

// drain adds every append already waiting, up to MaxBatch: this is the group commit. An erasure
// or checkpoint request found while draining is held for the next batch, so that a failing
// erasure can only fail itself.
func (s *Sequencer) drain(batch []*seqReq) []*seqReq {
	for len(batch) < s.opts.MaxBatch {
		select {
		case r := <-s.reqs:
			if r.kind != seqAppend {
				s.held = r
				return batch
			}
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// now is the time for the next events and checkpoint: the clock, but never before what the log
// already recorded, so times are non-decreasing along the chain even if the clock steps back.
func (s *Sequencer) now() time.Time {
	t := s.opts.Clock().UTC().Truncate(TimePrecision)
	if t.Before(s.lastTime) {
		t = s.lastTime
	}
	if t.Before(s.ckptTime) {
		t = s.ckptTime
	}
	return t
}

// commit seals one batch, writes it, anchors the checkpoint if one was due, and only then answers
// the callers. On any failure every caller in the batch gets the error (also returned) and the
// in-memory state is rolled back; after a failed write the state is reloaded from the store
// before anything else is written, since a store without transactions may hold part of it.
func (s *Sequencer) commit(batch []*seqReq, force bool) error {
	fail := func(err error) error {
		for _, r := range batch {
			r.reply <- seqResult{err: err}
		}
		return err
	}
	writes := false
	for _, r := range batch {
		force = force || r.kind == seqCheckpoint
		writes = writes || r.kind != seqCheckpoint
	}
	if !writes && s.failed == nil && s.unanchored == nil && !s.checkpointDue(s.now(), force) {
		return fail(nil)
	}
	if s.failed != nil {
		if err := s.recover(); err != nil {
			return fail(err)
		}
	}
	if s.unanchored != nil {
		if err := s.publish(s.unanchored); err != nil {
			return fail(err)
		}
		s.unanchored = nil
	}
	now := s.now()
	if !writes && !s.checkpointDue(now, force) {
		return fail(nil)
	}
	saved, savedLast, savedOldest := s.tree.Clone(), s.lastTime, s.oldest
	b, results, err := s.seal(batch, now, force)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
		err = s.store.WriteBatch(ctx, b)
		cancel()
		if err != nil && !errors.Is(err, ErrInvalid) {
			s.failed = &b // ErrInvalid promises nothing was written; anything else may have been
		}
	}
	if err != nil {
		s.tree, s.lastTime, s.oldest = saved, savedLast, savedOldest
		return fail(err)
	}
	if ckpt := b.Checkpoint; ckpt != nil {
		s.ckptSize, s.ckptTime, s.oldest = ckpt.Size, ckpt.Time, time.Time{}
		if err := s.publish(ckpt.Note); err != nil {
			// The events are stored (append-only: they stay), but nobody is told they are
			// recorded until the anchor has the checkpoint: fail closed, retry on the next batch.
			s.unanchored = ckpt.Note
			return fail(err)
		}
	}
	for i, r := range batch {
		r.reply <- results[i]
	}
	return nil
}

// recover reloads the state after a failed write. What the store holds beyond the failed batch's
// base must be a prefix of that batch, event for event; anything else means another writer is
// extending the chain, and the sequencer stays failed rather than sign over its events.
func (s *Sequencer) recover() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
	defer cancel()
	b := s.failed
	if err := s.load(ctx); err != nil {
		return unavailable("recover after a failed write", err)
	}
	n := s.tree.Size() - b.Base
	foreign := n < 0 || n > int64(len(b.Records))
	if !foreign && n > 0 {
		i := 0
		err := s.store.Scan(ctx, b.Base+1, b.Base+n, func(r Record) error {
			leaf, err := EventLeaf(r.Event)
			if err != nil || i >= len(b.Records) || leaf != b.Records[i].Hashes[0] {
				foreign = true
			}
			i++
			return nil
		})
		if err != nil {
			return unavailable("recover after a failed write", err)
		}
		foreign = foreign || int64(i) != n
	}
	if foreign {
		return fmt.Errorf("append audit events: %w: the store holds %d events, not the %d this sequencer wrote or part of its failed batch: another writer is appending to chain %q",
			ErrUnavailable, s.tree.Size(), b.Base, s.opts.Chain)
	}
	if n > 0 {
		s.opts.Logger.Warn("audit write failed part-way; resuming after the part that was stored",
			"stored", n, "batch", len(b.Records))
	}
	s.failed = nil
	return nil
}

func (s *Sequencer) checkpointDue(now time.Time, force bool) bool {
	unsigned := s.tree.Size() - s.ckptSize
	return unsigned > 0 && (force || unsigned >= int64(s.opts.CheckpointEvery) ||
		(!s.oldest.IsZero() && now.Sub(s.oldest) >= s.opts.CheckpointInterval))
}

func (s *Sequencer) publish(note []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.WriteTimeout)
	defer cancel()
	if err := s.opts.Anchor.Publish(ctx, note); err != nil {
		s.opts.Logger.Error("audit checkpoint not anchored; failing appends until it is", "err", err)
		return fmt.Errorf("anchor audit checkpoint: %w: %w", ErrUnavailable, err)
	}
	return nil
}

// seal assigns seqs, time and payload salts to the batch's events, extends the tree, and signs a
// checkpoint if one is due. Nothing is written yet.
func (s *Sequencer) seal(batch []*seqReq, now time.Time, force bool) (Batch, []seqResult, error) {
	b := Batch{Base: s.tree.Size()}
	results := make([]seqResult, len(batch))
	for i, r := range batch {
		if r.kind == seqCheckpoint {
			continue
		}
		rec, err := s.sealOne(r.event, r.pl, now)
		if err != nil {
			return Batch{}, nil, err
		}
		results[i].event = rec.Event
		b.Records = append(b.Records, rec)
	}
	if s.checkpointDue(now, force) {
		c, err := SignCheckpoint(s.opts.Chain, tlog.Tree{N: s.tree.Size(), Hash: s.tree.Root()}, now, s.opts.Signer)
		if err != nil {
			return Batch{}, nil, fmt.Errorf("append audit events: %w: %w", ErrUnavailable, err)
		}
		b.Checkpoint = &c
	}
	return b, results, nil
}

// sealOne seals one event (seq, chain, time, payload salt and hash) and extends the tree.
func (s *Sequencer) sealOne(e Event, p Payload, now time.Time) (SealedRecord, error) {
	e.Seq, e.Chain, e.Time = s.tree.Size()+1, s.opts.Chain, now
	var pl *Payload
	if !p.IsEmpty() {
		if _, err := io.ReadFull(s.opts.Rand, p.Salt[:]); err != nil {
			return SealedRecord{}, fmt.Errorf("append audit event: %w: payload salt: %w", ErrUnavailable, err)
		}
		pl = &p
	} else {
		p = Payload{}
	}
	e.PayloadHash = PayloadDigest(p)
	enc, err := EncodeEvent(e)
	if err != nil {
		return SealedRecord{}, err
	}
	hashes := s.tree.Add(LeafHash(enc))
	s.lastTime = now
	if s.oldest.IsZero() {
		s.oldest = now
	}
	return SealedRecord{Event: e, Payload: pl, Hashes: hashes}, nil
}
