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
// unless q.Order says otherwise. The week partitions overlapping the window and not yet passed by
// the cursor are read one after another in the query's order (one statement, see readsFindSQL),
// each from the cursor's position, until the page is full; a page that ends inside a week leaves
// a cursor that the next call carries into the same week.
func (s *Store) FindReads(ctx context.Context, q reads.Query) (reads.Page, error) {
	// A week dropped by retention between listing the partitions and reading them fails the
	// statement; its reads are gone, so the page is simply built again from a fresh list.
	for attempt := 1; ; attempt++ {
		page, err := s.findReads(ctx, q)
		if !readsIsDropped(err) || attempt == 3 {
			return page, err
		}
	}
}

func (s *Store) findReads(ctx context.Context, q reads.Query) (reads.Page, error) {
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
	parts, err := readsPartitions(ctx, s.stmts, rq.from, rq.to, rq.order == reads.OldestFirst)
	if err != nil {
		return reads.Page{}, fmt.Errorf("find reads: %w", err)
	}
	// One read past the page is fetched: it tells whether there is a next page without another
	// query.
	want := rq.limit + 1
	found := make([]reads.Read, 0, min(want, 256))
	var next readsCursor // position of the page's last read
	live := parts[:0]
	for _, p := range parts {
		if !readsPartitionPaged(rq, p) {
			live = append(live, p)
		}
	}
	for start := 0; start < len(live) && len(found) < want; start += readsFindGroup {
		group := live[start:min(start+readsFindGroup, len(live))]
		names := make([]string, len(group))
		for i, p := range group {
			names[i] = p.name
		}
		query, args := readsFindSQL(rq, plan, vrms, names, want-len(found))
		err := func() error {
			rows, err := s.stmts.query(ctx, query, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				r, c, err := readsScan(rows)
				if err != nil {
					return err
				}
				found = append(found, r)
				if len(found) == rq.limit {
					next = c
				}
			}
			return rows.Err()
		}()
		if err != nil {
			return reads.Page{}, fmt.Errorf("find reads in %s..%s: %w", names[0], names[len(names)-1], readsUnavailable(err))
		}
	}
	page := reads.Page{Reads: found}
	if len(found) > rq.limit {
		page.Reads = found[:rq.limit]
		page.Next = readsEncodeCursor(next, rq)
	}
	return page, nil
}

// readsPartitionPaged reports whether every read of partition p lies on the side of the cursor
// that earlier pages already returned.
func readsPartitionPaged(rq readsQuery, p readsPartition) bool {
	if rq.after == nil {
		return false
	}
	if rq.order == reads.OldestFirst {
		return p.end <= rq.after.seenAt
	}
	return p.start > rq.after.seenAt
}

// readsFindGroup is how many week partitions one page query reads. Each week is a subquery of one
// UNION ALL statement: a single cached statement per window does the work that separate queries
// per week did at four times the cost. The bound keeps well under SQLite's limit of 500 terms in
// a compound SELECT.
//
// The weeks are disjoint in time and listed in the query's order, so the answer is the weeks'
// results one after another. The statement therefore has no outer ORDER BY, which would make
// SQLite sort every week's rows up to the limit before merging; it relies instead on SQLite
// running UNION ALL terms left to right and stopping at the outer LIMIT, as it always has.
// TestReadsQueryPlans pins that plan and the conformance suite's multi-week paging checks the
// order.
const readsFindGroup = 64

