package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/authority"
)

// AuthorityStore is authority.Store on SQLite. It commits with synchronous=FULL: an approval or a
// revocation that a power cut undid would bring a dead authority back, or lose a counted use.
type AuthorityStore struct {
	storeDB
}

var _ authority.Store = (*AuthorityStore)(nil)

// AuthorityOptions configures the authority store.
type AuthorityOptions struct {
	// MaxConns bounds the connection pool. Default 4.
	MaxConns int
}

// OpenAuthorityStore opens (creating if needed) the authority database at path. It may be the
// same file as another store's: the table is prefixed authority_.
func OpenAuthorityStore(ctx context.Context, path string, opts AuthorityOptions) (*AuthorityStore, error) {
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("%w: authority store max conns %d is negative", authority.ErrInvalid, opts.MaxConns)
	}
	db, err := openStore(ctx, path, opts.MaxConns, authoritySchema)
	if err != nil {
		return nil, err
	}
	return &AuthorityStore{db}, nil
}

// authoritySchema is the authority store's migration series (migrations/authority).
var authoritySchema = schema{name: "authority"}

const authorityColumns = `id, requester, requester_name, state, reason, scope, requested_exp_us, expires_us,
	max_uses, uses, hold_id, created_us, decided_by, decided_by_name, decided_us, decision_reason`

// Create stores a new authority.
func (s *AuthorityStore) Create(ctx context.Context, a authority.Authority) error {
	reason, err := json.Marshal(a.Reason)
	if err != nil {
		return fmt.Errorf("create authority: encode reason: %w", err)
	}
	scope, err := json.Marshal(a.Scope)
	if err != nil {
		return fmt.Errorf("create authority: encode scope: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO authority_requests (`+authorityColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Requester, a.RequesterName, string(a.State), string(reason), string(scope), unixMicro(a.RequestedExpiresAt),
		unixMicro(a.ExpiresAt), a.MaxUses, a.Uses, a.HoldID, unixMicro(a.CreatedAt), a.DecidedBy, a.DecidedByName,
		unixMicro(a.DecidedAt), a.DecisionReason)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint") {
			return fmt.Errorf("create authority %q: %w", a.ID, authority.ErrConflict)
		}
		return fmt.Errorf("create authority: %w: %w", authority.ErrUnavailable, err)
	}
	return nil
}

