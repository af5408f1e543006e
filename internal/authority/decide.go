package authority

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/search"
)

// MaxDecisionReason bounds the text an officer gives with a decision.
const MaxDecisionReason = 2000

// Decision is an officer's approval, rejection or revocation. For an approval, Scope (fields set
// replace the requested ones, fields left empty keep them), ExpiresAt and MaxUses may narrow the
// request; they can never widen it.
type Decision struct {
	Reason    string
	Scope     *Scope
	ExpiresAt time.Time
	MaxUses   int
}

func plateNormalize(v string) (string, error) { return plate.Normalize(v) }

func checkDecisionReason(r string) (string, error) {
	r = strings.TrimSpace(r)
	switch {
	case r == "":
		return "", fmt.Errorf("%w: a decision needs a reason (it is recorded, and shown to the requester)", ErrInvalid)
	case len(r) > MaxDecisionReason:
		return "", fmt.Errorf("%w: the reason is longer than %d bytes", ErrInvalid, MaxDecisionReason)
	}
	return strings.ToValidUTF8(r, "\uFFFD"), nil
}

// Approve approves a pending request, possibly narrowed. The approver must be allowed by the
// policy for the request's band and purpose, hold the minimum rank, and not be the requester
// (authz decides all three); a request already decided, or a narrowing that widens anything, is
// refused. Every refusal is audited; the approval is durable in the audit log before it is stored.
func (s *Service) Approve(ctx context.Context, c search.Caller, id string, d Decision) (View, error) {
	reason, err := checkDecisionReason(d.Reason)
	if err != nil {
		return View{}, err
	}
	a, err := s.st.Get(ctx, id)
	if err != nil {
		return View{}, fmt.Errorf("approve: %w", err)
	}
	now := s.now()
	next, expires, uses, shapeErr := s.narrowed(ctx, a, d, now)
	if shapeErr != nil {
		return View{}, shapeErr
	}
	band := s.az.BandOf(next.From)
	ev := s.event(c, audit.ActionAuthorityApprove, a, band)
	payload := audit.Payload{VRMs: next.VRMs, Query: "approve " + next.text() + fmt.Sprintf(" max_uses=%d expires=%s", uses, expires.Format(time.RFC3339)), Justification: reason}
	dec, err := s.az.Decide(authz.Request{Subject: subjectOf(c), Action: authz.AuthorityApprove, Band: band, Reason: a.Reason, Target: a.Requester})
	if err != nil || !dec.Allowed {
		return View{}, s.refusePolicy(ctx, ev, payload, dec, err)
	}
	if st := a.StateAt(now); st != Pending {
		return View{}, s.refuseState(ctx, ev, payload, a, st)
	}
	var wider []string
	wider = append(wider, a.Scope.widens(next)...)
	if expires.After(a.RequestedExpiresAt) {
		wider = append(wider, fmt.Sprintf("expiry %s is after the requested %s", stamp(expires), stamp(a.RequestedExpiresAt)))
	}
	if uses > a.MaxUses {
		wider = append(wider, fmt.Sprintf("%d uses is more than the %d requested", uses, a.MaxUses))
	}
	if len(wider) > 0 {
		why := "an approval may narrow a request, never widen it: " + strings.Join(wider, "; ")
		if err := s.recordDenial(ctx, ev, payload, RuleNarrowOnly+": "+why); err != nil {
			return View{}, err
		}
		return View{}, &search.DeniedError{Rule: RuleNarrowOnly, Reason: why}
	}
	ev.Decision, ev.Rule = audit.EffectAllow, clip(dec.Rule)
	return s.apply(ctx, ev, payload, id, Transition{From: Pending, To: Approved, At: now, By: c.Subject, ByName: c.Name,
		Reason: reason, Scope: &next, ExpiresAt: expires, MaxUses: uses})
}

