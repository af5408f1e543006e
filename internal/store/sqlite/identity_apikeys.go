package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/anpr-portal/anpr/internal/identity"
)

// CreateAPIKey stores a key and the SHA-256 of its secret.
func (s *IdentityStore) CreateAPIKey(ctx context.Context, k identity.APIKey, hash []byte) error {
	scopes, err := identityJSON(k.Scopes)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO identity_api_keys
		(id, name, hash, scopes, created_by, created_us, expires_us, revoked_us, revoked_by, last_used_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, hash, scopes, k.CreatedBy, unixMicro(k.CreatedAt), unixMicro(k.ExpiresAt),
		unixMicro(k.RevokedAt), k.RevokedBy, unixMicro(k.LastUsedAt))
	if err != nil {
		return fmt.Errorf("create API key: %w", err)
	}
	return nil
}

const identityAPIKeyColumns = `id, name, scopes, created_by, created_us, expires_us, revoked_us, revoked_by, last_used_us`

func identityScanAPIKey(sc interface{ Scan(...any) error }, extra ...any) (identity.APIKey, error) {
	var k identity.APIKey
	var scopes string
	var created, expires, revoked, used int64
	dest := append([]any{&k.ID, &k.Name, &scopes, &k.CreatedBy, &created, &expires, &revoked, &k.RevokedBy, &used}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return identity.APIKey{}, err
	}
	var err error
	if k.Scopes, err = identityList(scopes); err != nil {
		return identity.APIKey{}, err
	}
	k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt = fromUnixMicro(created), fromUnixMicro(expires), fromUnixMicro(revoked), fromUnixMicro(used)
	return k, nil
}

// GetAPIKey returns a key and its stored hash.
func (s *IdentityStore) GetAPIKey(ctx context.Context, id string) (identity.APIKey, []byte, error) {
	var hash []byte
	row := s.db.QueryRowContext(ctx, `SELECT `+identityAPIKeyColumns+`, hash FROM identity_api_keys WHERE id = ?`, id)
	k, err := identityScanAPIKey(row, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.APIKey{}, nil, fmt.Errorf("API key %q: %w", id, identity.ErrNotFound)
	}
	if err != nil {
		return identity.APIKey{}, nil, fmt.Errorf("get API key: %w", err)
	}
	return k, hash, nil
}

// ListAPIKeys returns every key, newest first, without hashes.
func (s *IdentityStore) ListAPIKeys(ctx context.Context) ([]identity.APIKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+identityAPIKeyColumns+` FROM identity_api_keys ORDER BY created_us DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	defer rows.Close()
	var out []identity.APIKey
	for rows.Next() {
		k, err := identityScanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list API keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey marks a key revoked.
func (s *IdentityStore) RevokeAPIKey(ctx context.Context, id, by string, at time.Time) error {
	res, err := s.db.ExecContext(ctx, `UPDATE identity_api_keys SET revoked_us = ?, revoked_by = ? WHERE id = ? AND revoked_us = 0`,
		unixMicro(at), by, id)
	if n, err := rowsAffected(res, err); err != nil {
		return fmt.Errorf("revoke API key: %w", err)
	} else if n == 1 {
		return nil
	}
	if _, _, err := s.GetAPIKey(ctx, id); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	return fmt.Errorf("API key %q is already revoked: %w", id, identity.ErrConflict)
}

// TouchAPIKey records the key's latest use.
func (s *IdentityStore) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE identity_api_keys SET last_used_us = max(last_used_us, ?) WHERE id = ?`, unixMicro(at), id); err != nil {
		return fmt.Errorf("touch API key: %w", err)
	}
	return nil
}
