-- The identity store as it was before goose: every statement is IF NOT EXISTS, so on a database
-- created then this step changes nothing but goose_identity. Times are Unix microseconds, 0 for
-- the zero time.

-- +goose Up
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
