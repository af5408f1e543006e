package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/retention"
)

// Retention runs: the ANPR manager starts one now or lists past ones (admin.retention). The
// scheduled job inside serve and `anpr retention run` use the same service.

func (s *Server) retentionService(c *gin.Context) (*retention.Service, bool) {
	if s.deps.Retention == nil {
		abortProblem(c, http.StatusServiceUnavailable, CodeUnavailable, "retention is not configured on this server", nil)
		return nil, false
	}
	return s.deps.Retention, true
}

func (s *Server) runRetention(c *gin.Context) {
	svc, ok := s.retentionService(c)
	if !ok {
		return
	}
	p, _ := principal(c)
	caller := retention.Caller{Actor: p.Actor(), ClientAddr: c.ClientIP(), RequestID: requestID(c), Rule: decisionRule(c)}
	run, err := svc.Run(c.Request.Context(), caller, retention.TriggerAPI)
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, run)
}

// maxRunsListed bounds one listing of runs.
const maxRunsListed = 1000

func (s *Server) listRetentionRuns(c *gin.Context) {
	svc, ok := s.retentionService(c)
	if !ok {
		return
	}
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxRunsListed {
			abortProblem(c, http.StatusBadRequest, CodeBadRequest, "limit must be 1..1000", nil)
			return
		}
		limit = n
	}
	runs, err := svc.Runs(c.Request.Context(), limit)
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, gin.H{"runs": runs})
}
