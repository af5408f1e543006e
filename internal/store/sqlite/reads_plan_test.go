package sqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

// TestReadsQueryPlans pins the index each query shape uses. Plans are where SQLite performance
// lives: a query that silently falls back to a full scan or a sort still returns the right rows,
// so only a test of the plan catches it. Plans are checked with and without planner statistics,
// because a freshly created database has none.
func TestReadsQueryPlans(t *testing.T) {
	for _, analysed := range []bool{false, true} {
		t.Run(fmt.Sprintf("analysed=%v", analysed), func(t *testing.T) {
			s := newReads(t)
			var batch []reads.Read
			for i := range 3000 {
				batch = append(batch, storetest.Read(fmt.Sprintf("CAM-%02d", i%40), fmt.Sprintf("AB%02dCDE", i%97),
					storetest.T0.Add(time.Duration(i)*time.Minute)))
			}
			if _, err := s.AppendReads(t.Context(), batch); err != nil {
				t.Fatal(err)
			}
			if analysed {
				if _, err := s.db.Exec("ANALYZE"); err != nil {
					t.Fatal(err)
				}
			}
			window := func(q reads.Query) readsQuery {
				q.From, q.To = storetest.T0, storetest.T0.AddDate(0, 0, 30)
				rq, err := readsCheckQuery(q)
				if err != nil {
					t.Fatal(err)
				}
				return rq
			}
			part := readsWeekName(readsWeekStart(storetest.T0.UnixMilli()))
			vrmIndex, seenIndex := "USING INDEX "+part+"_vrm_seen (vrm=? AND seen_at", "USING INDEX "+part+"_seen (seen_at"
			page := func(rq readsQuery, plan readsPlan, vrms []string, want ...string) {
				t.Helper()
				for _, order := range []reads.Order{reads.NewestFirst, reads.OldestFirst} {
					for _, after := range []*readsCursor{nil, {seenAt: 1, id: 2}} {
						rq.order, rq.after = order, after
						query, args := readsFindSQL(rq, plan, vrms, []string{part}, 101)
						readsWantPlan(t, s, query, args, want...)
					}
				}
			}
			exact := window(reads.Query{Match: reads.MatchExact, Value: "AB12CDE"})
			page(exact, readsPlanPlates, []string{"AB12CDE"}, vrmIndex, "!TEMP B-TREE")
			// Several weeks: one statement whose ordered subqueries SQLite runs one after another,
			// without sorting or merging.
			next := readsWeekName(readsWeekStart(storetest.T0.UnixMilli()) + readsWeekMs)
			for _, order := range []reads.Order{reads.NewestFirst, reads.OldestFirst} {
				exact.order = order
				query, args := readsFindSQL(exact, readsPlanPlates, []string{"AB12CDE"}, []string{next, part}, 101)
				readsWantPlan(t, s, query, args, "COMPOUND QUERY", "!MERGE", vrmIndex, "USING INDEX "+next+"_vrm_seen", "!TEMP B-TREE")
			}
			exact.cameras = []string{"CAM-01", "CAM-02"}
			page(exact, readsPlanPlates, []string{"AB12CDE"}, vrmIndex, "!TEMP B-TREE")

			skel := window(reads.Query{Match: reads.MatchSkeleton, Value: "AB12CDE"})
			page(skel, readsPlanPlates, []string{"AB12CDE", "A812CDE"}, vrmIndex)
			page(skel, readsPlanScan, nil, seenIndex, "!TEMP B-TREE")

			for _, tc := range []struct {
				pattern string
				want    string
			}{
				{"AB1*", "SCAN plates_fts VIRTUAL TABLE INDEX 0:M"}, // FTS5 MATCH drives
				{"*12CD*", "SCAN plates_fts VIRTUAL TABLE INDEX 0:M"},
				{"A*12CD*", "SCAN plates_fts VIRTUAL TABLE INDEX 0:M"},
				{"AB*E", "INDEX sqlite_autoindex_plates_1 (vrm>? AND vrm<?)"},
				{"*B*E", "SCAN plates"},
			} {
				rq := window(reads.Query{Match: reads.MatchPattern, Value: tc.pattern})
				query, args := readsCandidateSQL(rq)
				readsWantPlan(t, s, query, args, tc.want)
				page(rq, readsPlanScan, nil, seenIndex, "!TEMP B-TREE")
			}
			query, args := readsCandidateSQL(skel)
			readsWantPlan(t, s, query, args, "USING INDEX plates_skeleton (skeleton=?)")
		})
	}
}

// readsWantPlan fails unless the query plan contains every wanted fragment, and none prefixed
// with '!'.
func readsWantPlan(t *testing.T, s *Store, query string, args []any, want ...string) {
	t.Helper()
	rows, err := s.db.Query("EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		steps = append(steps, detail)
	}
	plan := strings.Join(steps, " | ")
	for _, w := range want {
		if bad, ok := strings.CutPrefix(w, "!"); ok {
			if strings.Contains(plan, bad) {
				t.Errorf("plan has %q:\n  %s\n  for %s", bad, plan, query)
			}
		} else if !strings.Contains(plan, w) {
			t.Errorf("plan lacks %q:\n  %s\n  for %s", w, plan, query)
		}
	}
}
