package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

var _ reads.Rectifier = (*Store)(nil)

// CorrectRead replaces read id by the same sighting with plate vrm, in one transaction: the old
// row goes, the corrected row is appended exactly as ingest would append it (new deterministic id,
// re-derived skeleton, plate and trigram index updated), and the old plate is forgotten if no
// other read has it. Either all of that is durable or none of it.
func (s *Store) CorrectRead(ctx context.Context, id, vrm string) (reads.Read, reads.Read, error) {
	fail := func(err error) (reads.Read, reads.Read, error) {
		return reads.Read{}, reads.Read{}, fmt.Errorf("correct read %s: %w", id, err)
	}
	rowid, err := readsParseID(id)
	if err != nil {
		return fail(err)
	}
	norm, err := plate.Normalize(vrm)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", reads.ErrInvalid, err))
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(readsUnavailable(err))
	}
	defer tx.Rollback()
	before, part, err := readsLocate(ctx, tx, rowid)
	if err != nil {
		return fail(err)
	}
	if before.VRM == norm {
		return fail(fmt.Errorf("%w: the read already has plate %s", reads.ErrInvalid, norm))
	}
	after := reads.Corrected(before, norm, plate.Skeleton(norm))
	row, err := readsToRow(after)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", reads.ErrInvalid, err))
	}
	if _, _, err := readsLocate(ctx, tx, row.id); err == nil {
		return fail(fmt.Errorf("%w: a read of %s at the same camera and instant already exists (%s); erase this one instead",
			reads.ErrConflict, norm, after.ID))
	} else if err != reads.ErrNotFound {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM "`+part+`" WHERE id = ?`, rowid); err != nil {
		return fail(readsUnavailable(err))
	}
	if _, err := readsAppendTx(ctx, tx, []readsRow{row}); err != nil {
		return fail(err)
	}
	if err := readsCleanPlates(ctx, tx, []string{before.VRM}); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(readsUnavailable(err))
	}
	return before, after, nil
}

// EraseRead deletes read id and, when it was the plate's last read, the plate with it: an
// erased read must not stay findable through the partial-plate index.
func (s *Store) EraseRead(ctx context.Context, id string) (reads.Read, error) {
	fail := func(err error) (reads.Read, error) { return reads.Read{}, fmt.Errorf("erase read %s: %w", id, err) }
	rowid, err := readsParseID(id)
	if err != nil {
		return fail(err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fail(readsUnavailable(err))
	}
	defer tx.Rollback()
	before, part, err := readsLocate(ctx, tx, rowid)
	if err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM "`+part+`" WHERE id = ?`, rowid); err != nil {
		return fail(readsUnavailable(err))
	}
	if err := readsCleanPlates(ctx, tx, []string{before.VRM}); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(readsUnavailable(err))
	}
	return before, nil
}

// readsLocate finds read rowid inside tx and the partition holding it; reads.ErrNotFound (bare,
// so callers can compare) when no partition has it. The id does not say which week holds the
// read, so every partition is probed by its unique id index.
func readsLocate(ctx context.Context, tx *sql.Tx, rowid int64) (reads.Read, string, error) {
	parts, err := readsAllPartitions(ctx, tx)
	if err != nil {
		return reads.Read{}, "", err
	}
	for _, p := range parts {
		rows, err := tx.QueryContext(ctx, `SELECT `+readsColumns+` FROM "`+p.name+`" r WHERE r.id = ?`, rowid)
		if err != nil {
			return reads.Read{}, "", fmt.Errorf("look up read in %s: %w", p.name, readsUnavailable(err))
		}
		if rows.Next() {
			r, _, err := readsScan(rows)
			rows.Close()
			if err != nil {
				return reads.Read{}, "", err
			}
			return r, p.name, nil
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return reads.Read{}, "", fmt.Errorf("look up read in %s: %w", p.name, readsUnavailable(err))
		}
	}
	return reads.Read{}, "", reads.ErrNotFound
}
