// Package audit is the portal's append-only, verifiable audit log: the event model and its
// canonical encoding, the Log interface every backend implements, signed Merkle-tree checkpoints
// (RFC 6962 via golang.org/x/mod/sumdb), external anchors, verification, the fail-closed wrapper
// that services run each operation through, and the auditor's review functions.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// Domain error kinds. The HTTP layer maps them to problem+json in one place.
var (
	// ErrUnavailable: the audit log could not record an event durably. Callers must not release
	// any data (503).
	ErrUnavailable = errors.New("audit log unavailable")
	// ErrInvalid: an event, filter or argument is malformed.
	ErrInvalid = errors.New("invalid audit input")
	// ErrNotFound: no such event or checkpoint.
	ErrNotFound = errors.New("audit record not found")
)

// TimePrecision is the resolution of event times. The log assigns times; microseconds keep the
// encoding stable across backends (Elasticsearch dates, SQLite integers, JSON).
const TimePrecision = time.Microsecond

// Action names what an event records. The set is open (a new feature adds its own action), but
// these are the ones the transparency report and anomaly flags understand.
type Action string

const (
	ActionSearch           Action = "search"
	ActionPage             Action = "search.page"
	ActionRecordView       Action = "record.view"
	ActionImageView        Action = "image.view"
	ActionExport           Action = "export"
	ActionAuthorityRequest Action = "authority.request"
	ActionAuthorityApprove Action = "authority.approve"
	ActionAuthorityReject  Action = "authority.reject"
	ActionAuthorityRevoke  Action = "authority.revoke"
	ActionLogin            Action = "login"
	ActionLogout           Action = "logout"
	ActionGrantChange      Action = "grant.change"
	ActionAuditRead        Action = "audit.read"
	ActionAuditExport      Action = "audit.export"
	// ActionErase records a lawful erasure or retention expiry of other events' payloads; the
	// erased sequence numbers are in Event.Erases. It is the only way a payload may disappear.
	ActionErase Action = "audit.erase"
)

// Stage says where in an operation an event was written. Operations run through Run write an
// intent before and an outcome after; one-shot facts (a login, a denial) are StageEvent.
type Stage string

const (
	StageEvent   Stage = ""
	StageIntent  Stage = "intent"
	StageOutcome Stage = "outcome"
)

// Effect is the decision the policy reached.
type Effect string

const (
	EffectNone  Effect = "" // nothing was decided (a logout, an erasure by the system)
	EffectAllow Effect = "allow"
	EffectDeny  Effect = "deny"
)

// Status is how an operation ended; set on outcome events.
type Status string

const (
	StatusNone  Status = ""
	StatusOK    Status = "ok"
	StatusError Status = "error"
)

// Digest is a SHA-256 digest. The zero value means "no digest" (a SHA-256 output of all zeros
// will not occur), which keeps the encoding fixed-width.
type Digest [sha256.Size]byte

// IsZero reports whether d is the "no digest" value.
func (d Digest) IsZero() bool { return d == Digest{} }

// String is lower-case hex, or "" for the zero digest.
func (d Digest) String() string {
	if d.IsZero() {
		return ""
	}
	return hex.EncodeToString(d[:])
}

// MarshalText renders the digest as hex ("" when zero) for JSON.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses hex; "" is the zero digest.
func (d *Digest) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Digest{}
		return nil
	}
	if len(b) != 2*len(d) {
		return fmt.Errorf("%w: digest must be %d hex digits", ErrInvalid, 2*len(d))
	}
	if _, err := hex.Decode(d[:], b); err != nil {
		return fmt.Errorf("%w: digest: %v", ErrInvalid, err)
	}
	return nil
}

// Actor is who did it.
type Actor struct {
	Subject string   `json:"subject"` // stable id from the IdP or the API key id
	Name    string   `json:"name"`    // display name at the time
	Roles   []string `json:"roles,omitempty"`
	Session string   `json:"session,omitempty"` // server-side session id
}

// Reason is the structured, non-personal part of a search reason. The free-text justification is
// personal data and lives in Payload.
type Reason struct {
	Purpose     string `json:"purpose,omitempty"`      // from the configured list
	CaseRef     string `json:"case_ref,omitempty"`     // case or crime reference
	OffenceCode string `json:"offence_code,omitempty"` // where the purpose needs one
}

