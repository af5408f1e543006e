package authority

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/search"
)

// Check reports whether the authority covers the search u, without spending a use:
// authz.AuthorityHold when it names a preservation hold that is active and keeps everything the
// search touches, authz.AuthorityValid otherwise. A refusal is a *search.DeniedError whose Rule
// starts with search.RuleAuthority and says exactly why.
func (s *Service) Check(ctx context.Context, u search.AuthorityUse) (authz.AuthorityState, error) {
	a, err := s.usable(ctx, u)
	if err != nil {
		return authz.AuthorityNone, err
	}
	return s.holdState(ctx, a, u)
}

// Spend counts one use of the authority for the search u, atomically: of any number of
// concurrent searches on an authority with n uses left, exactly n succeed. The use that spends the
// last one records the authority's exhaustion in the audit log.
//
// The store's Spend is the atomic check of everything that can change after approval (state,
// requester, expiry, uses left). The scope cannot: it is fixed by the transition into Approved,
// which no state returns to. So when Check (or an earlier Spend) has seen this authority approved,
// its remembered scope is checked here and the authority is not read again before the spend.
func (s *Service) Spend(ctx context.Context, u search.AuthorityUse) error {
	if sc, ok := s.approved.get(u.ID); !ok || sc.requester != u.Subject ||
		sc.scope.covers(string(u.Type), u.VRMs, u.Cameras, u.From, u.To) != "" {
		if _, err := s.usable(ctx, u); err != nil {
			return err
		}
	}
	a, err := s.st.Spend(ctx, u.ID, u.Subject, s.now())
	if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
		// Someone spent the last use, revoked it, or it expired since it was last read: the full
		// check explains which (and records an expiry).
		s.approved.drop(u.ID)
		if _, uerr := s.usable(ctx, u); uerr != nil {
			return uerr
		}
		cur, gerr := s.st.Get(ctx, u.ID)
		if gerr != nil {
			return denied(u.ID, "it could not be used: "+err.Error())
		}
		return denied(u.ID, fmt.Sprintf("it is %s (used %d of %d)", cur.StateAt(s.now()), cur.Uses, cur.MaxUses))
	}
	if err != nil {
		return fmt.Errorf("spend authority: %w", err)
	}
	if a.State == Exhausted {
		ev := audit.Event{Actor: systemActor, Action: ActionExhaust, AuthorityID: a.ID, Decision: audit.EffectNone,
			Rule: fmt.Sprintf("%s: last of %d uses spent by %s", RuleState, a.MaxUses, clipBytes(u.Subject, 200)), ResultCount: int64(a.Uses)}
		if err := s.recordFact(ctx, ev, audit.Payload{}); err != nil {
			// The use is counted; the search is not run, because nothing is released unrecorded.
			return err
		}
	}
	return nil
}

// usable loads the authority and checks everything but the hold: owner, state, expiry, uses and
// scope. An approved authority found past its expiry is moved to Expired (and that is audited).
func (s *Service) usable(ctx context.Context, u search.AuthorityUse) (Authority, error) {
	if u.ID == "" {
		return Authority{}, denied(u.ID, "no authority id was given")
	}
	a, err := s.st.Get(ctx, u.ID)
	if errors.Is(err, ErrNotFound) {
		return Authority{}, denied(u.ID, "there is no such authority")
	}
	if err != nil {
		return Authority{}, fmt.Errorf("load authority: %w", err)
	}
	if a.Requester != u.Subject {
		return Authority{}, denied(a.ID, "it was granted to someone else; an authority is used only by its requester")
	}
	now := s.now()
	switch st := a.StateAt(now); st {
	case Approved:
	case Expired:
		if a.State == Approved {
			if err := s.expire(ctx, a, now); err != nil {
				return Authority{}, err
			}
		}
		return Authority{}, denied(a.ID, fmt.Sprintf("it expired at %s", stamp(a.ExpiresAt)))
	case Pending:
		return Authority{}, denied(a.ID, "it has not been approved yet")
	case Exhausted:
		return Authority{}, denied(a.ID, fmt.Sprintf("all %d of its uses have been spent", a.MaxUses))
	default:
		return Authority{}, denied(a.ID, "it was "+string(st))
	}
	if a.Uses >= a.MaxUses {
		return Authority{}, denied(a.ID, fmt.Sprintf("all %d of its uses have been spent", a.MaxUses))
	}
	s.approved.put(a.ID, approvedScope{requester: a.Requester, scope: a.Scope})
	if why := a.Scope.covers(string(u.Type), u.VRMs, u.Cameras, u.From, u.To); why != "" {
		return Authority{}, denied(a.ID, "it does not cover this search: "+why)
	}
	return a, nil
}