func scanAuthority(sc interface{ Scan(...any) error }) (authority.Authority, error) {
	var a authority.Authority
	var state, reason, scope string
	var reqExp, exp, created, decided int64
	if err := sc.Scan(&a.ID, &a.Requester, &a.RequesterName, &state, &reason, &scope, &reqExp, &exp,
		&a.MaxUses, &a.Uses, &a.HoldID, &created, &a.DecidedBy, &a.DecidedByName, &decided, &a.DecisionReason); err != nil {
		return authority.Authority{}, err
	}
	a.State = authority.State(state)
	if err := json.Unmarshal([]byte(reason), &a.Reason); err != nil {
		return authority.Authority{}, fmt.Errorf("decode stored reason of %s: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(scope), &a.Scope); err != nil {
		return authority.Authority{}, fmt.Errorf("decode stored scope of %s: %w", a.ID, err)
	}
	a.RequestedExpiresAt, a.ExpiresAt = fromUnixMicro(reqExp), fromUnixMicro(exp)
	a.CreatedAt, a.DecidedAt = fromUnixMicro(created), fromUnixMicro(decided)
	return a, nil
}

// Get returns one authority.
func (s *AuthorityStore) Get(ctx context.Context, id string) (authority.Authority, error) {
	return s.get(ctx, s.db, id)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *AuthorityStore) get(ctx context.Context, q queryer, id string) (authority.Authority, error) {
	a, err := scanAuthority(q.QueryRowContext(ctx, `SELECT `+authorityColumns+` FROM authority_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return authority.Authority{}, fmt.Errorf("authority %q: %w", id, authority.ErrNotFound)
	}
	if err != nil {
		return authority.Authority{}, fmt.Errorf("get authority: %w: %w", authority.ErrUnavailable, err)
	}
	return a, nil
}

// ListByRequester returns the requester's authorities, newest first.
func (s *AuthorityStore) ListByRequester(ctx context.Context, requester string, limit int) ([]authority.Authority, error) {
	return s.list(ctx, `WHERE requester = ? ORDER BY created_us DESC, id DESC LIMIT ?`, requester, limit)
}

// ListPending returns pending authorities, oldest first.
func (s *AuthorityStore) ListPending(ctx context.Context, limit int) ([]authority.Authority, error) {
	return s.list(ctx, `WHERE state = ? ORDER BY created_us ASC, id ASC LIMIT ?`, string(authority.Pending), limit)
}

func (s *AuthorityStore) list(ctx context.Context, where string, args ...any) ([]authority.Authority, error) {
	return queryList(ctx, s.db, "list authorities", authority.ErrUnavailable, scanAuthority,
		`SELECT `+authorityColumns+` FROM authority_requests `+where, args...)
}

// Transition applies t if the authority is in t.From. The conditional UPDATE is the check: of two
// officers deciding at once, one changes the row and the other changes nothing and is told so.
func (s *AuthorityStore) Transition(ctx context.Context, id string, t authority.Transition) (authority.Authority, error) {
	tx, err := s.db.BeginTx(ctx, nil) // IMMEDIATE (the DSN's _txlock): the write lock is taken at once
	if err != nil {
		return authority.Authority{}, fmt.Errorf("transition authority: %w: %w", authority.ErrUnavailable, err)
	}
	defer tx.Rollback()
	set := `state = ?, decided_by = ?, decided_by_name = ?, decided_us = ?, decision_reason = ?`
	args := []any{string(t.To), t.By, t.ByName, unixMicro(t.At), t.Reason}
	if t.To == authority.Expired {
		// Expiry is not a decision: who decided the authority stays on record.
		set, args = `state = ?`, []any{string(t.To)}
	}
	if t.Scope != nil {
		scope, err := json.Marshal(t.Scope)
		if err != nil {
			return authority.Authority{}, fmt.Errorf("transition authority: encode scope: %w", err)
		}
		set += `, scope = ?, expires_us = ?, max_uses = ?`
		args = append(args, string(scope), unixMicro(t.ExpiresAt), t.MaxUses)
	}
	res, err := tx.ExecContext(ctx, `UPDATE authority_requests SET `+set+` WHERE id = ? AND state = ?`, append(args, id, string(t.From))...)
	n, err := rowsAffected(res, err)
	if err != nil {
		return authority.Authority{}, fmt.Errorf("transition authority: %w: %w", authority.ErrUnavailable, err)
	}
	a, err := s.get(ctx, tx, id)
	if err != nil {
		return authority.Authority{}, err
	}
	if n == 0 {
		return authority.Authority{}, fmt.Errorf("authority %s is %s, not %s: %w", id, a.State, t.From, authority.ErrConflict)
	}
	if err := tx.Commit(); err != nil {
		return authority.Authority{}, fmt.Errorf("transition authority: %w: %w", authority.ErrUnavailable, err)
	}
	return a, nil
}

// Spend counts one use with a conditional UPDATE: the row changes only while the authority is
// approved, the subject's, unexpired and not used up, so concurrent spends serialise on SQLite's
// write lock and exactly max_uses of them change it.
func (s *AuthorityStore) Spend(ctx context.Context, id, subject string, now time.Time) (authority.Authority, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return authority.Authority{}, fmt.Errorf("spend authority: %w: %w", authority.ErrUnavailable, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE authority_requests
		SET uses = uses + 1, state = CASE WHEN uses + 1 >= max_uses THEN ? ELSE state END
		WHERE id = ? AND state = ? AND requester = ? AND expires_us > ? AND uses < max_uses`,
		string(authority.Exhausted), id, string(authority.Approved), subject, unixMicro(now))
	n, err := rowsAffected(res, err)
	if err != nil {
		return authority.Authority{}, fmt.Errorf("spend authority: %w: %w", authority.ErrUnavailable, err)
	}
	a, err := s.get(ctx, tx, id)
	if err != nil {
		return authority.Authority{}, err
	}
	if n == 0 {
		return authority.Authority{}, fmt.Errorf("authority %s cannot be spent (%s, %d of %d used): %w", id, a.State, a.Uses, a.MaxUses, authority.ErrConflict)
	}
	if err := tx.Commit(); err != nil {
		return authority.Authority{}, fmt.Errorf("spend authority: %w: %w", authority.ErrUnavailable, err)
	}
	return a, nil
}
