package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/anpr-portal/anpr/internal/audit"
)

// AuditReader reads an audit database: the auditor's queries, and the raw view verification
// needs (audit.VerifySource). It never writes, so `anpr audit verify` can run it on a copy of
// the file with no signing key.
type AuditReader struct {
	db    *sql.DB
	chain string
}

var (
	_ audit.VerifySource = (*AuditReader)(nil)
	_ audit.Reader       = (*AuditReader)(nil)
	_ audit.Checkpointer = (*AuditReader)(nil)
)

// OpenAuditReader opens an existing audit database for reading, bringing its schema up to date
// first (a reader needs the columns this binary reads).
func OpenAuditReader(ctx context.Context, path string) (*AuditReader, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	db, err := openDB(ctx, path, Full, 4, auditMemory)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	r, err := auditOpenReader(ctx, db, path)
	if err != nil {
		db.Close()
		return nil, err
	}
	return r, nil
}

func auditOpenReader(ctx context.Context, db *sql.DB, path string) (*AuditReader, error) {
	ok, err := tableExists(ctx, db, "audit_meta")
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("open audit log: %w: not an audit database", audit.ErrInvalid)
	}
	if err := migrate(ctx, db, path, auditSchema); err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return auditNewReader(ctx, db)
}

// auditNewReader reads the chain id of a database whose schema is up to date.
func auditNewReader(ctx context.Context, db *sql.DB) (*AuditReader, error) {
	var chain string
	if err := db.QueryRowContext(ctx, `SELECT value FROM audit_meta WHERE key = 'chain'`).Scan(&chain); err != nil {
		return nil, fmt.Errorf("open audit log: read chain: %w", err)
	}
	return &AuditReader{db: db, chain: chain}, nil
}

// Close closes the database.
func (r *AuditReader) Close() error { return r.db.Close() }

// Chain is the chain id recorded when the database was created.
func (r *AuditReader) Chain(context.Context) (string, error) { return r.chain, nil }

// Size is the highest stored seq.
func (r *AuditReader) Size(ctx context.Context) (int64, error) {
	var n int64
	if err := r.db.QueryRowContext(ctx, `SELECT coalesce(max(seq), 0) FROM audit_events`).Scan(&n); err != nil {
		return 0, auditUnavailable("read audit size", err)
	}
	return n, nil
}

const auditRecordSelect = `SELECT e.seq, e.encoding, e.time_us, e.actor_subject, e.actor_name, e.actor_roles,
	e.actor_session, e.client_addr, e.request_id, e.action, e.stage, e.intent_seq, e.decision, e.rule,
	e.purpose, e.case_ref, e.offence_code, e.authority_id, e.search_type, e.band, e.result_count,
	e.result_digest, e.status, e.error, e.erases, e.payload_hash,
	p.salt, p.vrms, p.query, p.justification, x.erased_by
	FROM audit_events e
	LEFT JOIN audit_payloads p ON p.seq = e.seq
	LEFT JOIN audit_erasures x ON x.seq = e.seq`

