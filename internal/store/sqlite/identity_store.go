package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/anpr-portal/anpr/internal/identity"
)

// IdentityStore is identity.Store on SQLite: login flows, sessions, users, API keys and grants.
// It commits with synchronous=FULL: a logout, a revoked key or a revoked grant must survive a
// power cut, or a restart would bring the credential back to life.
type IdentityStore struct {
	storeDB
}

var _ identity.Store = (*IdentityStore)(nil)

// IdentityOptions configures the identity store.
type IdentityOptions struct {
	// MaxConns bounds the connection pool. Default 4.
	MaxConns int
}

// OpenIdentityStore opens (creating if needed) the identity database at path. It may be the same
// file as another store's: the tables are prefixed identity_.
func OpenIdentityStore(ctx context.Context, path string, opts IdentityOptions) (*IdentityStore, error) {
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("%w: identity store max conns %d is negative", identity.ErrInvalid, opts.MaxConns)
	}
	db, err := openStore(ctx, "identity", path, opts.MaxConns, identitySchema)
	if err != nil {
		return nil, err
	}
	return &IdentityStore{db}, nil
}

// Times are stored as Unix microseconds, 0 for the zero time.
const identitySchema = `
CREATE TABLE IF NOT EXISTS identity_login_flows (
	state_hash    BLOB PRIMARY KEY,
	binding_hash  BLOB NOT NULL,
	nonce         TEXT NOT NULL,
	pkce_verifier TEXT NOT NULL,
	return_to     TEXT NOT NULL,
	created_us    INTEGER NOT NULL,
	expires_us    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS identity_login_flows_expiry ON identity_login_flows(expires_us);

CREATE TABLE IF NOT EXISTS identity_sessions (
	id             TEXT PRIMARY KEY,
	subject        TEXT NOT NULL,
	name           TEXT NOT NULL,
	email          TEXT NOT NULL,
	idp_roles      TEXT NOT NULL, -- JSON array
	idp_rank       TEXT NOT NULL,
	csrf_secret    BLOB NOT NULL,
	id_token       TEXT NOT NULL,
	client_addr    TEXT NOT NULL,
	created_us     INTEGER NOT NULL,
	expires_us     INTEGER NOT NULL,
	last_seen_us   INTEGER NOT NULL,
	revoked_us     INTEGER NOT NULL DEFAULT 0,
	revoked_reason TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS identity_sessions_subject ON identity_sessions(subject);
CREATE INDEX IF NOT EXISTS identity_sessions_expiry ON identity_sessions(expires_us);

CREATE TABLE IF NOT EXISTS identity_users (
	subject        TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	email          TEXT NOT NULL,
	first_login_us INTEGER NOT NULL,
	last_login_us  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS identity_api_keys (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	hash         BLOB NOT NULL,
	scopes       TEXT NOT NULL, -- JSON array
	created_by   TEXT NOT NULL,
	created_us   INTEGER NOT NULL,
	expires_us   INTEGER NOT NULL,
	revoked_us   INTEGER NOT NULL DEFAULT 0,
	revoked_by   TEXT NOT NULL DEFAULT '',
	last_used_us INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS identity_grants (
	id         TEXT PRIMARY KEY,
	subject    TEXT NOT NULL,
	role       TEXT NOT NULL,
	rank       TEXT NOT NULL,
	reason     TEXT NOT NULL,
	granted_by TEXT NOT NULL,
	granted_us INTEGER NOT NULL,
	expires_us INTEGER NOT NULL DEFAULT 0,
	revoked_us INTEGER NOT NULL DEFAULT 0,
	revoked_by TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS identity_grants_subject ON identity_grants(subject, revoked_us);

CREATE TABLE IF NOT EXISTS identity_subject_links (
	id               TEXT PRIMARY KEY,
	issuer           TEXT NOT NULL,
	subject          TEXT NOT NULL,
	previous_issuer  TEXT NOT NULL,
	previous_subject TEXT NOT NULL,
	reason           TEXT NOT NULL,
	linked_by        TEXT NOT NULL,
	linked_us        INTEGER NOT NULL,
	revoked_us       INTEGER NOT NULL DEFAULT 0,
	revoked_by       TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
-- One live link per identity: the second insert fails, whoever makes it.
CREATE UNIQUE INDEX IF NOT EXISTS identity_subject_links_live ON identity_subject_links(issuer, subject) WHERE revoked_us = 0;
`

func identityJSON(v []string) (string, error) {
	if v == nil {
		v = []string{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode list: %w", err)
	}
	return string(b), nil
}

func identityList(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode stored list: %w", err)
	}
	return v, nil
}
