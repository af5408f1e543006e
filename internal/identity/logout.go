package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/anpr-portal/anpr/internal/audit"
)

// ActionSessionRevoke records the ANPR manager (or the user) ending someone's sessions.
const ActionSessionRevoke audit.Action = "session.revoke"

// LogoutResult tells the logout handler what to send: always ClearCookie; then, when the IdP
// supports RP-initiated logout, a redirect to IdPLogoutURL, else to the portal's home page.
type LogoutResult struct {
	IdPLogoutURL string
	ClearCookie  *http.Cookie
}

// Logout ends p's session at once: the row is revoked before anything else, so the cookie is dead
// even if the audit write then fails (the error says so and the cookie should still be cleared).
// IdP logout is best effort: an IdP that is down or does not advertise end_session_endpoint
// (Dex does not) gives an empty IdPLogoutURL.
func (s *Service) Logout(ctx context.Context, p Principal, clientAddr string) (LogoutResult, error) {
	res := LogoutResult{ClearCookie: s.ClearSessionCookie()}
	if p.Kind != KindUser || p.SessionID == "" {
		return res, fmt.Errorf("%w: only a browser session can log out", ErrInvalid)
	}
	sess, err := s.store.GetSession(ctx, p.SessionID)
	if errors.Is(err, ErrNotFound) {
		return res, nil
	}
	if err != nil {
		return res, storeErr("read session", err)
	}
	if err := s.store.RevokeSession(ctx, p.SessionID, s.now(), "logout"); errors.Is(err, ErrNotFound) {
		return res, nil // already ended by a concurrent logout: nothing happened here to audit
	} else if err != nil {
		return res, storeErr("revoke session", err)
	}
	e := audit.Event{Actor: p.Actor(), ClientAddr: truncate(clientAddr, 255), Action: audit.ActionLogout}
	if err := s.record(ctx, e, audit.Payload{}); err != nil {
		return res, err
	}
	res.IdPLogoutURL = s.idpLogoutURL(ctx, sess.IDToken)
	return res, nil
}

// IdPLogout is an OpenID Connect RP-initiated logout request: send the browser to Endpoint with
// Params (as a GET query or a POSTed form; the IdP must take both), and the IdP ends its own
// session and returns the browser to the post-logout URL.
type IdPLogout struct {
	Endpoint string
	Params   url.Values
}

// URL is the request as a GET URL.
func (l *IdPLogout) URL() string {
	u, _ := url.Parse(l.Endpoint)
	q := u.Query()
	for k, v := range l.Params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// idpLogoutURL builds an RP-initiated logout URL, or "" when the IdP has none.
func (s *Service) idpLogoutURL(ctx context.Context, idToken string) string {
	if l := s.idpLogout(ctx, idToken); l != nil {
		return l.URL()
	}
	return ""
}

// idpLogout is the RP-initiated logout of the session idToken began, or nil when the IdP
// advertises no end_session_endpoint (Dex does not) or cannot be reached.
func (s *Service) idpLogout(ctx context.Context, idToken string) *IdPLogout {
	p, err := s.oidcProvider(ctx)
	if err != nil {
		s.log.Warn("IdP logout skipped: provider unavailable", "err", err)
		return nil
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := p.Claims(&meta); err != nil || meta.EndSession == "" {
		return nil
	}
	return endSession(meta.EndSession, idToken, s.cfg.ClientID, s.cfg.PostLogoutURL)
}

func endSession(endpoint, idToken, clientID, postLogout string) *IdPLogout {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil
	}
	q := url.Values{}
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	q.Set("client_id", clientID)
	q.Set("post_logout_redirect_uri", postLogout)
	return &IdPLogout{Endpoint: endpoint, Params: q}
}

// RevokeSessions ends every live session of subject at once ("sign out everywhere"). A person may
// do it to themselves; for anyone else it needs the anpr_manager role. It is audited.
func (s *Service) RevokeSessions(ctx context.Context, by Principal, subject string) (int, error) {
	what := fmt.Sprintf("revoke sessions subject=%q", subject)
	if subject == "" {
		return 0, fmt.Errorf("%w: subject is required", ErrInvalid)
	}
	if by.Kind != KindUser || (by.Subject != subject && !by.HasRole(RoleANPRManager)) {
		s.recordDenial(ctx, by, ActionSessionRevoke, ruleSelfOrManager, what)
		return 0, fmt.Errorf("%w: ending another person's sessions needs the %s role", ErrForbidden, RoleANPRManager)
	}
	var n int
	err := s.runAudited(ctx, by, ActionSessionRevoke, ruleSelfOrManager, audit.Payload{Query: what}, func(ctx context.Context) error {
		var err error
		n, err = s.store.RevokeSubjectSessions(ctx, subject, s.now(), "revoked by "+by.Subject)
		if err != nil {
			return storeErr("revoke sessions", err)
		}
		return nil
	})
	return n, err
}
