package sqlite

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// readsDefaultMaxCandidates is how many distinct plates a skeleton or pattern may match and still
// be answered plate by plate. Each plate costs one index seek plus its reads in the window, then a
// sort; past a few thousand plates, walking the window in time order and filtering is cheaper and
// stops as soon as a page is full.
const readsDefaultMaxCandidates = 2000

const readsColumns = `r.id, r.vrm, r.skeleton, r.camera_id, r.seen_at, r.confidence, r.lane,
	r.patch_sha, r.overview_sha`

// FindReads returns one page of reads matching q in the stable order (seen_at, id), newest first
// unless q.Order says otherwise.
func (s *Store) FindReads(ctx context.Context, q reads.Query) (reads.Page, error) {
	rq, err := readsCheckQuery(q)
	if err != nil {
		return reads.Page{}, err
	}
	plan, vrms, err := s.readsPlan(ctx, rq)
	if err != nil {
		return reads.Page{}, fmt.Errorf("find reads: %w", err)
	}
	if plan == readsPlanPlates && len(vrms) == 0 {
		return reads.Page{}, nil
	}
	query, args := readsFindSQL(rq, plan, vrms)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return reads.Page{}, fmt.Errorf("find reads: %w", readsUnavailable(err))
	}
	defer rows.Close()
	page := reads.Page{Reads: make([]reads.Read, 0, min(rq.limit, 256))}
	var last readsCursor
	more := false
	for rows.Next() {
		if len(page.Reads) == rq.limit {
			more = true
			break
		}
		r, c, err := readsScan(rows)
		if err != nil {
			return reads.Page{}, fmt.Errorf("find reads: %w", err)
		}
		page.Reads = append(page.Reads, r)
		last = c
	}
	if err := rows.Err(); err != nil {
		return reads.Page{}, fmt.Errorf("find reads: %w", readsUnavailable(err))
	}
	if more {
		page.Next = readsEncodeCursor(last, rq.fp)
	}
	return page, nil
}

// readsFindSQL builds the page query. One extra row is asked for: it tells whether there is a
// next page without a second query.
func readsFindSQL(rq readsQuery, plan readsPlan, vrms []string) (string, []any) {
	b := readsFilters(rq, plan, vrms)
	dir, cmp := "DESC", "<"
	if rq.order == reads.OldestFirst {
		dir, cmp = "ASC", ">"
	}
	if rq.after != nil {
		// Keyset paging on (seen_at, id). Written as a range on seen_at plus a tie-break rather
		// than a row-value comparison so that the index range on seen_at is used.
		b.add(fmt.Sprintf("r.seen_at %s= ? AND (r.seen_at %s ? OR r.id %s ?)", cmp, cmp, cmp),
			rq.after.seenAt, rq.after.seenAt, rq.after.id)
	}
	query := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY r.seen_at %s, r.id %s LIMIT ?",
		readsColumns, readsIndexHint(plan), strings.Join(b.where, " AND "), dir, dir)
	return query, append(b.args, rq.limit+1)
}

// CountReads counts every read matching q's filters; the cursor and limit are ignored.
func (s *Store) CountReads(ctx context.Context, q reads.Query) (int64, error) {
	q.Cursor = "" // a count is over the whole result, whatever page the caller is on
	rq, err := readsCheckQuery(q)
	if err != nil {
		return 0, err
	}
	plan, vrms, err := s.readsPlan(ctx, rq)
	if err != nil {
		return 0, fmt.Errorf("count reads: %w", err)
	}
	if plan == readsPlanPlates && len(vrms) == 0 {
		return 0, nil
	}
	b := readsFilters(rq, plan, vrms)
	query := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", readsIndexHint(plan), strings.Join(b.where, " AND "))
	var n int64
	if err := s.db.QueryRowContext(ctx, query, b.args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count reads: %w", readsUnavailable(err))
	}
	return n, nil
}

