package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// readsHold is a reads.HoldScope in stored form. Empty sets and unbounded ends match anything.
type readsHold struct {
	vrms, cameras map[string]bool
	from, to      int64 // unix ms, half-open; math.MinInt64 / math.MaxInt64 when unbounded
}

func readsCheckHolds(scopes []reads.HoldScope) ([]readsHold, error) {
	holds := make([]readsHold, 0, len(scopes))
	for i, sc := range scopes {
		h := readsHold{from: math.MinInt64, to: math.MaxInt64}
		if len(sc.VRMs) > 0 {
			h.vrms = make(map[string]bool, len(sc.VRMs))
			for _, raw := range sc.VRMs {
				// A hold written with "AB12 CDE" must still protect AB12CDE: a mismatch here
				// would delete evidence irreversibly, so normalise, and refuse what cannot be.
				vrm, err := plate.Normalize(raw)
				if err != nil {
					return nil, fmt.Errorf("hold %d: %w: %w", i, reads.ErrInvalid, err)
				}
				h.vrms[vrm] = true
			}
		}
		if len(sc.Cameras) > 0 {
			h.cameras = make(map[string]bool, len(sc.Cameras))
			for _, c := range sc.Cameras {
				h.cameras[c] = true
			}
		}
		if !sc.From.IsZero() {
			h.from = reads.CeilMilli(sc.From)
		}
		if !sc.To.IsZero() {
			h.to = reads.CeilMilli(sc.To)
		}
		if !sc.From.IsZero() && !sc.To.IsZero() && !sc.From.Before(sc.To) {
			return nil, fmt.Errorf("hold %d: window from %s is not before to %s: %w", i,
				sc.From.UTC().Format(time.RFC3339Nano), sc.To.UTC().Format(time.RFC3339Nano), reads.ErrInvalid)
		}
		holds = append(holds, h)
	}
	return holds, nil
}

func (h readsHold) covers(vrm, camera string, seenAt int64) bool {
	return (h.vrms == nil || h.vrms[vrm]) &&
		(h.cameras == nil || h.cameras[camera]) &&
		seenAt >= h.from && seenAt < h.to
}

