package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/pressly/goose/v3"
)

// readsSchema is the reads database's migration series: the fixed tables in migrations/reads (the
// design notes are in its baseline), and steps in Go for what SQL files cannot reach, the weekly
// partitions. The partitions are created at run time from readsPartitionDDL, so a change to them
// is two edits in one commit: readsPartitionDDL, which shapes the weeks created from now on, and a
// Go step (readsPartitionStep) that changes every week that already exists in the same way.
var readsSchema = schema{name: "reads", legacy: readsLegacy, goSteps: readsPartitionSteps}

// readsPartitionSteps are the Go steps of the reads series, numbered among the SQL files.
var readsPartitionSteps []*goose.Migration

// readsPartitionStep is a Go step numbered version that runs ddl on every existing partition, in
// the step's transaction; "@" in ddl stands for the partition's name (as in readsPartitionDDL).
// Partitions are created and dropped only while holding the write lock, which the step's
// transaction holds, so none appears or vanishes under it.
func readsPartitionStep(version int64, ddl string) *goose.Migration {
	return goose.NewGoMigration(version, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
		return readsEachPartition(ctx, tx, func(name string) error {
			_, err := tx.ExecContext(ctx, strings.ReplaceAll(ddl, "@", name))
			return err
		})
	}}, nil)
}

// readsEachPartition calls fn with the name of every registered partition, oldest first.
func readsEachPartition(ctx context.Context, tx *sql.Tx, fn func(name string) error) error {
	parts, err := readsPartitions(ctx, tx, -1<<63, 1<<63-1, true)
	if err != nil {
		return err
	}
	for _, p := range parts {
		if err := fn(p.name); err != nil {
			return fmt.Errorf("partition %s: %w", p.name, err)
		}
	}
	return nil
}

// readsLegacy inspects a reads database written before goose, which kept its version in
// schema_version (component 'reads'). Version 2 is what the baseline adopts. Version 1 kept every
// read in one table, which this build does not convert: an empty one is readied for the baseline
// by dropping that table, one holding reads is refused with what to do.
func readsLegacy(ctx context.Context, db *sql.DB) error {
	ok, err := tableExists(ctx, db, "schema_version")
	if err != nil || !ok {
		return err
	}
	var have int
	err = db.QueryRowContext(ctx, `SELECT version FROM schema_version WHERE component = 'reads'`).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read the version of a database from before goose: %w", err)
	case have == 2:
		return nil
	case have != 1:
		return fmt.Errorf("database is at version %d of the schema before goose, which this binary does not know; run a newer binary", have)
	}
	var any bool
	if err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM reads)`).Scan(&any); err != nil {
		return fmt.Errorf("inspect version 1 reads: %w", err)
	}
	if any {
		return errors.New("the database holds reads in the unpartitioned version 1 format, which this " +
			"pre-release build does not convert to weekly partitions; delete the reads database file and " +
			"re-seed it (anpr seed) or re-ingest")
	}
	if _, err := db.ExecContext(ctx, `DROP TABLE reads`); err != nil {
		return fmt.Errorf("drop the empty version 1 reads table: %w", err)
	}
	return nil
}