// GetRead returns the read with the given id.
func (s *Store) GetRead(ctx context.Context, id string) (reads.Read, error) {
	rowid, err := readsParseID(id)
	if err != nil {
		return reads.Read{}, fmt.Errorf("get read: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+readsColumns+" FROM reads r WHERE r.id = ?", rowid)
	if err != nil {
		return reads.Read{}, fmt.Errorf("get read %s: %w", id, readsUnavailable(err))
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return reads.Read{}, fmt.Errorf("get read %s: %w", id, readsUnavailable(err))
		}
		return reads.Read{}, fmt.Errorf("get read %s: %w", id, reads.ErrNotFound)
	}
	r, _, err := readsScan(rows)
	if err != nil {
		return reads.Read{}, fmt.Errorf("get read %s: %w", id, err)
	}
	return r, nil
}

func readsScan(rows *sql.Rows) (reads.Read, readsCursor, error) {
	var (
		row            readsRow
		patch, overvew []byte
	)
	if err := rows.Scan(&row.id, &row.vrm, &row.skeleton, &row.cameraID, &row.seenAt, &row.confidence,
		&row.lane, &patch, &overvew); err != nil {
		return reads.Read{}, readsCursor{}, fmt.Errorf("scan read: %w", err)
	}
	r := reads.Read{
		ID:         readsFormatID(row.id),
		VRM:        row.vrm,
		Skeleton:   row.skeleton,
		CameraID:   row.cameraID,
		SeenAt:     time.UnixMilli(row.seenAt).UTC(),
		Confidence: row.confidence,
		Lane:       row.lane,
	}
	if patch != nil {
		r.PatchSHA = hex.EncodeToString(patch)
	}
	if overvew != nil {
		r.OverviewSHA = hex.EncodeToString(overvew)
	}
	return r, readsCursor{seenAt: row.seenAt, id: row.id}, nil
}

// readsPlan decides how to find the plates q matches. Exact plates need no lookup. Skeletons and
// patterns are first resolved against the plates table (distinct plates, far smaller than reads);
// if that yields at most maxCandidates plates the reads are fetched plate by plate, otherwise the
// window is scanned in time order.
func (s *Store) readsPlan(ctx context.Context, q readsQuery) (readsPlan, []string, error) {
	if q.match == reads.MatchExact {
		return readsPlanPlates, []string{q.value}, nil
	}
	query, args := readsCandidateSQL(q)
	limit := s.maxCandidates()
	rows, err := s.db.QueryContext(ctx, query+" LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return 0, nil, fmt.Errorf("candidate plates: %w", readsUnavailable(err))
	}
	defer rows.Close()
	var vrms []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return 0, nil, fmt.Errorf("candidate plates: %w", err)
		}
		vrms = append(vrms, v)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("candidate plates: %w", readsUnavailable(err))
	}
	if len(vrms) > limit {
		return readsPlanScan, nil, nil
	}
	return readsPlanPlates, vrms, nil
}

// readsCandidateSQL selects the distinct plates a skeleton or pattern query matches.
//
// Patterns: when a literal run has three or more characters the FTS5 trigram index over plates
// narrows the candidates (every run must occur in the plate) and GLOB then checks the whole
// pattern, positions and all. With shorter runs a trigram index has nothing to offer, so GLOB runs
// over plates directly, as a range scan of the unique index when the pattern starts with literal
// characters and as a full scan of the (small) plates table otherwise.
func readsCandidateSQL(q readsQuery) (string, []any) {
	if q.match == reads.MatchSkeleton {
		return "SELECT vrm FROM plates WHERE skeleton = ?", []any{q.value}
	}
	glob := q.pattern.String()
	var terms []string
	for _, run := range q.pattern.FixedRuns() {
		if len(run) >= 3 {
			// Runs are only A-Z and 0-9, so quoting cannot be broken out of; doubling quotes
			// anyway keeps that true if the alphabet ever grows.
			terms = append(terms, `"`+strings.ReplaceAll(run, `"`, `""`)+`"`)
		}
	}
	if len(terms) > 0 {
		// CROSS JOIN keeps the trigram index as the outer loop. With statistics the planner
		// otherwise prefers a prefix range of plates for an anchored pattern ("A*12CD*" ranges
		// over every plate starting with A) and probes the FTS index once per plate.
		return `SELECT p.vrm FROM plates_fts CROSS JOIN plates p ON p.id = plates_fts.rowid
			WHERE plates_fts MATCH ? AND p.vrm GLOB ?`, []any{strings.Join(terms, " AND "), glob}
	}
	if prefix := q.pattern.Anchored(); prefix != "" {
		// Plates are ASCII A-Z 0-9, so bumping the last byte gives the first string past every
		// plate that starts with prefix.
		upper := prefix[:len(prefix)-1] + string(prefix[len(prefix)-1]+1)
		return "SELECT vrm FROM plates WHERE vrm >= ? AND vrm < ? AND vrm GLOB ?", []any{prefix, upper, glob}
	}
	return "SELECT vrm FROM plates WHERE vrm GLOB ?", []any{glob}
}

func (s *Store) maxCandidates() int {
	if s.candidateLimit > 0 {
		return s.candidateLimit
	}
	return readsDefaultMaxCandidates
}
