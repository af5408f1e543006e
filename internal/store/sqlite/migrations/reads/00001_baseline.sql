-- The reads database as the hand-rolled migrations (schema_version, component 'reads', version 2)
-- left it. Every statement is IF NOT EXISTS, so on a database those migrations created this step
-- changes nothing but the records: goose_reads gains version 1, and schema_version is raised to 3,
-- which a binary from before goose refuses ("run a newer binary") instead of writing to a schema
-- it does not know.
--
-- Reads live in weekly partition tables (reads_wYYYY_WW) created at run time from
-- readsPartitionDDL and listed in read_partitions; see reads_partition.go, and
-- migrations/README.md for changing them.
--
-- Design notes (targets: 10M reads on two cores, >= 60k appends/s, exact lookup in a 30-day
-- window in about a millisecond):
--
--   - There is deliberately no index on a partition's skeleton. A skeleton names a handful of
--     distinct plates, so a misread search goes plates(skeleton) -> plate list ->
--     partition(vrm, seen_at). Another random-order index on the largest tables would slow every
--     append for a search that the small plates table answers as well.
--   - Partial plates use an FTS5 trigram index over DISTINCT plates (the plates table), not over
--     reads. A vehicle is read many times (commuters twice a day, taxis hundreds of times), so the
--     plates table is one or two orders of magnitude smaller than reads; a trigram index on every
--     read would multiply ingest cost and disk for exactly the same candidate plates.
--   - New plates reach plates_fts in one statement per append batch (see readsAppendTx), not
--     through an insert trigger: FTS5 writes a segment per statement, and a trigger would make
--     that a segment per plate. Deletes do go through a trigger; retention deletes plates in one
--     statement per chunk.
--   - plates has its own INTEGER PRIMARY KEY because the FTS index refers to plates by rowid and
--     VACUUM may renumber implicit rowids, which would silently corrupt an external-content index.
--   - STRICT tables, so a bug that binds a string to a time fails loudly instead of sorting wrong.

-- +goose Up
CREATE TABLE IF NOT EXISTS schema_version (
		component TEXT PRIMARY KEY,
		version   INTEGER NOT NULL
	) STRICT;
INSERT INTO schema_version(component, version) VALUES ('reads', 3)
	ON CONFLICT(component) DO UPDATE SET version = excluded.version;

CREATE TABLE IF NOT EXISTS plates (
		id       INTEGER PRIMARY KEY,
		vrm      TEXT NOT NULL UNIQUE,
		skeleton TEXT NOT NULL
	) STRICT;
CREATE INDEX IF NOT EXISTS plates_skeleton ON plates(skeleton);
CREATE VIRTUAL TABLE IF NOT EXISTS plates_fts USING fts5(
		vrm,
		content = 'plates',
		content_rowid = 'id',
		tokenize = 'trigram case_sensitive 1'
	);
-- +goose StatementBegin
CREATE TRIGGER IF NOT EXISTS plates_fts_delete AFTER DELETE ON plates BEGIN
		INSERT INTO plates_fts(plates_fts, rowid, vrm) VALUES ('delete', old.id, old.vrm);
	END;
-- +goose StatementEnd

CREATE TABLE IF NOT EXISTS cameras (
		id        TEXT PRIMARY KEY,
		name      TEXT NOT NULL,
		road      TEXT NOT NULL,
		direction TEXT NOT NULL,
		area      TEXT NOT NULL,
		lat       REAL NOT NULL,
		lon       REAL NOT NULL
	) STRICT;

CREATE TABLE IF NOT EXISTS read_partitions (
		name          TEXT    PRIMARY KEY,
		week_start_ms INTEGER NOT NULL UNIQUE,
		week_end_ms   INTEGER NOT NULL
	) STRICT;
