// Package authority is the prior-authority workflow: an investigator asks for
// authority to search aged data or to run a sensitive search type, an authorising officer of
// sufficient rank who is not the requester approves (possibly narrowing it) or rejects it, and
// searches present it, each use checked against its scope and counted atomically. Every
// transition is an audit event; the search service reaches it through search.Authorities.
package authority

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
)

// Error kinds. The HTTP layer maps them to problem+json; refusals by policy or by an authority's
// own rules are *search.DeniedError values (403), so that the search service and the HTTP layer
// treat a refused authority the same way wherever the refusal comes from.
var (
	// ErrInvalid: the request is malformed (a reversed window, an unknown camera, a widening
	// approval's shape, too many uses). Nothing changed. HTTP 400.
	ErrInvalid = errors.New("invalid authority request")
	// ErrNotFound: no such authority (or not one the caller may see). HTTP 404.
	ErrNotFound = errors.New("authority not found")
	// ErrConflict: the authority is not in the state the change needs (already decided, no
	// longer approved, used up), usually because someone else changed it first. HTTP 409.
	ErrConflict = errors.New("authority state conflict")
	// ErrUnavailable: the store could not be reached. HTTP 503.
	ErrUnavailable = errors.New("authority store unavailable")
)

// State is where an authority is in its life. Pending, Approved and the final states are stored;
// Expired is also reported for an approved authority past its expiry before anyone has noticed
// and recorded the transition.
type State string

// The states: pending -> approved | rejected; approved -> revoked | expired | exhausted.
const (
	Pending   State = "pending"
	Approved  State = "approved"
	Rejected  State = "rejected"
	Revoked   State = "revoked"
	Expired   State = "expired"
	Exhausted State = "exhausted"
)

// Final reports whether no transition leaves s.
func (s State) Final() bool { return s != Pending && s != Approved }

// SearchTypes are the search types an authority may cover: those of package search, including
// the sensitive ones (area, convoy, multi-location) that need an authority in every band.
func SearchTypes() []string {
	return []string{"exact", "partial", "misread", "journey", "area", "convoy", "multi_location"}
}

// Authority is one request and everything decided about it, as stored.
type Authority struct {
	ID            string       `json:"id"`
	Requester     string       `json:"requester"`
	RequesterName string       `json:"requester_name"`
	State         State        `json:"state"`
	Reason        authz.Reason `json:"reason"`
	// Scope is what the authority covers: as requested while pending, as approved (possibly
	// narrowed) afterwards.
	Scope              Scope     `json:"scope"`
	RequestedExpiresAt time.Time `json:"requested_expires_at"`
	ExpiresAt          time.Time `json:"expires_at"`
	MaxUses            int       `json:"max_uses"`
	Uses               int       `json:"uses"`
	// HoldID names a preservation hold whose data the authority may reach past retention.
	HoldID         string    `json:"hold_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	DecidedBy      string    `json:"decided_by,omitempty"`
	DecidedByName  string    `json:"decided_by_name,omitempty"`
	DecidedAt      time.Time `json:"decided_at"`
	DecisionReason string    `json:"decision_reason,omitempty"`
}

// StateAt is the state as it stands at now: an approved authority past its expiry is expired
// whether or not the transition has been recorded yet.
func (a Authority) StateAt(now time.Time) State {
	if a.State == Approved && !now.Before(a.ExpiresAt) {
		return Expired
	}
	return a.State
}

// Transition is one change of state. The store applies it only if the authority is in From,
// atomically, so two officers deciding one request at once cannot both succeed.
type Transition struct {
	From, To State
	At       time.Time
	By       string
	ByName   string
	Reason   string
	// Approval only: the approved scope, expiry and uses (the service has checked that they do
	// not widen the request).
	Scope     *Scope
	ExpiresAt time.Time
	MaxUses   int
}

// Store keeps authorities. Every backend passes authoritytest.Run.
type Store interface {
	// Create stores a new authority; ErrConflict if the id exists.
	Create(ctx context.Context, a Authority) error
	// Get returns one authority or ErrNotFound.
	Get(ctx context.Context, id string) (Authority, error)
	// ListByRequester returns the requester's authorities, newest first, at most limit.
	ListByRequester(ctx context.Context, requester string, limit int) ([]Authority, error)
	// ListPending returns pending authorities, oldest first, at most limit.
	ListPending(ctx context.Context, limit int) ([]Authority, error)
	// Transition applies t if the authority is in t.From, and returns the result; ErrConflict
	// when it is not (someone changed it first), ErrNotFound when it does not exist. The use
	// count is never touched, so a revocation cannot lose a concurrent use.
	Transition(ctx context.Context, id string, t Transition) (Authority, error)
	// Spend counts one use atomically: only if the authority is approved, belongs to subject, has
	// not expired at now and has a use left; the use that takes the last one moves it to
	// Exhausted in the same write. ErrConflict when any condition fails, ErrNotFound when it
	// does not exist. Under any concurrency exactly MaxUses spends succeed.
	Spend(ctx context.Context, id, subject string, now time.Time) (Authority, error)
}

// MaxList bounds one listing (a requester's own requests, the approver's queue).
const MaxList = 500

// sortedUnique returns a sorted copy of ss without duplicates (nil for none).
func sortedUnique(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}
