package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/anpr-portal/anpr/internal/audit"
)

// auditStore is the storage under the audit.Sequencer: one SQLite transaction per batch, so a
// batch is stored whole or not at all.
type auditStore struct {
	*AuditReader
	stmts auditStmts
}

// auditStmts are the batch's prepared inserts.
type auditStmts struct {
	event, payload, vrm, hash *sql.Stmt
}

// WriteBatch stores one sealed batch in one transaction; see audit.SequencerStore.
func (s *auditStore) WriteBatch(ctx context.Context, b audit.Batch) error {
	tx, err := s.db.BeginTx(ctx, nil) // _txlock=immediate
	if err != nil {
		return auditUnavailable("append audit events", err)
	}
	defer tx.Rollback()
	// The store must hold exactly b.Base events. With records, the first insert proves it: its
	// seq is b.Base+1 and the audit_events_next trigger aborts any seq that does not extend the
	// stored log by one, inside this transaction, so nothing is written. Asking max(seq) first
	// as well cost about a seventh of every commit; it is asked only to explain a failure, and
	// for a checkpoint-only batch, which no trigger ties to the event count.
	if len(b.Records) == 0 {
		if err := s.checkBase(ctx, tx, b.Base); err != nil {
			return err
		}
	}
	st := s.stmts.in(ctx, tx)
	for i, r := range b.Records {
		if r.Event.Action == audit.ActionErase {
			if err := auditCheckErasable(ctx, tx, r.Event.Erases); err != nil {
				return err
			}
		}
		if err := st.insert(ctx, r); err != nil {
			if i == 0 {
				if berr := s.checkBase(ctx, tx, b.Base); berr != nil {
					return berr
				}
			}
			return err
		}
		if r.Event.Action == audit.ActionErase {
			if err := auditErase(ctx, tx, r.Event); err != nil {
				return err
			}
		}
	}
	if c := b.Checkpoint; c != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_checkpoints(size, time_us, note) VALUES (?, ?, ?)`,
			c.Size, c.Time.UnixMicro(), string(c.Note)); err != nil {
			return auditUnavailable("store audit checkpoint", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return auditUnavailable("commit audit events", err)
	}
	return nil
}

// checkBase refuses, wrapping audit.ErrUnavailable, when the store does not hold exactly base
// events: someone else is appending to the chain.
func (s *auditStore) checkBase(ctx context.Context, tx *sql.Tx, base int64) error {
	var stored int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM audit_events`).Scan(&stored); err != nil {
		return auditUnavailable("append audit events", err)
	}
	if stored != base {
		return fmt.Errorf("append audit events: %w: the store has %d events but this sequencer %d: another writer is appending to chain %q",
			audit.ErrUnavailable, stored, base, s.chain)
	}
	return nil
}

// CheckpointNote returns the stored checkpoint note of tree size n.
func (r *AuditReader) CheckpointNote(ctx context.Context, n int64) ([]byte, error) {
	var note string
	err := r.db.QueryRowContext(ctx, `SELECT note FROM audit_checkpoints WHERE size = ?`, n).Scan(&note)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: no checkpoint of size %d", audit.ErrNotFound, n)
	}
	if err != nil {
		return nil, auditUnavailable("read audit checkpoint", err)
	}
	return []byte(note), nil
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

// insert stores one sealed event, its payload (with the VRM index rows) and its tree hashes.
func (st auditStmts) insert(ctx context.Context, r audit.SealedRecord) error {
	e := r.Event
	if _, err := st.event.ExecContext(ctx, e.Seq, audit.EncodingV1, e.Time.UnixMicro(), e.Actor.Subject, e.Actor.Name,
		auditMarshalList(e.Actor.Roles), e.Actor.Session, e.ClientAddr, e.RequestID, string(e.Action), string(e.Stage),
		e.IntentSeq, string(e.Decision), e.Rule, e.Reason.Purpose, e.Reason.CaseRef, e.Reason.OffenceCode,
		e.AuthorityID, e.SearchType, e.Band, e.ResultCount, e.ResultDigest[:], string(e.Status), e.Error,
		auditMarshalList(e.Erases), e.PayloadHash[:]); err != nil {
		return auditUnavailable("append audit event", err)
	}
	if p := r.Payload; p != nil {
		if _, err := st.payload.ExecContext(ctx, e.Seq, p.Salt[:], auditMarshalList(p.VRMs), p.Query, p.Justification); err != nil {
			return auditUnavailable("append audit payload", err)
		}
		for _, v := range slices.Compact(slices.Sorted(slices.Values(p.VRMs))) {
			if _, err := st.vrm.ExecContext(ctx, v, e.Seq); err != nil {
				return auditUnavailable("append audit payload", err)
			}
		}
	}
	base := tlog.StoredHashIndex(0, e.Seq-1)
	for i, h := range r.Hashes {
		if _, err := st.hash.ExecContext(ctx, base+int64(i), h[:]); err != nil {
			return auditUnavailable("append audit hash", err)
		}
	}
	return nil
}

// auditCheckErasable refuses an erasure of a seq that holds no payload (never had one, or was
// erased already), before anything of the erasure is written.
func auditCheckErasable(ctx context.Context, tx *sql.Tx, seqs []int64) error {
	for _, s := range seqs {
		var held int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM audit_payloads WHERE seq = ?`, s).Scan(&held); err != nil {
			return auditUnavailable("erase audit payloads", err)
		}
		if held == 0 {
			return fmt.Errorf("erase audit payloads: %w: event %d holds no payload", audit.ErrInvalid, s)
		}
	}
	return nil
}

// auditErase removes the payloads an erasure event names: the one delete in this store, of
// personal data only, and only what an erasure row (checked by trigger) covers.
func auditErase(ctx context.Context, tx *sql.Tx, e audit.Event) error {
	for _, s := range e.Erases {
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_erasures(seq, erased_by) VALUES (?, ?)`, s, e.Seq); err != nil {
			return auditUnavailable("erase audit payloads", err)
		}
		for _, q := range []string{
			// By primary key (vrm, seq): the payload lists its VRMs, so no scan of the index table.
			`DELETE FROM audit_payload_vrms WHERE seq = ?1 AND vrm IN
				(SELECT value FROM json_each((SELECT vrms FROM audit_payloads WHERE seq = ?1)))`,
			`DELETE FROM audit_payloads WHERE seq = ?1`,
		} {
			if _, err := tx.ExecContext(ctx, q, s); err != nil {
				return auditUnavailable("erase audit payloads", err)
			}
		}
	}
	return nil
}