// Event is the public, permanent part of an audit record: the leaf of the Merkle tree is the hash
// of its canonical encoding (EncodeEvent). Seq, Chain, Time and PayloadHash are assigned by the
// log on Append; values the caller sets there are ignored.
type Event struct {
	Seq   int64     `json:"seq"`   // 1-based position in the chain; leaf index Seq-1
	Chain string    `json:"chain"` // the log (sequencer) this event belongs to
	Time  time.Time `json:"time"`  // UTC, TimePrecision, non-decreasing along the chain

	Actor      Actor  `json:"actor"`
	ClientAddr string `json:"client_addr,omitempty"`
	RequestID  string `json:"request_id,omitempty"`

	Action    Action `json:"action"`
	Stage     Stage  `json:"stage,omitempty"`
	IntentSeq int64  `json:"intent_seq,omitempty"` // on an outcome: the seq of its intent

	Decision Effect `json:"decision,omitempty"`
	Rule     string `json:"rule,omitempty"` // the policy rule that decided

	Reason      Reason `json:"reason"`
	AuthorityID string `json:"authority_id,omitempty"`
	SearchType  string `json:"search_type,omitempty"` // exact, partial, misread, area, convoy, ...
	Band        int    `json:"band,omitempty"`        // data-age band of the searched window; 0 unknown

	ResultCount  int64  `json:"result_count"`
	ResultDigest Digest `json:"result_digest"` // SHA-256 of what was shown (DigestIDs) or exported
	Status       Status `json:"status,omitempty"`
	Error        string `json:"error,omitempty"` // short error class on a failed outcome, never data

	// Erases lists the seqs whose payloads an ActionErase event removes.
	Erases []int64 `json:"erases,omitempty"`

	// PayloadHash commits the event to its Payload (PayloadDigest); zero when there is none.
	PayloadHash Digest `json:"payload_hash"`
}

// Payload is the personal data of an event: the normalised query (which names VRMs and places)
// and the free-text justification. The event commits to it by hash, so it can be erased lawfully
// or expire while the tree still verifies. Salt is random per payload and assigned by the log:
// without it the hash of an erased payload would let anyone confirm a guessed VRM.
type Payload struct {
	Salt          [16]byte `json:"-"`
	VRMs          []string `json:"vrms,omitempty"`  // normalised VRMs named, for auditors' filters
	Query         string   `json:"query,omitempty"` // the normalised query
	Justification string   `json:"justification,omitempty"`
}

// IsEmpty reports whether p carries no data; such events store no payload at all.
func (p Payload) IsEmpty() bool {
	return len(p.VRMs) == 0 && p.Query == "" && p.Justification == ""
}

// Record is an event as read back from a log: the event, its payload when still held, and when
// the payload was erased, the seq of the ActionErase event that erased it.
type Record struct {
	Event    Event    `json:"event"`
	Payload  *Payload `json:"payload,omitempty"`
	ErasedBy int64    `json:"erased_by,omitempty"`
	Encoding int      `json:"-"` // canonical encoding version the event was sealed with
}

// Limits on what one event may carry. They keep a single append bounded and make abuse (a query
// string of megabytes) an error instead of a slow log.
const (
	MaxFieldLen         = 1024
	MaxQueryLen         = 16 << 10
	MaxJustificationLen = 8 << 10
	MaxListLen          = 1000
)

// Validate checks what a caller supplies before the log seals the event: required fields, UTF-8
// text, and the limits above. It reports every problem at once.
func Validate(e Event, p Payload) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	text := func(name, s string, max int) {
		if len(s) > max {
			bad("%s longer than %d bytes", name, max)
		}
		if !utf8.ValidString(s) {
			bad("%s is not valid UTF-8", name)
		}
	}
	if e.Action == "" {
		bad("action is required")
	}
	if e.Actor.Subject == "" {
		bad("actor subject is required")
	}
	for _, f := range []struct{ name, s string }{
		{"actor subject", e.Actor.Subject}, {"actor name", e.Actor.Name}, {"session", e.Actor.Session},
		{"client address", e.ClientAddr}, {"request id", e.RequestID}, {"action", string(e.Action)},
		{"stage", string(e.Stage)}, {"decision", string(e.Decision)}, {"rule", e.Rule},
		{"purpose", e.Reason.Purpose}, {"case reference", e.Reason.CaseRef},
		{"offence code", e.Reason.OffenceCode}, {"authority id", e.AuthorityID},
		{"search type", e.SearchType}, {"status", string(e.Status)}, {"error", e.Error},
	} {
		text(f.name, f.s, MaxFieldLen)
	}
	switch e.Stage {
	case StageEvent, StageIntent:
		if e.IntentSeq != 0 {
			bad("intent seq is only for outcome events")
		}
	case StageOutcome:
		if e.IntentSeq <= 0 {
			bad("an outcome event needs the seq of its intent")
		}
	default:
		bad("unknown stage %q", e.Stage)
	}
	if e.ResultCount < 0 {
		bad("result count is negative")
	}
	if e.Band < 0 {
		bad("band is negative")
	}
	if len(e.Actor.Roles) > MaxListLen {
		bad("more than %d roles", MaxListLen)
	}
	for _, r := range e.Actor.Roles {
		text("role", r, MaxFieldLen)
	}
	if e.Action == ActionErase {
		if len(e.Erases) == 0 {
			bad("an erasure names the seqs it erases")
		}
	} else if len(e.Erases) > 0 {
		bad("only %s events erase payloads", ActionErase)
	}
	if len(e.Erases) > MaxListLen {
		bad("an erasure names at most %d seqs", MaxListLen)
	}
	for _, s := range e.Erases {
		if s <= 0 {
			bad("erased seq %d is not a seq", s)
		}
	}
	if len(p.VRMs) > MaxListLen {
		bad("more than %d VRMs", MaxListLen)
	}
	for _, v := range p.VRMs {
		text("VRM", v, MaxFieldLen)
	}
	text("query", p.Query, MaxQueryLen)
	text("justification", p.Justification, MaxJustificationLen)
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}
