package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
)

// Authority routes are DecidedBy their action: whether a request may be filed depends on the band
// of the window in its body, and whether an officer may decide one depends on that request's band,
// purpose and requester, so the authority service decides (and audits a refusal) itself.

// authorityScopeBody is the scope a client sends: the authority's Scope without the camera set an
// area resolves to, which only the server works out.
type authorityScopeBody struct {
	VRMs        []string  `json:"vrms"`
	Cameras     []string  `json:"cameras"`
	Area        *geo.Area `json:"area"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	SearchTypes []string  `json:"search_types"`
}

func (b *authorityScopeBody) scope() *authority.Scope {
	if b == nil {
		return nil
	}
	return &authority.Scope{VRMs: b.VRMs, Cameras: b.Cameras, Area: b.Area, From: b.From, To: b.To, SearchTypes: b.SearchTypes}
}

type authorityRequestBody struct {
	Reason    authz.Reason       `json:"reason"`
	Scope     authorityScopeBody `json:"scope"`
	ExpiresAt time.Time          `json:"expires_at"`
	MaxUses   int                `json:"max_uses"`
	HoldID    string             `json:"hold_id"`
}

type authorityDecisionBody struct {
	Reason    string              `json:"reason"`
	Scope     *authorityScopeBody `json:"scope"`
	ExpiresAt time.Time           `json:"expires_at"`
	MaxUses   int                 `json:"max_uses"`
}

// authorityError renders a failure of the authority service: its own error kinds here, policy
// refusals and rejected reasons as the search routes render them.
func authorityError(c *gin.Context, err error) {
	var status int
	var code string
	switch {
	case errors.Is(err, authority.ErrInvalid):
		status, code = http.StatusBadRequest, CodeBadRequest
	case errors.Is(err, authority.ErrNotFound):
		status, code = http.StatusNotFound, CodeNotFound
	case errors.Is(err, authority.ErrConflict):
		status, code = http.StatusConflict, CodeConflict
	case errors.Is(err, authority.ErrUnavailable):
		logger(c).Warn("authority store unavailable", "err", err)
		status, code = http.StatusServiceUnavailable, CodeUnavailable
	default:
		searchError(c, err)
		return
	}
	var reason *authz.ReasonError
	var extra any
	if errors.As(err, &reason) {
		extra = gin.H{"problems": reason.Problems}
	}
	abortProblem(c, status, code, err.Error(), extra)
}

func (s *Server) authorityService(c *gin.Context) (*authority.Service, bool) {
	if s.deps.Authority == nil {
		abortProblem(c, http.StatusServiceUnavailable, CodeUnavailable, "prior authorities are not configured on this server", nil)
		return nil, false
	}
	return s.deps.Authority, true
}

func (s *Server) requestAuthority(c *gin.Context) {
	svc, ok := s.authorityService(c)
	if !ok {
		return
	}
	var b authorityRequestBody
	if err := decodeJSON(c, &b); err != nil {
		abortError(c, err, nil)
		return
	}
	v, err := svc.Request(c.Request.Context(), caller(c), authority.Request{
		Reason: b.Reason, Scope: *b.Scope.scope(), ExpiresAt: b.ExpiresAt, MaxUses: b.MaxUses, HoldID: b.HoldID})
	if err != nil {
		authorityError(c, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func (s *Server) myAuthorities(c *gin.Context) {
	svc, ok := s.authorityService(c)
	if !ok {
		return
	}
	vs, err := svc.Mine(c.Request.Context(), caller(c))
	if err != nil {
		authorityError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"authorities": vs})
}

func (s *Server) authorityQueue(c *gin.Context) {
	svc, ok := s.authorityService(c)
	if !ok {
		return
	}
	vs, err := svc.Queue(c.Request.Context(), caller(c))
	if err != nil {
		authorityError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"authorities": vs})
}

func (s *Server) getAuthority(c *gin.Context) {
	svc, ok := s.authorityService(c)
	if !ok {
		return
	}
	v, err := svc.Get(c.Request.Context(), caller(c), c.Param("id"))
	if err != nil {
		authorityError(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// decideAuthority serves approve, reject and revoke, which differ only in the service call.
func (s *Server) decideAuthority(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		svc, ok := s.authorityService(c)
		if !ok {
			return
		}
		var b authorityDecisionBody
		if err := decodeJSON(c, &b); err != nil {
			abortError(c, err, nil)
			return
		}
		if kind != "approve" && (b.Scope != nil || !b.ExpiresAt.IsZero() || b.MaxUses != 0) {
			abortProblem(c, http.StatusBadRequest, CodeBadRequest, "only an approval may narrow scope, expiry or uses; "+kind+" takes a reason only", nil)
			return
		}
		ctx, who, id := c.Request.Context(), caller(c), c.Param("id")
		var v authority.View
		var err error
		switch kind {
		case "approve":
			v, err = svc.Approve(ctx, who, id, authority.Decision{Reason: b.Reason, Scope: b.Scope.scope(), ExpiresAt: b.ExpiresAt, MaxUses: b.MaxUses})
		case "reject":
			v, err = svc.Reject(ctx, who, id, b.Reason)
		default:
			v, err = svc.Revoke(ctx, who, id, b.Reason)
		}
		if err != nil {
			authorityError(c, err)
			return
		}
		c.JSON(http.StatusOK, v)
	}
}

// sseHeartbeat keeps idle event streams alive through proxies that close quiet connections.
const sseHeartbeat = 25 * time.Second

// authorityQueueEvents streams server-sent events: "ready" once the subscription is live, then
// "queue" whenever a request the caller may decide enters or leaves the queue. It ends when the
// client goes away or the server stops (the service closes every subscription).
func (s *Server) authorityQueueEvents(c *gin.Context) {
	svc, ok := s.authorityService(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	changes := svc.WatchQueue(ctx, caller(c))
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	c.Status(http.StatusOK)
	w := c.Writer
	fmt.Fprint(w, "retry: 5000\nevent: ready\ndata: {}\n\n")
	w.Flush()
	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	n := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-beat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			w.Flush()
		case ch, ok := <-changes:
			if !ok {
				return
			}
			data, err := json.Marshal(ch)
			if err != nil {
				return
			}
			n++
			fmt.Fprintf(w, "id: %d\nevent: queue\ndata: %s\n\n", n, data)
			w.Flush()
		}
	}
}
