package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
)

// actorTarget lets the policy see when a reviewer reads events about themselves.
func actorTarget(c *gin.Context) (string, error) {
	if s := c.Param("subject"); s != "" {
		return s, nil
	}
	return c.Query("actor"), nil
}

// reviewRequest is the base of the audit event that records this read of the audit.
func (s *Server) reviewRequest(c *gin.Context) (audit.ReviewRequest, error) {
	p, _ := principal(c)
	r, _ := c.MustGet(ctxReason).(authz.Reason) // read from the reason token by the gate
	if r.IsZero() {
		return audit.ReviewRequest{}, fmt.Errorf("%w: reading the audit log needs a reason: mint a reason token (POST /api/v1/reason-tokens) and send it as %s", authz.ErrInvalid, reasonTokenParam)
	}
	d, _ := c.Get(ctxDecision)
	dec, _ := d.(authz.Decision)
	r = s.deps.Authz.ReasonRules().Normalize(r)
	return audit.ReviewRequest{
		Event: audit.Event{
			Actor: p.Actor(), ClientAddr: c.ClientIP(), RequestID: requestID(c),
			Decision: audit.EffectAllow, Rule: dec.Rule,
			Reason: audit.Reason{Purpose: r.Purpose, CaseRef: r.CaseRef, OffenceCode: r.OffenceCode},
		},
		Justification: r.Justification,
	}, nil
}

// auditFilter builds a filter from query parameters; every malformed value is an error.
func auditFilter(c *gin.Context) (audit.Filter, error) {
	f := audit.Filter{
		Actor: c.Query("actor"), Action: audit.Action(c.Query("action")), Decision: audit.Effect(c.Query("decision")),
		VRM: c.Query("vrm"), Purpose: c.Query("purpose_filter"), CaseRef: c.Query("case_ref_filter"),
		AuthorityID: c.Query("authority_id"), RequestID: c.Query("request_id"), Cursor: c.Query("cursor"),
		Newest: c.Query("order") == "newest",
	}
	var errs []error
	parseTime := func(name string, dst *time.Time) {
		if v := c.Query(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not an RFC 3339 time", name, v))
			}
			*dst = t
		}
	}
	parseTime("since", &f.Since)
	parseTime("until", &f.Until)
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > audit.MaxPageSize {
			errs = append(errs, fmt.Errorf("limit must be 1..%d", audit.MaxPageSize))
		}
		f.Limit = n
	}
	if err := errors.Join(errs...); err != nil {
		return f, fmt.Errorf("%w: %w", audit.ErrInvalid, err)
	}
	return f, nil
}

func (s *Server) auditEvents(c *gin.Context) {
	s.review(c, func(req audit.ReviewRequest, f audit.Filter) (any, error) {
		return s.deps.Reviewer.Query(c.Request.Context(), req, f)
	})
}

func (s *Server) auditTimeline(c *gin.Context) {
	s.review(c, func(req audit.ReviewRequest, f audit.Filter) (any, error) {
		f.Newest = true
		return s.deps.Reviewer.Timeline(c.Request.Context(), req, c.Param("subject"), f)
	})
}

func (s *Server) auditSample(c *gin.Context) {
	n, err := strconv.Atoi(c.DefaultQuery("n", "20"))
	if err != nil || n < 1 || n > 500 {
		abortProblem(c, http.StatusBadRequest, CodeBadRequest, "n must be 1..500", nil)
		return
	}
	seed, err := strconv.ParseUint(c.DefaultQuery("seed", strconv.FormatInt(time.Now().UnixNano(), 10)), 10, 64)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, CodeBadRequest, "seed must be a whole number", nil)
		return
	}
	s.review(c, func(req audit.ReviewRequest, f audit.Filter) (any, error) {
		recs, err := s.deps.Reviewer.Sample(c.Request.Context(), req, f, n, seed)
		return gin.H{"seed": seed, "records": recs}, err
	})
}

func (s *Server) auditAnomalies(c *gin.Context) {
	s.review(c, func(req audit.ReviewRequest, f audit.Filter) (any, error) {
		until := f.Until
		if until.IsZero() {
			until = time.Now()
		}
		since := f.Since
		if since.IsZero() {
			since = until.AddDate(0, 0, -7)
		}
		an, err := s.deps.Reviewer.Anomalies(c.Request.Context(), req, since, until, audit.AnomalyOptions{})
		return gin.H{"since": since, "until": until, "anomalies": an}, err
	})
}

func (s *Server) review(c *gin.Context, run func(audit.ReviewRequest, audit.Filter) (any, error)) {
	req, f, ok := s.reviewArgs(c)
	if !ok {
		return
	}
	out, err := run(req, f)
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, out)
}

// reviewArgs reads the auditor's recorded reason and the event filter every review call takes;
// on a bad one it renders the problem and returns false.
func (s *Server) reviewArgs(c *gin.Context) (audit.ReviewRequest, audit.Filter, bool) {
	req, err := s.reviewRequest(c)
	if err != nil {
		abortError(c, err, nil)
		return audit.ReviewRequest{}, audit.Filter{}, false
	}
	f, err := auditFilter(c)
	if err != nil {
		abortError(c, err, nil)
		return audit.ReviewRequest{}, audit.Filter{}, false
	}
	return req, f, true
}

// auditExport spools the export to a temporary file and sends it only after the outcome event
// (with the file's digest) is durable: no audit data leaves before its own read is recorded.
func (s *Server) auditExport(c *gin.Context) {
	format := audit.ExportFormat(c.DefaultQuery("format", "csv"))
	if format != audit.ExportCSV && format != audit.ExportNDJSON {
		abortProblem(c, http.StatusBadRequest, CodeBadRequest, "format must be csv or ndjson", nil)
		return
	}
	req, f, ok := s.reviewArgs(c)
	if !ok {
		return
	}
	ct := map[audit.ExportFormat]string{audit.ExportCSV: "text/csv", audit.ExportNDJSON: "application/x-ndjson"}[format]
	sendSpooled(c, "audit-export."+string(format), ct, func(w io.Writer) (audit.Digest, error) {
		return s.deps.Reviewer.Export(c.Request.Context(), req, f, format, w)
	}, func(c *gin.Context, err error) { abortError(c, err, nil) })
}

// auditCheckpoint is the newest signed checkpoint, for auditors checking the log's state.
func (s *Server) auditCheckpoint(c *gin.Context) {
	cp, err := s.deps.Audit.LatestCheckpoint(c.Request.Context())
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, cp)
}

// publicKeys publishes the checkpoint verifier keys (newest last), so anyone can check a
// checkpoint or an inclusion proof.
func (s *Server) publicKeys(c *gin.Context) {
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(s.deps.AuditKeys))
}

// transparency is the public aggregate: counts only, computed from events under the newest
// signed checkpoint, which it carries.
func (s *Server) transparency(c *gin.Context) {
	rep, err := s.deps.Transparency.Update(c.Request.Context(), s.deps.Audit, s.deps.Audit)
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, rep)
}
