package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/identity"
)

// Permission is what a route requires. Every route declares one when it is registered (handle),
// so no handler can be reached without a decision, and a test walks the route table to prove it.
type Permission struct {
	kind   permKind
	action authz.Action
	// target names who or what the action is about (the grantee of a grant), for rules such as
	// "nobody grants themselves a role"; nil when the action has no target.
	target func(c *gin.Context) (string, error)
	// reason reads the structured reason the caller gives, for actions that need one; an error
	// is a malformed request (refused, audited).
	reason func(c *gin.Context) (authz.Reason, error)
}

type permKind int

const (
	permPublic permKind = iota + 1
	permAuthenticated
	permAction
	permService
)

// Public routes need nothing: health, metrics, login, the transparency report, the public key.
var Public = Permission{kind: permPublic}

// Authenticated routes need a signed-in caller and nothing more (who am I, log out).
var Authenticated = Permission{kind: permAuthenticated}

// Requires is a route that the policy must allow for the caller.
func Requires(a authz.Action) Permission { return Permission{kind: permAction, action: a} }

// DecidedBy marks a route whose policy decision depends on the request itself (a search's data-age
// band comes from the window in its body): the gate authenticates and checks CSRF, and the service
// behind the route makes the decision, audits it and refuses. Deciding in both places would decide
// and audit twice, and a caller that is not HTTP would have no check at all.
func DecidedBy(a authz.Action) Permission { return Permission{kind: permService, action: a} }

// About sets how the route finds the target of the action.
func (p Permission) About(f func(c *gin.Context) (string, error)) Permission {
	p.target = f
	return p
}

// WithReason sets how the route reads the caller's structured reason.
func (p Permission) WithReason(f func(c *gin.Context) (authz.Reason, error)) Permission {
	p.reason = f
	return p
}

// String names the permission for the route-table test and the OpenAPI document.
func (p Permission) String() string {
	switch p.kind {
	case permPublic:
		return "public"
	case permAuthenticated:
		return "authenticated"
	case permAction:
		return string(p.action)
	case permService:
		return "decided-by-service:" + string(p.action)
	}
	return "none"
}

const ctxPrincipal = "anpr.principal"

func principal(c *gin.Context) (identity.Principal, bool) {
	v, ok := c.Get(ctxPrincipal)
	if !ok {
		return identity.Principal{}, false
	}
	return v.(identity.Principal), true
}

// authenticate identifies the caller from the session cookie, else from a bearer credential
// (API key or IdP access token). A bad credential is refused here; no credential leaves the
// request anonymous for the gate to judge.
func (s *Server) authenticate(c *gin.Context) {
	ctx := c.Request.Context()
	if cookie := s.deps.Identity.SessionCookieValue(c.Request); cookie != "" {
		p, err := s.deps.Identity.Authenticate(ctx, cookie)
		if err == nil {
			c.Set(ctxPrincipal, p)
			c.Next()
			return
		}
		if !errors.Is(err, identity.ErrUnauthenticated) {
			abortError(c, err, nil)
			return
		}
		// An expired, revoked, forged or tampered session: recorded, then cleared so the browser
		// stops sending it, and the request carries on as anonymous (a public route still works;
		// others answer 401).
		if !s.auditRejectedCredential(c, "session", err) {
			return
		}
		http.SetCookie(c.Writer, s.deps.Identity.ClearSessionCookie())
	}
	if cred := identity.BearerCredential(c.Request); cred != "" {
		p, err := s.deps.Identity.AuthenticateBearer(ctx, cred)
		if err != nil {
			logger(c).Warn("rejected bearer credential", "client", c.ClientIP(), "err", err)
			if !s.auditRejectedCredential(c, "bearer", err) {
				return
			}
			c.Header("WWW-Authenticate", `Bearer realm="anpr", error="invalid_token"`)
			abortError(c, err, nil)
			return
		}
		c.Set(ctxPrincipal, p)
	}
	c.Next()
}