// DeleteReadsBefore deletes reads with seen_at < cutoff that no hold covers. A week that ends by
// the cutoff and holds no held read is dropped as a whole table, in one short transaction; other
// weeks before the cutoff are deleted row by row, DeleteChunk reads examined per transaction so
// ingest never waits long behind retention. The row walk is keyset-ordered on (seen_at, id), so
// held reads are looked at once per run rather than once per chunk. Plates left without reads are
// removed with them: a plate is personal data too, and the partial-plate index must not keep
// finding vehicles whose reads are gone.
//
// If ctx ends between transactions, what was committed stays deleted and the count says how many;
// running again continues where it stopped.
func (s *Store) DeleteReadsBefore(ctx context.Context, cutoff time.Time, holds []reads.HoldScope) (int64, error) {
	hs, err := readsCheckHolds(holds)
	if err != nil {
		return 0, fmt.Errorf("delete reads: %w", err)
	}
	if cutoff.IsZero() {
		return 0, fmt.Errorf("delete reads: cutoff is not set: %w", reads.ErrInvalid)
	}
	cut := reads.CeilMilli(cutoff)
	fail := func(total int64, err error) (int64, error) {
		return total, fmt.Errorf("delete reads before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
	}
	parts, err := readsPartitions(ctx, s.db, -1<<63, cut, true)
	if err != nil {
		return fail(0, err)
	}
	var total int64
	for _, p := range parts {
		if p.end <= cut {
			n, dropped, err := s.readsDropIfUnheld(ctx, p, hs)
			total += n
			if err != nil {
				return fail(total, err)
			}
			if dropped {
				continue
			}
		}
		pos := readsCursor{seenAt: math.MinInt64, id: -1}
		for {
			n, scanned, next, err := s.readsDeleteChunk(ctx, p, cut, pos, hs)
			total += n
			if err != nil {
				return fail(total, err)
			}
			if scanned < s.opts.DeleteChunk {
				break
			}
			pos = next
		}
	}
	return total, nil
}

// readsDropIfUnheld drops partition p, which lies wholly before the cutoff, unless a hold covers
// one of its reads; it returns how many reads went with it. Each hold is answered by an index
// probe (plate, camera or time), so a hold on a few plates does not force row-by-row deletion of
// every week, only of the weeks where those plates were seen.
func (s *Store) readsDropIfUnheld(ctx context.Context, p readsPartition, holds []readsHold) (int64, bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, false, fmt.Errorf("begin: %w", readsUnavailable(err))
	}
	defer tx.Rollback()
	for _, h := range holds {
		held, err := readsHoldHits(ctx, tx, p, h)
		if err != nil || held {
			return 0, false, err
		}
	}
	var n int64
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM "`+p.name+`"`).Scan(&n); err != nil {
		if readsIsDropped(err) {
			return 0, true, nil // another retention run got there first
		}
		return 0, false, fmt.Errorf("count %s: %w", p.name, readsUnavailable(err))
	}
	vrms, err := readsStrings(ctx, tx, `SELECT DISTINCT vrm FROM "`+p.name+`" INDEXED BY "`+p.name+`_vrm_seen"`)
	if err != nil {
		return 0, false, fmt.Errorf("plates of %s: %w", p.name, err)
	}
	if err := readsDropPartition(ctx, tx, p); err != nil {
		return 0, false, err
	}
	if err := readsCleanPlates(ctx, tx, vrms); err != nil {
		return 0, false, err
	}
	if err := tx.Commit(); err != nil {
		return 0, false, fmt.Errorf("commit: %w", readsUnavailable(err))
	}
	return n, true, nil
}

// readsHoldHits reports whether hold h covers at least one read of partition p.
func readsHoldHits(ctx context.Context, tx *sql.Tx, p readsPartition, h readsHold) (bool, error) {
	from, to := max(h.from, p.start), min(h.to, p.end)
	if from >= to {
		return false, nil
	}
	b := &readsSQL{}
	if h.vrms != nil {
		b.add("vrm IN (SELECT value FROM json_each(?))", readsJSONStrings(slices.Collect(maps.Keys(h.vrms))))
	}
	if h.cameras != nil {
		b.add("camera_id IN (SELECT value FROM json_each(?))", readsJSONStrings(slices.Collect(maps.Keys(h.cameras))))
	}
	b.add("seen_at >= ? AND seen_at < ?", from, to)
	var hit bool
	err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM "`+p.name+`" WHERE `+strings.Join(b.where, " AND ")+`)`,
		b.args...).Scan(&hit)
	if err != nil && !readsIsDropped(err) {
		return false, fmt.Errorf("check holds on %s: %w", p.name, readsUnavailable(err))
	}
	return hit, nil
}

// readsCleanPlates deletes those of vrms that no partition has a read of any more. Partitions
// are probed newest first: a plate still in use is usually seen recently, which ends its probe
// early.
func readsCleanPlates(ctx context.Context, tx *sql.Tx, vrms []string) error {
	if len(vrms) == 0 {
		return nil
	}
	parts, err := readsAllPartitions(ctx, tx)
	if err != nil {
		return err
	}
	var sb strings.Builder
	sb.WriteString(`DELETE FROM plates WHERE vrm IN (SELECT value FROM json_each(?))`)
	for _, p := range parts {
		fmt.Fprintf(&sb, ` AND NOT EXISTS (SELECT 1 FROM "%s" INDEXED BY "%s_vrm_seen" WHERE vrm = plates.vrm)`, p.name, p.name)
	}
	// Chunks keep each statement's plate list, and so its transaction, modest.
	const chunk = 5000
	for start := 0; start < len(vrms); start += chunk {
		// One statement per chunk: the FTS delete trigger then flushes once, not per plate.
		if _, err := tx.ExecContext(ctx, sb.String(), readsJSONStrings(vrms[start:min(start+chunk, len(vrms))])); err != nil {
			return fmt.Errorf("clean up plates: %w", readsUnavailable(err))
		}
	}
	return nil
}

