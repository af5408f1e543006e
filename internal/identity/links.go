package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/anpr-portal/anpr/internal/audit"
)

// ActionSubjectLink records the ANPR manager linking an IdP identity to a previous one, or
// removing such a link.
const ActionSubjectLink audit.Action = "identity.link"

// ruleNoSelfLink: nobody links an identity of their own; another manager must.
const ruleNoSelfLink = "identity:no-self-link"

// LinkRequest asks for the identity (Issuer, Subject) to be treated as PreviousSubject, whom the
// portal knew at PreviousIssuer. Issuer defaults to the configured IdP's.
type LinkRequest struct {
	Issuer, Subject                 string
	PreviousIssuer, PreviousSubject string
	Reason                          string
}

// maxLinkField bounds each identifier of a link (subjects are at most 255 bytes, issuers URLs).
const maxLinkField = 1024

// LinkSubject links an identity to a previous one (ANPR manager only; audited, intent before and
// outcome after). The previous subject must be someone the portal knows (they signed in once);
// if their identity was itself linked to an older one, the new link points at the oldest, so a
// person moved twice still has one portal subject. Nobody may link an identity that is, or would
// become, their own.
func (s *Service) LinkSubject(ctx context.Context, by Principal, req LinkRequest) (SubjectLink, error) {
	if req.Issuer == "" {
		req.Issuer = s.cfg.Issuer
	}
	what := audit.Payload{
		Query: fmt.Sprintf("link issuer=%q subject=%q to previous_issuer=%q previous_subject=%q",
			req.Issuer, req.Subject, req.PreviousIssuer, req.PreviousSubject),
		Justification: truncate(req.Reason, maxGrantReasonLen),
	}
	if err := s.requireManager(ctx, by, ActionSubjectLink, what.Query); err != nil {
		return SubjectLink{}, err
	}
	if err := checkLink(req); err != nil {
		return SubjectLink{}, err
	}
	target := req.PreviousSubject
	if older, err := s.store.LiveLink(ctx, req.PreviousIssuer, req.PreviousSubject); err == nil {
		target = older.PreviousSubject
		req.PreviousIssuer = older.PreviousIssuer
	} else if !errors.Is(err, ErrNotFound) {
		return SubjectLink{}, storeErr("read link", err)
	}
	if by.Subject == target || by.Subject == req.Subject {
		s.recordDenial(ctx, by, ActionSubjectLink, ruleNoSelfLink, what.Query)
		return SubjectLink{}, fmt.Errorf("%w: nobody may link an identity of their own; another ANPR manager must", ErrForbidden)
	}
	if target == req.Subject && req.PreviousIssuer == req.Issuer {
		return SubjectLink{}, fmt.Errorf("%w: that would link the identity to itself", ErrInvalid)
	}
	if _, err := s.store.GetUser(ctx, target); err != nil {
		return SubjectLink{}, storeErr("link to "+target+" (the previous identity must have signed in once)", err)
	}
	id, err := s.token(12)
	if err != nil {
		return SubjectLink{}, err
	}
	l := SubjectLink{ID: "l_" + id, Issuer: req.Issuer, Subject: req.Subject, PreviousIssuer: req.PreviousIssuer, PreviousSubject: target,
		Reason: strings.TrimSpace(req.Reason), LinkedBy: by.Subject, LinkedAt: s.now()}
	what.Query = fmt.Sprintf("link id=%s issuer=%q subject=%q to previous_issuer=%q previous_subject=%q", l.ID, l.Issuer, l.Subject, l.PreviousIssuer, l.PreviousSubject)
	err = s.runAudited(ctx, by, ActionSubjectLink, ruleManagerOnly, what, func(ctx context.Context) error {
		if err := s.store.CreateLink(ctx, l); err != nil {
			return storeErr("create link", err)
		}
		return nil
	})
	if err != nil {
		return SubjectLink{}, err
	}
	return l, nil
}

func checkLink(req LinkRequest) error {
	var problems []string
	for name, v := range map[string]string{"issuer": req.Issuer, "subject": req.Subject, "previous_issuer": req.PreviousIssuer, "previous_subject": req.PreviousSubject} {
		if v == "" || len(v) > maxLinkField || !utf8.ValidString(v) || strings.ContainsFunc(v, isControl) {
			problems = append(problems, name+" is required (printable, at most 1024 bytes)")
		}
	}
	if req.Issuer == req.PreviousIssuer && req.Subject == req.PreviousSubject {
		problems = append(problems, "an identity cannot be linked to itself")
	}
	reason := strings.TrimSpace(req.Reason)
	if reason == "" || len(reason) > maxGrantReasonLen || !utf8.ValidString(reason) || strings.ContainsFunc(reason, isControl) {
		problems = append(problems, fmt.Sprintf("a reason of 1 to %d printable characters is required", maxGrantReasonLen))
	}
	if len(problems) > 0 {
		// Sorted so the message does not depend on map order.
		slices.Sort(problems)
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return nil
}

// RevokeLink removes a link at once (ANPR manager only; audited): the identity's next sign-in is
// its own subject again. Live sessions begun through the link end with it.
func (s *Service) RevokeLink(ctx context.Context, by Principal, id string) error {
	what := fmt.Sprintf("revoke link id=%q", id)
	if err := s.requireManager(ctx, by, ActionSubjectLink, what); err != nil {
		return err
	}
	var linked SubjectLink
	links, err := s.store.ListLinks(ctx)
	if err != nil {
		return storeErr("list links", err)
	}
	for _, l := range links {
		if l.ID == id {
			linked = l
		}
	}
	if linked.ID == "" {
		return fmt.Errorf("link %q: %w", id, ErrNotFound)
	}
	what = fmt.Sprintf("revoke link id=%s issuer=%q subject=%q previous_subject=%q", linked.ID, linked.Issuer, linked.Subject, linked.PreviousSubject)
	return s.runAudited(ctx, by, ActionSubjectLink, ruleManagerOnly, audit.Payload{Query: what}, func(ctx context.Context) error {
		if err := s.store.RevokeLink(ctx, id, by.Subject, s.now()); err != nil {
			return storeErr("revoke link", err)
		}
		if _, err := s.store.RevokeSubjectSessions(ctx, linked.PreviousSubject, s.now(), "link "+linked.ID+" revoked"); err != nil {
			return storeErr("end sessions begun through the link", err)
		}
		return nil
	})
}

// ListLinks lists every link (ANPR manager only).
func (s *Service) ListLinks(ctx context.Context, by Principal) ([]SubjectLink, error) {
	if by.Kind != KindUser || !by.HasRole(RoleANPRManager) {
		return nil, fmt.Errorf("%w: listing subject links needs the %s role", ErrForbidden, RoleANPRManager)
	}
	ls, err := s.store.ListLinks(ctx)
	if err != nil {
		return nil, storeErr("list links", err)
	}
	return ls, nil
}

// portalSubject is the subject the portal knows the IdP identity (issuer, subject) by: the
// previous subject of its live link, or the subject itself.
func (s *Service) portalSubject(ctx context.Context, subject string) (string, *SubjectLink, error) {
	l, err := s.store.LiveLink(ctx, s.cfg.Issuer, subject)
	if errors.Is(err, ErrNotFound) {
		return subject, nil, nil
	}
	if err != nil {
		return "", nil, storeErr("read subject link", err)
	}
	return l.PreviousSubject, &l, nil
}
