package holds

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/reads"
)

// Audit actions of holds.
const (
	ActionCreate  audit.Action = "hold.create"
	ActionRelease audit.Action = "hold.release"
)

// Caller is who changes a hold, as the audit event records them. The HTTP gate has already
// authorised the change (admin.holds); Rule is the policy line that allowed it.
type Caller struct {
	Actor      audit.Actor
	ClientAddr string
	RequestID  string
	Rule       string
}

// ReasonValidator checks a structured reason (authz.Authorizer does).
type ReasonValidator interface {
	ValidateReason(r authz.Reason) error
}

// Service creates, releases and lists holds, recording each change durably in the audit log
// before it answers.
type Service struct {
	st      Store
	log     audit.Appender
	reasons ReasonValidator
	now     func() time.Time
}

// New returns a Service. now is the clock for creation, review and release times.
func New(st Store, log audit.Appender, reasons ReasonValidator, now func() time.Time) (*Service, error) {
	if st == nil || log == nil || reasons == nil || now == nil {
		return nil, errors.New("holds: store, audit log, reason validator and clock are required")
	}
	return &Service{st: st, log: log, reasons: reasons, now: now}, nil
}

// CreateRequest is what the ANPR manager gives to place a hold.
type CreateRequest struct {
	CaseRef  string       `json:"case_ref"`
	Reason   authz.Reason `json:"reason"`
	Scope    Scope        `json:"scope"`
	ReviewAt time.Time    `json:"review_at"`
}

// MinReleaseReason is the shortest release reason accepted: a release lets evidence be deleted,
// so "done" will not do.
const MinReleaseReason = 20

// Create checks and stores a new hold. The reason is validated like a search reason (purpose
// from the configured list, case reference format, justification that says something); the
// case reference may be given at the top level, in the reason, or both if they agree.
func (s *Service) Create(ctx context.Context, c Caller, req CreateRequest) (Hold, error) {
	now := s.now().UTC()
	var problems []string
	ref := strings.TrimSpace(req.CaseRef)
	switch r := strings.TrimSpace(req.Reason.CaseRef); {
	case ref == "":
		ref = r
	case r == "":
		req.Reason.CaseRef = ref
	case !strings.EqualFold(r, ref):
		problems = append(problems, fmt.Sprintf("case_ref %q and reason.case_ref %q differ", ref, r))
	}
	if err := s.reasons.ValidateReason(req.Reason); err != nil {
		problems = append(problems, err.Error())
	}
	scope, err := req.Scope.normalise()
	if err != nil {
		problems = append(problems, err.Error())
	}
	if req.ReviewAt.IsZero() || !req.ReviewAt.After(now) {
		problems = append(problems, "review_at must be a time in the future")
	}
	if len(problems) > 0 {
		return Hold{}, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	h := Hold{
		ID: newID(), CaseRef: strings.ToUpper(ref), Reason: req.Reason, Scope: scope,
		ReviewAt: req.ReviewAt.UTC().Truncate(time.Second), CreatedBy: c.Actor.Subject, CreatedAt: now.Truncate(time.Millisecond),
	}
	h.Reason.CaseRef = h.CaseRef
	ev := s.event(c, ActionCreate, h)
	payload := audit.Payload{VRMs: scope.VRMs, Query: "hold " + h.ID + ": " + scope.String(), Justification: h.Reason.Justification}
	return audit.Run(ctx, s.log, ev, payload, func(ctx context.Context) (Hold, audit.Outcome, error) {
		if err := s.st.CreateHold(ctx, h); err != nil {
			return Hold{}, audit.Outcome{}, fmt.Errorf("create hold: %w", err)
		}
		return h, audit.Outcome{Count: 1, Digest: audit.DigestIDs([]string{h.ID})}, nil
	})
}

// Release ends an active hold. The reads it kept become subject to retention at the next run.
func (s *Service) Release(ctx context.Context, c Caller, id, reason string) (Hold, error) {
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) < MinReleaseReason || len(reason) > audit.MaxJustificationLen {
		return Hold{}, fmt.Errorf("%w: a release needs a reason of %d to %d characters saying why the data may now be deleted",
			ErrInvalid, MinReleaseReason, audit.MaxJustificationLen)
	}
	h, err := s.st.GetHold(ctx, id)
	if err != nil {
		return Hold{}, fmt.Errorf("release hold: %w", err)
	}
	if !h.Active() {
		return Hold{}, fmt.Errorf("release hold %s: %w: it was released at %s", id, ErrConflict, h.ReleasedAt.Format(time.RFC3339))
	}
	ev := s.event(c, ActionRelease, h)
	payload := audit.Payload{VRMs: h.Scope.VRMs, Query: "hold " + h.ID + ": " + h.Scope.String(), Justification: reason}
	return audit.Run(ctx, s.log, ev, payload, func(ctx context.Context) (Hold, audit.Outcome, error) {
		out, err := s.st.ReleaseHold(ctx, id, c.Actor.Subject, reason, s.now().UTC().Truncate(time.Millisecond))
		if err != nil {
			return Hold{}, audit.Outcome{}, fmt.Errorf("release hold: %w", err)
		}
		return out, audit.Outcome{Count: 1, Digest: audit.DigestIDs([]string{h.ID})}, nil
	})
}

func (s *Service) event(c Caller, action audit.Action, h Hold) audit.Event {
	return audit.Event{
		Actor: c.Actor, ClientAddr: c.ClientAddr, RequestID: c.RequestID, Action: action,
		Decision: audit.EffectAllow, Rule: c.Rule,
		Reason: audit.Reason{Purpose: h.Reason.Purpose, CaseRef: h.CaseRef, OffenceCode: h.Reason.OffenceCode},
	}
}

// View is a hold as listings show it.
type View struct {
	Hold
	Active    bool `json:"active"`
	ReviewDue bool `json:"review_due"` // active and past its review date
}

func (s *Service) view(h Hold) View {
	return View{Hold: h, Active: h.Active(), ReviewDue: h.Active() && !s.now().Before(h.ReviewAt)}
}

// List returns every hold, newest first.
func (s *Service) List(ctx context.Context) ([]View, error) {
	hs, err := s.st.ListHolds(ctx)
	if err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	out := make([]View, len(hs))
	for i, h := range hs {
		out[i] = s.view(h)
	}
	return out, nil
}

// Get returns one hold.
func (s *Service) Get(ctx context.Context, id string) (View, error) {
	h, err := s.st.GetHold(ctx, id)
	if err != nil {
		return View{}, fmt.Errorf("get hold: %w", err)
	}
	return s.view(h), nil
}

// Hold returns the scope of hold id and whether it is active, for the authority service: an
// authority that names a hold may search only inside its scope, and only while it is active.
func (s *Service) Hold(ctx context.Context, id string) (reads.HoldScope, bool, error) {
	h, err := s.st.GetHold(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return reads.HoldScope{}, false, nil // an unknown hold holds nothing
	}
	if err != nil {
		return reads.HoldScope{}, false, fmt.Errorf("hold %s: %w", id, err)
	}
	return h.Scope.ReadScope(), h.Active(), nil
}

// ActiveScopes returns the scopes of every active hold, for a retention run.
func (s *Service) ActiveScopes(ctx context.Context) ([]reads.HoldScope, error) {
	hs, err := s.st.ListHolds(ctx)
	if err != nil {
		return nil, fmt.Errorf("active holds: %w", err)
	}
	var out []reads.HoldScope
	for _, h := range hs {
		if h.Active() {
			out = append(out, h.Scope.ReadScope())
		}
	}
	return out, nil
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return "hold_" + hex.EncodeToString(b[:])
}
