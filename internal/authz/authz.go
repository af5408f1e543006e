// Package authz decides whether a user may do something to ANPR data: the Casbin policy (role x
// action x data-age band x purpose class x authority), the data-age bands, structured reason
// validation and the few rules about people rather than roles (rank, no self-grant or
// self-approval). Every decision names the policy line or rule that decided it, for the audit log.
//
// Callers see only this package's types; Casbin stays an implementation detail.
package authz

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Subject is who is asking.
type Subject struct {
	ID    string
	Roles []Role
	// Rank matters only for approving authorities (Config.MinApproverRank).
	Rank Rank
}

// Request is one thing a subject wants to do.
type Request struct {
	Subject Subject
	Action  Action
	// Band is BandOf(start of the window or age of the record) for dated actions (see
	// ActionInfo.Dated) and BandNone ("" means BandNone) otherwise.
	Band Band
	// Reason is required by the policy for every dated action; when set it is validated in full.
	Reason Reason
	// Authority says whether an authority, already checked against its scope by the authority
	// service, is presented ("" means AuthorityNone).
	Authority AuthorityState
	// Target is the subject the action is about: the grantee for AdminGrants, the requester for
	// AuthorityApprove (both required), the person whose events are read for AuditRead and
	// AuditExport (optional).
	Target string
}

// Decision is the outcome, with what decided it.
type Decision struct {
	Allowed bool
	// Role is the role whose policy line allowed the request ("" when refused).
	Role Role
	// Rule is the policy line that decided ("policy.csv:31: p, investigator, ..."), a named rule
	// outside Casbin ("rule:separation-of-duties: ..."), or "default-deny: no policy line allows
	// ...". It is written to the audit event.
	Rule string
	// Reason explains the decision to a person, including what would make a refusal an allow.
	Reason string
}

// Authorizer makes decisions. It is safe for concurrent use and never changes after New.
type Authorizer struct {
	cfg Config
	now func() time.Time
	eng *engine
}

// New checks cfg (filling defaults), loads the policy strictly and returns an Authorizer that
// reads time from now.
func New(cfg Config, pol Policy, now func() time.Time) (*Authorizer, error) {
	if now == nil {
		return nil, fmt.Errorf("%w: authz needs a clock", ErrInvalid)
	}
	if err := cfg.CheckAndSetDefaults(); err != nil {
		return nil, fmt.Errorf("authz config: %w", err)
	}
	eng, err := newEngine(pol)
	if err != nil {
		return nil, fmt.Errorf("authz policy: %w", err)
	}
	return &Authorizer{cfg: cfg, now: now, eng: eng}, nil
}

// BandOf returns the band of a window starting at windowStart, judged now.
func (a *Authorizer) BandOf(windowStart time.Time) Band {
	return BandOf(windowStart, a.now(), a.cfg.Bands)
}

// Bands returns the configured band boundaries.
func (a *Authorizer) Bands() Bands { return a.cfg.Bands }

// RankAtLeast reports whether r is a rank of the configured order and not below min.
func (a *Authorizer) RankAtLeast(r, min Rank) bool {
	l := rankLevel(a.cfg.Ranks, r)
	return l >= 0 && l >= rankLevel(a.cfg.Ranks, min)
}

// ReasonRules returns the configured reason rules (for listing purposes in the UI).
func (a *Authorizer) ReasonRules() *ReasonRules { return &a.cfg.Reasons }

// ValidateReason checks a reason; see ReasonRules.Validate.
func (a *Authorizer) ValidateReason(r Reason) error { return a.cfg.Reasons.Validate(r) }

// The rules outside Casbin, as they appear in Decision.Rule.
const (
	RuleSeparation  = "rule:separation-of-duties"
	RuleApproverRnk = "rule:min-approver-rank"
	RuleSelfAudit   = "rule:self-audit"
	RuleInvalid     = "invalid-request"
	RuleDefaultDeny = "default-deny"
)

