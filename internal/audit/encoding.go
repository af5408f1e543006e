package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"golang.org/x/mod/sumdb/tlog"
)

// The canonical encoding is what the Merkle tree commits to, so it must never change for an
// existing version: a new field means a new version, and backends store each event's version so
// they can re-encode it exactly. Version 1 is a fixed sequence of fields, big-endian:
//
//	u8   version (1)
//	i64  seq
//	str  chain
//	i64  time, Unix microseconds
//	str  actor subject, str actor name, list<str> roles, str session
//	str  client address, str request id
//	str  action, str stage, i64 intent seq
//	str  decision, str rule
//	str  purpose, str case reference, str offence code
//	str  authority id, str search type, i64 band
//	i64  result count, [32] result digest
//	str  status, str error
//	list<i64> erases
//	[32] payload hash
//
// where str is a u32 byte length then the bytes, and list is a u32 count then the items. Fixed
// widths and length prefixes make the encoding injective without escaping, and DecodeEvent
// rejects anything EncodeEvent would not produce, so bytes and events map one to one.
const (
	EncodingV1      = 1
	payloadEncoding = 1
)

// EncodeEvent returns the canonical encoding of e (version EncodingV1). It fails only for an
// event the log could not have sealed: a time that is not UTC at TimePrecision.
func EncodeEvent(e Event) ([]byte, error) {
	if e.Time.Location() != time.UTC || !e.Time.Equal(e.Time.Truncate(TimePrecision)) {
		return nil, fmt.Errorf("%w: event time %v is not UTC at microsecond precision", ErrInvalid, e.Time)
	}
	b := make([]byte, 0, 256)
	b = append(b, EncodingV1)
	b = appendInt(b, e.Seq)
	b = appendStr(b, e.Chain)
	b = appendInt(b, e.Time.UnixMicro())
	b = appendStr(b, e.Actor.Subject)
	b = appendStr(b, e.Actor.Name)
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Actor.Roles)))
	for _, r := range e.Actor.Roles {
		b = appendStr(b, r)
	}
	b = appendStr(b, e.Actor.Session)
	b = appendStr(b, e.ClientAddr)
	b = appendStr(b, e.RequestID)
	b = appendStr(b, string(e.Action))
	b = appendStr(b, string(e.Stage))
	b = appendInt(b, e.IntentSeq)
	b = appendStr(b, string(e.Decision))
	b = appendStr(b, e.Rule)
	b = appendStr(b, e.Reason.Purpose)
	b = appendStr(b, e.Reason.CaseRef)
	b = appendStr(b, e.Reason.OffenceCode)
	b = appendStr(b, e.AuthorityID)
	b = appendStr(b, e.SearchType)
	b = appendInt(b, int64(e.Band))
	b = appendInt(b, e.ResultCount)
	b = append(b, e.ResultDigest[:]...)
	b = appendStr(b, string(e.Status))
	b = appendStr(b, e.Error)
	b = binary.BigEndian.AppendUint32(b, uint32(len(e.Erases)))
	for _, s := range e.Erases {
		b = appendInt(b, s)
	}
	b = append(b, e.PayloadHash[:]...)
	return b, nil
}

// DecodeEvent parses a canonical encoding. Empty lists decode as nil.
func DecodeEvent(b []byte) (Event, error) {
	d := decoder{b: b}
	var e Event
	if v := d.u8(); v != EncodingV1 && d.err == nil {
		return Event{}, fmt.Errorf("%w: event encoding version %d", ErrInvalid, v)
	}
	e.Seq = d.i64()
	e.Chain = d.str()
	e.Time = time.UnixMicro(d.i64()).UTC()
	e.Actor.Subject = d.str()
	e.Actor.Name = d.str()
	e.Actor.Roles = d.strs()
	e.Actor.Session = d.str()
	e.ClientAddr = d.str()
	e.RequestID = d.str()
	e.Action = Action(d.str())
	e.Stage = Stage(d.str())
	e.IntentSeq = d.i64()
	e.Decision = Effect(d.str())
	e.Rule = d.str()
	e.Reason.Purpose = d.str()
	e.Reason.CaseRef = d.str()
	e.Reason.OffenceCode = d.str()
	e.AuthorityID = d.str()
	e.SearchType = d.str()
	band := d.i64()
	e.Band = int(band)
	if int64(e.Band) != band {
		d.fail("band out of range")
	}
	e.ResultCount = d.i64()
	copy(e.ResultDigest[:], d.take(len(e.ResultDigest)))
	e.Status = Status(d.str())
	e.Error = d.str()
	if n := d.count(8); n > 0 {
		e.Erases = make([]int64, n)
		for i := range e.Erases {
			e.Erases[i] = d.i64()
		}
	}
	copy(e.PayloadHash[:], d.take(len(e.PayloadHash)))
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return Event{}, fmt.Errorf("%w: decode event: %v", ErrInvalid, d.err)
	}
	return e, nil
}

// LeafHash is the Merkle leaf of an encoded event (RFC 6962: SHA-256 of 0x00 || encoding).
func LeafHash(encoded []byte) tlog.Hash { return tlog.RecordHash(encoded) }

// EventLeaf encodes e and returns its leaf hash.
func EventLeaf(e Event) (tlog.Hash, error) {
	b, err := EncodeEvent(e)
	if err != nil {
		return tlog.Hash{}, err
	}
	return LeafHash(b), nil
}

// EncodePayload returns the canonical encoding of a payload:
//
//	u8 version (1), [16] salt, list<str> VRMs, str query, str justification
func EncodePayload(p Payload) []byte {
	b := make([]byte, 0, 64+len(p.Query)+len(p.Justification))
	b = append(b, payloadEncoding)
	b = append(b, p.Salt[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.VRMs)))
	for _, v := range p.VRMs {
		b = appendStr(b, v)
	}
	b = appendStr(b, p.Query)
	b = appendStr(b, p.Justification)
	return b
}

// DecodePayload parses EncodePayload's output.
func DecodePayload(b []byte) (Payload, error) {
	d := decoder{b: b}
	var p Payload
	if v := d.u8(); v != payloadEncoding && d.err == nil {
		return Payload{}, fmt.Errorf("%w: payload encoding version %d", ErrInvalid, v)
	}
	copy(p.Salt[:], d.take(len(p.Salt)))
	p.VRMs = d.strs()
	p.Query = d.str()
	p.Justification = d.str()
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		return Payload{}, fmt.Errorf("%w: decode payload: %v", ErrInvalid, d.err)
	}
	return p, nil
}

// PayloadDigest is what an event's PayloadHash must equal: SHA-256 of the canonical payload
// encoding, or the zero digest for an empty payload (no personal data, nothing stored).
func PayloadDigest(p Payload) Digest {
	if p.IsEmpty() {
		return Digest{}
	}
	return sha256.Sum256(EncodePayload(p))
}

func appendInt(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// decoder reads fields until the first error, which sticks; callers check err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(msg string) {
	if d.err == nil {
		d.err = fmt.Errorf("%s", msg)
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("truncated")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) u8() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) i64() int64 {
	if v := d.take(8); v != nil {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

func (d *decoder) str() string {
	n := d.u32()
	return string(d.take(int(n)))
}

// count reads a list length and checks it against what the remaining bytes could hold (each item
// at least minItem bytes), so a forged count cannot make us allocate gigabytes.
func (d *decoder) count(minItem int) int {
	n := int(d.u32())
	if d.err == nil && n > len(d.b)/minItem {
		d.fail("list longer than the input")
		return 0
	}
	return n
}

func (d *decoder) strs() []string {
	n := d.count(4)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}
