-- The authority store as it was before goose: every statement is IF NOT EXISTS, so on a database
-- created then this step changes nothing but goose_authority. Times are Unix microseconds, 0 for
-- the zero time. The reason and scope are JSON: they are read whole and never queried by part.

-- +goose Up
CREATE TABLE IF NOT EXISTS authority_requests (
	id               TEXT PRIMARY KEY,
	requester        TEXT NOT NULL,
	requester_name   TEXT NOT NULL,
	state            TEXT NOT NULL,
	reason           TEXT NOT NULL, -- JSON authz.Reason
	scope            TEXT NOT NULL, -- JSON authority.Scope
	requested_exp_us INTEGER NOT NULL,
	expires_us       INTEGER NOT NULL,
	max_uses         INTEGER NOT NULL,
	uses             INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0 AND uses <= max_uses),
	hold_id          TEXT NOT NULL,
	created_us       INTEGER NOT NULL,
	decided_by       TEXT NOT NULL DEFAULT '',
	decided_by_name  TEXT NOT NULL DEFAULT '',
	decided_us       INTEGER NOT NULL DEFAULT 0,
	decision_reason  TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS authority_requests_requester ON authority_requests(requester, created_us);
CREATE INDEX IF NOT EXISTS authority_requests_state ON authority_requests(state, created_us);
