package audit

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// Proof shows that one event is in the log: its canonical encoding, a signed checkpoint, and the
// RFC 6962 inclusion proof of the event's leaf under the checkpoint's root. Anyone holding the
// log's public key can check it (CheckProof, or any RFC 6962 implementation) without the log.
// Payload, when the payload is still held, lets the checker confirm the query and justification
// too (its SHA-256 is the event's PayloadHash).
type Proof struct {
	Seq        int64            `json:"seq"`
	Event      []byte           `json:"event"`             // EncodeEvent output
	Payload    []byte           `json:"payload,omitempty"` // EncodePayload output, when held
	Checkpoint []byte           `json:"checkpoint"`        // signed note
	Hashes     tlog.RecordProof `json:"hashes"`
}

// InclusionProof proves event seq against the newest trusted stored checkpoint that covers it
// (or, with atSize > 0, the stored checkpoint of exactly that size). The proof is checked before
// it is returned, so a proof from a damaged store is an error, not a misleading document.
func InclusionProof(ctx context.Context, src VerifySource, seq, atSize int64, verifiers note.Verifiers) (Proof, error) {
	if seq <= 0 {
		return Proof{}, fmt.Errorf("%w: seq %d", ErrInvalid, seq)
	}
	notes, err := src.Checkpoints(ctx)
	if err != nil {
		return Proof{}, fmt.Errorf("prove event %d: %w", seq, err)
	}
	chain, err := src.Chain(ctx)
	if err != nil {
		return Proof{}, fmt.Errorf("prove event %d: %w", seq, err)
	}
	var cp *Checkpoint
	for i := len(notes) - 1; i >= 0; i-- {
		c, err := OpenCheckpoint(notes[i], verifiers)
		if err != nil || c.Origin != Origin(chain) || c.Size < seq || (atSize > 0 && c.Size != atSize) {
			continue
		}
		cp = &c
		break
	}
	if cp == nil {
		return Proof{}, fmt.Errorf("%w: no trusted checkpoint covers event %d yet", ErrNotFound, seq)
	}
	var rec *Record
	if err := src.Scan(ctx, seq, seq, func(r Record) error { rec = &r; return nil }); err != nil {
		return Proof{}, fmt.Errorf("prove event %d: %w", seq, err)
	}
	if rec == nil {
		return Proof{}, fmt.Errorf("%w: event %d", ErrNotFound, seq)
	}
	enc, err := EncodeEvent(rec.Event)
	if err != nil {
		return Proof{}, fmt.Errorf("prove event %d: %w", seq, err)
	}
	hashes, err := tlog.ProveRecord(cp.Size, seq-1, StoredHashReader(ctx, src))
	if err != nil {
		return Proof{}, fmt.Errorf("prove event %d: %w", seq, err)
	}
	p := Proof{Seq: seq, Event: enc, Checkpoint: cp.Note, Hashes: hashes}
	if rec.Payload != nil {
		p.Payload = EncodePayload(*rec.Payload)
	}
	if _, err := CheckProof(p, verifiers); err != nil {
		return Proof{}, fmt.Errorf("prove event %d: the store does not support it (run verify): %w", seq, err)
	}
	return p, nil
}

// CheckProof checks a proof with nothing but the trusted keys, and returns the proven event.
func CheckProof(p Proof, verifiers note.Verifiers) (Event, error) {
	c, err := OpenCheckpoint(p.Checkpoint, verifiers)
	if err != nil {
		return Event{}, fmt.Errorf("check proof: %w", err)
	}
	e, err := DecodeEvent(p.Event)
	if err != nil {
		return Event{}, fmt.Errorf("check proof: %w", err)
	}
	if e.Seq != p.Seq || p.Seq <= 0 || p.Seq > c.Size || Origin(e.Chain) != c.Origin {
		return Event{}, fmt.Errorf("%w: check proof: event %d of %q is not in checkpoint %s/%d", ErrInvalid, e.Seq, e.Chain, c.Origin, c.Size)
	}
	if err := tlog.CheckRecord(p.Hashes, c.Size, c.Root, p.Seq-1, LeafHash(p.Event)); err != nil {
		return Event{}, fmt.Errorf("%w: check proof: %v", ErrInvalid, err)
	}
	if p.Payload != nil {
		pl, err := DecodePayload(p.Payload)
		if err != nil {
			return Event{}, fmt.Errorf("check proof: %w", err)
		}
		if PayloadDigest(pl) != e.PayloadHash {
			return Event{}, fmt.Errorf("%w: check proof: payload does not match the event", ErrInvalid)
		}
	}
	return e, nil
}

const proofHeader = "anpr-audit inclusion proof v1"

// MarshalText renders the proof as a self-contained text document: a header block of
//
//	anpr-audit inclusion proof v1
//	seq <n>
//	event <base64 canonical event>
//	payload <base64 canonical payload>   (only when held)
//	hash <base64>                        (one line per proof hash, leaf to root)
//
// then a blank line and the signed checkpoint note verbatim.
func (p Proof) MarshalText() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\nseq %d\nevent %s\n", proofHeader, p.Seq, base64.StdEncoding.EncodeToString(p.Event))
	if p.Payload != nil {
		fmt.Fprintf(&b, "payload %s\n", base64.StdEncoding.EncodeToString(p.Payload))
	}
	for _, h := range p.Hashes {
		fmt.Fprintf(&b, "hash %s\n", h)
	}
	b.WriteString("\n")
	b.Write(p.Checkpoint)
	return b.Bytes(), nil
}

// UnmarshalText parses MarshalText's output.
func (p *Proof) UnmarshalText(text []byte) error {
	head, cp, ok := bytes.Cut(text, []byte("\n\n"))
	lines := strings.Split(string(head), "\n")
	if !ok || len(lines) < 3 || lines[0] != proofHeader {
		return fmt.Errorf("%w: not an %s", ErrInvalid, proofHeader)
	}
	var q Proof
	for _, line := range lines[1:] {
		key, val, _ := strings.Cut(line, " ")
		var err error
		switch key {
		case "seq":
			q.Seq, err = strconv.ParseInt(val, 10, 64)
		case "event":
			q.Event, err = base64.StdEncoding.DecodeString(val)
		case "payload":
			q.Payload, err = base64.StdEncoding.DecodeString(val)
		case "hash":
			var h tlog.Hash
			if h, err = tlog.ParseHash(val); err == nil {
				q.Hashes = append(q.Hashes, h)
			}
		default:
			err = fmt.Errorf("unknown line %q", key)
		}
		if err != nil {
			return fmt.Errorf("%w: proof %s line: %v", ErrInvalid, key, err)
		}
	}
	q.Checkpoint = bytes.Clone(cp)
	*p = q
	return nil
}
