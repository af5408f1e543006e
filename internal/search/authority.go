package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
)

// RuleAuthority prefixes the Rule of an audit event recording a search refused because the
// authority it presented does not cover it (unknown, another user's, not approved, expired,
// revoked, exhausted, or out of scope).
const RuleAuthority = "rule:authority"

// Authorities checks and spends prior authorities presented with searches. The authority service
// implements it; the search service owns when it is asked.
type Authorities interface {
	// Check reports whether the authority covers u, without spending a use. When it does not, the
	// error wraps ErrForbidden (a *DeniedError whose Rule starts with RuleAuthority says why).
	Check(ctx context.Context, u AuthorityUse) (authz.AuthorityState, error)
	// Spend atomically counts one use of the authority; it fails like Check when the authority can
	// no longer be used (a concurrent search spent its last use, or it was revoked meanwhile).
	Spend(ctx context.Context, u AuthorityUse) error
}

// AuthorityUse is one search presented with an authority: what the authority must cover.
type AuthorityUse struct {
	ID      string
	Subject string
	Type    Type
	// VRMs are the normalised plates the search names; nil for searches that name none.
	VRMs []string
	// Cameras is the camera set searched after resolving any area; nil means every camera.
	Cameras  []string
	From, To time.Time
}

// authorise decides a search: it checks the authority presented, if any (a refusal is audited with
// its rule), asks the policy with the authority's state, and spends one use of the authority when
// the search is new (pages of a search already authorised do not spend again: their cursor is
// bound to the query, which names the authority). base gains the authority id either way.
func (s *Service) authorise(ctx context.Context, base *audit.Event, payload audit.Payload, req authz.Request, use AuthorityUse, newSearch bool) (authz.Decision, error) {
	if use.ID != "" {
		base.AuthorityID = clip(use.ID, audit.MaxFieldLen)
		if s.auth == nil {
			return authz.Decision{}, s.refuseAuthority(ctx, *base, payload, &DeniedError{Rule: RuleAuthority, Reason: "prior authorities are not configured on this server"})
		}
		use.VRMs, use.Cameras = slices.Clone(use.VRMs), slices.Clone(use.Cameras)
		state, err := s.auth.Check(ctx, use)
		if err != nil {
			return authz.Decision{}, s.refuseAuthority(ctx, *base, payload, err)
		}
		req.Authority = state
	}
	d, err := s.decide(ctx, *base, payload, req)
	if err != nil {
		return d, err
	}
	if use.ID != "" && newSearch {
		if err := s.auth.Spend(ctx, use); err != nil {
			return authz.Decision{}, s.refuseAuthority(ctx, *base, payload, err)
		}
	}
	return d, nil
}

// refuseAuthority records an authority refusal and returns it; any other failure of the authority
// store is returned as it is (the search is not run, and nothing was shown).
func (s *Service) refuseAuthority(ctx context.Context, base audit.Event, payload audit.Payload, err error) error {
	var denied *DeniedError
	if !errors.As(err, &denied) {
		return fmt.Errorf("check authority: %w", err)
	}
	if aerr := s.recordDenial(ctx, base, payload, denied.Rule); aerr != nil {
		return aerr
	}
	return denied
}