// narrowed merges an approval's narrowing into the request: fields the approver set replace the
// requested ones (checked like a request, areas resolved), the rest are kept. Whether the result
// is narrower is checked by the caller, after the policy, so an unauthorised caller learns nothing.
func (s *Service) narrowed(ctx context.Context, a Authority, d Decision, now time.Time) (Scope, time.Time, int, error) {
	next := a.Scope
	expires, uses := a.RequestedExpiresAt, a.MaxUses
	if !d.ExpiresAt.IsZero() {
		expires = d.ExpiresAt.UTC().Truncate(time.Microsecond)
		if !expires.After(now) {
			return Scope{}, time.Time{}, 0, fmt.Errorf("%w: expires_at %s is not in the future", ErrInvalid, stamp(expires))
		}
	}
	if d.MaxUses != 0 {
		if d.MaxUses < 1 {
			return Scope{}, time.Time{}, 0, fmt.Errorf("%w: max_uses %d must be at least 1", ErrInvalid, d.MaxUses)
		}
		uses = d.MaxUses
	}
	if d.Scope == nil {
		return next, expires, uses, nil
	}
	in := *d.Scope
	merged := Scope{From: next.From, To: next.To, SearchTypes: next.SearchTypes, VRMs: next.VRMs, Cameras: next.Cameras, Area: next.Area}
	if !in.From.IsZero() {
		merged.From = in.From
	}
	if !in.To.IsZero() {
		merged.To = in.To
	}
	if in.SearchTypes != nil {
		merged.SearchTypes = in.SearchTypes
	}
	if in.VRMs != nil {
		merged.VRMs = in.VRMs
	}
	if in.Cameras != nil || in.Area != nil {
		merged.Cameras, merged.Area = in.Cameras, in.Area
	}
	var keep *Scope
	if in.Cameras == nil && in.Area == nil && next.restricted() {
		keep = &next
	}
	out, err := s.checkScope(ctx, merged, now, keep)
	if err != nil {
		return Scope{}, time.Time{}, 0, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return out, expires, uses, nil
}

// Reject rejects a pending request with a reason the requester is shown.
func (s *Service) Reject(ctx context.Context, c search.Caller, id, why string) (View, error) {
	reason, err := checkDecisionReason(why)
	if err != nil {
		return View{}, err
	}
	a, err := s.st.Get(ctx, id)
	if err != nil {
		return View{}, fmt.Errorf("reject: %w", err)
	}
	now := s.now()
	band := s.az.BandOf(a.Scope.From)
	ev := s.event(c, audit.ActionAuthorityReject, a, band)
	payload := audit.Payload{Query: "reject", Justification: reason}
	dec, err := s.az.Decide(authz.Request{Subject: subjectOf(c), Action: authz.AuthorityApprove, Band: band, Reason: a.Reason, Target: a.Requester})
	if err != nil || !dec.Allowed {
		return View{}, s.refusePolicy(ctx, ev, payload, dec, err)
	}
	if st := a.StateAt(now); st != Pending {
		return View{}, s.refuseState(ctx, ev, payload, a, st)
	}
	ev.Decision, ev.Rule = audit.EffectAllow, clip(dec.Rule)
	return s.apply(ctx, ev, payload, id, Transition{From: Pending, To: Rejected, At: now, By: c.Subject, ByName: c.Name, Reason: reason})
}

// Revoke ends an approved authority before its expiry; searches presenting it are refused from
// then on.
func (s *Service) Revoke(ctx context.Context, c search.Caller, id, why string) (View, error) {
	reason, err := checkDecisionReason(why)
	if err != nil {
		return View{}, err
	}
	a, err := s.st.Get(ctx, id)
	if err != nil {
		return View{}, fmt.Errorf("revoke: %w", err)
	}
	now := s.now()
	ev := s.event(c, audit.ActionAuthorityRevoke, a, s.az.BandOf(a.Scope.From))
	payload := audit.Payload{Query: "revoke", Justification: reason}
	dec, err := s.az.Decide(authz.Request{Subject: subjectOf(c), Action: authz.AuthorityRevoke, Target: a.Requester})
	if err != nil || !dec.Allowed {
		return View{}, s.refusePolicy(ctx, ev, payload, dec, err)
	}
	if st := a.StateAt(now); st != Approved {
		return View{}, s.refuseState(ctx, ev, payload, a, st)
	}
	ev.Decision, ev.Rule = audit.EffectAllow, clip(dec.Rule)
	return s.apply(ctx, ev, payload, id, Transition{From: Approved, To: Revoked, At: now, By: c.Subject, ByName: c.Name, Reason: reason})
}

// refuseState records an operation refused because the authority is no longer in the state it
// needs (already decided, not approved) and returns ErrConflict.
func (s *Service) refuseState(ctx context.Context, ev audit.Event, p audit.Payload, a Authority, st State) error {
	why := fmt.Sprintf("authority %s is %s", a.ID, st)
	if a.DecidedBy != "" {
		why += " (decided by " + a.DecidedByName + ")"
	}
	if err := s.recordDenial(ctx, ev, p, RuleState+": "+why); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s", ErrConflict, why)
}

// apply runs a transition under audit.Run (intent durable first, outcome after) and tells queue
// subscribers when a request leaves the queue.
func (s *Service) apply(ctx context.Context, ev audit.Event, p audit.Payload, id string, t Transition) (View, error) {
	a, err := audit.Run(ctx, s.log, ev, p, func(ctx context.Context) (Authority, audit.Outcome, error) {
		a, err := s.st.Transition(ctx, id, t)
		return a, audit.Outcome{Count: 1, ErrorClass: errClass(err)}, err
	})
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return View{}, fmt.Errorf("%s: %w: someone changed it first; reload it", t.To, err)
		}
		return View{}, fmt.Errorf("%s authority: %w", t.To, err)
	}
	if t.From == Pending {
		s.broker.publish(QueueChange{ID: a.ID, State: a.State, authority: a})
	}
	return s.view(a), nil
}
