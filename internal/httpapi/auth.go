package httpapi

import (
	"errors"
	"html"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/identity"
)

// login starts the OIDC code flow: state, nonce and PKCE verifier are held server-side, bound to
// a short-lived cookie, and the browser goes to the IdP.
func (s *Server) login(c *gin.Context) {
	start, err := s.deps.Identity.BeginLogin(c.Request.Context(), c.Query("return_to"))
	if err != nil {
		abortError(c, err, nil)
		return
	}
	http.SetCookie(c.Writer, start.Cookie)
	c.Redirect(http.StatusSeeOther, start.AuthURL)
}

// callback completes the flow and issues the portal session cookie.
func (s *Server) callback(c *gin.Context) {
	http.SetCookie(c.Writer, s.deps.Identity.ClearLoginCookie())
	res, err := s.deps.Identity.CompleteLogin(c.Request.Context(), s.deps.Identity.CallbackFromRequest(c.Request, c.ClientIP()))
	if err != nil {
		logger(c).Warn("login refused", "err", err)
		// A stolen or replayed state, a swapped nonce, a bad code: recorded before the answer.
		if !s.auditRejectedCredential(c, "login callback", err) {
			return
		}
		if noRole := (*identity.NoRoleError)(nil); errors.As(err, &noRole) {
			renderNoRole(c, noRole)
			return
		}
		abortError(c, err, nil)
		return
	}
	http.SetCookie(c.Writer, res.Cookie)
	// Not a 303: the session cookie is SameSite=Strict, and a browser does not send Strict cookies
	// on a redirect chain that began at the IdP's site. A page of our own that moves on is a
	// same-site navigation, so the first page after login already has the session. ReturnTo is a
	// checked same-origin path (identity refuses anything else), and is HTML-escaped here.
	target := html.EscapeString(res.ReturnTo)
	c.Header("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(`<!doctype html><html lang="en"><head><meta charset="utf-8">`+
		`<meta http-equiv="refresh" content="0;url=`+target+`"><title>Signed in</title></head>`+
		`<body><p>Signed in. <a href="`+target+`">Continue</a>.</p></body></html>`))
}

// logout ends the session here at once (the server-side row is revoked) and, where the IdP has an
// end-session endpoint, tells the client where to end it there too.
func (s *Server) logout(c *gin.Context) {
	p, _ := principal(c)
	res, err := s.deps.Identity.Logout(c.Request.Context(), p, c.ClientIP())
	http.SetCookie(c.Writer, res.ClearCookie)
	if err != nil {
		abortError(c, err, nil)
		return
	}
	c.JSON(http.StatusOK, gin.H{"logged_out": true, "idp_logout_url": res.IdPLogoutURL})
}

// me is who the caller is, with the CSRF token a browser must send on state-changing requests.
func (s *Server) me(c *gin.Context) {
	p, _ := principal(c)
	out := gin.H{"principal": p}
	if p.Kind == identity.KindUser {
		out["csrf_token"] = s.deps.Identity.CSRFToken(p)
		out["csrf_header"] = identity.CSRFHeader
	}
	c.JSON(http.StatusOK, out)
}
