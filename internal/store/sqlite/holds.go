package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/holds"
	"github.com/anpr-portal/anpr/internal/retention"
)

// HoldStore is holds.Store and retention.RunStore on SQLite. It commits with synchronous=FULL:
// a hold protects evidence from deletion, and one lost in a power cut could let retention delete
// what it was placed to keep.
type HoldStore struct {
	storeDB
}

var (
	_ holds.Store        = (*HoldStore)(nil)
	_ retention.RunStore = (*HoldStore)(nil)
)

// OpenHoldStore opens (creating if needed) the holds database at path. It may share a file with
// other stores: its tables are prefixed holds_.
func OpenHoldStore(ctx context.Context, path string) (*HoldStore, error) {
	db, err := openStore(ctx, path, 4, holdsSchema)
	if err != nil {
		return nil, err
	}
	return &HoldStore{db}, nil
}

// holdsSchema is the holds store's migration series (migrations/holds).
var holdsSchema = schema{name: "holds"}

// CreateHold stores a new hold.
func (s *HoldStore) CreateHold(ctx context.Context, h holds.Hold) error {
	reason, err := json.Marshal(h.Reason)
	if err != nil {
		return fmt.Errorf("create hold: %w", err)
	}
	scope, err := json.Marshal(h.Scope)
	if err != nil {
		return fmt.Errorf("create hold: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO holds_holds
		(id, case_ref, reason, scope, review_ms, created_by, created_ms, released_by, released_ms, release_reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.ID, h.CaseRef, string(reason), string(scope), unixMilli(h.ReviewAt), h.CreatedBy, unixMilli(h.CreatedAt),
		h.ReleasedBy, unixMilli(h.ReleasedAt), h.ReleaseReason)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return fmt.Errorf("create hold %s: %w", h.ID, holds.ErrConflict)
		}
		return fmt.Errorf("create hold: %w: %w", holds.ErrUnavailable, err)
	}
	return nil
}

const holdsColumns = `id, case_ref, reason, scope, review_ms, created_by, created_ms, released_by, released_ms, release_reason`

func holdsScan(sc interface{ Scan(...any) error }) (holds.Hold, error) {
	var h holds.Hold
	var reason, scope string
	var review, created, released int64
	if err := sc.Scan(&h.ID, &h.CaseRef, &reason, &scope, &review, &h.CreatedBy, &created, &h.ReleasedBy, &released, &h.ReleaseReason); err != nil {
		return holds.Hold{}, err
	}
	var r authz.Reason
	if err := json.Unmarshal([]byte(reason), &r); err != nil {
		return holds.Hold{}, fmt.Errorf("hold %s: reason: %w", h.ID, err)
	}
	if err := json.Unmarshal([]byte(scope), &h.Scope); err != nil {
		return holds.Hold{}, fmt.Errorf("hold %s: scope: %w", h.ID, err)
	}
	h.Reason = r
	h.ReviewAt, h.CreatedAt, h.ReleasedAt = fromUnixMilli(review), fromUnixMilli(created), fromUnixMilli(released)
	return h, nil
}

// GetHold returns one hold.
func (s *HoldStore) GetHold(ctx context.Context, id string) (holds.Hold, error) {
	h, err := holdsScan(s.db.QueryRowContext(ctx, `SELECT `+holdsColumns+` FROM holds_holds WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return holds.Hold{}, fmt.Errorf("hold %q: %w", id, holds.ErrNotFound)
	}
	if err != nil {
		return holds.Hold{}, fmt.Errorf("get hold %q: %w: %w", id, holds.ErrUnavailable, err)
	}
	return h, nil
}

// ListHolds returns every hold, newest first.
func (s *HoldStore) ListHolds(ctx context.Context) ([]holds.Hold, error) {
	return queryList(ctx, s.db, "list holds", holds.ErrUnavailable, holdsScan,
		`SELECT `+holdsColumns+` FROM holds_holds ORDER BY created_ms DESC, id DESC`)
}

// ReleaseHold releases an active hold. The condition on released_ms makes it a compare-and-set:
// of two concurrent releases exactly one changes the row.
func (s *HoldStore) ReleaseHold(ctx context.Context, id, by, reason string, at time.Time) (holds.Hold, error) {
	n, err := rowsAffected(s.db.ExecContext(ctx, `UPDATE holds_holds SET released_by = ?, released_ms = ?, release_reason = ?
		WHERE id = ? AND released_ms = 0`, by, unixMilli(at), reason, id))
	if err != nil {
		return holds.Hold{}, fmt.Errorf("release hold %q: %w: %w", id, holds.ErrUnavailable, err)
	}
	h, err := s.GetHold(ctx, id)
	if err != nil {
		return holds.Hold{}, err
	}
	if n == 0 {
		return holds.Hold{}, fmt.Errorf("release hold %q: %w: already released", id, holds.ErrConflict)
	}
	return h, nil
}

// RecordRun stores a run report (again with the same id replaces it).
func (s *HoldStore) RecordRun(ctx context.Context, r retention.Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("record retention run: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO holds_retention_runs (id, started_ms, report) VALUES (?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET report = excluded.report`, r.ID, unixMilli(r.StartedAt), string(b)); err != nil {
		return fmt.Errorf("record retention run: %w: %w", holds.ErrUnavailable, err)
	}
	return nil
}

// ListRuns returns up to limit runs, newest first.
func (s *HoldStore) ListRuns(ctx context.Context, limit int) ([]retention.Run, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("list retention runs: limit %d: %w", limit, holds.ErrInvalid)
	}
	return queryList(ctx, s.db, "list retention runs", holds.ErrUnavailable, scanRun,
		`SELECT report FROM holds_retention_runs ORDER BY started_ms DESC, id DESC LIMIT ?`, limit)
}

// scanRun decodes one stored run report.
func scanRun(rows interface{ Scan(...any) error }) (retention.Run, error) {
	var raw string
	if err := rows.Scan(&raw); err != nil {
		return retention.Run{}, err
	}
	var r retention.Run
	if err := json.Unmarshal([]byte(raw), &r); err != nil {
		return retention.Run{}, fmt.Errorf("decode: %w", err)
	}
	return r, nil
}
