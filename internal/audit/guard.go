package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"time"
)

// Outcome is what an operation reports about the data it is about to release: how many items and
// the digest of exactly what will be shown (DigestIDs) or exported (a DigestWriter's Sum).
type Outcome struct {
	Count  int64
	Digest Digest
	// ErrorClass, when op fails, is the short error kind to record ("not_found", "invalid");
	// empty records a generic class. Never put the error text here: it may quote data.
	ErrorClass string
}

// OutcomeTimeout bounds the outcome write. It runs on a context detached from the request's
// cancellation: once the query has run, its outcome is recorded even if the client went away.
const OutcomeTimeout = 10 * time.Second

// Run executes op under the fail-closed rule (no audit, no answer):
//
//  1. append the intent event (durable before op runs); on failure op never runs;
//  2. run op;
//  3. append the outcome event (Stage outcome, IntentSeq, result count and digest, status);
//  4. only then return op's value.
//
// If either append fails, Run returns the zero T and an error wrapping ErrUnavailable, whatever
// op produced: no data leaves without both events recorded. If op fails, its error is returned
// after the failed outcome is recorded. The intent's payload (query, justification) is stored
// once, with the intent; the outcome carries none.
func Run[T any](ctx context.Context, log Appender, intent Event, payload Payload, op func(ctx context.Context) (T, Outcome, error)) (T, error) {
	var zero T
	intent.Stage = StageIntent
	intent.IntentSeq = 0
	sealed, err := log.Append(ctx, intent, payload)
	if err != nil {
		return zero, unavailable("record intent", err)
	}

	v, out, opErr := op(ctx)

	outcome := intent
	outcome.Stage = StageOutcome
	outcome.IntentSeq = sealed.Seq
	outcome.ResultCount, outcome.ResultDigest = out.Count, out.Digest
	outcome.Status, outcome.Error = StatusOK, ""
	if opErr != nil {
		outcome.Status, outcome.Error = StatusError, errorClass(opErr, out.ErrorClass)
		outcome.ResultCount, outcome.ResultDigest = 0, Digest{}
	}
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), OutcomeTimeout)
	defer cancel()
	if _, err := log.Append(octx, outcome, Payload{}); err != nil {
		return zero, unavailable("record outcome", errors.Join(err, opErr))
	}
	if opErr != nil {
		return zero, opErr
	}
	return v, nil
}

func unavailable(what string, err error) error {
	if errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
}

// errorClass is what an outcome event records about a failure: a short kind, never the error
// text, which may quote data (a VRM in a message) that belongs in no permanent record.
func errorClass(err error, class string) string {
	switch {
	case class != "":
		return class
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

// DigestIDs is the digest of an ordered list of result ids: SHA-256 over each id as a u32
// length then its bytes, so ["ab","c"] and ["a","bc"] differ. The same ids in the same order
// always give the same digest, on any backend.
func DigestIDs(ids []string) Digest {
	w := NewDigestWriter()
	for _, id := range ids {
		w.AddID(id)
	}
	return w.Sum()
}

// DigestWriter digests results as they stream: AddID for ids (same as DigestIDs), or Write for
// the bytes of an export file. Use one or the other, not both.
type DigestWriter struct{ h hash.Hash }

// NewDigestWriter starts an empty digest.
func NewDigestWriter() *DigestWriter { return &DigestWriter{h: sha256.New()} }

// AddID adds one result id.
func (w *DigestWriter) AddID(id string) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(id)))
	w.h.Write(n[:])
	w.h.Write([]byte(id))
}

// Write adds export bytes; it never fails.
func (w *DigestWriter) Write(p []byte) (int, error) { return w.h.Write(p) }

// Sum is the digest so far.
func (w *DigestWriter) Sum() Digest {
	var d Digest
	w.h.Sum(d[:0])
	return d
}
