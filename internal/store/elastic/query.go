package elastic

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// The query checks below mirror internal/store/sqlite (readsCheckQuery, the cursor format), so
// both backends accept and refuse exactly the same queries; the conformance suite holds them to
// it. They belong in package reads once both backends settle; until then a change to one must be
// made to the other.

const defaultLimit = 100

// query is a reads.Query checked and put in canonical form: the value normalised, the window in
// whole milliseconds, cameras sorted and deduplicated, defaults applied.
type query struct {
	match    reads.MatchKind
	value    string // normalised VRM, skeleton, or canonical pattern text
	from, to int64  // unix ms, half-open [from, to)
	cameras  []string
	order    reads.Order
	limit    int
	after    *cursor // nil on the first page
	fp       [32]byte
}

func checkQuery(q reads.Query) (query, error) {
	out := query{match: q.Match, order: q.Order, limit: q.Limit}
	invalid := func(format string, args ...any) (query, error) {
		return query{}, fmt.Errorf("reads query: %s: %w", fmt.Sprintf(format, args...), reads.ErrInvalid)
	}
	switch q.Match {
	case reads.MatchExact:
		vrm, err := plate.Normalize(q.Value)
		if err != nil {
			return invalid("%v", err)
		}
		out.value = vrm
	case reads.MatchSkeleton:
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
			out.match, out.value = reads.MatchExact, vrm // a term query beats a wildcard query
		} else {
			out.value = p.String()
		}
	case "":
		return invalid("match kind is not set")
	default:
		return invalid("unknown match kind %q", q.Match)
	}
	if q.From.IsZero() || q.To.IsZero() {
		return invalid("window needs both from and to")
	}
	// Stored times are whole milliseconds, so t >= From exactly when t >= ceil(From).
	out.from, out.to = ceilMilli(q.From), ceilMilli(q.To)
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
		out.limit = defaultLimit
	case q.Limit > reads.MaxPageSize:
		out.limit = reads.MaxPageSize
	}
	out.fp = fingerprint(out)
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor, out.fp)
		if err != nil {
			return query{}, fmt.Errorf("reads query: %w", err)
		}
		out.after = &c
	}
	return out, nil
}

func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// A cursor is the position after the last read of a page, (seen_at, id) in the stable total
// order, sealed with a tag over the query's fingerprint so that it cannot be replayed against
// another query or edited unnoticed. It is keyset state, not a point in time: see FindReads.
//
// Wire form: base64url (no padding) of version (1) | seen_at ms (8) | id (8) | tag (8).
const (
	cursorVersion = 1
	cursorLen     = 1 + 8 + 8 + 8
)

type cursor struct {
	seenAt int64
	id     uint64
}

func cursorTag(body []byte, fp [32]byte) [8]byte {
	h := sha256.New()
	h.Write(fp[:])
	h.Write(body)
	return [8]byte(h.Sum(nil))
}

func encodeCursor(c cursor, fp [32]byte) string {
	var b [cursorLen]byte
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(c.seenAt))
	binary.BigEndian.PutUint64(b[9:17], c.id)
	tag := cursorTag(b[:17], fp)
	copy(b[17:], tag[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeCursor(s string, fp [32]byte) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != cursorLen || base64.RawURLEncoding.EncodeToString(b) != s {
		return cursor{}, fmt.Errorf("cursor is malformed: %w", reads.ErrInvalid)
	}
	if b[0] != cursorVersion {
		return cursor{}, fmt.Errorf("cursor version %d is not supported: %w", b[0], reads.ErrInvalid)
	}
	if [8]byte(b[17:]) != cursorTag(b[:17], fp) {
		return cursor{}, fmt.Errorf("cursor does not belong to this query or was altered: %w", reads.ErrInvalid)
	}
	c := cursor{seenAt: int64(binary.BigEndian.Uint64(b[1:9])), id: binary.BigEndian.Uint64(b[9:17])}
	if c.id>>63 != 0 {
		return cursor{}, fmt.Errorf("cursor is malformed: %w", reads.ErrInvalid)
	}
	return c, nil
}

func (c cursor) idString() string { return fmt.Sprintf("%016x", c.id) }

// fingerprint hashes everything that selects or orders results, in canonical form. The page size
// is left out: a client may change it between pages.
func fingerprint(q query) [32]byte {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field("elastic-reads-query-v1")
	field(string(q.match))
	field(q.value)
	field(strconv.FormatInt(q.from, 10))
	field(strconv.FormatInt(q.to, 10))
	field(string(q.order))
	for _, c := range q.cameras {
		field(c)
	}
	return [32]byte(h.Sum(nil))
}

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