func readsStrings(ctx context.Context, q readsQuerier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, readsUnavailable(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, readsUnavailable(err)
	}
	return out, nil
}

type readsExpired struct {
	seq    int64
	id     int64
	vrm    string
	camera string
	seenAt int64
}

// readsDeleteChunk examines up to DeleteChunk reads of partition p after pos and before cut, in
// one transaction, and deletes the unheld ones. It returns how many it deleted, how many it
// examined and where the next chunk starts. A partition that this leaves empty and that lies
// wholly before the cutoff is dropped.
func (s *Store) readsDeleteChunk(ctx context.Context, p readsPartition, cut int64, pos readsCursor, holds []readsHold) (
	deleted int64, scanned int, next readsCursor, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, pos, fmt.Errorf("begin: %w", readsUnavailable(err))
	}
	defer tx.Rollback()

	// Read the whole chunk before deleting anything: modifying a table under an open cursor on it
	// is legal in SQLite but makes the cursor's behaviour hard to reason about.
	rows, err := tx.QueryContext(ctx, `SELECT seq, id, vrm, camera_id, seen_at FROM "`+p.name+`" INDEXED BY "`+p.name+`_seen"
		WHERE seen_at < ? AND seen_at >= ? AND (seen_at > ? OR id > ?)
		ORDER BY seen_at, id LIMIT ?`, cut, pos.seenAt, pos.seenAt, pos.id, s.opts.DeleteChunk)
	if readsIsDropped(err) {
		return 0, 0, pos, nil // dropped by a concurrent run
	}
	if err != nil {
		return 0, 0, pos, fmt.Errorf("scan expired reads in %s: %w", p.name, readsUnavailable(err))
	}
	chunk := make([]readsExpired, 0, min(s.opts.DeleteChunk, 4096))
	for rows.Next() {
		var e readsExpired
		if err := rows.Scan(&e.seq, &e.id, &e.vrm, &e.camera, &e.seenAt); err != nil {
			rows.Close()
			return 0, 0, pos, fmt.Errorf("scan expired reads: %w", err)
		}
		chunk = append(chunk, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, pos, fmt.Errorf("scan expired reads: %w", readsUnavailable(err))
	}
	if len(chunk) == 0 {
		return 0, 0, pos, nil
	}

	del, err := tx.PrepareContext(ctx, `DELETE FROM "`+p.name+`" WHERE seq = ?`)
	if err != nil {
		return 0, 0, pos, fmt.Errorf("prepare delete: %w", err)
	}
	defer del.Close()
	touched := make(map[string]bool)
	for _, e := range chunk {
		if readsHeld(holds, e) {
			continue
		}
		if _, err := del.ExecContext(ctx, e.seq); err != nil {
			return 0, 0, pos, fmt.Errorf("delete read %s: %w", readsFormatID(e.id), readsUnavailable(err))
		}
		deleted++
		touched[e.vrm] = true
	}
	if p.end <= cut {
		var left bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM "`+p.name+`")`).Scan(&left); err != nil {
			return 0, 0, pos, fmt.Errorf("check %s: %w", p.name, readsUnavailable(err))
		}
		if !left {
			if err := readsDropPartition(ctx, tx, p); err != nil {
				return 0, 0, pos, err
			}
		}
	}
	if err := readsCleanPlates(ctx, tx, slices.Collect(maps.Keys(touched))); err != nil {
		return 0, 0, pos, err
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, pos, fmt.Errorf("commit: %w", readsUnavailable(err))
	}
	last := chunk[len(chunk)-1]
	return deleted, len(chunk), readsCursor{seenAt: last.seenAt, id: last.id}, nil
}

func readsHeld(holds []readsHold, e readsExpired) bool {
	for _, h := range holds {
		if h.covers(e.vrm, e.camera, e.seenAt) {
			return true
		}
	}
	return false
}
