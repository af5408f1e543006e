-- The audit database (one chain per file) as the hand-rolled migrations (audit_meta rows
-- schema_version.N) left it at version 1. Every statement is IF NOT EXISTS, so on a database those
-- migrations created this step changes nothing but the records: goose_audit gains version 1, and
-- audit_meta gains schema_version.2, which a binary from before goose refuses ("run a newer
-- binary") instead of writing to a schema it does not know.
--
-- Design notes:
--
--   - Append-only by construction. There is no UPDATE or DELETE statement on these tables in the
--     code, and triggers abort any that someone else runs: UPDATE on every table, DELETE on every
--     table but the payload ones, and INSERT that would replace a row (INSERT OR REPLACE deletes
--     without firing delete triggers). Event and hash inserts must also extend their sequence by
--     exactly one, so even a direct INSERT cannot fill a gap or rewrite history. A later step
--     may add tables and triggers; it never drops or weakens a guard.
--   - Payloads (personal data) are the one thing that may be deleted, and only after an erasure
--     row names them; erasure rows must point at a later audit.erase event. That event lists the
--     erased seqs inside the signed tree, so verify can tell a lawful erasure (redacted) from a
--     deletion (missing).
--   - Events are stored as columns, not as the encoded blob: the auditor API filters on them, and
--     verify re-encodes from exactly these columns, so an edit anywhere is an edit verify sees.
--     encoding records the canonical encoding version each event was sealed with.
--   - audit_hashes is the tlog hash storage (golang.org/x/mod/sumdb/tlog stored hash indexes):
--     leaf hashes plus every completed subtree, about two per event, for O(log n) proofs.
--   - STRICT tables; times are Unix microseconds (audit.TimePrecision).

-- +goose Up
CREATE TABLE IF NOT EXISTS audit_meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS audit_events (
	seq           INTEGER PRIMARY KEY, -- 1-based; Merkle leaf index seq-1
	encoding      INTEGER NOT NULL,
	time_us       INTEGER NOT NULL,
	actor_subject TEXT    NOT NULL,
	actor_name    TEXT    NOT NULL,
	actor_roles   TEXT    NOT NULL, -- JSON array of strings
	actor_session TEXT    NOT NULL,
	client_addr   TEXT    NOT NULL,
	request_id    TEXT    NOT NULL,
	action        TEXT    NOT NULL,
	stage         TEXT    NOT NULL,
	intent_seq    INTEGER NOT NULL,
	decision      TEXT    NOT NULL,
	rule          TEXT    NOT NULL,
	purpose       TEXT    NOT NULL,
	case_ref      TEXT    NOT NULL,
	offence_code  TEXT    NOT NULL,
	authority_id  TEXT    NOT NULL,
	search_type   TEXT    NOT NULL,
	band          INTEGER NOT NULL,
	result_count  INTEGER NOT NULL,
	result_digest BLOB    NOT NULL, -- 32 bytes, zeros for none
	status        TEXT    NOT NULL,
	error         TEXT    NOT NULL,
	erases        TEXT    NOT NULL, -- JSON array of seqs
	payload_hash  BLOB    NOT NULL  -- 32 bytes, zeros for no payload
) STRICT;
CREATE INDEX IF NOT EXISTS audit_events_time     ON audit_events(time_us);
CREATE INDEX IF NOT EXISTS audit_events_actor    ON audit_events(actor_subject, time_us);
CREATE INDEX IF NOT EXISTS audit_events_action   ON audit_events(action, time_us);
CREATE INDEX IF NOT EXISTS audit_events_case     ON audit_events(case_ref) WHERE case_ref != '';
CREATE INDEX IF NOT EXISTS audit_events_authority ON audit_events(authority_id) WHERE authority_id != '';
CREATE INDEX IF NOT EXISTS audit_events_request  ON audit_events(request_id) WHERE request_id != '';

CREATE TABLE IF NOT EXISTS audit_payloads (
	seq           INTEGER PRIMARY KEY,
	salt          BLOB NOT NULL,
	vrms          TEXT NOT NULL, -- JSON array of strings
	query         TEXT NOT NULL,
	justification TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS audit_payload_vrms (
	vrm TEXT    NOT NULL,
	seq INTEGER NOT NULL,
	PRIMARY KEY (vrm, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS audit_hashes (
	idx  INTEGER PRIMARY KEY,
	hash BLOB NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS audit_checkpoints (
	size    INTEGER PRIMARY KEY,
	time_us INTEGER NOT NULL,
	note    TEXT    NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS audit_erasures (
	seq       INTEGER PRIMARY KEY,
	erased_by INTEGER NOT NULL
) STRICT;

-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_events_next BEFORE INSERT ON audit_events
	WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit_events)
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only: seq must extend the log by one'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_hashes_next BEFORE INSERT ON audit_hashes
	WHEN NEW.idx IS NOT (SELECT coalesce(max(idx), -1) + 1 FROM audit_hashes)
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only: hash index must extend the tree by one'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_checkpoints_next BEFORE INSERT ON audit_checkpoints
	WHEN NEW.size <= (SELECT coalesce(max(size), 0) FROM audit_checkpoints)
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only: checkpoints only grow'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_payloads_event BEFORE INSERT ON audit_payloads
	WHEN NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq)
	  OR EXISTS (SELECT 1 FROM audit_payloads WHERE seq = NEW.seq)
	  OR EXISTS (SELECT 1 FROM audit_erasures WHERE seq = NEW.seq)
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only: a payload belongs to one new event'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_erasures_event BEFORE INSERT ON audit_erasures
	WHEN NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.erased_by AND action = 'audit.erase')
	  OR NEW.erased_by <= NEW.seq
	  OR EXISTS (SELECT 1 FROM audit_erasures WHERE seq = NEW.seq)
	BEGIN SELECT RAISE(ABORT, 'audit erasure must name a later erasure event, once'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_meta_once BEFORE INSERT ON audit_meta
	WHEN EXISTS (SELECT 1 FROM audit_meta WHERE key = NEW.key)
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_payload_vrms_once BEFORE INSERT ON audit_payload_vrms
	WHEN EXISTS (SELECT 1 FROM audit_payload_vrms WHERE vrm = NEW.vrm AND seq = NEW.seq)
	BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_payloads_erased_only BEFORE DELETE ON audit_payloads
	WHEN NOT EXISTS (SELECT 1 FROM audit_erasures WHERE seq = OLD.seq)
	BEGIN SELECT RAISE(ABORT, 'audit payload may be deleted only by a recorded erasure'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_payload_vrms_erased_only BEFORE DELETE ON audit_payload_vrms
	WHEN NOT EXISTS (SELECT 1 FROM audit_erasures WHERE seq = OLD.seq)
	BEGIN SELECT RAISE(ABORT, 'audit payload may be deleted only by a recorded erasure'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_meta_no_update BEFORE UPDATE ON audit_meta BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_meta_no_delete BEFORE DELETE ON audit_meta BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_payloads_no_update BEFORE UPDATE ON audit_payloads BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_payload_vrms_no_update BEFORE UPDATE ON audit_payload_vrms BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_hashes_no_update BEFORE UPDATE ON audit_hashes BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_hashes_no_delete BEFORE DELETE ON audit_hashes BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_erasures_no_update BEFORE UPDATE ON audit_erasures BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS audit_erasures_no_delete BEFORE DELETE ON audit_erasures BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
-- +goose StatementEnd

-- audit_meta cannot be updated, so the hand-rolled version is retired by a row of its own.
INSERT INTO audit_meta(key, value) SELECT 'schema_version.2', 'goose_audit'
	WHERE NOT EXISTS (SELECT 1 FROM audit_meta WHERE key = 'schema_version.2');
