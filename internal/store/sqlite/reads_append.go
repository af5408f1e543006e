package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// readsRow is a read as stored: the id as an int63, time in unix milliseconds, image hashes as
// raw bytes (nil when absent).
type readsRow struct {
	id          int64
	vrm         string
	skeleton    string
	cameraID    string
	seenAt      int64
	confidence  float64
	lane        int
	patchSHA    []byte
	overviewSHA []byte
}

// readsToRow checks one read and converts it to its stored form. The store trusts the ingest
// layer for policy (is the camera registered, is the time plausible) but not for the identity of
// a read: a wrong id or a non-normalised plate would break idempotency and search for good.
func readsToRow(r reads.Read) (readsRow, error) {
	vrm, err := plate.Normalize(r.VRM)
	if err != nil {
		return readsRow{}, fmt.Errorf("vrm: %w", err)
	}
	if vrm != r.VRM {
		return readsRow{}, fmt.Errorf("vrm %q is not normalised (want %q)", r.VRM, vrm)
	}
	skel := plate.Skeleton(vrm)
	if r.Skeleton != "" && r.Skeleton != skel {
		return readsRow{}, fmt.Errorf("skeleton %q does not match vrm %q (want %q)", r.Skeleton, vrm, skel)
	}
	if r.CameraID == "" {
		return readsRow{}, errors.New("camera id is empty")
	}
	if r.SeenAt.IsZero() {
		return readsRow{}, errors.New("seen_at is not set")
	}
	if err := readsCheckSeenAt(r.SeenAt.UnixMilli()); err != nil {
		return readsRow{}, err
	}
	if math.IsNaN(r.Confidence) || r.Confidence < 0 || r.Confidence > 1 {
		return readsRow{}, fmt.Errorf("confidence %v is outside 0..1", r.Confidence)
	}
	id := reads.ReadID(r.CameraID, r.SeenAt, vrm)
	if r.ID != "" && r.ID != id {
		return readsRow{}, fmt.Errorf("id %q does not match camera, time and vrm (want %q)", r.ID, id)
	}
	rowid, err := readsParseID(id)
	if err != nil {
		return readsRow{}, err // cannot happen for ReadID output; checked so a change there fails loudly
	}
	patch, err := readsDecodeSHA(r.PatchSHA)
	if err != nil {
		return readsRow{}, fmt.Errorf("patch_sha256: %w", err)
	}
	overview, err := readsDecodeSHA(r.OverviewSHA)
	if err != nil {
		return readsRow{}, fmt.Errorf("overview_sha256: %w", err)
	}
	return readsRow{
		id:          rowid,
		vrm:         vrm,
		skeleton:    skel,
		cameraID:    r.CameraID,
		seenAt:      r.SeenAt.UnixMilli(),
		confidence:  r.Confidence,
		lane:        r.Lane,
		patchSHA:    patch,
		overviewSHA: overview,
	}, nil
}

// readsParseID turns a read id (16 lowercase hex digits of a positive int63) into the rowid.
func readsParseID(id string) (int64, error) {
	if len(id) != 16 {
		return 0, fmt.Errorf("read id %q: want 16 hex digits: %w", id, reads.ErrInvalid)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return 0, fmt.Errorf("read id %q: want lowercase hex digits: %w", id, reads.ErrInvalid)
		}
	}
	v, err := strconv.ParseInt(id, 16, 64) // fails for the top bit set, which ReadID never sets
	if err != nil {
		return 0, fmt.Errorf("read id %q: %w", id, reads.ErrInvalid)
	}
	return v, nil
}

func readsFormatID(id int64) string {
	return fmt.Sprintf("%016x", id)
}

// readsDecodeSHA accepts an empty string (no image) or a hex SHA-256 digest in either case.
func readsDecodeSHA(s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) != 2*32 {
		return nil, fmt.Errorf("%q is not a hex SHA-256 digest", s)
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a hex SHA-256 digest", s)
	}
	return b, nil
}

// readsInsertChunk is how many reads one INSERT statement carries (9 parameters each, far below
// SQLite's limit of 32766). One statement per read spends more time entering and leaving the
// virtual machine than inserting; a hundred rows per statement amortises that.
const readsInsertChunk = 100

// readsIdentitySQL reads back the sighting stored under an id in one partition.
func readsIdentitySQL(part string) string {
	return `SELECT camera_id, seen_at, vrm FROM "` + part + `" WHERE id = ?`
}

