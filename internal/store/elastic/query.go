package elastic

import (
	"fmt"
	"strconv"

	"github.com/anpr-portal/anpr/internal/reads"
)

// query is a reads.Checked query (the checks every backend shares) as this backend uses it.
type query struct {
	match    reads.MatchKind
	value    string // normalised VRM, skeleton, or canonical pattern text
	from, to int64  // unix ms, half-open [from, to)
	cameras  []string
	order    reads.Order
	limit    int
	after    *cursor // nil on the first page
	pit      string  // point in time carried in the cursor, if any (see FindReads)
	snapshot bool
	checked  reads.Checked
}

func checkQuery(q reads.Query) (query, error) {
	c, err := q.Check()
	if err != nil {
		return query{}, err
	}
	out := query{match: c.Match, value: c.Value, from: c.From, to: c.To, cameras: c.Cameras,
		order: c.Order, limit: c.Limit, pit: c.AfterToken, snapshot: c.Snapshot, checked: c}
	if c.After != nil {
		out.after = &cursor{seenAt: c.After.SeenAt, id: uint64(c.After.ID)}
	}
	return out, nil
}

// cursor is a position in the stable total order (seen_at, id); it is keyset state, not a point
// in time: see FindReads.
type cursor struct {
	seenAt int64
	id     uint64
}

// next is the cursor of the page after c, inside point in time pit when it is not empty.
func (q query) next(c cursor, pit string) string {
	return q.checked.CursorAfterWith(reads.Position{SeenAt: c.seenAt, ID: int64(c.id)}, pit)
}

func (c cursor) idString() string { return fmt.Sprintf("%016x", c.id) }

// parseID checks a read id: 16 lowercase hex digits of a positive int63, as reads.ReadID makes.
func parseID(id string) (uint64, error) {
	if len(id) != 16 {
		return 0, fmt.Errorf("read id %q: want 16 hex digits: %w", id, reads.ErrInvalid)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return 0, fmt.Errorf("read id %q: want lowercase hex digits: %w", id, reads.ErrInvalid)
		}
	}
	v, err := strconv.ParseUint(id, 16, 64)
	if err != nil || v>>63 != 0 {
		return 0, fmt.Errorf("read id %q: %w", id, reads.ErrInvalid)
	}
	return v, nil
}
