package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/anpr-portal/anpr/internal/identity"
)

// CreateLoginFlow stores a login in progress.
func (s *IdentityStore) CreateLoginFlow(ctx context.Context, f identity.LoginFlow) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO identity_login_flows
		(state_hash, binding_hash, nonce, pkce_verifier, return_to, created_us, expires_us) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		f.StateHash, f.BindingHash, f.Nonce, f.PKCEVerifier, f.ReturnTo, unixMicro(f.CreatedAt), unixMicro(f.ExpiresAt))
	if err != nil {
		return fmt.Errorf("create login flow: %w", err)
	}
	return nil
}

// ConsumeLoginFlow deletes and returns the flow in one statement, so two callbacks racing with
// the same state cannot both get it.
func (s *IdentityStore) ConsumeLoginFlow(ctx context.Context, stateHash, bindingHash []byte) (identity.LoginFlow, error) {
	f := identity.LoginFlow{StateHash: stateHash, BindingHash: bindingHash}
	var created, expires int64
	err := s.db.QueryRowContext(ctx, `DELETE FROM identity_login_flows WHERE state_hash = ? AND binding_hash = ?
		RETURNING nonce, pkce_verifier, return_to, created_us, expires_us`, stateHash, bindingHash).
		Scan(&f.Nonce, &f.PKCEVerifier, &f.ReturnTo, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.LoginFlow{}, fmt.Errorf("login flow: %w", identity.ErrNotFound)
	}
	if err != nil {
		return identity.LoginFlow{}, fmt.Errorf("consume login flow: %w", err)
	}
	f.CreatedAt, f.ExpiresAt = fromUnixMicro(created), fromUnixMicro(expires)
	return f, nil
}

// PurgeLoginFlows deletes flows expired at now.
func (s *IdentityStore) PurgeLoginFlows(ctx context.Context, now time.Time) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM identity_login_flows WHERE expires_us <= ?`, unixMicro(now)); err != nil {
		return fmt.Errorf("purge login flows: %w", err)
	}
	return nil
}

// CreateSession stores a new session.
func (s *IdentityStore) CreateSession(ctx context.Context, x identity.Session) error {
	roles, err := identityJSON(x.IdPRoles)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO identity_sessions
		(id, subject, name, email, idp_roles, idp_rank, csrf_secret, id_token, client_addr, created_us, expires_us, last_seen_us, revoked_us, revoked_reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		x.ID, x.Subject, x.Name, x.Email, roles, x.IdPRank, x.CSRFSecret, x.IDToken, x.ClientAddr,
		unixMicro(x.CreatedAt), unixMicro(x.ExpiresAt), unixMicro(x.LastSeenAt), unixMicro(x.RevokedAt), x.RevokedReason)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// GetSession returns a session, live or not.
func (s *IdentityStore) GetSession(ctx context.Context, id string) (identity.Session, error) {
	x := identity.Session{ID: id}
	var roles string
	var created, expires, seen, revoked int64
	err := s.db.QueryRowContext(ctx, `SELECT subject, name, email, idp_roles, idp_rank, csrf_secret, id_token, client_addr,
		created_us, expires_us, last_seen_us, revoked_us, revoked_reason FROM identity_sessions WHERE id = ?`, id).
		Scan(&x.Subject, &x.Name, &x.Email, &roles, &x.IdPRank, &x.CSRFSecret, &x.IDToken, &x.ClientAddr,
			&created, &expires, &seen, &revoked, &x.RevokedReason)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.Session{}, fmt.Errorf("session: %w", identity.ErrNotFound)
	}
	if err != nil {
		return identity.Session{}, fmt.Errorf("get session: %w", err)
	}
	if x.IdPRoles, err = identityList(roles); err != nil {
		return identity.Session{}, fmt.Errorf("get session: %w", err)
	}
	x.CreatedAt, x.ExpiresAt, x.LastSeenAt, x.RevokedAt = fromUnixMicro(created), fromUnixMicro(expires), fromUnixMicro(seen), fromUnixMicro(revoked)
	return x, nil
}

// TouchSession moves last-seen forward (never back: concurrent requests may finish out of order).
func (s *IdentityStore) TouchSession(ctx context.Context, id string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE identity_sessions SET last_seen_us = max(last_seen_us, ?) WHERE id = ?`, unixMicro(at), id); err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// RevokeSession ends a live session.
func (s *IdentityStore) RevokeSession(ctx context.Context, id string, at time.Time, reason string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE identity_sessions SET revoked_us = ?, revoked_reason = ? WHERE id = ? AND revoked_us = 0`,
		unixMicro(at), reason, id)
	n, err := rowsAffected(res, err)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("live session: %w", identity.ErrNotFound)
	}
	return nil
}

// RevokeSubjectSessions ends every live session of subject.
func (s *IdentityStore) RevokeSubjectSessions(ctx context.Context, subject string, at time.Time, reason string) (int, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE identity_sessions SET revoked_us = ?, revoked_reason = ?
		WHERE subject = ? AND revoked_us = 0 AND expires_us > ?`, unixMicro(at), reason, subject, unixMicro(at))
	n, err := rowsAffected(res, err)
	if err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	return int(n), nil
}

// PurgeSessions deletes sessions expired or revoked at now. Nothing is lost to the
// audit: logins and logouts are audit events.
func (s *IdentityStore) PurgeSessions(ctx context.Context, now time.Time) error {
	us := unixMicro(now)
	if _, err := s.db.ExecContext(ctx, `DELETE FROM identity_sessions WHERE expires_us <= ? OR (revoked_us != 0 AND revoked_us <= ?)`, us, us); err != nil {
		return fmt.Errorf("purge sessions: %w", err)
	}
	return nil
}

// RecordLogin creates or updates a user.
func (s *IdentityStore) RecordLogin(ctx context.Context, u identity.User) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO identity_users (subject, name, email, first_login_us, last_login_us)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(subject) DO UPDATE SET name = excluded.name, email = excluded.email,
			last_login_us = max(last_login_us, excluded.last_login_us)`,
		u.Subject, u.Name, u.Email, unixMicro(u.FirstLoginAt), unixMicro(u.LastLoginAt))
	if err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return nil
}

// GetUser returns one user.
func (s *IdentityStore) GetUser(ctx context.Context, subject string) (identity.User, error) {
	u := identity.User{Subject: subject}
	var first, last int64
	err := s.db.QueryRowContext(ctx, `SELECT name, email, first_login_us, last_login_us FROM identity_users WHERE subject = ?`, subject).
		Scan(&u.Name, &u.Email, &first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.User{}, fmt.Errorf("user: %w", identity.ErrNotFound)
	}
	if err != nil {
		return identity.User{}, fmt.Errorf("get user: %w", err)
	}
	u.FirstLoginAt, u.LastLoginAt = fromUnixMicro(first), fromUnixMicro(last)
	return u, nil
}

// ListUsers returns every user, by name.
func (s *IdentityStore) ListUsers(ctx context.Context) ([]identity.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT subject, name, email, first_login_us, last_login_us FROM identity_users ORDER BY name, subject`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []identity.User
	for rows.Next() {
		var u identity.User
		var first, last int64
		if err := rows.Scan(&u.Subject, &u.Name, &u.Email, &first, &last); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.FirstLoginAt, u.LastLoginAt = fromUnixMicro(first), fromUnixMicro(last)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}
