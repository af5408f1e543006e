package audit

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/mod/sumdb/note"
)

// RunVerify is `anpr audit verify`: it verifies the log and prints a report for a person. The
// command exits non-zero unless the returned report is OK (or on error).
func RunVerify(ctx context.Context, w io.Writer, src VerifySource, anchor Anchor, verifiers note.Verifiers) (Report, error) {
	r, err := Verify(ctx, src, anchor, verifiers)
	if err != nil {
		return r, err
	}
	fmt.Fprintf(w, "audit log %q: %d events, %d signed checkpoints, newest covers %d events\n", r.Chain, r.Size, r.Checkpoints, r.Latest)
	if r.AnchorChecked {
		fmt.Fprintf(w, "external anchor: latest checkpoint covers %d events\n", r.Anchored)
	} else {
		fmt.Fprintln(w, "external anchor: not checked (a cut tail of the log would go unnoticed)")
	}
	if r.Unsigned > 0 {
		fmt.Fprintf(w, "%d newest events are not yet covered by a checkpoint\n", r.Unsigned)
	}
	if r.Redacted > 0 {
		fmt.Fprintf(w, "%d events have lawfully erased payloads (redacted)\n", r.Redacted)
	}
	if r.OK() {
		fmt.Fprintln(w, "OK: every event, checkpoint and payload verifies")
		return r, nil
	}
	first, _ := r.FirstBad()
	fmt.Fprintf(w, "FAILED: first bad: %s\n", first)
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  %s\n", p)
	}
	if r.MoreProblems {
		fmt.Fprintf(w, "  ... more problems not listed\n")
	}
	return r, nil
}

// RunProof is `anpr audit verify --proof SEQ`: it writes the inclusion proof of one event as a
// text document (Proof.MarshalText) that CheckProof, or a court's own RFC 6962 checker, accepts.
func RunProof(ctx context.Context, w io.Writer, src VerifySource, seq int64, verifiers note.Verifiers) (Proof, error) {
	p, err := InclusionProof(ctx, src, seq, 0, verifiers)
	if err != nil {
		return Proof{}, err
	}
	text, err := p.MarshalText()
	if err != nil {
		return Proof{}, err
	}
	if _, err := w.Write(text); err != nil {
		return Proof{}, fmt.Errorf("write proof: %w", err)
	}
	return p, nil
}
