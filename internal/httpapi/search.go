package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/search"
)

// Search routes are registered as Authenticated (sign-in and CSRF only) rather than
// Requires(action): the decision needs the data-age band of the window in the body, and the
// search service makes it itself (and audits a refusal with its rule) so that no caller of the
// service, HTTP or not, can reach reads without one. Deciding in the gate as well would decide
// twice and audit twice.

// searchBody is the JSON body of POST /api/v1/searches/{exact,partial,misread,area}.
type searchBody struct {
	VRM     string       `json:"vrm"`
	Pattern string       `json:"pattern"`
	From    time.Time    `json:"from"`
	To      time.Time    `json:"to"`
	Cameras []string     `json:"cameras"`
	Area    *geo.Area    `json:"area"`
	Limit   int          `json:"limit"`
	Cursor  string       `json:"cursor"`
	Reason  authz.Reason `json:"reason"`
	// AuthorityID presents a prior authority.
	AuthorityID string `json:"authority_id"`
}

// journeyBody is the JSON body of POST /api/v1/searches/journey: no paging, the journey comes
// whole (up to the configured cap).
type journeyBody struct {
	VRM     string       `json:"vrm"`
	From    time.Time    `json:"from"`
	To      time.Time    `json:"to"`
	Cameras []string     `json:"cameras"`
	Area    *geo.Area    `json:"area"`
	Reason  authz.Reason `json:"reason"`
	// AuthorityID presents a prior authority.
	AuthorityID string `json:"authority_id"`
}

// caller is the principal as the search service sees it.
func caller(c *gin.Context) search.Caller {
	p, _ := principal(c)
	return search.Caller{
		Subject: p.Subject, Name: p.Name, Roles: p.Roles, Rank: p.Rank, Session: p.SessionID,
		ClientAddr: c.ClientIP(), RequestID: requestID(c),
	}
}

// searchError renders a search failure; a refusal carries the deciding rule, a rejected reason
// the list of what to fix.
func searchError(c *gin.Context, err error) {
	var denied *search.DeniedError
	var reason *authz.ReasonError
	switch {
	case errors.As(err, &denied):
		abortError(c, err, gin.H{"rule": denied.Rule})
	case errors.As(err, &reason):
		abortError(c, err, gin.H{"problems": reason.Problems})
	default:
		abortError(c, err, nil)
	}
}

func (s *Server) searchService(c *gin.Context) (*search.Service, bool) {
	if s.deps.Search == nil {
		abortProblem(c, http.StatusServiceUnavailable, CodeUnavailable, "search is not configured on this server", nil)
		return nil, false
	}
	return s.deps.Search, true
}

// searchHandler serves one of the paged search types.
func (s *Server) searchHandler(t search.Type) gin.HandlerFunc {
	return func(c *gin.Context) {
		svc, ok := s.searchService(c)
		if !ok {
			return
		}
		var b searchBody
		if err := decodeJSON(c, &b); err != nil {
			searchError(c, err)
			return
		}
		res, err := svc.Search(c.Request.Context(), caller(c), t, search.Request{
			VRM: b.VRM, Pattern: b.Pattern, From: b.From, To: b.To, Cameras: b.Cameras, Area: b.Area,
			Limit: b.Limit, Cursor: b.Cursor, Reason: b.Reason, AuthorityID: b.AuthorityID,
		})
		if err != nil {
			searchError(c, err)
			return
		}
		c.JSON(http.StatusOK, res)
	}
}

func (s *Server) searchJourney(c *gin.Context) {
	svc, ok := s.searchService(c)
	if !ok {
		return
	}
	var b journeyBody
	if err := decodeJSON(c, &b); err != nil {
		searchError(c, err)
		return
	}
	j, err := svc.Journey(c.Request.Context(), caller(c), b.request())
	if err != nil {
		searchError(c, err)
		return
	}
	c.JSON(http.StatusOK, j)
}

// readRecord is GET /api/v1/reads/:id?reason_token=.
func (s *Server) readRecord(c *gin.Context) {
	svc, ok := s.searchService(c)
	if !ok {
		return
	}
	reason, err := s.tokenReason(c)
	if err != nil {
		abortError(c, err, nil)
		return
	}
	rd, err := svc.Read(c.Request.Context(), caller(c), c.Param("id"), reason)
	if err != nil {
		searchError(c, err)
		return
	}
	c.JSON(http.StatusOK, rd)
}
