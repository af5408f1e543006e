package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// auditSchema is the audit database's migration series (migrations/audit; the design notes are in
// its baseline). One file holds one chain, never anything else.
var auditSchema = schema{name: "audit"}

// auditMigrate creates or upgrades the schema of the audit database at path and records the chain
// id on first use.
func auditMigrate(ctx context.Context, db *sql.DB, path, chain string) error {
	if err := migrate(ctx, db, path, auditSchema); err != nil {
		return err
	}
	tx, err := db.BeginTx(ctx, nil) // _txlock=immediate: two openers cannot both record a chain
	if err != nil {
		return fmt.Errorf("record audit chain: begin: %w", err)
	}
	defer tx.Rollback()
	var stored string
	err = tx.QueryRowContext(ctx, `SELECT value FROM audit_meta WHERE key = 'chain'`).Scan(&stored)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_meta(key, value) VALUES ('chain', ?)`, chain); err != nil {
			return fmt.Errorf("record audit chain: %w", err)
		}
	case err != nil:
		return fmt.Errorf("read audit chain: %w", err)
	case stored != chain:
		return fmt.Errorf("open audit log: the database holds chain %q, not %q", stored, chain)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record audit chain: commit: %w", err)
	}
	return nil
}
