package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/holds"
)

// Preservation holds: the ANPR manager's routes (admin.holds). The gate authorises; the holds
// service validates, stores and audits each change.

func (s *Server) holdsService(c *gin.Context) (*holds.Service, bool) {
	if s.deps.Holds == nil {
		abortProblem(c, http.StatusServiceUnavailable, CodeUnavailable, "holds are not configured on this server", nil)
		return nil, false
	}
	return s.deps.Holds, true
}

func holdsCaller(c *gin.Context) holds.Caller {
	p, _ := principal(c)
	return holds.Caller{Actor: p.Actor(), ClientAddr: c.ClientIP(), RequestID: requestID(c), Rule: decisionRule(c)}
}

// decisionRule is the policy line the gate recorded for this request.
func decisionRule(c *gin.Context) string {
	d, _ := c.Get(ctxDecision)
	dec, _ := d.(authz.Decision)
	return dec.Rule
}

func (s *Server) listHolds(c *gin.Context) {
	svc, ok := s.holdsService(c)
	if !ok {
		return
	}
	hs, err := svc.List(c.Request.Context())
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, gin.H{"holds": hs})
}

func (s *Server) createHold(c *gin.Context) {
	svc, ok := s.holdsService(c)
	if !ok {
		return
	}
	var req holds.CreateRequest
	if err := decodeJSON(c, &req); err != nil {
		abortError(c, err, nil)
		return
	}
	h, err := svc.Create(c.Request.Context(), holdsCaller(c), req)
	renderHold(c, svc, h, err, http.StatusCreated)
}

type releaseBody struct {
	Reason string `json:"reason"`
}

func (s *Server) releaseHold(c *gin.Context) {
	svc, ok := s.holdsService(c)
	if !ok {
		return
	}
	var b releaseBody
	if err := decodeJSON(c, &b); err != nil {
		abortError(c, err, nil)
		return
	}
	h, err := svc.Release(c.Request.Context(), holdsCaller(c), c.Param("id"), b.Reason)
	renderHold(c, svc, h, err, http.StatusOK)
}

// renderHold answers a change to a hold (err is the change's) with the hold as a list shows it,
// read back through the service so the answer carries what Get adds to the stored hold.
func renderHold(c *gin.Context, svc *holds.Service, h holds.Hold, err error, status int) {
	if err != nil {
		abortError(c, err, nil)
		return
	}
	v, err := svc.Get(c.Request.Context(), h.ID)
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(status, v)
}