// auditScanRecord reads one row of auditRecordSelect. Stored values that cannot be turned back
// into an event (bad JSON, a digest of the wrong length) do not fail the read: the record gets
// Encoding 0, which verification reports as a bad record at that seq.
func (r *AuditReader) auditScanRecord(rows *sql.Rows) (audit.Record, error) {
	var (
		rec                    audit.Record
		e                      = &rec.Event
		timeUS, band           int64
		roles, erases          string
		digest, payloadHash    []byte
		salt                   []byte
		vrms, query, justif    sql.NullString
		erasedBy               sql.NullInt64
		action, stage, dec, st string
	)
	err := rows.Scan(&e.Seq, &rec.Encoding, &timeUS, &e.Actor.Subject, &e.Actor.Name, &roles,
		&e.Actor.Session, &e.ClientAddr, &e.RequestID, &action, &stage, &e.IntentSeq, &dec, &e.Rule,
		&e.Reason.Purpose, &e.Reason.CaseRef, &e.Reason.OffenceCode, &e.AuthorityID, &e.SearchType, &band,
		&e.ResultCount, &digest, &st, &e.Error, &erases, &payloadHash,
		&salt, &vrms, &query, &justif, &erasedBy)
	if err != nil {
		return audit.Record{}, auditUnavailable("read audit event", err)
	}
	e.Chain = r.chain
	e.Time = time.UnixMicro(timeUS).UTC()
	e.Action, e.Stage, e.Decision, e.Status = audit.Action(action), audit.Stage(stage), audit.Effect(dec), audit.Status(st)
	e.Band = int(band)
	ok := len(digest) == len(e.ResultDigest) && len(payloadHash) == len(e.PayloadHash)
	copy(e.ResultDigest[:], digest)
	copy(e.PayloadHash[:], payloadHash)
	ok = auditUnmarshalList(roles, &e.Actor.Roles) && ok
	ok = auditUnmarshalList(erases, &e.Erases) && ok
	if vrms.Valid {
		p := &audit.Payload{Query: query.String, Justification: justif.String}
		ok = len(salt) == len(p.Salt) && auditUnmarshalList(vrms.String, &p.VRMs) && ok
		copy(p.Salt[:], salt)
		rec.Payload = p
	}
	rec.ErasedBy = erasedBy.Int64
	if !ok {
		rec.Encoding = 0
	}
	return rec, nil
}

// auditUnmarshalList decodes a JSON array column; an empty array is nil, as audit.DecodeEvent
// gives, so that re-encoding is exact.
func auditUnmarshalList[T any](s string, out *[]T) bool {
	var v []T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return false
	}
	if len(v) == 0 {
		v = nil
	}
	*out = v
	return true
}

func auditMarshalList[T any](v []T) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // strings and int64s always marshal
	return string(b)
}

// Scan calls fn for each stored record with from <= seq <= to, in seq order.
func (r *AuditReader) Scan(ctx context.Context, from, to int64, fn func(audit.Record) error) error {
	rows, err := r.db.QueryContext(ctx, auditRecordSelect+` WHERE e.seq BETWEEN ? AND ? ORDER BY e.seq`, from, to)
	if err != nil {
		return auditUnavailable("scan audit events", err)
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := r.auditScanRecord(rows)
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return auditUnavailable("scan audit events", err)
	}
	return nil
}

// auditMaxHashRead bounds one ReadStoredHashes call (32 MiB of hashes).
const auditMaxHashRead = 1 << 20

