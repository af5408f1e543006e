package httpapi

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/identity"
)

type apiKeyBody struct {
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Server) createAPIKey(c *gin.Context) {
	p, _ := principal(c)
	var b apiKeyBody
	if err := decodeJSON(c, &b); err != nil {
		abortError(c, err, nil)
		return
	}
	plain, key, err := s.deps.Identity.CreateAPIKey(c.Request.Context(), p, identity.APIKeyRequest{Name: b.Name, Scopes: b.Scopes, ExpiresAt: b.ExpiresAt})
	if err != nil {
		abortError(c, err, nil)
		return
	}
	// The plaintext is shown once, here, and never stored.
	c.JSON(http.StatusCreated, gin.H{"api_key": plain, "key": key})
}

func (s *Server) listAPIKeys(c *gin.Context) {
	p, _ := principal(c)
	keys, err := s.deps.Identity.ListAPIKeys(c.Request.Context(), p)
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, gin.H{"api_keys": keys})
}

func (s *Server) revokeAPIKey(c *gin.Context) {
	p, _ := principal(c)
	if err := s.deps.Identity.RevokeAPIKey(c.Request.Context(), p, c.Param("id")); err != nil {
		abortError(c, err, nil)
		return
	}
	c.Status(http.StatusNoContent)
}

type grantBody struct {
	Subject   string    `json:"subject"`
	Role      string    `json:"role"`
	Rank      string    `json:"rank"`
	Reason    string    `json:"reason"`
	ExpiresAt time.Time `json:"expires_at"`
}

// grantTarget is who a new grant is for, so the policy's "nobody grants themselves" rule sees it.
func grantTarget(c *gin.Context) (string, error) {
	var b grantBody
	if err := decodeJSON(c, &b); err != nil {
		return "", err
	}
	return b.Subject, nil
}

func (s *Server) createGrant(c *gin.Context) {
	p, _ := principal(c)
	var b grantBody
	if err := decodeJSON(c, &b); err != nil {
		abortError(c, err, nil)
		return
	}
	g, err := s.deps.Identity.Grant(c.Request.Context(), p, identity.GrantRequest{
		Subject: b.Subject, Role: b.Role, Rank: b.Rank, Reason: b.Reason, ExpiresAt: b.ExpiresAt})
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusCreated, g)
}

func (s *Server) listGrants(c *gin.Context) {
	p, _ := principal(c)
	gs, err := s.deps.Identity.ListGrants(c.Request.Context(), p, identity.GrantFilter{Subject: c.Query("subject")})
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, gin.H{"grants": gs})
}

func (s *Server) revokeGrant(c *gin.Context) {
	p, _ := principal(c)
	if err := s.deps.Identity.RevokeGrant(c.Request.Context(), p, c.Param("id")); err != nil {
		abortError(c, err, nil)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listUsers(c *gin.Context) {
	p, _ := principal(c)
	us, err := s.deps.Identity.ListUsers(c.Request.Context(), p)
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, gin.H{"users": us})
}

type linkBody struct {
	Issuer          string `json:"issuer"`
	Subject         string `json:"subject"`
	PreviousIssuer  string `json:"previous_issuer"`
	PreviousSubject string `json:"previous_subject"`
	Reason          string `json:"reason"`
}

// linkTarget is whom a new link makes the identity into, so the policy's "nobody changes their
// own roles" rule sees a manager linking an identity to themselves.
func linkTarget(c *gin.Context) (string, error) {
	var b linkBody
	if err := decodeJSON(c, &b); err != nil {
		return "", err
	}
	return b.PreviousSubject, nil
}

func (s *Server) createSubjectLink(c *gin.Context) {
	p, _ := principal(c)
	var b linkBody
	if err := decodeJSON(c, &b); err != nil {
		abortError(c, err, nil)
		return
	}
	l, err := s.deps.Identity.LinkSubject(c.Request.Context(), p, identity.LinkRequest{
		Issuer: b.Issuer, Subject: b.Subject, PreviousIssuer: b.PreviousIssuer, PreviousSubject: b.PreviousSubject, Reason: b.Reason})
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusCreated, l)
}

func (s *Server) listSubjectLinks(c *gin.Context) {
	p, _ := principal(c)
	ls, err := s.deps.Identity.ListLinks(c.Request.Context(), p)
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, gin.H{"links": ls})
}

func (s *Server) revokeSubjectLink(c *gin.Context) {
	p, _ := principal(c)
	if err := s.deps.Identity.RevokeLink(c.Request.Context(), p, c.Param("id")); err != nil {
		abortError(c, err, nil)
		return
	}
	c.Status(http.StatusNoContent)
}
