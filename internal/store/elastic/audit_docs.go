package elastic

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/anpr-portal/anpr/internal/audit"
)

// The audit log lives in five plain indices (not data streams: a stream cannot take a create
// with our own _id in a way that is unique across its backing indices, and the test distribution
// has no data stream API), each one primary shard, so that one batch's events are applied in seq
// order. Many chains may share them; every document names its chain and its _id starts with it.
//
//   - events: one document per event, _id <chain>-<seq>, with the tlog stored hashes its leaf adds
//     (so an event and its hashes are written atomically, by one document create);
//   - payloads: the personal data, _id <chain>-<seq>-<payload hash hex>. The hash in the id means a
//     payload stored by a batch whose events never were cannot block the seq's later payload; it
//     is never read, since readers derive the id from the stored event;
//   - erasures: _id <chain>-<seq>, one per erased payload, naming the erasure event;
//   - checkpoints: _id <chain>-<size>, the signed notes;
//   - writers: _id <chain>, the writer lease (see auditLease).
//
// Everything but the lease is written with op_type=create: a replay or a second writer conflicts,
// it never overwrites. Mappings are strict, so a stray field is refused rather than stored.
type auditIndices struct {
	events, payloads, erasures, checkpoints, writers string
}

func newAuditIndices(prefix string) auditIndices {
	return auditIndices{events: prefix + "audit-events", payloads: prefix + "audit-payloads",
		erasures: prefix + "audit-erasures", checkpoints: prefix + "audit-checkpoints", writers: prefix + "audit-writers"}
}

func (ix auditIndices) all() []string {
	return []string{ix.events, ix.payloads, ix.erasures, ix.checkpoints, ix.writers}
}

// auditIndexBody is the create-index body of each audit index.
func (ix auditIndices) body(index string) string {
	kw := `{"type":"keyword"}`
	stored := `{"type":"keyword","index":false,"doc_values":false}` // kept in _source, never searched
	long := `{"type":"long"}`
	var props string
	switch index {
	case ix.events:
		props = `"chain":` + kw + `,"seq":` + long + `,"encoding":{"type":"integer"},"time_us":` + long +
			`,"actor_subject":` + kw + `,"actor_name":` + kw + `,"actor_roles":` + kw + `,"actor_session":` + kw +
			`,"client_addr":` + kw + `,"request_id":` + kw + `,"action":` + kw + `,"stage":` + kw +
			`,"intent_seq":` + long + `,"decision":` + kw + `,"rule":` + kw + `,"purpose":` + kw + `,"case_ref":` + kw +
			`,"offence_code":` + kw + `,"authority_id":` + kw + `,"search_type":` + kw + `,"band":{"type":"integer"}` +
			`,"result_count":` + long + `,"result_digest":` + kw + `,"status":` + kw + `,"error":` + kw +
			`,"erases":` + long + `,"payload_hash":` + kw + `,"hashes":` + stored
	case ix.payloads:
		props = `"chain":` + kw + `,"seq":` + long + `,"payload_hash":` + kw + `,"salt":` + stored + `,"vrms":` + kw +
			`,"query":` + stored + `,"justification":` + stored
	case ix.erasures:
		props = `"chain":` + kw + `,"seq":` + long + `,"erased_by":` + long
	case ix.checkpoints:
		props = `"chain":` + kw + `,"size":` + long + `,"time_us":` + long + `,"note":` + stored
	case ix.writers:
		props = `"chain":` + kw + `,"owner":` + kw + `,"host":` + kw + `,"pid":` + long + `,"expires_us":` + long
	}
	// auto_expand_replicas: no replica on a single node (the cluster stays green), one where there
	// is a second node to hold it.
	return `{"settings":{"number_of_shards":1,"auto_expand_replicas":"0-1"},` +
		`"mappings":{"dynamic":"strict","properties":{` + props + `}}}`
}

// auditEventDoc is an event as stored. Digests are hex of all 32 bytes (zeros for none) and
// hashes base64, so that a stored value of the wrong length is detectable, not silently padded.
type auditEventDoc struct {
	Chain        string   `json:"chain"`
	Seq          int64    `json:"seq"`
	Encoding     int      `json:"encoding"`
	TimeUS       int64    `json:"time_us"`
	ActorSubject string   `json:"actor_subject"`
	ActorName    string   `json:"actor_name"`
	ActorRoles   []string `json:"actor_roles"`
	ActorSession string   `json:"actor_session"`
	ClientAddr   string   `json:"client_addr"`
	RequestID    string   `json:"request_id"`
	Action       string   `json:"action"`
	Stage        string   `json:"stage"`
	IntentSeq    int64    `json:"intent_seq"`
	Decision     string   `json:"decision"`
	Rule         string   `json:"rule"`
	Purpose      string   `json:"purpose"`
	CaseRef      string   `json:"case_ref"`
	OffenceCode  string   `json:"offence_code"`
	AuthorityID  string   `json:"authority_id"`
	SearchType   string   `json:"search_type"`
	Band         int      `json:"band"`
	ResultCount  int64    `json:"result_count"`
	ResultDigest string   `json:"result_digest"`
	Status       string   `json:"status"`
	Error        string   `json:"error"`
	Erases       []int64  `json:"erases"`
	PayloadHash  string   `json:"payload_hash"`
	Hashes       []string `json:"hashes"`
}

type auditPayloadDoc struct {
	Chain         string   `json:"chain"`
	Seq           int64    `json:"seq"`
	PayloadHash   string   `json:"payload_hash"` // its own digest: the tiebreak when paging by seq
	Salt          string   `json:"salt"`
	VRMs          []string `json:"vrms"`
	Query         string   `json:"query"`
	Justification string   `json:"justification"`
}

