package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/anpr-portal/anpr/internal/audit"
)

// run is the sequencer: the only goroutine that assigns seqs, extends the tree and writes.
func (l *AuditLog) run() {
	defer close(l.done)
	tick := time.NewTicker(max(l.opts.CheckpointInterval/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		var batch []*auditReq
		if l.held != nil {
			batch, l.held = []*auditReq{l.held}, nil
		} else {
			select {
			case r := <-l.reqs:
				batch = []*auditReq{r}
			case <-tick.C:
				l.commit(nil, false) // a checkpoint if the oldest unsigned event is due
				continue
			case <-l.quit:
				l.closeErr = l.commit(nil, true)
				return
			}
		}
		if batch[0].kind == auditReqAppend {
			batch = l.drain(batch)
		}
		l.commit(batch, false)
	}
}

// drain adds every append already waiting, up to MaxBatch: this is the group commit. An erasure
// or checkpoint request found while draining is held for the next batch, so that a failing
// erasure can only fail itself.
func (l *AuditLog) drain(batch []*auditReq) []*auditReq {
	for len(batch) < l.opts.MaxBatch {
		select {
		case r := <-l.reqs:
			if r.kind != auditReqAppend {
				l.held = r
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
func (l *AuditLog) now() time.Time {
	t := l.opts.Clock().UTC().Truncate(audit.TimePrecision)
	if t.Before(l.lastTime) {
		t = l.lastTime
	}
	if t.Before(l.ckptTime) {
		t = l.ckptTime
	}
	return t
}

// commit writes one batch in one transaction, signs a checkpoint if one is due, anchors it, and
// only then answers the callers. On any failure every caller in the batch gets the error (also
// returned) and the in-memory tree is rolled back with the transaction.
func (l *AuditLog) commit(batch []*auditReq, force bool) error {
	fail := func(err error) error {
		for _, r := range batch {
			r.reply <- auditResult{err: err}
		}
		return err
	}
	if l.unanchored != nil {
		if err := l.publish(l.unanchored); err != nil {
			return fail(err)
		}
		l.unanchored = nil
	}
	writes := false
	for _, r := range batch {
		force = force || r.kind == auditReqCheckpoint
		writes = writes || r.kind != auditReqCheckpoint
	}
	now := l.now()
	if !writes && !l.checkpointDue(now, force) {
		return fail(nil)
	}
	saved, savedLast, savedOldest := l.tree.Clone(), l.lastTime, l.oldest
	results, ckpt, err := l.write(batch, now, force)
	if err != nil {
		l.tree, l.lastTime, l.oldest = saved, savedLast, savedOldest
		return fail(err)
	}
	if ckpt != nil {
		l.ckptSize, l.ckptTime, l.oldest = ckpt.Size, ckpt.Time, time.Time{}
		if err := l.publish(ckpt.Note); err != nil {
			// The events are committed (append-only: they stay), but nobody is told they are
			// recorded until the anchor has the checkpoint: fail closed, retry on the next batch.
			l.unanchored = ckpt.Note
			return fail(err)
		}
	}
	for i, r := range batch {
		r.reply <- results[i]
	}
	return nil
}

func (l *AuditLog) checkpointDue(now time.Time, force bool) bool {
	unsigned := l.tree.Size() - l.ckptSize
	return unsigned > 0 && (force || unsigned >= int64(l.opts.CheckpointEvery) ||
		(!l.oldest.IsZero() && now.Sub(l.oldest) >= l.opts.CheckpointInterval))
}

func (l *AuditLog) publish(note []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.WriteTimeout)
	defer cancel()
	if err := l.opts.Anchor.Publish(ctx, note); err != nil {
		l.opts.Logger.Error("audit checkpoint not anchored; failing appends until it is", "err", err)
		return fmt.Errorf("anchor audit checkpoint: %w: %w", audit.ErrUnavailable, err)
	}
	return nil
}

// auditStmts are the batch's prepared inserts.
type auditStmts struct {
	event, payload, vrm, hash *sql.Stmt
}

func (l *AuditLog) write(batch []*auditReq, now time.Time, force bool) ([]auditResult, *audit.Checkpoint, error) {
	ctx, cancel := context.WithTimeout(context.Background(), l.opts.WriteTimeout)
	defer cancel()
	tx, err := l.db.BeginTx(ctx, nil) // _txlock=immediate
	if err != nil {
		return nil, nil, auditUnavailable("append audit events", err)
	}
	defer tx.Rollback()
	var stored int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM audit_events`).Scan(&stored); err != nil {
		return nil, nil, auditUnavailable("append audit events", err)
	}
	if stored != l.tree.Size() {
		return nil, nil, fmt.Errorf("append audit events: %w: the store has %d events but this sequencer %d: another writer is appending to chain %q",
			audit.ErrUnavailable, stored, l.tree.Size(), l.chain)
	}
	st := l.stmts.in(ctx, tx)
	results := make([]auditResult, len(batch))
	for i, r := range batch {
		switch r.kind {
		case auditReqAppend:
			results[i].event, err = l.appendOne(ctx, st, r.event, r.pl, now)
		case auditReqErase:
			results[i].event, err = l.eraseOne(ctx, tx, st, r.event, now)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	var ckpt *audit.Checkpoint
	if l.checkpointDue(now, force) {
		c, err := audit.SignCheckpoint(l.chain, tlog.Tree{N: l.tree.Size(), Hash: l.tree.Root()}, now, l.opts.Signer)
		if err != nil {
			return nil, nil, fmt.Errorf("append audit events: %w: %w", audit.ErrUnavailable, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints(size, time_us, note) VALUES (?, ?, ?)`,
			c.Size, c.Time.UnixMicro(), string(c.Note)); err != nil {
			return nil, nil, auditUnavailable("store audit checkpoint", err)
		}
		ckpt = &c
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, auditUnavailable("commit audit events", err)
	}
	return results, ckpt, nil
}

// auditPrepare prepares the inserts once per log: database/sql then reuses them on the writer's
// connection (Tx.StmtContext), so a batch does not recompile the statements and their triggers.
func auditPrepare(ctx context.Context, db *sql.DB) (auditStmts, error) {
	var st auditStmts
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.event, `INSERT INTO audit_events(seq, encoding, time_us, actor_subject, actor_name, actor_roles,
			actor_session, client_addr, request_id, action, stage, intent_seq, decision, rule, purpose, case_ref,
			offence_code, authority_id, search_type, band, result_count, result_digest, status, error, erases,
			payload_hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`},
		{&st.payload, `INSERT INTO audit_payloads(seq, salt, vrms, query, justification) VALUES (?,?,?,?,?)`},
		{&st.vrm, `INSERT INTO audit_payload_vrms(vrm, seq) VALUES (?,?)`},
		{&st.hash, `INSERT INTO audit_hashes(idx, hash) VALUES (?,?)`},
	} {
		s, err := db.PrepareContext(ctx, p.sql)
		if err != nil {
			return auditStmts{}, fmt.Errorf("prepare audit insert: %w", err)
		}
		*p.dst = s
	}
	return st, nil
}

