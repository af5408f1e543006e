package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// auditMigrations are the schema steps of the audit database (its own file, never the reads
// one); auditMigrations[i] takes it from version i to i+1. Released steps are never edited.
//
// Version 1 design notes:
//
//   - Append-only by construction. There is no UPDATE or DELETE statement on these tables in the
//     code, and triggers abort any that someone else runs: UPDATE on every table, DELETE on every
//     table but the payload ones, and INSERT that would replace a row (INSERT OR REPLACE deletes
//     without firing delete triggers). Event and hash inserts must also extend their sequence by
//     exactly one, so even a direct INSERT cannot fill a gap or rewrite history.
//   - Payloads (personal data) are the one thing that may be deleted, and only after an erasure
//     row names them; erasure rows must point at a later ActionErase event. That event lists the
//     erased seqs inside the signed tree, so verify can tell a lawful erasure (redacted) from a
//     deletion (missing).
//   - Events are stored as columns, not as the encoded blob: the auditor API filters on them, and
//     verify re-encodes from exactly these columns, so an edit anywhere is an edit verify sees.
//     encoding records the canonical encoding version each event was sealed with.
//   - audit_hashes is the tlog hash storage (golang.org/x/mod/sumdb/tlog stored hash indexes):
//     leaf hashes plus every completed subtree, about two per event, for O(log n) proofs.
//   - STRICT tables; times are Unix microseconds (audit.TimePrecision).
var auditMigrations = []string{
	`CREATE TABLE audit_meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) STRICT;
	CREATE TABLE audit_events (
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
	CREATE INDEX audit_events_time     ON audit_events(time_us);
	CREATE INDEX audit_events_actor    ON audit_events(actor_subject, time_us);
	CREATE INDEX audit_events_action   ON audit_events(action, time_us);
	CREATE INDEX audit_events_case     ON audit_events(case_ref) WHERE case_ref != '';
	CREATE INDEX audit_events_authority ON audit_events(authority_id) WHERE authority_id != '';
	CREATE INDEX audit_events_request  ON audit_events(request_id) WHERE request_id != '';

	CREATE TABLE audit_payloads (
		seq           INTEGER PRIMARY KEY,
		salt          BLOB NOT NULL,
		vrms          TEXT NOT NULL, -- JSON array of strings
		query         TEXT NOT NULL,
		justification TEXT NOT NULL
	) STRICT;
	CREATE TABLE audit_payload_vrms (
		vrm TEXT    NOT NULL,
		seq INTEGER NOT NULL,
		PRIMARY KEY (vrm, seq)
	) STRICT, WITHOUT ROWID;

	CREATE TABLE audit_hashes (
		idx  INTEGER PRIMARY KEY,
		hash BLOB NOT NULL
	) STRICT;

	CREATE TABLE audit_checkpoints (
		size    INTEGER PRIMARY KEY,
		time_us INTEGER NOT NULL,
		note    TEXT    NOT NULL
	) STRICT;

	CREATE TABLE audit_erasures (
		seq       INTEGER PRIMARY KEY,
		erased_by INTEGER NOT NULL
	) STRICT;

	CREATE TRIGGER audit_events_next BEFORE INSERT ON audit_events
		WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM audit_events)
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only: seq must extend the log by one'); END;
	CREATE TRIGGER audit_hashes_next BEFORE INSERT ON audit_hashes
		WHEN NEW.idx IS NOT (SELECT coalesce(max(idx), -1) + 1 FROM audit_hashes)
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only: hash index must extend the tree by one'); END;
	CREATE TRIGGER audit_checkpoints_next BEFORE INSERT ON audit_checkpoints
		WHEN NEW.size <= (SELECT coalesce(max(size), 0) FROM audit_checkpoints)
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only: checkpoints only grow'); END;
	CREATE TRIGGER audit_payloads_event BEFORE INSERT ON audit_payloads
		WHEN NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.seq)
		  OR EXISTS (SELECT 1 FROM audit_payloads WHERE seq = NEW.seq)
		  OR EXISTS (SELECT 1 FROM audit_erasures WHERE seq = NEW.seq)
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only: a payload belongs to one new event'); END;
	CREATE TRIGGER audit_erasures_event BEFORE INSERT ON audit_erasures
		WHEN NOT EXISTS (SELECT 1 FROM audit_events WHERE seq = NEW.erased_by AND action = 'audit.erase')
		  OR NEW.erased_by <= NEW.seq
		  OR EXISTS (SELECT 1 FROM audit_erasures WHERE seq = NEW.seq)
		BEGIN SELECT RAISE(ABORT, 'audit erasure must name a later erasure event, once'); END;
	CREATE TRIGGER audit_meta_once BEFORE INSERT ON audit_meta
		WHEN EXISTS (SELECT 1 FROM audit_meta WHERE key = NEW.key)
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
	CREATE TRIGGER audit_payload_vrms_once BEFORE INSERT ON audit_payload_vrms
		WHEN EXISTS (SELECT 1 FROM audit_payload_vrms WHERE vrm = NEW.vrm AND seq = NEW.seq)
		BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
	CREATE TRIGGER audit_payloads_erased_only BEFORE DELETE ON audit_payloads
		WHEN NOT EXISTS (SELECT 1 FROM audit_erasures WHERE seq = OLD.seq)
		BEGIN SELECT RAISE(ABORT, 'audit payload may be deleted only by a recorded erasure'); END;
	CREATE TRIGGER audit_payload_vrms_erased_only BEFORE DELETE ON audit_payload_vrms
		WHEN NOT EXISTS (SELECT 1 FROM audit_erasures WHERE seq = OLD.seq)
		BEGIN SELECT RAISE(ABORT, 'audit payload may be deleted only by a recorded erasure'); END;
	` + auditGuards(),
}