// readsFindSQL builds the page query over the partitions parts (in the query's order), asking
// for at most limit rows.
func readsFindSQL(rq readsQuery, plan readsPlan, vrms []string, parts []string, limit int) (string, []any) {
	b := readsFilters(rq, plan, vrms)
	dir, cmp := "DESC", "<"
	if rq.order == reads.OldestFirst {
		dir, cmp = "ASC", ">"
	}
	if rq.after != nil {
		// Keyset paging on (seen_at, id). Written as a range on seen_at plus a tie-break rather
		// than a row-value comparison so that the index range on seen_at is used.
		b.add(fmt.Sprintf("r.seen_at %[1]s= %[2]s AND (r.seen_at %[1]s %[2]s OR r.id %[1]s %[2]s)", cmp, b.param("INTEGER")),
			rq.after.seenAt, rq.after.seenAt, rq.after.id)
	}
	where := strings.Join(b.where, " AND ")
	member := func(part string) string {
		return fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY r.seen_at %s, r.id %s LIMIT ?",
			readsColumns, readsIndexHint(plan, part), where, dir, dir)
	}
	if len(parts) == 1 {
		return member(parts[0]), append(b.args, limit)
	}
	var sb strings.Builder
	args := make([]any, 0, len(parts)*(len(b.args)+1)+1)
	for i, part := range parts {
		if i > 0 {
			sb.WriteString(" UNION ALL ")
		}
		sb.WriteString("SELECT * FROM (")
		sb.WriteString(member(part))
		sb.WriteString(")")
		args = append(append(args, b.args...), limit)
	}
	sb.WriteString(" LIMIT ?")
	return sb.String(), append(args, limit)
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
	parts, err := readsPartitions(ctx, s.stmts, rq.from, rq.to, false)
	if err != nil {
		return 0, fmt.Errorf("count reads: %w", err)
	}
	b := readsFilters(rq, plan, vrms)
	var total int64
	for _, p := range parts {
		query := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", readsIndexHint(plan, p.name), strings.Join(b.where, " AND "))
		n, err := s.readsCountIn(ctx, query, b.args)
		if readsIsDropped(err) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("count reads in %s: %w", p.name, readsUnavailable(err))
		}
		total += n
	}
	return total, nil
}

func (s *Store) readsCountIn(ctx context.Context, query string, args []any) (int64, error) {
	rows, err := s.stmts.query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, err
		}
	}
	return n, rows.Err()
}

// GetRead returns the read with the given id. The id does not say which week holds the read, so
// the partitions are probed newest first (recent reads are the ones people open), one unique-index
// seek each, readsFindGroup weeks to a statement.
func (s *Store) GetRead(ctx context.Context, id string) (reads.Read, error) {
	rowid, err := readsParseID(id)
	if err != nil {
		return reads.Read{}, fmt.Errorf("get read: %w", err)
	}
	for attempt := 1; ; attempt++ {
		r, err := s.getRead(ctx, rowid)
		if readsIsDropped(err) && attempt < 3 {
			continue // a week was dropped under the probe: list the weeks again
		}
		if err != nil {
			return reads.Read{}, fmt.Errorf("get read %s: %w", id, err)
		}
		return r, nil
	}
}

func (s *Store) getRead(ctx context.Context, id int64) (reads.Read, error) {
	parts, err := readsAllPartitions(ctx, s.stmts)
	if err != nil {
		return reads.Read{}, err
	}
	for start := 0; start < len(parts); start += readsFindGroup {
		group := parts[start:min(start+readsFindGroup, len(parts))]
		var sb strings.Builder
		args := make([]any, len(group))
		for i, p := range group {
			if i > 0 {
				sb.WriteString(" UNION ALL ")
			}
			fmt.Fprintf(&sb, `SELECT %s FROM "%s" r WHERE r.id = ?`, readsColumns, p.name)
			args[i] = id
		}
		sb.WriteString(" LIMIT 1")
		r, ok, err := s.readsGetIn(ctx, sb.String(), args)
		if err != nil || ok {
			return r, err
		}
	}
	return reads.Read{}, reads.ErrNotFound
}

func (s *Store) readsGetIn(ctx context.Context, query string, args []any) (reads.Read, bool, error) {
	rows, err := s.stmts.query(ctx, query, args...)
	if err != nil {
		return reads.Read{}, false, readsUnavailable(err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return reads.Read{}, false, readsUnavailable(err)
		}
		return reads.Read{}, false, nil
	}
	r, _, err := readsScan(rows)
	if err != nil {
		return reads.Read{}, false, err
	}
	return r, true, nil
}

func readsScan(rows *sql.Rows) (reads.Read, readsCursor, error) { return readsScanAfter(rows) }

// readsScanAfter scans a row of readsColumns that follows the columns scanned into prefix.
func readsScanAfter(rows *sql.Rows, prefix ...any) (reads.Read, readsCursor, error) {
	var (
		row            readsRow
		patch, overvew []byte
	)
	if err := rows.Scan(append(prefix, &row.id, &row.vrm, &row.skeleton, &row.cameraID, &row.seenAt, &row.confidence,
		&row.lane, &patch, &overvew)...); err != nil {
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
	switch q.match {
	case reads.MatchExact:
		return readsPlanPlates, []string{q.value}, nil
	case reads.MatchAny:
		return readsPlanCameras, nil, nil
	}
	query, args := readsCandidateSQL(q)
	limit := s.maxCandidates()
	rows, err := s.stmts.query(ctx, query+" LIMIT ?", append(args, limit+1)...)
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