// in binds the prepared statements to a transaction.
func (st auditStmts) in(ctx context.Context, tx *sql.Tx) auditStmts {
	return auditStmts{event: tx.StmtContext(ctx, st.event), payload: tx.StmtContext(ctx, st.payload),
		vrm: tx.StmtContext(ctx, st.vrm), hash: tx.StmtContext(ctx, st.hash)}
}

// appendOne seals one event (seq, chain, time, payload salt and hash), stores it, its payload
// and its tree hashes, and extends the in-memory tree.
func (l *AuditLog) appendOne(ctx context.Context, st auditStmts, e audit.Event, p audit.Payload, now time.Time) (audit.Event, error) {
	e.Seq, e.Chain, e.Time = l.tree.Size()+1, l.chain, now
	if p.IsEmpty() {
		p = audit.Payload{}
	} else if _, err := io.ReadFull(l.opts.Rand, p.Salt[:]); err != nil {
		return audit.Event{}, fmt.Errorf("append audit event: %w: payload salt: %w", audit.ErrUnavailable, err)
	}
	e.PayloadHash = audit.PayloadDigest(p)
	enc, err := audit.EncodeEvent(e)
	if err != nil {
		return audit.Event{}, err
	}
	if _, err := st.event.ExecContext(ctx, e.Seq, audit.EncodingV1, e.Time.UnixMicro(), e.Actor.Subject, e.Actor.Name,
		auditMarshalList(e.Actor.Roles), e.Actor.Session, e.ClientAddr, e.RequestID, string(e.Action), string(e.Stage),
		e.IntentSeq, string(e.Decision), e.Rule, e.Reason.Purpose, e.Reason.CaseRef, e.Reason.OffenceCode,
		e.AuthorityID, e.SearchType, e.Band, e.ResultCount, e.ResultDigest[:], string(e.Status), e.Error,
		auditMarshalList(e.Erases), e.PayloadHash[:]); err != nil {
		return audit.Event{}, auditUnavailable("append audit event", err)
	}
	if !p.IsEmpty() {
		if _, err := st.payload.ExecContext(ctx, e.Seq, p.Salt[:], auditMarshalList(p.VRMs), p.Query, p.Justification); err != nil {
			return audit.Event{}, auditUnavailable("append audit payload", err)
		}
		for _, v := range slices.Compact(slices.Sorted(slices.Values(p.VRMs))) {
			if _, err := st.vrm.ExecContext(ctx, v, e.Seq); err != nil {
				return audit.Event{}, auditUnavailable("append audit payload", err)
			}
		}
	}
	base := tlog.StoredHashIndex(0, e.Seq-1)
	for i, h := range l.tree.Add(audit.LeafHash(enc)) {
		if _, err := st.hash.ExecContext(ctx, base+int64(i), h[:]); err != nil {
			return audit.Event{}, auditUnavailable("append audit hash", err)
		}
	}
	l.lastTime = now
	if l.oldest.IsZero() {
		l.oldest = now
	}
	return e, nil
}

