package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reads are stored in time partitions: one table per ISO week (Monday 00:00 UTC to the next
// Monday), named reads_wYYYY_WW after the ISO week and registered in read_partitions. Reads arrive
// roughly in time order, so an append batch touches the B-trees of one or two small partitions
// that stay in the page cache, instead of a page per read all over one huge table; and retention
// drops an expired week as a whole table instead of deleting it row by row.
//
// A read's partition is a function of its seen_at alone, and the deterministic id is a function of
// camera, seen_at and plate, so a re-sent read always meets its first copy in the same partition:
// the UNIQUE(id) index of a partition is all the deduplication needs. The price: a hash
// collision between reads of different weeks (two sightings whose 63-bit ids agree) is not
// detected as reads.ErrConflict, where one within a week is. At 10M reads the chance of any
// collision is about n²/2⁶⁴ ≈ 5e-6, and detecting it would need the global id index whose random
// inserts this layout exists to avoid; both reads are kept, and GetRead returns the newer.

const (
	readsDayMs  = int64(24 * time.Hour / time.Millisecond)
	readsWeekMs = 7 * readsDayMs
)

// readsPartition is one registered week table.
type readsPartition struct {
	name       string
	start, end int64 // unix ms, half-open [start, end)
}

// readsWeekStart returns the start (Monday 00:00 UTC, unix ms) of the ISO week holding ms.
func readsWeekStart(ms int64) int64 {
	day := ms / readsDayMs
	if ms%readsDayMs < 0 {
		day-- // floor, also before 1970
	}
	// 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday = 0.
	wd := (day + 3) % 7
	if wd < 0 {
		wd += 7
	}
	return (day - wd) * readsDayMs
}

// readsWeekName names the partition of the week starting at start. ISO years outside 1..9999
// cannot be named in four digits; readsToRow refuses such reads first.
func readsWeekName(start int64) string {
	y, w := time.UnixMilli(start).UTC().ISOWeek()
	return fmt.Sprintf("reads_w%04d_%02d", y, w)
}

// readsCheckSeenAt refuses times whose week cannot be named. No camera has ever read a plate
// outside these years; the check keeps table names well-formed whatever a client sends.
func readsCheckSeenAt(ms int64) error {
	y, _ := time.UnixMilli(readsWeekStart(ms)).UTC().ISOWeek()
	if y < 1 || y > 9999 {
		return fmt.Errorf("seen_at %s is outside the years 1-9999", time.UnixMilli(ms).UTC().Format(time.RFC3339))
	}
	return nil
}

// readsPartitionDDL creates a week table and its indexes. seq is the rowid in append order, so
// inserts go to the right-hand edge of the table B-tree; id is the deterministic read id. Every
// search index ends in (seen_at, id), the stable total order that paging needs, so no query sorts.
func readsPartitionDDL(name string) string {
	return strings.ReplaceAll(`CREATE TABLE "@" (
		seq          INTEGER PRIMARY KEY,
		id           INTEGER NOT NULL,
		vrm          TEXT    NOT NULL,
		skeleton     TEXT    NOT NULL,
		camera_id    TEXT    NOT NULL,
		seen_at      INTEGER NOT NULL, -- unix milliseconds, UTC
		confidence   REAL    NOT NULL DEFAULT 0,
		lane         INTEGER NOT NULL DEFAULT 0,
		patch_sha    BLOB,
		overview_sha BLOB
	) STRICT;
	CREATE UNIQUE INDEX "@_id"          ON "@"(id);
	CREATE INDEX        "@_vrm_seen"    ON "@"(vrm, seen_at, id);
	CREATE INDEX        "@_camera_seen" ON "@"(camera_id, seen_at, id);
	CREATE INDEX        "@_seen"        ON "@"(seen_at, id);`, "@", name)
}

// readsQuerier runs a query: a *sql.Tx, or the statement cache outside one.
type readsQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// QueryContext makes the statement cache a readsQuerier.
func (c *readsStmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.query(ctx, query, args...)
}

// readsPartitions lists the partitions overlapping [from, to), newest first unless oldestFirst.
func readsPartitions(ctx context.Context, q readsQuerier, from, to int64, oldestFirst bool) ([]readsPartition, error) {
	dir := "DESC"
	if oldestFirst {
		dir = "ASC"
	}
	rows, err := q.QueryContext(ctx, `SELECT name, week_start_ms, week_end_ms FROM read_partitions
		WHERE week_end_ms > ? AND week_start_ms < ? ORDER BY week_start_ms `+dir, from, to)
	if err != nil {
		return nil, fmt.Errorf("list partitions: %w", readsUnavailable(err))
	}
	defer rows.Close()
	var parts []readsPartition
	for rows.Next() {
		var p readsPartition
		if err := rows.Scan(&p.name, &p.start, &p.end); err != nil {
			return nil, fmt.Errorf("list partitions: %w", err)
		}
		parts = append(parts, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list partitions: %w", readsUnavailable(err))
	}
	return parts, nil
}

// readsAllPartitions lists every partition, newest first.
func readsAllPartitions(ctx context.Context, q readsQuerier) ([]readsPartition, error) {
	return readsPartitions(ctx, q, -1<<63, 1<<63-1, false)
}

// readsEnsurePartition returns the partition for the week starting at start, creating it if
// needed. tx holds the write lock, so two writers cannot both create it.
func readsEnsurePartition(ctx context.Context, tx *sql.Tx, start int64) (string, error) {
	var name string
	err := tx.QueryRowContext(ctx, `SELECT name FROM read_partitions WHERE week_start_ms = ?`, start).Scan(&name)
	switch {
	case err == nil:
		return name, nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", fmt.Errorf("find partition: %w", readsUnavailable(err))
	}
	name = readsWeekName(start)
	if _, err := tx.ExecContext(ctx, readsPartitionDDL(name)); err != nil {
		return "", fmt.Errorf("create partition %s: %w", name, readsUnavailable(err))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO read_partitions(name, week_start_ms, week_end_ms) VALUES (?, ?, ?)`,
		name, start, start+readsWeekMs); err != nil {
		return "", fmt.Errorf("register partition %s: %w", name, readsUnavailable(err))
	}
	return name, nil
}

// readsDropPartition removes a week table and its registration.
func readsDropPartition(ctx context.Context, tx *sql.Tx, p readsPartition) error {
	if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS "`+p.name+`"`); err != nil {
		return fmt.Errorf("drop partition %s: %w", p.name, readsUnavailable(err))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM read_partitions WHERE name = ?`, p.name); err != nil {
		return fmt.Errorf("unregister partition %s: %w", p.name, readsUnavailable(err))
	}
	return nil
}

// readsIsDropped reports whether err says a partition table vanished under a query: retention
// dropped the week between listing the partitions and reading one. Its reads are deleted, so the
// query carries on as if the week were empty.
func readsIsDropped(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no such table")
}
