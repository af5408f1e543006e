package reads

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
)

// DefaultPageSize is the page size when a query does not ask for one.
const DefaultPageSize = 100

// Checked is a Query validated and in canonical form: the value normalised, the window in whole
// milliseconds, cameras sorted and deduplicated, defaults applied, the cursor opened. Every
// backend starts from it, so all accept and refuse exactly the same queries and share one cursor
// format; the conformance suite holds them to it.
type Checked struct {
	Match    MatchKind
	Value    string        // normalised VRM, skeleton, or canonical pattern text
	Pattern  plate.Pattern // set when Match is MatchPattern
	From, To int64         // unix ms, half-open [From, To)
	Cameras  []string
	Order    Order
	Limit    int
	After    *Position // nil on the first page
	// AfterToken is the backend's view token carried in the cursor (a point-in-time id), empty
	// when the page before held no view; see Query.Snapshot.
	AfterToken string
	Snapshot   bool
	// Fingerprint hashes everything that selects or orders results; it seals cursors.
	Fingerprint [32]byte
}

// Position is a place in the stable total order of reads, (seen_at, id): a page ends after it.
type Position struct {
	SeenAt int64 // unix ms
	ID     int64 // the read id as a positive int63 (ReadID's 16 hex digits)
}

// Check validates q. Every problem is an ErrInvalid, because it is the caller's input that is
// wrong, never the data.
func (q Query) Check() (Checked, error) {
	out := Checked{Match: q.Match, Order: q.Order, Limit: q.Limit, Snapshot: q.Snapshot}
	invalid := func(format string, args ...any) (Checked, error) {
		return Checked{}, fmt.Errorf("reads query: %s: %w", fmt.Sprintf(format, args...), ErrInvalid)
	}
	switch q.Match {
	case MatchExact:
		vrm, err := plate.Normalize(q.Value)
		if err != nil {
			return invalid("%v", err)
		}
		out.Value = vrm
	case MatchSkeleton:
		// Normalising and then taking the skeleton is idempotent for a skeleton and turns a plain
		// VRM into its skeleton, so both are accepted.
		vrm, err := plate.Normalize(q.Value)
		if err != nil {
			return invalid("skeleton: %v", err)
		}
		out.Value = plate.Skeleton(vrm)
	case MatchPattern:
		p, err := plate.ParsePattern(q.Value)
		if err != nil {
			return invalid("%v", err)
		}
		if vrm, ok := p.Exact(); ok {
			// No wildcard: it names one plate, and the exact path is the fastest one there is.
			out.Match, out.Value = MatchExact, vrm
		} else {
			out.Pattern, out.Value = p, p.String()
		}
	case MatchAny:
		if q.Value != "" {
			return invalid("match any takes no value")
		}
		if len(q.Cameras) == 0 {
			return invalid("match any needs at least one camera")
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
	out.From, out.To = CeilMilli(q.From), CeilMilli(q.To)
	if !q.From.Before(q.To) {
		return invalid("window from %s is not before to %s", q.From.UTC().Format(time.RFC3339Nano),
			q.To.UTC().Format(time.RFC3339Nano))
	}
	if len(q.Cameras) > 0 {
		out.Cameras = slices.Clone(q.Cameras)
		slices.Sort(out.Cameras)
		out.Cameras = slices.Compact(out.Cameras)
		if out.Cameras[0] == "" {
			return invalid("camera id is empty")
		}
	}
	switch q.Order {
	case "":
		out.Order = NewestFirst
	case NewestFirst, OldestFirst:
	default:
		return invalid("unknown order %q", q.Order)
	}
	switch {
	case q.Limit < 0:
		return invalid("limit %d is negative", q.Limit)
	case q.Limit == 0:
		out.Limit = DefaultPageSize
	case q.Limit > MaxPageSize:
		out.Limit = MaxPageSize
	}

	out.Fingerprint = out.fingerprint()
	if q.Cursor != "" {
		p, token, err := decodeCursor(q.Cursor, out.Fingerprint)
		if err != nil {
			return Checked{}, fmt.Errorf("reads query: %w", err)
		}
		out.After, out.AfterToken = &p, token
	}
	return out, nil
}

// CeilMilli is t in unix milliseconds rounded up: stored times are whole milliseconds, so a
// stored time is at or after t exactly when it is at or after CeilMilli(t).
func CeilMilli(t time.Time) int64 {
	ms := t.UnixMilli() // floors, also before 1970
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		ms++
	}
	return ms
}

// A cursor is the position after the last read of a page, sealed with a tag: the first 8 bytes of
// SHA-256 over the query's fingerprint and the position. The tag makes a cursor from one query
// useless for another (without it a cursor from a narrow query could be replayed against a
// different one and silently skip or repeat results) and makes a corrupted or hand-edited cursor
// fail loudly instead of moving the page. It is a checksum, not a signature: forging one could at
// most move the start of a page, never widen the filters, which come from the query itself (the
// search service adds an HMAC binding to the user on top).
//
// Wire form: base64url (no padding) of
//
//	version 1 (1 byte) | seen_at ms (8 bytes, big endian) | id (8) | tag (8)
//	version 2 (1 byte) | seen_at ms (8) | id (8) | token length (2) | token | tag (8)
//
// Version 2 carries a backend's view token (see Query.Snapshot); the tag covers it too.
const (
	cursorVersion  = 1
	cursorVersion2 = 2
	cursorLen      = 1 + 8 + 8 + 8
	// MaxCursorToken bounds a view token; a point-in-time id grows with the shards it spans.
	MaxCursorToken = 8192
)

func cursorTag(body []byte, fp [32]byte) [8]byte {
	h := sha256.New()
	h.Write(fp[:])
	h.Write(body)
	return [8]byte(h.Sum(nil))
}

// CursorAfter is the cursor of the page that starts after p.
func (c Checked) CursorAfter(p Position) string { return encodeCursor(p, "", c.Fingerprint) }

// CursorAfterWith is the cursor of the page that starts after p inside the backend view token
// (see Query.Snapshot); an empty token gives CursorAfter's cursor.
func (c Checked) CursorAfterWith(p Position, token string) string {
	return encodeCursor(p, token, c.Fingerprint)
}

func encodeCursor(p Position, token string, fp [32]byte) string {
	if len(token) > MaxCursorToken {
		token = "" // keyset paging from the same position is still right, only not frozen
	}
	b := make([]byte, 17, cursorLen+2+len(token))
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(p.SeenAt))
	binary.BigEndian.PutUint64(b[9:17], uint64(p.ID))
	if token != "" {
		b[0] = cursorVersion2
		b = binary.BigEndian.AppendUint16(b, uint16(len(token)))
		b = append(b, token...)
	}
	tag := cursorTag(b, fp)
	b = append(b, tag[:]...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, fp [32]byte) (Position, string, error) {
	malformed := fmt.Errorf("cursor is malformed: %w", ErrInvalid)
	b, err := base64.RawURLEncoding.DecodeString(s)
	// The decoder skips newlines and ignores the spare bits of the last character; insisting on
	// the canonical text keeps one position to one cursor string.
	if err != nil || len(b) < cursorLen || base64.RawURLEncoding.EncodeToString(b) != s {
		return Position{}, "", malformed
	}
	var token string
	switch b[0] {
	case cursorVersion:
		if len(b) != cursorLen {
			return Position{}, "", malformed
		}
	case cursorVersion2:
		if len(b) < cursorLen+2 {
			return Position{}, "", malformed
		}
		n := int(binary.BigEndian.Uint16(b[17:19]))
		if n == 0 || len(b) != cursorLen+2+n {
			return Position{}, "", malformed
		}
		token = string(b[19 : 19+n])
	default:
		return Position{}, "", fmt.Errorf("cursor version %d is not supported: %w", b[0], ErrInvalid)
	}
	body := b[:len(b)-8]
	if [8]byte(b[len(b)-8:]) != cursorTag(body, fp) {
		return Position{}, "", fmt.Errorf("cursor does not belong to this query or was altered: %w", ErrInvalid)
	}
	p := Position{SeenAt: int64(binary.BigEndian.Uint64(b[1:9])), ID: int64(binary.BigEndian.Uint64(b[9:17]))}
	if p.ID < 0 {
		return Position{}, "", malformed
	}
	return p, token, nil
}

// fingerprint hashes everything that selects or orders results, in canonical form (the
// normalised value, sorted cameras), so an equivalent query keeps its cursors valid. The page
// size is left out on purpose: a client may change it between pages.
func (c Checked) fingerprint() [32]byte {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field("reads-query-v1")
	field(string(c.Match))
	field(c.Value)
	field(strconv.FormatInt(c.From, 10))
	field(strconv.FormatInt(c.To, 10))
	field(string(c.Order))
	for _, cam := range c.Cameras {
		field(cam)
	}
	return [32]byte(h.Sum(nil))
}