// ReadStoredHashes returns stored tree hashes lo..hi; missing ones are zero.
func (r *AuditReader) ReadStoredHashes(ctx context.Context, lo, hi int64) ([]tlog.Hash, error) {
	if lo < 0 || hi < lo || hi-lo >= auditMaxHashRead {
		return nil, fmt.Errorf("%w: stored hash range %d..%d", audit.ErrInvalid, lo, hi)
	}
	rows, err := r.db.QueryContext(ctx, `SELECT idx, hash FROM audit_hashes WHERE idx BETWEEN ? AND ? ORDER BY idx`, lo, hi)
	if err != nil {
		return nil, auditUnavailable("read audit hashes", err)
	}
	defer rows.Close()
	out := make([]tlog.Hash, hi-lo+1)
	for rows.Next() {
		var idx int64
		var h []byte
		if err := rows.Scan(&idx, &h); err != nil {
			return nil, auditUnavailable("read audit hashes", err)
		}
		if len(h) == tlog.HashSize {
			copy(out[idx-lo][:], h)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, auditUnavailable("read audit hashes", err)
	}
	return out, nil
}

// Checkpoints returns every stored checkpoint note in ascending size.
func (r *AuditReader) Checkpoints(ctx context.Context) ([][]byte, error) {
	rows, err := r.db.QueryContext(ctx, `SELECT note FROM audit_checkpoints ORDER BY size`)
	if err != nil {
		return nil, auditUnavailable("read audit checkpoints", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, auditUnavailable("read audit checkpoints", err)
		}
		out = append(out, []byte(n))
	}
	if err := rows.Err(); err != nil {
		return nil, auditUnavailable("read audit checkpoints", err)
	}
	return out, nil
}

// LatestCheckpoint returns the newest stored checkpoint. Its signature is not checked here: it is
// the log's own statement, served as is; clients check it with the published key.
func (r *AuditReader) LatestCheckpoint(ctx context.Context) (audit.Checkpoint, error) {
	var n string
	err := r.db.QueryRowContext(ctx, `SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Checkpoint{}, fmt.Errorf("%w: no checkpoint yet", audit.ErrNotFound)
	}
	if err != nil {
		return audit.Checkpoint{}, auditUnavailable("read audit checkpoint", err)
	}
	return audit.ParseCheckpointUnverified([]byte(n))
}

// Read returns one page of events matching f, oldest first (newest first with f.Newest).
func (r *AuditReader) Read(ctx context.Context, f audit.Filter) (audit.Page, error) {
	after, err := audit.DecodeCursor(f.Cursor)
	if err != nil {
		return audit.Page{}, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return audit.Page{}, fmt.Errorf("%w: since must be before until", audit.ErrInvalid)
	}
	var conds []string
	var args []any
	add := func(cond string, a any) { conds = append(conds, cond); args = append(args, a) }
	for _, c := range []struct {
		set  bool
		cond string
		arg  any
	}{
		{f.FromSeq > 0, "e.seq >= ?", f.FromSeq},
		{f.ToSeq > 0, "e.seq <= ?", f.ToSeq},
		{!f.Since.IsZero(), "e.time_us >= ?", f.Since.UnixMicro()},
		{!f.Until.IsZero(), "e.time_us < ?", f.Until.UnixMicro()},
		{f.Actor != "", "e.actor_subject = ?", f.Actor},
		{f.Action != "", "e.action = ?", string(f.Action)},
		{f.Stage != nil, "e.stage = ?", auditStageArg(f.Stage)},
		{f.Decision != "", "e.decision = ?", string(f.Decision)},
		{f.VRM != "", "e.seq IN (SELECT seq FROM audit_payload_vrms WHERE vrm = ?)", f.VRM},
		{f.Purpose != "", "e.purpose = ?", f.Purpose},
		{f.CaseRef != "", "e.case_ref = ?", f.CaseRef},
		{f.AuthorityID != "", "e.authority_id = ?", f.AuthorityID},
		{f.RequestID != "", "e.request_id = ?", f.RequestID},
		{after > 0 && !f.Newest, "e.seq > ?", after},
		{after > 0 && f.Newest, "e.seq < ?", after},
	} {
		if c.set {
			add(c.cond, c.arg)
		}
	}
	q := auditRecordSelect
	if len(conds) > 0 {
		q += " WHERE " + strings.Join(conds, " AND ")
	}
	order := "ASC"
	if f.Newest {
		order = "DESC"
	}
	limit := f.PageLimit()
	q += fmt.Sprintf(" ORDER BY e.seq %s LIMIT %d", order, limit+1)
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return audit.Page{}, auditUnavailable("read audit events", err)
	}
	defer rows.Close()
	var page audit.Page
	for rows.Next() {
		rec, err := r.auditScanRecord(rows)
		if err != nil {
			return audit.Page{}, err
		}
		page.Records = append(page.Records, rec)
	}
	if err := rows.Err(); err != nil {
		return audit.Page{}, auditUnavailable("read audit events", err)
	}
	if len(page.Records) > limit {
		page.Records = page.Records[:limit]
		page.Next = audit.EncodeCursor(page.Records[limit-1].Event.Seq)
	}
	return page, nil
}

func auditStageArg(s *audit.Stage) string {
	if s == nil {
		return ""
	}
	return string(*s)
}

// auditUnavailable wraps a storage failure as audit.ErrUnavailable (503, fail closed).
func auditUnavailable(what string, err error) error {
	if errors.Is(err, audit.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, audit.ErrUnavailable, err)
}