// Decide authorises req. A non-nil error (wrapping ErrInvalid, or a *ReasonError) means the
// request itself is malformed; the Decision is then a refusal that can still be audited. Otherwise
// the Decision says allowed or refused, and why.
//
// A subject with several roles is allowed if any role is; the first allowing role (in the order
// of Roles()) is reported. Unknown roles are ignored, never an error, because they may come from
// an IdP claim this portal does not use.
func (a *Authorizer) Decide(req Request) (Decision, error) {
	band, class, auth, err := a.normalise(&req)
	if err != nil {
		return Decision{Rule: RuleInvalid + ": " + err.Error(), Reason: err.Error()}, err
	}
	roles := knownRoles(req.Subject.Roles)
	for _, role := range roles {
		v, err := a.eng.enforce(casbinRequest{role, req.Action, band, class, auth})
		if err != nil {
			return Decision{Rule: RuleInvalid + ": " + err.Error(), Reason: "the policy could not be evaluated"}, fmt.Errorf("authorise %s: %w", req.Action, err)
		}
		if v.allowed {
			d := Decision{
				Allowed: true,
				Role:    role,
				Rule:    fmt.Sprintf("%s:%d: %s", a.eng.name, v.line.no, v.line.text),
				Reason:  fmt.Sprintf("%s may %s on %s with purpose class %s and authority %s", role, req.Action, a.bandText(band), class, auth),
			}
			return a.personRules(req, class, d), nil
		}
	}
	return a.refusal(req, roles, band, class, auth), nil
}

func (a *Authorizer) normalise(req *Request) (Band, PurposeClass, AuthorityState, error) {
	info, ok := req.Action.Info()
	if !ok {
		return "", "", "", fmt.Errorf("%w: unknown action %q", ErrInvalid, req.Action)
	}
	if req.Subject.ID == "" {
		return "", "", "", fmt.Errorf("%w: subject has no id", ErrInvalid)
	}
	band := req.Band
	if band == "" {
		band = BandNone
	}
	if !band.known() {
		return "", "", "", fmt.Errorf("%w: unknown band %q", ErrInvalid, req.Band)
	}
	auth := req.Authority
	if auth == "" {
		auth = AuthorityNone
	}
	if !auth.known() {
		return "", "", "", fmt.Errorf("%w: unknown authority state %q", ErrInvalid, req.Authority)
	}
	if (info.Action == AdminGrants || info.Action == AuthorityApprove) && req.Target == "" {
		return "", "", "", fmt.Errorf("%w: %s needs the target subject (grantee or requester)", ErrInvalid, info.Action)
	}
	class := ClassNone
	if !req.Reason.IsZero() {
		if err := a.cfg.Reasons.Validate(req.Reason); err != nil {
			return "", "", "", err
		}
		p, _ := a.cfg.Reasons.Purpose(strings.TrimSpace(req.Reason.Purpose))
		class = p.Class
	}
	return band, class, auth, nil
}

// personRules apply after Casbin allowed: they concern the person, not the role.
func (a *Authorizer) personRules(req Request, class PurposeClass, d Decision) Decision {
	refuse := func(rule, why string) Decision {
		return Decision{Rule: rule + ": " + why + " (policy alone would allow: " + d.Rule + ")", Reason: why}
	}
	self := req.Target != "" && req.Target == req.Subject.ID
	switch req.Action {
	case AdminGrants:
		if self {
			return refuse(RuleSeparation, "nobody may change their own roles; another ANPR manager must make the grant")
		}
	case AuthorityApprove:
		if self {
			return refuse(RuleSeparation, "nobody may approve their own authority request")
		}
		if !a.RankAtLeast(req.Subject.Rank, a.cfg.MinApproverRank) {
			rank := string(req.Subject.Rank)
			if rank == "" {
				rank = "no recorded rank"
			}
			return refuse(RuleApproverRnk, fmt.Sprintf("approving an authority needs rank %s or above; you have %s", a.cfg.MinApproverRank, rank))
		}
	case AuditRead, AuditExport:
		if self && class != ClassOversight {
			return refuse(RuleSelfAudit, "reading audit events about yourself needs a recorded oversight reason (for example purpose audit_review)")
		}
	}
	return d
}

// knownRoles keeps known roles once each, in the order of Roles(), so decisions do not depend on
// the order an IdP lists claims in.
func knownRoles(in []Role) []Role {
	var out []Role
	for _, r := range Roles() {
		if slices.Contains(in, r) {
			out = append(out, r)
		}
	}
	return out
}
