package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/pressly/goose/v3"
)

// Every SQLite store's schema is a numbered series of migrations applied by goose: SQL files
// under migrations/<store>/ (embedded in the binary), plus steps written in Go where SQL alone
// cannot do it (see readsEachPartition). Each store records what it applied in its own version
// table, goose_<store>, so stores that share one file do not disturb each other.
// migrations/README.md says how to add a step.

//go:embed migrations
var migrationFiles embed.FS

// schema is one store's migration series.
type schema struct {
	// name is the store's directory under migrations/ and the suffix of its version table.
	name string
	// goSteps are steps written in Go, numbered in the same series as the SQL files.
	goSteps []*goose.Migration
	// legacy, when set, inspects a database that has no version table yet, before the baseline
	// runs: it refuses one the baseline cannot adopt, or prepares it.
	legacy func(ctx context.Context, db *sql.DB) error
}

func (s schema) table() string { return "goose_" + s.name }

// migrate brings the store's schema in db (the file at path) up to the newest step this binary
// knows. It refuses a database that has steps this binary does not know: a newer binary wrote it.
//
// Each step is a transaction of its own. Two processes opening the same file at once serialise on
// an advisory lock (path + ".migrate.lock"), so a step never runs twice: goose reads the applied
// versions before it takes SQLite's write lock, which alone would not stop the second process
// from applying a step the first just committed.
func migrate(ctx context.Context, db *sql.DB, path string, s schema) error {
	unlock, err := lockMigrations(ctx, path)
	if err != nil {
		return fmt.Errorf("migrate %s schema: %w", s.name, err)
	}
	defer unlock()
	fsys, err := fs.Sub(migrationFiles, "migrations/"+s.name)
	if err != nil {
		return fmt.Errorf("migrate %s schema: %w", s.name, err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys,
		goose.WithTableName(s.table()),
		goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(s.goSteps...))
	if err != nil {
		return fmt.Errorf("migrate %s schema: %w", s.name, err)
	}
	if s.legacy != nil {
		versioned, err := tableExists(ctx, db, s.table())
		if err != nil {
			return fmt.Errorf("migrate %s schema: %w", s.name, err)
		}
		if !versioned {
			if err := s.legacy(ctx, db); err != nil {
				return fmt.Errorf("migrate %s schema: %w", s.name, err)
			}
		}
	}
	have, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("migrate %s schema: read version: %w", s.name, err)
	}
	sources := p.ListSources()
	known := sources[len(sources)-1].Version // NewProvider refuses an empty series
	if have > known {
		return fmt.Errorf("migrate %s schema: database is at version %d but this binary knows only %d; run a newer binary",
			s.name, have, known)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate %s schema: %w", s.name, err)
	}
	return nil
}

// schemaVersion is the newest step applied to the store's schema in db; 0 when none has been.
func schemaVersion(ctx context.Context, db *sql.DB, s schema) (int64, error) {
	ok, err := tableExists(ctx, db, s.table())
	if err != nil || !ok {
		return 0, err
	}
	var v int64
	err = db.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM "`+s.table()+`" WHERE is_applied`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("read %s schema version: %w", s.name, err)
	}
	return v, nil
}

func tableExists(ctx context.Context, q queryer, name string) (bool, error) {
	var ok bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?)`, name).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("look for table %s: %w", name, err)
	}
	return ok, nil
}

// lockMigrations takes an exclusive advisory lock beside the database file and returns its
// release. The kernel drops the lock if the process dies, so a crash mid-migration never leaves
// the file locked; the step it was running rolls back with its transaction. The lock is on a file
// of its own because closing any descriptor of the database file would drop SQLite's own locks.
// Waiting for another process's migration ends with ctx.
func lockMigrations(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path+".migrate.lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open migration lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing the descriptor releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("take migration lock: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for another process's migration of %s: %w", path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