// eraseOne appends an erasure event and removes the payloads it names: the one delete in this
// store, of personal data only, and only what an erasure row (checked by trigger) covers.
func (l *AuditLog) eraseOne(ctx context.Context, tx *sql.Tx, st auditStmts, e audit.Event, now time.Time) (audit.Event, error) {
	for _, s := range e.Erases {
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_payloads WHERE seq = ?`, s).Scan(&held); err != nil {
			return audit.Event{}, auditUnavailable("erase audit payloads", err)
		}
		if held == 0 {
			return audit.Event{}, fmt.Errorf("erase audit payloads: %w: event %d holds no payload", audit.ErrInvalid, s)
		}
	}
	sealed, err := l.appendOne(ctx, st, e, audit.Payload{}, now)
	if err != nil {
		return audit.Event{}, err
	}
	for _, s := range e.Erases {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_erasures(seq, erased_by) VALUES (?, ?)`, s, sealed.Seq); err != nil {
			return audit.Event{}, auditUnavailable("erase audit payloads", err)
		}
		for _, q := range []string{
			// By primary key (vrm, seq): the payload lists its VRMs, so no scan of the index table.
			`DELETE FROM audit_payload_vrms WHERE seq = ?1 AND vrm IN
				(SELECT value FROM json_each((SELECT vrms FROM audit_payloads WHERE seq = ?1)))`,
			`DELETE FROM audit_payloads WHERE seq = ?1`,
		} {
			if _, err := tx.ExecContext(ctx, q, s); err != nil {
				return audit.Event{}, auditUnavailable("erase audit payloads", err)
			}
		}
	}
	return sealed, nil
}
