package identity

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/anpr-portal/anpr/internal/audit"
)

// GrantRequest asks for a role to be given to a person.
type GrantRequest struct {
	Subject string // the person's IdP subject (see ListUsers)
	Role    string // one of Config.GrantableRoles
	// Rank is required for authorising_officer (the rank they approve at) and refused otherwise.
	Rank string
	// Reason says why (e.g. "extended access for Operation Kestrel, approved by DCI Shaw"); it is
	// stored with the grant and in the audit event.
	Reason string
	// ExpiresAt ends the grant by itself; zero means until revoked.
	ExpiresAt time.Time
}

// maxGrantReasonLen bounds a grant's reason.
const maxGrantReasonLen = 1000

// Grant gives a role to a person who has logged in at least once. Only an ANPR manager may, never
// to themselves (a refused attempt is audited as a denial), and only a grantable role. The grant
// is audited (intent before, outcome after) and applies to the person's live sessions on their
// next request.
func (s *Service) Grant(ctx context.Context, by Principal, req GrantRequest) (Grant, error) {
	what := audit.Payload{
		Query:         fmt.Sprintf("grant subject=%q role=%q rank=%q expires=%s", req.Subject, req.Role, req.Rank, formatTime(req.ExpiresAt)),
		Justification: truncate(req.Reason, maxGrantReasonLen),
	}
	if err := s.requireManager(ctx, by, audit.ActionGrantChange, what.Query); err != nil {
		return Grant{}, err
	}
	if req.Subject == by.Subject {
		s.recordDenial(ctx, by, audit.ActionGrantChange, ruleSelfGrant, what.Query)
		return Grant{}, fmt.Errorf("%w: nobody may grant a role to themselves", ErrForbidden)
	}
	now := s.now()
	if err := s.checkGrant(req, now); err != nil {
		return Grant{}, err
	}
	if _, err := s.store.GetUser(ctx, req.Subject); err != nil {
		return Grant{}, storeErr("grant to "+req.Subject+" (they must have logged in once)", err)
	}
	id, err := s.token(12)
	if err != nil {
		return Grant{}, err
	}
	g := Grant{
		ID: "g_" + id, Subject: req.Subject, Role: req.Role, Rank: req.Rank, Reason: strings.TrimSpace(req.Reason),
		GrantedBy: by.Subject, GrantedAt: now, ExpiresAt: req.ExpiresAt,
	}
	what.Query = fmt.Sprintf("grant id=%s subject=%q role=%q rank=%q expires=%s", g.ID, g.Subject, g.Role, g.Rank, formatTime(g.ExpiresAt))
	err = s.runAudited(ctx, by, audit.ActionGrantChange, ruleManagerOnly, what, func(ctx context.Context) error {
		if err := s.store.CreateGrant(ctx, g); err != nil {
			return storeErr("create grant", err)
		}
		return nil
	})
	if err != nil {
		return Grant{}, err
	}
	return g, nil
}

func (s *Service) checkGrant(req GrantRequest, now time.Time) error {
	var problems []string
	if req.Subject == "" || len(req.Subject) > 255 {
		problems = append(problems, "subject is required")
	}
	if !slices.Contains(s.cfg.GrantableRoles, req.Role) {
		problems = append(problems, fmt.Sprintf("role %q cannot be granted (grantable: %s)", req.Role, strings.Join(s.cfg.GrantableRoles, ", ")))
	}
	switch {
	case req.Role == RoleAuthorisingOfficer && s.rankLevel(req.Rank) < 0:
		problems = append(problems, fmt.Sprintf("an authorising officer needs a rank, one of %s", strings.Join(s.cfg.Ranks, ", ")))
	case req.Role != RoleAuthorisingOfficer && req.Rank != "":
		problems = append(problems, "only an authorising officer grant carries a rank")
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" || len(reason) > maxGrantReasonLen || !utf8.ValidString(reason) || strings.ContainsFunc(reason, isControl) {
		problems = append(problems, fmt.Sprintf("a reason of 1 to %d printable characters is required", maxGrantReasonLen))
	}
	if !req.ExpiresAt.IsZero() && !req.ExpiresAt.After(now) {
		problems = append(problems, "expiry must be in the future")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// RevokeGrant ends a grant at once (ANPR manager only; audited). Live sessions lose the role on
// their next request.
func (s *Service) RevokeGrant(ctx context.Context, by Principal, id string) error {
	what := fmt.Sprintf("revoke grant id=%q", id)
	if err := s.requireManager(ctx, by, audit.ActionGrantChange, what); err != nil {
		return err
	}
	g, err := s.store.GetGrant(ctx, id)
	if err != nil {
		return storeErr("read grant", err)
	}
	what = fmt.Sprintf("revoke grant id=%s subject=%q role=%q rank=%q", g.ID, g.Subject, g.Role, g.Rank)
	return s.runAudited(ctx, by, audit.ActionGrantChange, ruleManagerOnly, audit.Payload{Query: what}, func(ctx context.Context) error {
		if err := s.store.RevokeGrant(ctx, id, by.Subject, s.now()); err != nil {
			return storeErr("revoke grant", err)
		}
		return nil
	})
}

// ListGrants lists grants (ANPR manager, or a person listing their own).
func (s *Service) ListGrants(ctx context.Context, by Principal, f GrantFilter) ([]Grant, error) {
	if by.Kind != KindUser || (!by.HasRole(RoleANPRManager) && f.Subject != by.Subject) {
		return nil, fmt.Errorf("%w: listing others' grants needs the %s role", ErrForbidden, RoleANPRManager)
	}
	gs, err := s.store.ListGrants(ctx, f)
	if err != nil {
		return nil, storeErr("list grants", err)
	}
	return gs, nil
}

// ListUsers lists people who have logged in, for choosing whom to grant (ANPR manager only).
func (s *Service) ListUsers(ctx context.Context, by Principal) ([]User, error) {
	if by.Kind != KindUser || !by.HasRole(RoleANPRManager) {
		return nil, fmt.Errorf("%w: listing users needs the %s role", ErrForbidden, RoleANPRManager)
	}
	us, err := s.store.ListUsers(ctx)
	if err != nil {
		return nil, storeErr("list users", err)
	}
	return us, nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}
