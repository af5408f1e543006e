// Package holds is preservation holds: the ANPR manager keeps reads past retention for a case,
// with a case reference, a structured reason, a scope (plates, cameras, window) and a review
// date, and releases them explicitly. Every change is a durable audit event; retention and
// authorities read the active holds from here.
package holds

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// Error kinds. They are the read store's kinds, so the HTTP layer's one mapping covers holds.
var (
	ErrNotFound    = reads.ErrNotFound
	ErrInvalid     = reads.ErrInvalid
	ErrConflict    = reads.ErrConflict
	ErrUnavailable = reads.ErrUnavailable
)

// Scope is what a hold keeps: reads matching every field given. Empty VRMs or Cameras match any;
// a zero From or To leaves that end open.
type Scope struct {
	VRMs    []string  `json:"vrms,omitempty"`
	Cameras []string  `json:"cameras,omitempty"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`
}

// ReadScope is the scope as the read stores take it.
func (s Scope) ReadScope() reads.HoldScope {
	return reads.HoldScope{VRMs: slices.Clone(s.VRMs), Cameras: slices.Clone(s.Cameras), From: s.From, To: s.To}
}

// String is the scope in one line, for the audit payload and for people.
func (s Scope) String() string {
	var parts []string
	if len(s.VRMs) > 0 {
		parts = append(parts, "vrms="+strings.Join(s.VRMs, ","))
	}
	if len(s.Cameras) > 0 {
		parts = append(parts, "cameras="+strings.Join(s.Cameras, ","))
	}
	if !s.From.IsZero() {
		parts = append(parts, "from="+s.From.UTC().Format(time.RFC3339))
	}
	if !s.To.IsZero() {
		parts = append(parts, "to="+s.To.UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, " ")
}

// normalise checks the scope and returns it in canonical form: plates normalised, sorted and
// unique; cameras sorted and unique; times UTC to the millisecond.
func (s Scope) normalise() (Scope, error) {
	var out Scope
	var problems []string
	for _, raw := range s.VRMs {
		v, err := plate.Normalize(raw)
		if err != nil {
			problems = append(problems, fmt.Sprintf("vrm %q: %v", raw, err))
			continue
		}
		out.VRMs = append(out.VRMs, v)
	}
	for _, c := range s.Cameras {
		if c = strings.TrimSpace(c); c == "" {
			problems = append(problems, "a camera id is empty")
			continue
		}
		out.Cameras = append(out.Cameras, c)
	}
	slices.Sort(out.VRMs)
	out.VRMs = slices.Compact(out.VRMs)
	slices.Sort(out.Cameras)
	out.Cameras = slices.Compact(out.Cameras)
	if !s.From.IsZero() {
		out.From = s.From.UTC().Truncate(reads.TimePrecision)
	}
	if !s.To.IsZero() {
		out.To = s.To.UTC().Truncate(reads.TimePrecision)
	}
	if !out.From.IsZero() && !out.To.IsZero() && !out.From.Before(out.To) {
		problems = append(problems, "the window's from is not before its to")
	}
	if len(s.VRMs) == 0 && len(s.Cameras) == 0 && s.From.IsZero() && s.To.IsZero() {
		// An empty scope would keep every read for ever: that is switching retention off, not a hold.
		problems = append(problems, "a hold names plates, cameras or a window; an empty scope would keep every read")
	}
	if len(s.VRMs) > MaxListLen || len(s.Cameras) > MaxListLen {
		problems = append(problems, fmt.Sprintf("at most %d plates and %d cameras", MaxListLen, MaxListLen))
	}
	if len(problems) > 0 {
		return Scope{}, fmt.Errorf("%w: hold scope: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return out, nil
}

// MaxListLen bounds the plates and cameras of one hold (each is an audit payload entry).
const MaxListLen = 1000

// Hold is a preservation hold.
type Hold struct {
	ID      string       `json:"id"`
	CaseRef string       `json:"case_ref"`
	Reason  authz.Reason `json:"reason"`
	Scope   Scope        `json:"scope"`
	// ReviewAt is when the hold must be reviewed. A hold past it stays active: evidence is never
	// deleted because a review was missed; listings flag it as due instead.
	ReviewAt  time.Time `json:"review_at"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`

	ReleasedBy    string    `json:"released_by,omitempty"`
	ReleasedAt    time.Time `json:"released_at,omitzero"`
	ReleaseReason string    `json:"release_reason,omitempty"`
}

// Active reports whether the hold still keeps reads.
func (h Hold) Active() bool { return h.ReleasedAt.IsZero() }

// Store keeps holds. Both backends implement it (store/sqlite, store/elastic) and pass the
// storetest holds suite.
type Store interface {
	// CreateHold stores a new hold; ErrConflict if the id exists.
	CreateHold(ctx context.Context, h Hold) error
	// GetHold returns one hold; ErrNotFound if there is none.
	GetHold(ctx context.Context, id string) (Hold, error)
	// ListHolds returns every hold, newest first.
	ListHolds(ctx context.Context) ([]Hold, error)
	// ReleaseHold marks an active hold released, atomically: of two concurrent releases one
	// wins and the other gets ErrConflict, as does releasing a released hold. ErrNotFound if
	// there is no such hold.
	ReleaseHold(ctx context.Context, id, by, reason string, at time.Time) (Hold, error)
}