// auditGuards are the triggers that abort every UPDATE, and every DELETE outside the payload
// tables (whose deletes are guarded by erasure above).
func auditGuards() string {
	var b strings.Builder
	for _, t := range []string{"audit_meta", "audit_events", "audit_payloads", "audit_payload_vrms", "audit_hashes", "audit_checkpoints", "audit_erasures"} {
		fmt.Fprintf(&b, "CREATE TRIGGER %[1]s_no_update BEFORE UPDATE ON %[1]s BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;\n", t)
		if t != "audit_payloads" && t != "audit_payload_vrms" {
			fmt.Fprintf(&b, "CREATE TRIGGER %[1]s_no_delete BEFORE DELETE ON %[1]s BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;\n", t)
		}
	}
	return b.String()
}

// auditSchemaVersion is the schema version this binary writes.
var auditSchemaVersion = len(auditMigrations)

// auditSchemaKey prefixes the audit_meta rows that record applied schema steps.
const auditSchemaKey = "schema_version"

// auditMigrate creates or upgrades the schema and records the chain id on first use. The
// version is a row per applied step in audit_meta ("schema_version.N"), because audit_meta, like
// every audit table, cannot be updated.
func auditMigrate(ctx context.Context, db *sql.DB, chain string) error {
	tx, err := db.BeginTx(ctx, nil) // _txlock=immediate: two openers cannot both create it
	if err != nil {
		return fmt.Errorf("migrate audit schema: begin: %w", err)
	}
	defer tx.Rollback()
	have, err := auditVersion(ctx, tx)
	if err != nil {
		return fmt.Errorf("migrate audit schema: %w", err)
	}
	if have > auditSchemaVersion {
		return fmt.Errorf("migrate audit schema: database is at version %d but this binary knows only %d; run a newer binary", have, auditSchemaVersion)
	}
	for v := have; v < auditSchemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, auditMigrations[v]); err != nil {
			return fmt.Errorf("migrate audit schema to version %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_meta(key, value) VALUES (?, 'applied')`,
			fmt.Sprintf("%s.%d", auditSchemaKey, v+1)); err != nil {
			return fmt.Errorf("migrate audit schema: record version: %w", err)
		}
	}
	var stored string
	err = tx.QueryRowContext(ctx, `SELECT value FROM audit_meta WHERE key = 'chain'`).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_meta(key, value) VALUES ('chain', ?)`, chain); err != nil {
			return fmt.Errorf("migrate audit schema: record chain: %w", err)
		}
	case err != nil:
		return fmt.Errorf("migrate audit schema: read chain: %w", err)
	case stored != chain:
		return fmt.Errorf("open audit log: the database holds chain %q, not %q", stored, chain)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate audit schema: commit: %w", err)
	}
	return nil
}

type auditQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// auditVersion is the highest applied schema step; 0 for a database without the audit schema.
func auditVersion(ctx context.Context, q auditQueryer) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'audit_meta'`).Scan(&n)
	if err != nil || n == 0 {
		return 0, err
	}
	var v int
	err = q.QueryRowContext(ctx, `SELECT coalesce(max(CAST(substr(key, length(?) + 2) AS INTEGER)), 0)
		FROM audit_meta WHERE key LIKE ? || '.%'`, auditSchemaKey, auditSchemaKey).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read audit schema version: %w", err)
	}
	return v, nil
}
