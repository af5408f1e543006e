package sqlite

import (
	"context"
	"fmt"
	"math"
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
			h.from = readsCeilMilli(sc.From)
		}
		if !sc.To.IsZero() {
			h.to = readsCeilMilli(sc.To)
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

// DeleteReadsBefore deletes reads with seen_at < cutoff that no hold covers, DeleteChunk reads
// examined per transaction so ingest never waits long behind it. The walk is keyset-ordered on
// (seen_at, id), so held reads are looked at once per run rather than once per chunk. Plates left
// without reads are removed with them: a plate is personal data too, and the partial-plate index
// must not keep finding vehicles whose reads are gone.
//
// If ctx ends between chunks, the chunks already committed stay deleted and the count says how
// many; running again continues where it stopped.
func (s *Store) DeleteReadsBefore(ctx context.Context, cutoff time.Time, holds []reads.HoldScope) (int64, error) {
	hs, err := readsCheckHolds(holds)
	if err != nil {
		return 0, fmt.Errorf("delete reads: %w", err)
	}
	if cutoff.IsZero() {
		return 0, fmt.Errorf("delete reads: cutoff is not set: %w", reads.ErrInvalid)
	}
	cut := readsCeilMilli(cutoff)
	var total int64
	pos := readsCursor{seenAt: math.MinInt64, id: -1}
	for {
		n, scanned, next, err := s.readsDeleteChunk(ctx, cut, pos, hs)
		total += n
		if err != nil {
			return total, fmt.Errorf("delete reads before %s: %w", cutoff.UTC().Format(time.RFC3339), err)
		}
		if scanned < s.opts.DeleteChunk {
			return total, nil
		}
		pos = next
	}
}

type readsExpired struct {
	id     int64
	vrm    string
	camera string
	seenAt int64
}

// readsDeleteChunk examines up to DeleteChunk reads after pos and before cut, in one transaction,
// and deletes the unheld ones. It returns how many it deleted, how many it examined and where the
// next chunk starts.
func (s *Store) readsDeleteChunk(ctx context.Context, cut int64, pos readsCursor, holds []readsHold) (
	deleted int64, scanned int, next readsCursor, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, pos, fmt.Errorf("begin: %w", readsUnavailable(err))
	}
	defer tx.Rollback()

	// Read the whole chunk before deleting anything: modifying a table under an open cursor on it
	// is legal in SQLite but makes the cursor's behaviour hard to reason about.
	rows, err := tx.QueryContext(ctx, `SELECT id, vrm, camera_id, seen_at FROM reads INDEXED BY reads_seen
		WHERE seen_at < ? AND seen_at >= ? AND (seen_at > ? OR id > ?)
		ORDER BY seen_at, id LIMIT ?`, cut, pos.seenAt, pos.seenAt, pos.id, s.opts.DeleteChunk)
	if err != nil {
		return 0, 0, pos, fmt.Errorf("scan expired reads: %w", readsUnavailable(err))
	}
	chunk := make([]readsExpired, 0, s.opts.DeleteChunk)
	for rows.Next() {
		var e readsExpired
		if err := rows.Scan(&e.id, &e.vrm, &e.camera, &e.seenAt); err != nil {
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

	del, err := tx.PrepareContext(ctx, `DELETE FROM reads WHERE id = ?`)
	if err != nil {
		return 0, 0, pos, fmt.Errorf("prepare delete: %w", err)
	}
	defer del.Close()
	touched := make(map[string]bool)
	for _, e := range chunk {
		if readsHeld(holds, e) {
			continue
		}
		if _, err := del.ExecContext(ctx, e.id); err != nil {
			return 0, 0, pos, fmt.Errorf("delete read %s: %w", readsFormatID(e.id), readsUnavailable(err))
		}
		deleted++
		touched[e.vrm] = true
	}
	if len(touched) > 0 {
		// One statement for the chunk: the FTS delete trigger then flushes once, not per plate.
		vrms := make([]string, 0, len(touched))
		for vrm := range touched {
			vrms = append(vrms, vrm)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM plates WHERE vrm IN (SELECT value FROM json_each(?))
			AND NOT EXISTS (SELECT 1 FROM reads INDEXED BY reads_vrm_seen WHERE reads.vrm = plates.vrm)`,
			readsJSONStrings(vrms)); err != nil {
			return 0, 0, pos, fmt.Errorf("clean up plates: %w", readsUnavailable(err))
		}
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
