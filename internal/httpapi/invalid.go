package httpapi

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
)

// A malformed request to a route that does something audited (a search with a bad plate, a
// record view with a bad id or reason token, an auditor's read with a bad filter, a body of the
// wrong type or size) is a refusal like any other: it is recorded before it is answered. Services
// record the refusals they decide themselves; this file records the rest, once per request.

// denialKey marks a request's context with the flag that says a refusal of it is in the log.
type denialKey struct{}

// denialFlag is set once an event refusing the request has been appended.
type denialFlag struct{ atomic.Bool }

func withDenialFlag(ctx context.Context) (context.Context, *denialFlag) {
	f := &denialFlag{}
	return context.WithValue(ctx, denialKey{}, f), f
}

func markDenied(ctx context.Context) {
	if f, ok := ctx.Value(denialKey{}).(*denialFlag); ok {
		f.Store(true)
	}
}

func deniedAlready(ctx context.Context) bool {
	f, ok := ctx.Value(denialKey{}).(*denialFlag)
	return ok && f.Load()
}

// TrackDenials wraps the audit log that the services behind the routes write to, so that a
// refusal a service recorded is not recorded again by the HTTP layer. Wire every service's
// appender through it.
func TrackDenials(a audit.Appender) audit.Appender { return denialTracker{a} }

type denialTracker struct{ next audit.Appender }

func (t denialTracker) Append(ctx context.Context, e audit.Event, p audit.Payload) (audit.Event, error) {
	out, err := t.next.Append(ctx, e, p)
	if err == nil && e.Decision == audit.EffectDeny {
		markDenied(ctx)
	}
	return out, err
}

const (
	ctxServer = "anpr.server"
	ctxPerm   = "anpr.permission"
)

// invalidStatuses are the answers that refuse a request for its form.
func invalidStatus(status int) bool {
	return status == http.StatusBadRequest || status == http.StatusRequestEntityTooLarge || status == http.StatusUnsupportedMediaType
}

// auditInvalid records a malformed request to an audited route unless a refusal of it is already
// recorded. It reports false when the record could not be written: it has then answered 503.
func (s *Server) auditInvalid(c *gin.Context, perm Permission, status int, code, detail string) bool {
	if deniedAlready(c.Request.Context()) {
		return true
	}
	p, ok := principal(c)
	if !ok {
		return true // anonymous callers are refused (401) before any route reads their request
	}
	what := audit.Payload{Query: c.Request.Method + " " + c.FullPath() + ": " + detail}
	rule := authz.RuleInvalid + ": " + code + " (" + http.StatusText(status) + ")"
	return s.auditDenial(c, p.Actor(), audit.Action(perm.action), rule, what)
}

// invalidHook runs from abortProblem: for a form refusal on an audited route, record it first.
func invalidHook(c *gin.Context, status int, code, detail string) bool {
	if !invalidStatus(status) {
		return true
	}
	v, ok := c.Get(ctxPerm)
	if !ok {
		return true
	}
	perm := v.(Permission)
	srv, ok := c.Get(ctxServer)
	if !ok {
		return true
	}
	return srv.(*Server).auditInvalid(c, perm, status, code, detail)
}
