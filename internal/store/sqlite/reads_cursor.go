package sqlite

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/anpr-portal/anpr/internal/reads"
)

// A cursor is the position after the last read of a page, (seen_at, id) in the stable total
// order, sealed with a tag: the first 8 bytes of SHA-256 over the query's fingerprint and the
// position. The tag makes a cursor from one query useless for another (without it a cursor from a
// narrow query could be replayed against a different one and silently skip or repeat results) and
// makes a corrupted or hand-edited cursor fail loudly instead of moving the page. It is a checksum,
// not a signature: cursors are not secret, and forging one could at most move the start of a page,
// never widen the filters, which come from the query itself.
//
// Wire form: base64url (no padding) of
//
//	version (1 byte) | seen_at ms (8 bytes, big endian) | id (8) | tag (8)
const (
	readsCursorVersion = 1
	readsCursorLen     = 1 + 8 + 8 + 8
)

type readsCursor struct {
	seenAt int64
	id     int64
}

// readsCursorTag binds a position to a query fingerprint.
func readsCursorTag(body []byte, fp [32]byte) [8]byte {
	h := sha256.New()
	h.Write(fp[:])
	h.Write(body)
	return [8]byte(h.Sum(nil))
}

func readsEncodeCursor(c readsCursor, fp [32]byte) string {
	var b [readsCursorLen]byte
	b[0] = readsCursorVersion
	binary.BigEndian.PutUint64(b[1:9], uint64(c.seenAt))
	binary.BigEndian.PutUint64(b[9:17], uint64(c.id))
	tag := readsCursorTag(b[:17], fp)
	copy(b[17:], tag[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func readsDecodeCursor(s string, fp [32]byte) (readsCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	// The decoder skips newlines and ignores the spare bits of the last character; insisting on
	// the canonical text keeps one position to one cursor string.
	if err != nil || len(b) != readsCursorLen || base64.RawURLEncoding.EncodeToString(b) != s {
		return readsCursor{}, fmt.Errorf("cursor is malformed: %w", reads.ErrInvalid)
	}
	if b[0] != readsCursorVersion {
		return readsCursor{}, fmt.Errorf("cursor version %d is not supported: %w", b[0], reads.ErrInvalid)
	}
	if [8]byte(b[17:]) != readsCursorTag(b[:17], fp) {
		return readsCursor{}, fmt.Errorf("cursor does not belong to this query or was altered: %w", reads.ErrInvalid)
	}
	c := readsCursor{
		seenAt: int64(binary.BigEndian.Uint64(b[1:9])),
		id:     int64(binary.BigEndian.Uint64(b[9:17])),
	}
	if c.id < 0 {
		return readsCursor{}, fmt.Errorf("cursor is malformed: %w", reads.ErrInvalid)
	}
	return c, nil
}

// readsFingerprint hashes everything that selects or orders results, in canonical form (the
// normalised value, sorted cameras), so an equivalent query keeps its cursors valid. The page size
// is left out on purpose: a client may change it between pages.
func readsFingerprint(q readsQuery) [32]byte {
	h := sha256.New()
	field := func(s string) {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	field("reads-query-v1")
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
