package sqlite

import (
	"encoding/json"
	"fmt"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// readsQuery is a reads.Checked query as this backend uses it.
type readsQuery struct {
	match    reads.MatchKind
	value    string        // normalised VRM, skeleton, or canonical pattern text
	pattern  plate.Pattern // set when match is MatchPattern
	from, to int64         // unix ms, half-open [from, to)
	cameras  []string
	order    reads.Order
	limit    int
	after    *readsCursor // nil on the first page
	checked  reads.Checked
}

// readsCursor is a position in the stable total order (seen_at, id).
type readsCursor struct {
	seenAt int64
	id     int64
}

// readsCheckQuery validates q the way every backend does (reads.Query.Check).
func readsCheckQuery(q reads.Query) (readsQuery, error) {
	c, err := q.Check()
	if err != nil {
		return readsQuery{}, err
	}
	out := readsQuery{match: c.Match, value: c.Value, pattern: c.Pattern, from: c.From, to: c.To,
		cameras: c.Cameras, order: c.Order, limit: c.Limit, checked: c}
	if c.After != nil {
		out.after = &readsCursor{seenAt: c.After.SeenAt, id: c.After.ID}
	}
	return out, nil
}

// readsEncodeCursor is the cursor of the page after position c.
func readsEncodeCursor(c readsCursor, q readsQuery) string {
	return q.checked.CursorAfter(reads.Position{SeenAt: c.seenAt, ID: c.id})
}

// readsSQL accumulates a WHERE clause and its arguments.
type readsSQL struct {
	where []string
	args  []any
	// opaque hides the bound plate and times from the query planner; see readsFilters.
	opaque bool
}

// param is the placeholder for a bound value of SQL type typ (INTEGER or TEXT) compared with an
// indexed column. SQLite built with STAT4 (modernc.org/sqlite is) lets the planner read a bare
// "?" from the index samples, and a statement whose planner read a bound value is compiled again
// (sqlite3Reprepare) every time that value is rebound: a cached statement then saves nothing. A
// CAST is not a bare parameter, so the planner estimates without the value and the compiled
// statement is reused; that is only right where the value cannot change the plan.
func (b *readsSQL) param(typ string) string {
	if b.opaque {
		return "CAST(? AS " + typ + ")"
	}
	return "?"
}

func (b *readsSQL) add(cond string, args ...any) {
	b.where = append(b.where, cond)
	b.args = append(b.args, args...)
}

// readsPlan says how the plate part of a query is answered.
type readsPlan int

const (
	// readsPlanPlates: a known, short list of plates; each is a range scan of a
	// partition's (vrm, seen_at, id) index.
	readsPlanPlates readsPlan = iota
	// readsPlanScan: too many plates match for per-plate lookups to pay; walk the window in time
	// order and filter each read, which stops as soon as a page is full.
	readsPlanScan
	// readsPlanCameras: no plate filter (reads.MatchAny): every read at the query's cameras.
	readsPlanCameras
)

// readsFilters builds the conditions shared by FindReads and CountReads (everything except the
// cursor). vrms is the candidate list for readsPlanPlates.
func readsFilters(q readsQuery, plan readsPlan, vrms []string) *readsSQL {
	// A plate lookup names its index (readsIndexHint), so the bound values cannot change its
	// plan: they are hidden from the planner to keep the cached statement compiled. The other
	// plans choose between the time and camera indexes, where the window's size matters.
	b := &readsSQL{opaque: plan == readsPlanPlates}
	switch plan {
	case readsPlanPlates:
		if len(vrms) == 1 {
			b.add("r.vrm = "+b.param("TEXT"), vrms[0])
		} else {
			b.add("r.vrm IN (SELECT value FROM json_each(?))", readsJSONStrings(vrms))
		}
	case readsPlanScan:
		// The unary + keeps the planner off the (vrm, seen_at, id) index: it would otherwise turn an
		// anchored GLOB into a range over that index and lose the time order that lets the scan
		// stop early.
		switch q.match {
		case reads.MatchSkeleton:
			b.add("+r.skeleton = ?", q.value)
		case reads.MatchPattern:
			b.add("+r.vrm GLOB ?", q.value)
		}
	}
	b.add(fmt.Sprintf("r.seen_at >= %[1]s AND r.seen_at < %[1]s", b.param("INTEGER")), q.from, q.to)
	if len(q.cameras) == 1 {
		b.add("r.camera_id = ?", q.cameras[0])
	} else if len(q.cameras) > 1 {
		b.add("r.camera_id IN (SELECT value FROM json_each(?))", readsJSONStrings(q.cameras))
	}
	return b
}

// readsIndexHint names partition part as r, forcing its (vrm, seen_at, id) index for plate
// lookups. With a camera filter and no statistics the planner may otherwise prefer the
// (camera_id, seen_at, id) index, which reads every vehicle past those cameras to find one.
func readsIndexHint(plan readsPlan, part string) string {
	if plan == readsPlanPlates {
		return `"` + part + `" r INDEXED BY "` + part + `_vrm_seen"`
	}
	return `"` + part + `" r`
}

// readsJSONStrings encodes a list (VRMs, camera ids) as a JSON array for json_each. Binding one
// array keeps the SQL text, and so the compiled statement, the same whatever the list length.
func readsJSONStrings(ss []string) string {
	b, err := json.Marshal(ss)
	if err != nil {
		panic(fmt.Sprintf("marshal string list: %v", err)) // a []string always marshals
	}
	return string(b)
}
