package sqlite

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// readsDefaultLimit is the page size when a query does not ask for one.
const readsDefaultLimit = 100

// readsQuery is a reads.Query checked and put in canonical form: the value normalised, the window
// in whole milliseconds, cameras sorted and deduplicated, defaults applied.
type readsQuery struct {
	match    reads.MatchKind
	value    string        // normalised VRM, skeleton, or canonical pattern text
	pattern  plate.Pattern // set when match is MatchPattern
	from, to int64         // unix ms, half-open [from, to)
	cameras  []string
	order    reads.Order
	limit    int
	after    *readsCursor // nil on the first page
	fp       [32]byte     // readsFingerprint; seals cursors
}

// readsCheckQuery validates q. Every problem is a reads.ErrInvalid, because it is the caller's
// input that is wrong, never the data.
func readsCheckQuery(q reads.Query) (readsQuery, error) {
	out := readsQuery{match: q.Match, order: q.Order, limit: q.Limit}
	invalid := func(format string, args ...any) (readsQuery, error) {
		return readsQuery{}, fmt.Errorf("reads query: %s: %w", fmt.Sprintf(format, args...), reads.ErrInvalid)
	}
	switch q.Match {
	case reads.MatchExact:
		vrm, err := plate.Normalize(q.Value)
		if err != nil {
			return invalid("%v", err)
		}
		out.value = vrm
	case reads.MatchSkeleton:
		// A skeleton is a VRM with each confusable character replaced by its group's canonical
		// member; normalising and then taking the skeleton of it is idempotent for a skeleton and
		// turns a plain VRM into its skeleton, so both are accepted.
		vrm, err := plate.Normalize(q.Value)
		if err != nil {
			return invalid("skeleton: %v", err)
		}
		out.value = plate.Skeleton(vrm)
	case reads.MatchPattern:
		p, err := plate.ParsePattern(q.Value)
		if err != nil {
			return invalid("%v", err)
		}
		if vrm, ok := p.Exact(); ok {
			// No wildcard: it names one plate, and the exact path is the fastest one we have.
			out.match, out.value = reads.MatchExact, vrm
		} else {
			out.pattern, out.value = p, p.String()
		}
	case "":
		return invalid("match kind is not set")
	default:
		return invalid("unknown match kind %q", q.Match)
	}

	if q.From.IsZero() || q.To.IsZero() {
		return invalid("window needs both from and to")
	}
	// Stored times are whole milliseconds, so t >= From exactly when t >= ceil(From), and the same
	// for To: a window edge inside a millisecond must neither drop nor add a read.
	out.from, out.to = readsCeilMilli(q.From), readsCeilMilli(q.To)
	if !q.From.Before(q.To) {
		return invalid("window from %s is not before to %s", q.From.UTC().Format(time.RFC3339Nano),
			q.To.UTC().Format(time.RFC3339Nano))
	}

	if len(q.Cameras) > 0 {
		out.cameras = slices.Clone(q.Cameras)
		slices.Sort(out.cameras)
		out.cameras = slices.Compact(out.cameras)
		if out.cameras[0] == "" {
			return invalid("camera id is empty")
		}
	}

	switch q.Order {
	case "":
		out.order = reads.NewestFirst
	case reads.NewestFirst, reads.OldestFirst:
	default:
		return invalid("unknown order %q", q.Order)
	}

	switch {
	case q.Limit < 0:
		return invalid("limit %d is negative", q.Limit)
	case q.Limit == 0:
		out.limit = readsDefaultLimit
	case q.Limit > reads.MaxPageSize:
		out.limit = reads.MaxPageSize
	}

	out.fp = readsFingerprint(out)
	if q.Cursor != "" {
		c, err := readsDecodeCursor(q.Cursor, out.fp)
		if err != nil {
			return readsQuery{}, fmt.Errorf("reads query: %w", err)
		}
		out.after = &c
	}
	return out, nil
}

func readsCeilMilli(t time.Time) int64 {
	ms := t.UnixMilli() // floors, also before 1970
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// readsSQL accumulates a WHERE clause and its arguments.
type readsSQL struct {
	where []string
	args  []any
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
)

// readsFilters builds the conditions shared by FindReads and CountReads (everything except the
// cursor). vrms is the candidate list for readsPlanPlates.
func readsFilters(q readsQuery, plan readsPlan, vrms []string) *readsSQL {
	b := &readsSQL{}
	switch plan {
	case readsPlanPlates:
		if len(vrms) == 1 {
			b.add("r.vrm = ?", vrms[0])
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
	b.add("r.seen_at >= ? AND r.seen_at < ?", q.from, q.to)
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
