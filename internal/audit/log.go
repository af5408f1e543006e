package audit

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// Appender records events. Append returns only once the event is durable (committed and, when it
// completed a checkpoint, anchored); it returns the sealed event (Seq, Chain, Time, PayloadHash
// set). Any failure to record wraps ErrUnavailable, except a malformed event (ErrInvalid).
type Appender interface {
	Append(ctx context.Context, e Event, p Payload) (Event, error)
}

// Reader reads events back by seq range and filter, oldest first, with cursor paging.
type Reader interface {
	Read(ctx context.Context, f Filter) (Page, error)
}

// Checkpointer returns the newest signed checkpoint of the log (ErrNotFound before the first).
type Checkpointer interface {
	LatestCheckpoint(ctx context.Context) (Checkpoint, error)
}

// Log is everything a running audit backend provides to services.
type Log interface {
	Appender
	Reader
	Checkpointer
}

// VerifySource is the raw view of a stored log that Verify and InclusionProof need. It returns
// what is stored, without checking it: checking is Verify's job.
type VerifySource interface {
	// Chain is the chain id the store says it holds.
	Chain(ctx context.Context) (string, error)
	// Size is the highest stored seq (0 for an empty log).
	Size(ctx context.Context) (int64, error)
	// Scan calls fn for each stored record with from <= seq <= to, in seq order. Record.Encoding
	// is the canonical encoding version the event was sealed with.
	Scan(ctx context.Context, from, to int64, fn func(Record) error) error
	// ReadStoredHashes returns the Merkle tree hashes the writer stored (see
	// tlog.StoredHashIndex) with lo <= index <= hi, in index order; an index the store lacks is
	// the zero Hash.
	ReadStoredHashes(ctx context.Context, lo, hi int64) ([]tlog.Hash, error)
	// Checkpoints returns every stored signed checkpoint note, in ascending tree size.
	Checkpoints(ctx context.Context) ([][]byte, error)
}

// Filter selects events. Zero fields do not filter. Text fields match exactly.
type Filter struct {
	FromSeq, ToSeq int64     // inclusive; 0 is open
	Since, Until   time.Time // Since <= time < Until; zero is open
	Actor          string    // actor subject
	Action         Action
	Stage          *Stage // nil: any stage (StageEvent is "", so a pointer tells "not set" apart)
	Decision       Effect
	VRM            string // events whose (unerased) payload names this VRM
	Purpose        string
	CaseRef        string
	AuthorityID    string
	RequestID      string
	Newest         bool   // newest first (a timeline); default oldest first
	Limit          int    // default DefaultPageSize, at most MaxPageSize
	Cursor         string // from Page.Next
}

// Page sizes for Read.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Page is one page of records; Next is empty on the last page.
type Page struct {
	Records []Record `json:"records"`
	Next    string   `json:"next,omitempty"`
}

// PageLimit is the effective page size of f.
func (f Filter) PageLimit() int {
	switch {
	case f.Limit <= 0:
		return DefaultPageSize
	case f.Limit > MaxPageSize:
		return MaxPageSize
	}
	return f.Limit
}

// Cursors are opaque to clients but simple inside: the seq after which the next page starts (or
// before which, for newest-first pages), versioned so the format can change.
const cursorPrefix = "a1."

// EncodeCursor makes the cursor that continues after (or before, newest first) seq.
func EncodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(seq, 10)))
}

// DecodeCursor returns the seq a cursor continues from; "" is 0 (start).
func DecodeCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(c)
	s, ok := strings.CutPrefix(string(b), cursorPrefix)
	if err != nil || !ok {
		return 0, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	seq, err := strconv.ParseInt(s, 10, 64)
	if err != nil || seq <= 0 || strconv.FormatInt(seq, 10) != s {
		return 0, fmt.Errorf("%w: malformed cursor", ErrInvalid)
	}
	return seq, nil
}