// gate enforces a route's permission: authentication, CSRF on state-changing requests from
// browsers, and the policy decision. Every refusal of a known caller is an audit event naming the
// rule that decided; if that event cannot be written the caller gets 503, never the route.
func (s *Server) gate(perm Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		if perm.kind == permPublic {
			c.Next()
			return
		}
		p, ok := principal(c)
		if !ok {
			c.Header("WWW-Authenticate", `Bearer realm="anpr"`)
			abortProblem(c, http.StatusUnauthorized, CodeUnauthenticated, "sign in, or present an API key (Authorization: Bearer KEY)", nil)
			return
		}
		if m := c.Request.Method; m != http.MethodGet && m != http.MethodHead && m != http.MethodOptions {
			if err := s.deps.Identity.CheckCSRF(p, c.GetHeader(identity.CSRFHeader)); err != nil {
				s.refuse(c, p, perm, "rule:csrf: "+err.Error(), err.Error())
				return
			}
		}
		if perm.kind == permAuthenticated {
			c.Next()
			return
		}
		// From here the route does something audited: a refusal of the request's form is
		// recorded too (invalid.go), once.
		ctx, _ := withDenialFlag(c.Request.Context())
		c.Request = c.Request.WithContext(ctx)
		c.Set(ctxServer, s)
		c.Set(ctxPerm, perm)
		if perm.kind == permService {
			c.Next()
			return
		}
		req := authz.Request{Subject: subjectOf(p), Action: perm.action}
		if perm.target != nil {
			t, err := perm.target(c)
			if err != nil {
				abortProblem(c, http.StatusBadRequest, CodeBadRequest, err.Error(), nil)
				return
			}
			req.Target = t
		}
		if perm.reason != nil {
			r, err := perm.reason(c)
			if err != nil {
				s.refuse(c, p, perm, authz.RuleInvalid+": "+err.Error(), err.Error())
				return
			}
			req.Reason = r
			c.Set(ctxReason, r)
		}
		d, err := s.deps.Authz.Decide(req)
		if err != nil {
			if errors.Is(err, authz.ErrInvalid) {
				s.refuse(c, p, perm, d.Rule, err.Error())
				return
			}
			abortError(c, err, nil)
			return
		}
		if !d.Allowed {
			s.refuse(c, p, perm, d.Rule, d.Reason)
			return
		}
		c.Set(ctxDecision, d)
		c.Next()
	}
}

const (
	ctxDecision = "anpr.decision"
	ctxReason   = "anpr.reason" // the reason the gate decided with
)

// auditWriteTimeout bounds how long a request waits for its audit event before failing closed.
const auditWriteTimeout = 10 * time.Second

// ActionAuthenticate records a credential the portal refused: a forged, tampered, expired or
// revoked session cookie or API key, or a login callback that failed its checks.
const ActionAuthenticate audit.Action = "authenticate"

// auditRejectedCredential records a refused credential. The caller is unknown, so the event
// carries only the client address, the kind of credential and why; never the credential itself.
// It reports false (and has answered 503) when the event could not be written: fail closed.
func (s *Server) auditRejectedCredential(c *gin.Context, kind string, why error) bool {
	return s.auditDenial(c, audit.Actor{Subject: "anonymous"}, ActionAuthenticate, "authn:"+kind+": "+why.Error(), audit.Payload{})
}

// auditDenial durably records a refusal before it is answered. The request's own cancellation
// does not stop the write (a client hanging up must not erase its refusal); a bound does. On
// failure it has answered 503 and reports false: fail closed.
func (s *Server) auditDenial(c *gin.Context, actor audit.Actor, action audit.Action, rule string, p audit.Payload) bool {
	ev := audit.Event{
		Actor: actor, ClientAddr: c.ClientIP(), RequestID: requestID(c),
		Action: action, Decision: audit.EffectDeny, Rule: rule,
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), auditWriteTimeout)
	defer cancel()
	if _, err := s.deps.Audit.Append(ctx, ev, p); err != nil {
		abortError(c, err, nil)
		return false
	}
	markDenied(c.Request.Context())
	return true
}

func subjectOf(p identity.Principal) authz.Subject {
	sub := authz.Subject{ID: p.Subject}
	for _, r := range p.Roles {
		if role, err := authz.ParseRole(r); err == nil {
			sub.Roles = append(sub.Roles, role)
		}
	}
	if rank, err := authz.ParseRank(p.Rank); err == nil {
		sub.Rank = rank
	}
	return sub
}

// refuse records the denial and answers 403 (400 for a malformed reason). The audit event is
// durable before the answer goes out.
func (s *Server) refuse(c *gin.Context, p identity.Principal, perm Permission, rule, why string) {
	if !s.auditDenial(c, p.Actor(), audit.Action(perm.String()), rule, audit.Payload{Query: c.Request.Method + " " + c.FullPath()}) {
		return
	}
	status, code := http.StatusForbidden, CodeForbidden
	if strings.HasPrefix(rule, authz.RuleInvalid) {
		status, code = http.StatusBadRequest, CodeBadRequest
	}
	abortProblem(c, status, code, why, gin.H{"rule": rule})
}