type auditErasureDoc struct {
	Chain    string `json:"chain"`
	Seq      int64  `json:"seq"`
	ErasedBy int64  `json:"erased_by"`
}

type auditCheckpointDoc struct {
	Chain  string `json:"chain"`
	Size   int64  `json:"size"`
	TimeUS int64  `json:"time_us"`
	Note   string `json:"note"`
}

func auditEventID(chain string, seq int64) string { return chain + "-" + strconv.FormatInt(seq, 10) }

func auditPayloadID(chain string, seq int64, hash audit.Digest) string {
	return auditEventID(chain, seq) + "-" + hex.EncodeToString(hash[:])
}

func auditCheckpointID(chain string, size int64) string { return auditEventID(chain, size) }

// newAuditEventDoc is the stored form of a sealed event and the stored hashes its leaf adds.
func newAuditEventDoc(e audit.Event, hashes []tlog.Hash) auditEventDoc {
	d := auditEventDoc{
		Chain: e.Chain, Seq: e.Seq, Encoding: audit.EncodingV1, TimeUS: e.Time.UnixMicro(),
		ActorSubject: e.Actor.Subject, ActorName: e.Actor.Name, ActorRoles: nonNil(e.Actor.Roles),
		ActorSession: e.Actor.Session, ClientAddr: e.ClientAddr, RequestID: e.RequestID,
		Action: string(e.Action), Stage: string(e.Stage), IntentSeq: e.IntentSeq, Decision: string(e.Decision),
		Rule: e.Rule, Purpose: e.Reason.Purpose, CaseRef: e.Reason.CaseRef, OffenceCode: e.Reason.OffenceCode,
		AuthorityID: e.AuthorityID, SearchType: e.SearchType, Band: e.Band, ResultCount: e.ResultCount,
		ResultDigest: hex.EncodeToString(e.ResultDigest[:]), Status: string(e.Status), Error: e.Error,
		Erases: nonNil(e.Erases), PayloadHash: hex.EncodeToString(e.PayloadHash[:]),
	}
	for _, h := range hashes {
		d.Hashes = append(d.Hashes, h.String())
	}
	return d
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// event turns the stored document back into an event. A value that cannot be decoded does not
// fail the read: ok is false, and the record gets Encoding 0, which verify reports at that seq.
func (d auditEventDoc) event() (e audit.Event, ok bool) {
	e = audit.Event{
		Seq: d.Seq, Chain: d.Chain, Time: time.UnixMicro(d.TimeUS).UTC(),
		Actor:      audit.Actor{Subject: d.ActorSubject, Name: d.ActorName, Roles: nilIfEmpty(d.ActorRoles), Session: d.ActorSession},
		ClientAddr: d.ClientAddr, RequestID: d.RequestID, Action: audit.Action(d.Action), Stage: audit.Stage(d.Stage),
		IntentSeq: d.IntentSeq, Decision: audit.Effect(d.Decision), Rule: d.Rule,
		Reason:      audit.Reason{Purpose: d.Purpose, CaseRef: d.CaseRef, OffenceCode: d.OffenceCode},
		AuthorityID: d.AuthorityID, SearchType: d.SearchType, Band: d.Band, ResultCount: d.ResultCount,
		Status: audit.Status(d.Status), Error: d.Error, Erases: nilIfEmpty(d.Erases),
	}
	ok = decodeDigest(d.ResultDigest, &e.ResultDigest)
	ok = decodeDigest(d.PayloadHash, &e.PayloadHash) && ok
	return e, ok
}

// hashes decodes the stored tree hashes; an undecodable one is the zero hash (missing).
func (d auditEventDoc) hashes() []tlog.Hash {
	out := make([]tlog.Hash, len(d.Hashes))
	for i, s := range d.Hashes {
		if h, err := tlog.ParseHash(s); err == nil {
			out[i] = h
		}
	}
	return out
}

func nilIfEmpty[T any](v []T) []T {
	if len(v) == 0 {
		return nil
	}
	return v
}

func decodeDigest(s string, d *audit.Digest) bool {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(d) {
		return false
	}
	copy(d[:], b)
	return true
}

func newAuditPayloadDoc(chain string, seq int64, p audit.Payload) auditPayloadDoc {
	h := audit.PayloadDigest(p)
	return auditPayloadDoc{Chain: chain, Seq: seq, PayloadHash: hex.EncodeToString(h[:]), Salt: hex.EncodeToString(p.Salt[:]), VRMs: nonNil(p.VRMs),
		Query: p.Query, Justification: p.Justification}
}

func (d auditPayloadDoc) payload() (audit.Payload, bool) {
	p := audit.Payload{VRMs: nilIfEmpty(d.VRMs), Query: d.Query, Justification: d.Justification}
	b, err := hex.DecodeString(d.Salt)
	if err != nil || len(b) != len(p.Salt) {
		return p, false
	}
	copy(p.Salt[:], b)
	return p, true
}

// storedHashOwner is the seq whose append stored tree hash idx: the leaf that completed the
// subtree the hash is the root of.
func storedHashOwner(idx int64) (int64, error) {
	level, n := tlog.SplitStoredHashIndex(idx)
	if level > 62 || n >= (1<<62)>>level {
		return 0, fmt.Errorf("%w: stored hash index %d", audit.ErrInvalid, idx)
	}
	return (n + 1) << level, nil
}
