package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// readsMigrations are the schema steps of the reads database, in order; readsMigrations[i] takes
// the schema from version i to version i+1. Steps are only ever appended: a released step is never
// edited, because databases in the field already ran it.
//
// Version 2 keeps reads in weekly partition tables (reads_partition.go): the first two notes below
// describe version 1's single table; the rest still hold, per partition.
//
// Version 1 design notes (targets: 10M reads on two cores, >= 60k appends/s, exact lookup in a
// 30-day window in about a millisecond):
//
//   - reads.id is the deterministic read id (reads.ReadID, a positive int63) used as the rowid, so
//     the primary key costs no separate index and a retried batch is absorbed by ON CONFLICT.
//   - Every other read index ends in seen_at, and SQLite appends the rowid to every index entry,
//     so each one already delivers rows in the (seen_at, id) order that paging needs: no sort.
//   - There is deliberately no index on reads.skeleton. A skeleton names a handful of distinct
//     plates, so a misread search goes plates(skeleton) -> plate list -> reads(vrm, seen_at).
//     A fourth random-order index on the largest table would slow every append for a search that
//     the small plates table answers as well.
//   - Partial plates use an FTS5 trigram index over DISTINCT plates (the plates table), not over
//     reads. A vehicle is read many times (commuters twice a day, taxis hundreds of times), so the
//     plates table is one or two orders of magnitude smaller than reads; a trigram index on 10M
//     read rows would multiply ingest cost and disk for exactly the same candidate plates.
//   - New plates reach plates_fts in one statement per append batch (see readsAppendTx), not
//     through an insert trigger: FTS5 writes a segment per statement, and a trigger would make
//     that a segment per plate. Deletes do go through a trigger; retention deletes plates in one
//     statement per chunk.
//   - plates has its own INTEGER PRIMARY KEY because the FTS index refers to plates by rowid and
//     VACUUM may renumber implicit rowids, which would silently corrupt an external-content index.
//   - Image hashes are stored as 32-byte blobs rather than 64 hex characters: that is a third of
//     a read row.
//   - STRICT tables, so a bug that binds a string to seen_at fails loudly instead of sorting wrong.
var readsMigrations = []string{
	`CREATE TABLE reads (
		id           INTEGER PRIMARY KEY,
		vrm          TEXT    NOT NULL,
		skeleton     TEXT    NOT NULL,
		camera_id    TEXT    NOT NULL,
		seen_at      INTEGER NOT NULL, -- unix milliseconds, UTC
		confidence   REAL    NOT NULL DEFAULT 0,
		lane         INTEGER NOT NULL DEFAULT 0,
		patch_sha    BLOB,
		overview_sha BLOB
	) STRICT;
	CREATE INDEX reads_vrm_seen    ON reads(vrm, seen_at);
	CREATE INDEX reads_camera_seen ON reads(camera_id, seen_at);
	CREATE INDEX reads_seen        ON reads(seen_at);

	CREATE TABLE plates (
		id       INTEGER PRIMARY KEY,
		vrm      TEXT NOT NULL UNIQUE,
		skeleton TEXT NOT NULL
	) STRICT;
	CREATE INDEX plates_skeleton ON plates(skeleton);
	CREATE VIRTUAL TABLE plates_fts USING fts5(
		vrm,
		content = 'plates',
		content_rowid = 'id',
		tokenize = 'trigram case_sensitive 1'
	);
	CREATE TRIGGER plates_fts_delete AFTER DELETE ON plates BEGIN
		INSERT INTO plates_fts(plates_fts, rowid, vrm) VALUES ('delete', old.id, old.vrm);
	END;

	CREATE TABLE cameras (
		id        TEXT PRIMARY KEY,
		name      TEXT NOT NULL,
		road      TEXT NOT NULL,
		direction TEXT NOT NULL,
		area      TEXT NOT NULL,
		lat       REAL NOT NULL,
		lon       REAL NOT NULL
	) STRICT;`,

	// Version 2: reads move into weekly partitions (see reads_partition.go). The version 1 table
	// is dropped; readsMigrate refuses a version 1 database that still holds reads, because this
	// pre-release build does not convert them (re-seed instead).
	`DROP TABLE reads;
	CREATE TABLE read_partitions (
		name          TEXT    PRIMARY KEY,
		week_start_ms INTEGER NOT NULL UNIQUE,
		week_end_ms   INTEGER NOT NULL
	) STRICT;`,
}

// readsUnpartitionedVersion is the last schema version that kept every read in one table.
const readsUnpartitionedVersion = 1

// readsSchemaVersion is the schema version this binary writes.
var readsSchemaVersion = len(readsMigrations)

// readsMigrate brings the database up to readsSchemaVersion in one immediate transaction, so two
// processes opening a new file at once cannot both create it. The version lives in its own table,
// keyed by component, rather than in PRAGMA user_version: other stores may share this file later
// and each needs its own version.
func readsMigrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil) // _txlock=immediate: takes the write lock now
	if err != nil {
		return fmt.Errorf("migrate reads schema: begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		component TEXT PRIMARY KEY,
		version   INTEGER NOT NULL
	) STRICT`); err != nil {
		return fmt.Errorf("migrate reads schema: version table: %w", err)
	}
	var have int
	err = tx.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE component = 'reads'`).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		have = 0
	case err != nil:
		return fmt.Errorf("migrate reads schema: read version: %w", err)
	}
	if have > readsSchemaVersion {
		return fmt.Errorf("migrate reads schema: database is at version %d but this binary knows only %d; "+
			"run a newer binary", have, readsSchemaVersion)
	}
	if have == readsSchemaVersion {
		return nil // nothing to do; the rollback of an empty transaction is free
	}
	if have == readsUnpartitionedVersion {
		var any bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM reads)`).Scan(&any); err != nil {
			return fmt.Errorf("migrate reads schema: inspect version %d reads: %w", have, err)
		}
		if any {
			return fmt.Errorf("migrate reads schema: the database holds reads in the unpartitioned version %d "+
				"format, which this pre-release build does not convert to version %d (weekly partitions); "+
				"delete the reads database file and re-seed it (anpr seed) or re-ingest",
				have, readsSchemaVersion)
		}
	}
	for v := have; v < readsSchemaVersion; v++ {
		if _, err := tx.ExecContext(ctx, readsMigrations[v]); err != nil {
			return fmt.Errorf("migrate reads schema to version %d: %w", v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version(component, version) VALUES ('reads', ?)
		ON CONFLICT(component) DO UPDATE SET version = excluded.version`, readsSchemaVersion); err != nil {
		return fmt.Errorf("migrate reads schema: record version: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate reads schema: commit: %w", err)
	}
	return nil
}
