package httpapi

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/reasontoken"
)

// Reasons never travel in URLs. A GET that needs one (a record view, an image view, an auditor's
// read) names a reason token instead: the caller POSTs the reason to /api/v1/reason-tokens and
// gets back an opaque, short-lived token sealed to them and their session (package reasontoken),
// which the GET carries as ?reason_token=. The decision and the audit event of the GET use the
// reason inside; minting decides nothing and shows nothing, so it is not itself audited.

// reasonTokenParam is the query parameter that carries a reason token.
const reasonTokenParam = "reason_token"

// reasonURLParams are the names under which reasons used to travel in query strings. A request
// that still sends them is refused, so a stale client cannot leak a justification into a log by
// mistake and have it silently ignored.
var reasonURLParams = []string{"purpose", "case_ref", "offence_code", "justification"}

type reasonTokenBody struct {
	Reason authz.Reason `json:"reason"`
}

// mintReasonToken is POST /api/v1/reason-tokens.
func (s *Server) mintReasonToken(c *gin.Context) {
	p, _ := principal(c)
	var b reasonTokenBody
	if err := decodeJSON(c, &b); err != nil {
		abortError(c, err, nil)
		return
	}
	tok, exp, err := s.reasons.Seal(p.Subject, p.SessionID, b.Reason)
	if err != nil {
		abortProblem(c, http.StatusBadRequest, CodeBadRequest, err.Error(), nil)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"token": tok, "expires_at": exp})
}

// tokenReason reads the reason of a GET from its reason token: none given is the zero reason
// (the policy then refuses an action that needs one); a token that does not open, or reason
// fields in the URL, are errors.
func (s *Server) tokenReason(c *gin.Context) (authz.Reason, error) {
	q := c.Request.URL.Query()
	for _, name := range reasonURLParams {
		if q.Has(name) {
			return authz.Reason{}, fmt.Errorf("%w: the reason does not travel in the URL (%s was given): POST it to /api/v1/reason-tokens and send the token as %s",
				authz.ErrInvalid, name, reasonTokenParam)
		}
	}
	tok := q.Get(reasonTokenParam)
	if tok == "" {
		return authz.Reason{}, nil
	}
	p, _ := principal(c)
	r, err := s.reasons.Open(p.Subject, p.SessionID, tok)
	if err != nil {
		return authz.Reason{}, fmt.Errorf("%w: %w", authz.ErrInvalid, err)
	}
	return r, nil
}

// newReasonSealer is the sealer used when Deps gives none: a random key of this process, so
// tokens do not survive a restart or reach another instance.
func newReasonSealer() *reasontoken.Sealer {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	s, err := reasontoken.New(key, 0, time.Now)
	if err != nil {
		panic(err) // a 32-byte key and a clock: cannot fail
	}
	return s
}
