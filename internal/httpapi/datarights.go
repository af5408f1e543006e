package httpapi

import (
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/datarights"
)

// Data rights: correcting and erasing reads, and subject access reports. Each needs its policy
// action with an oversight reason (data_protection), which the gate reads from the body and
// checks in full before the handler runs; a refusal is audited there.

type correctBody struct {
	VRM    string       `json:"vrm"`
	Reason authz.Reason `json:"reason"`
}

type eraseBody struct {
	Reason authz.Reason `json:"reason"`
}

type subjectAccessBody struct {
	VRM    string       `json:"vrm"`
	From   time.Time    `json:"from"`
	To     time.Time    `json:"to"`
	Reason authz.Reason `json:"reason"`
}

func (b correctBody) reason() authz.Reason       { return b.Reason }
func (b eraseBody) reason() authz.Reason         { return b.Reason }
func (b subjectAccessBody) reason() authz.Reason { return b.Reason }

// wellFormed is a permission target that only checks the body decodes, so a malformed body is a
// 400 before the policy sees an empty reason (which it would refuse as a 403).
func wellFormed[T any](c *gin.Context) (string, error) {
	var b T
	return "", decodeJSON(c, &b)
}

// bodyReason reads the structured reason from a body wellFormed has checked.
func bodyReason[T interface{ reason() authz.Reason }](c *gin.Context) (authz.Reason, error) {
	var b T
	_ = decodeJSON(c, &b)
	return b.reason(), nil
}

// dataPermission is the permission of a data rights route: the action, with the reason in body T.
func dataPermission[T interface{ reason() authz.Reason }](a authz.Action) Permission {
	return Requires(a).About(wellFormed[T]).WithReason(bodyReason[T])
}

func (s *Server) dataRights(c *gin.Context) (*datarights.Service, datarights.Caller, bool) {
	if s.deps.DataRights == nil {
		abortProblem(c, http.StatusServiceUnavailable, CodeUnavailable, "data rights are not configured on this server", nil)
		return nil, datarights.Caller{}, false
	}
	p, _ := principal(c)
	return s.deps.DataRights, datarights.Caller{Actor: p.Actor(), ClientAddr: c.ClientIP(), RequestID: requestID(c), Rule: decisionRule(c)}, true
}

func (s *Server) normalisedReason(r authz.Reason) authz.Reason {
	return s.deps.Authz.ReasonRules().Normalize(r)
}

func (s *Server) correctRead(c *gin.Context) {
	svc, caller, ok := s.dataRights(c)
	if !ok {
		return
	}
	var b correctBody
	if err := decodeJSON(c, &b); err != nil {
		abortError(c, err, nil)
		return
	}
	out, err := svc.Correct(c.Request.Context(), caller, c.Param("id"), b.VRM, s.normalisedReason(b.Reason))
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) eraseRead(c *gin.Context) {
	svc, caller, ok := s.dataRights(c)
	if !ok {
		return
	}
	var b eraseBody
	if err := decodeJSON(c, &b); err != nil {
		abortError(c, err, nil)
		return
	}
	out, err := svc.Erase(c.Request.Context(), caller, c.Param("id"), s.normalisedReason(b.Reason))
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, out)
}

// subjectAccess sends the report through sendSpooled: only once its outcome event, with the
// file's digest, is durable.
func (s *Server) subjectAccess(c *gin.Context) {
	svc, caller, ok := s.dataRights(c)
	if !ok {
		return
	}
	var b subjectAccessBody
	if err := decodeJSON(c, &b); err != nil {
		abortError(c, err, nil)
		return
	}
	req := datarights.SubjectAccessRequest{VRM: b.VRM, From: b.From, To: b.To, Reason: s.normalisedReason(b.Reason)}
	sendSpooled(c, "subject-access-"+requestID(c)+".csv", "text/csv", func(w io.Writer) (audit.Digest, error) {
		_, digest, err := svc.SubjectAccess(c.Request.Context(), caller, req, w)
		return digest, err
	}, func(c *gin.Context, err error) { abortError(c, err, nil) })
}
