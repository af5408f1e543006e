-- The holds store (preservation holds and the record of retention runs) as it was before goose:
-- every statement is IF NOT EXISTS, so on a database created then this step changes nothing but
-- goose_holds. Times are Unix milliseconds, 0 for the zero time. Scope and reason are JSON: they
-- are read whole and never queried by part.

-- +goose Up
CREATE TABLE IF NOT EXISTS holds_holds (
	id             TEXT PRIMARY KEY,
	case_ref       TEXT NOT NULL,
	reason         TEXT NOT NULL,
	scope          TEXT NOT NULL,
	review_ms      INTEGER NOT NULL,
	created_by     TEXT NOT NULL,
	created_ms     INTEGER NOT NULL,
	released_by    TEXT NOT NULL DEFAULT '',
	released_ms    INTEGER NOT NULL DEFAULT 0,
	release_reason TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE TABLE IF NOT EXISTS holds_retention_runs (
	id          TEXT PRIMARY KEY,
	started_ms  INTEGER NOT NULL,
	report      TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS holds_retention_runs_started ON holds_retention_runs(started_ms);