// approvedScopesMax bounds the remembered scopes; past it the memory starts again empty (a miss
// only costs the read Spend would otherwise do).
const approvedScopesMax = 4096

// approvedScopes remembers, per authority id, the requester and scope of an authority seen in
// state Approved. Both are fixed from approval on, so an entry never goes stale; whether the
// authority is still usable is always decided by the store's atomic Spend.
type approvedScopes struct {
	mu sync.Mutex
	m  map[string]approvedScope
}

type approvedScope struct {
	requester string
	scope     Scope
}

func (c *approvedScopes) get(id string) (approvedScope, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc, ok := c.m[id]
	return sc, ok
}

func (c *approvedScopes) put(id string, sc approvedScope) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= approvedScopesMax {
		clear(c.m)
	}
	c.m[id] = sc
}

func (c *approvedScopes) drop(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

// expire records the expiry of an approved authority. Only the caller whose transition wins
// writes the event, so concurrent searches noticing it at once leave one record.
func (s *Service) expire(ctx context.Context, a Authority, now time.Time) error {
	_, err := s.st.Transition(ctx, a.ID, Transition{From: Approved, To: Expired, At: now, By: systemActor.Subject,
		ByName: systemActor.Name, Reason: "expired at " + stamp(a.ExpiresAt)})
	if errors.Is(err, ErrConflict) {
		return nil // someone else recorded it (or revoked it) first
	}
	if err != nil {
		return fmt.Errorf("expire authority: %w", err)
	}
	ev := audit.Event{Actor: systemActor, Action: ActionExpire, AuthorityID: a.ID,
		Rule: RuleState + ": expired at " + a.ExpiresAt.UTC().Format(time.RFC3339), ResultCount: int64(a.Uses)}
	return s.recordFact(ctx, ev, audit.Payload{})
}

// holdState is AuthorityHold when the authority names a hold that is active and keeps what the
// search touches; the policy then lets the search reach past retention.
func (s *Service) holdState(ctx context.Context, a Authority, u search.AuthorityUse) (authz.AuthorityState, error) {
	if a.HoldID == "" || s.holds == nil {
		return authz.AuthorityValid, nil
	}
	scope, active, err := s.holds.Hold(ctx, a.HoldID)
	if err != nil {
		return authz.AuthorityNone, fmt.Errorf("look up hold %s: %w", a.HoldID, err)
	}
	if active && holdCovers(scope, u) {
		return authz.AuthorityHold, nil
	}
	return authz.AuthorityValid, nil
}

func holdCovers(h HoldScope, u search.AuthorityUse) bool {
	if u.From.Before(h.From) || u.To.After(h.To) {
		return false
	}
	if len(h.VRMs) > 0 && (len(u.VRMs) == 0 || !subset(u.VRMs, h.VRMs)) {
		return false
	}
	if len(h.Cameras) > 0 && (u.Cameras == nil || !subset(u.Cameras, h.Cameras)) {
		return false
	}
	return true
}

func subset(xs, of []string) bool {
	for _, x := range xs {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return true
}

func denied(id, why string) error {
	return &search.DeniedError{
		Rule:   search.RuleAuthority + ": " + why,
		Reason: fmt.Sprintf("authority %s cannot be used: %s", clipText(id, 40), why),
	}
}