func readsCloseStmts[K comparable](stmts map[K]*sql.Stmt) {
	for _, st := range stmts {
		st.Close()
	}
}

// readsInsertSQL inserts n reads into partition part and returns the ids it stored.
//
// OR IGNORE rather than ON CONFLICT(id) DO NOTHING: both skip a read whose id is stored (the only
// conflict that can happen, since every other constraint is checked in readsToRow first), but a
// multi-row statement whose conflicts may ABORT makes SQLite copy every page it touches into a
// statement journal so it can undo a half-done statement, which cost a quarter of an append
// (BenchmarkAppend, 5000-read batches: 92k -> 125k reads/s without it). A statement that can only
// IGNORE never needs undoing. STRICT type errors still fail the statement, and the transaction.
func readsInsertSQL(part string, n int) string {
	return readsValuesSQL(`INSERT OR IGNORE INTO "`+part+`"(id, vrm, skeleton, camera_id, seen_at, confidence,
		lane, patch_sha, overview_sha) VALUES`, n, 9, `RETURNING id`)
}

// readsValuesSQL returns "prefix (?,?),(?,?)... suffix" with n groups of cols placeholders.
func readsValuesSQL(prefix string, n, cols int, suffix string) string {
	group := "(" + strings.Repeat("?,", cols-1) + "?)"
	var sb strings.Builder
	sb.Grow(len(prefix) + n*(len(group)+1) + len(suffix) + 2)
	sb.WriteString(prefix)
	sb.WriteByte(' ')
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(group)
	}
	sb.WriteByte(' ')
	sb.WriteString(suffix)
	return sb.String()
}

