package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/identity"
)

// CreateGrant adds a grant unless the subject already holds that role by an active grant. The
// check and the insert share one IMMEDIATE transaction (the DSN's _txlock), so two managers
// granting at once cannot both succeed.
func (s *IdentityStore) CreateGrant(ctx context.Context, g identity.Grant) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	defer tx.Rollback()
	var n int
	at := unixMicro(g.GrantedAt)
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM identity_grants
		WHERE subject = ? AND role = ? AND revoked_us = 0 AND (expires_us = 0 OR expires_us > ?)`, g.Subject, g.Role, at).Scan(&n); err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("%q already holds an active %s grant: %w", g.Subject, g.Role, identity.ErrConflict)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO identity_grants
		(id, subject, role, rank, reason, granted_by, granted_us, expires_us, revoked_us, revoked_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ID, g.Subject, g.Role, g.Rank, g.Reason, g.GrantedBy, at, unixMicro(g.ExpiresAt), unixMicro(g.RevokedAt), g.RevokedBy); err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create grant: %w", err)
	}
	return nil
}

const identityGrantColumns = `id, subject, role, rank, reason, granted_by, granted_us, expires_us, revoked_us, revoked_by`

func identityScanGrant(sc interface{ Scan(...any) error }) (identity.Grant, error) {
	var g identity.Grant
	var granted, expires, revoked int64
	if err := sc.Scan(&g.ID, &g.Subject, &g.Role, &g.Rank, &g.Reason, &g.GrantedBy, &granted, &expires, &revoked, &g.RevokedBy); err != nil {
		return identity.Grant{}, err
	}
	g.GrantedAt, g.ExpiresAt, g.RevokedAt = fromUnixMicro(granted), fromUnixMicro(expires), fromUnixMicro(revoked)
	return g, nil
}

// GetGrant returns one grant.
func (s *IdentityStore) GetGrant(ctx context.Context, id string) (identity.Grant, error) {
	g, err := identityScanGrant(s.db.QueryRowContext(ctx, `SELECT `+identityGrantColumns+` FROM identity_grants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Grant{}, fmt.Errorf("grant %q: %w", id, identity.ErrNotFound)
	}
	if err != nil {
		return identity.Grant{}, fmt.Errorf("get grant: %w", err)
	}
	return g, nil
}

// RevokeGrant marks a grant revoked.
func (s *IdentityStore) RevokeGrant(ctx context.Context, id, by string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE identity_grants SET revoked_us = ?, revoked_by = ? WHERE id = ? AND revoked_us = 0`,
		unixMicro(at), by, id)
	if n, err := rowsAffected(res, err); err != nil {
		return fmt.Errorf("revoke grant: %w", err)
	} else if n == 1 {
		return nil
	}
	if _, err := s.GetGrant(ctx, id); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	return fmt.Errorf("grant %q is already revoked: %w", id, identity.ErrConflict)
}

// ListGrants returns grants matching f, newest first.
func (s *IdentityStore) ListGrants(ctx context.Context, f identity.GrantFilter) ([]identity.Grant, error) {
	var where []string
	var args []any
	if f.Subject != "" {
		where, args = append(where, "subject = ?"), append(args, f.Subject)
	}
	if !f.ActiveAt.IsZero() {
		at := unixMicro(f.ActiveAt)
		where = append(where, "revoked_us = 0", "granted_us <= ?", "(expires_us = 0 OR expires_us > ?)")
		args = append(args, at, at)
	}
	q := `SELECT ` + identityGrantColumns + ` FROM identity_grants`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY granted_us DESC, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	defer rows.Close()
	var out []identity.Grant
	for rows.Next() {
		g, err := identityScanGrant(rows)
		if err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return out, nil
}