// AppendReads stores a batch in one transaction. A read whose id is already stored counts as a
// duplicate when it is the same sighting (camera, time, plate); a different sighting with the same
// id is a hash collision and fails the whole batch with reads.ErrConflict, because dropping it
// silently would lose evidence.
func (s *Store) AppendReads(ctx context.Context, batch []reads.Read) (reads.AppendResult, error) {
	if len(batch) == 0 {
		return reads.AppendResult{}, nil
	}
	// Validate everything before taking the write lock: a bad batch costs other writers nothing.
	rows := make([]readsRow, len(batch))
	for i, r := range batch {
		row, err := readsToRow(r)
		if err != nil {
			return reads.AppendResult{}, fmt.Errorf("append reads: read %d: %w: %w", i, reads.ErrInvalid, err)
		}
		rows[i] = row
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return reads.AppendResult{}, fmt.Errorf("append reads: begin: %w", readsUnavailable(err))
	}
	defer tx.Rollback()
	res, err := readsAppendTx(ctx, tx, rows)
	if err != nil {
		return reads.AppendResult{}, fmt.Errorf("append reads: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return reads.AppendResult{}, fmt.Errorf("append reads: commit: %w", readsUnavailable(err))
	}
	return res, nil
}

func readsAppendTx(ctx context.Context, tx *sql.Tx, rows []readsRow) (reads.AppendResult, error) {
	var res reads.AppendResult
	// New plates get rowids above the current maximum (SQLite allocates max(rowid)+1 and we hold
	// the write lock), which is how the trigram index is brought up to date below.
	var maxPlate int64
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM plates`).Scan(&maxPlate); err != nil {
		return res, fmt.Errorf("plates: %w", readsUnavailable(err))
	}

	// Group the batch by week, keeping arrival order inside a week. A batch from a live feed
	// spans one week, occasionally two.
	weeks := map[int64][]int{}
	var order []int64
	for i, r := range rows {
		w := readsWeekStart(r.seenAt)
		if _, ok := weeks[w]; !ok {
			order = append(order, w)
		}
		weeks[w] = append(weeks[w], i)
	}
	partOf := make([]string, len(rows))

	// RETURNING lists exactly the rows OR IGNORE did not skip.
	inserted := make(map[int64]int, len(rows))
	args := make([]any, 0, 9*readsInsertChunk)
	for _, w := range order {
		name, err := readsEnsurePartition(ctx, tx, w)
		if err != nil {
			return res, err
		}
		idx := weeks[w]
		stmts := map[int]*sql.Stmt{}
		for start := 0; start < len(idx); start += readsInsertChunk {
			chunk := idx[start:min(start+readsInsertChunk, len(idx))]
			st := stmts[len(chunk)]
			if st == nil {
				st, err = tx.PrepareContext(ctx, readsInsertSQL(name, len(chunk)))
				if err != nil {
					readsCloseStmts(stmts)
					return res, fmt.Errorf("prepare insert: %w", err)
				}
				stmts[len(chunk)] = st
			}
			args = args[:0]
			for _, i := range chunk {
				r := rows[i]
				partOf[i] = name
				args = append(args, r.id, r.vrm, r.skeleton, r.cameraID, r.seenAt, r.confidence, r.lane,
					r.patchSHA, r.overviewSHA)
			}
			if err := readsCollectIDs(ctx, st, args, inserted); err != nil {
				readsCloseStmts(stmts)
				return res, fmt.Errorf("insert reads into %s: %w", name, err)
			}
		}
		readsCloseStmts(stmts)
	}

	identity := map[string]*sql.Stmt{} // per partition, prepared on its first duplicate only
	defer readsCloseStmts(identity)
	var plates []any // vrm, skeleton pairs of plates with a newly stored read
	platesSeen := make(map[string]bool)
	for i, row := range rows {
		if inserted[row.id] > 0 {
			inserted[row.id]-- // a read repeated inside the batch is inserted once
			res.Inserted++
			if !platesSeen[row.vrm] {
				platesSeen[row.vrm] = true
				plates = append(plates, row.vrm, row.skeleton)
			}
			continue
		}
		st := identity[partOf[i]]
		if st == nil {
			var err error
			if st, err = tx.PrepareContext(ctx, readsIdentitySQL(partOf[i])); err != nil {
				return res, fmt.Errorf("prepare duplicate check: %w", err)
			}
			identity[partOf[i]] = st
		}
		if err := readsCheckSame(ctx, st, row); err != nil {
			return res, fmt.Errorf("read %d: %w", i, err)
		}
		res.Duplicates++
	}

	for start := 0; start < len(plates); start += 2 * readsInsertChunk {
		chunk := plates[start:min(start+2*readsInsertChunk, len(plates))]
		q := readsValuesSQL(`INSERT OR IGNORE INTO plates(vrm, skeleton) VALUES`, len(chunk)/2, 2, "") // see readsInsertSQL
		if _, err := tx.ExecContext(ctx, q, chunk...); err != nil {
			return res, fmt.Errorf("insert plates: %w", readsUnavailable(err))
		}
	}
	// One statement for the whole batch: FTS5 flushes its pending terms to a new segment at the
	// end of every statement, so a trigger on plates (one flush per new plate) would fill the
	// index with tiny segments and cost more than the plates themselves.
	if len(plates) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO plates_fts(rowid, vrm) SELECT id, vrm FROM plates WHERE id > ?`,
			maxPlate); err != nil {
			return res, fmt.Errorf("index plates: %w", readsUnavailable(err))
		}
	}
	return res, nil
}

// readsCollectIDs runs an INSERT ... RETURNING id and counts the returned ids.
func readsCollectIDs(ctx context.Context, st *sql.Stmt, args []any, into map[int64]int) error {
	rs, err := st.QueryContext(ctx, args...)
	if err != nil {
		return readsUnavailable(err)
	}
	defer rs.Close()
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			return err
		}
		into[id]++
	}
	if err := rs.Err(); err != nil {
		return readsUnavailable(err)
	}
	return nil
}

// readsCheckSame confirms that the stored read with row's id is the same sighting.
func readsCheckSame(ctx context.Context, identity *sql.Stmt, row readsRow) error {
	var cam, vrm string
	var seen int64
	if err := identity.QueryRowContext(ctx, row.id).Scan(&cam, &seen, &vrm); err != nil {
		return fmt.Errorf("check duplicate %s: %w", readsFormatID(row.id), err)
	}
	if cam != row.cameraID || seen != row.seenAt || vrm != row.vrm {
		return fmt.Errorf("read id %s is already used by a different read (camera %s, time %d, vrm %s): %w",
			readsFormatID(row.id), cam, seen, vrm, reads.ErrConflict)
	}
	return nil
}

// readsUnavailable marks database errors that a retry may cure (a lock held too long, a
// cancelled context passes through unchanged) as reads.ErrUnavailable so the API answers 503.
func readsUnavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", reads.ErrUnavailable, err)
}
