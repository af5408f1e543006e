package identity

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SessionAudience is the aud of session JWTs. Nothing else the portal signs carries it, so no
// other token can pass as a session.
const SessionAudience = "anpr-portal-session"

// sessionAlg is the only algorithm a session JWT may use. The parser is told so explicitly:
// "none", HS256 keyed with the public key (algorithm confusion) and every other alg are refused
// before any key is chosen.
var sessionAlg = jwt.SigningMethodEdDSA.Alg()

// maxCookieLen bounds what the parser is given; a real session cookie is about 300 bytes.
const maxCookieLen = 4096

// touchEvery limits last-seen writes to one a minute per session, so reads do not each cost a
// write; the idle timeout is therefore accurate to a minute.
const touchEvery = time.Minute

type sessionClaims struct {
	SessionID string `json:"sid"`
	jwt.RegisteredClaims
}

// signSession makes the cookie value for sess.
func (s *Service) signSession(sess Session) (string, error) {
	claims := sessionClaims{
		SessionID: sess.ID,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.cfg.SessionIssuer,
			Subject:   sess.Subject,
			Audience:  jwt.ClaimStrings{SessionAudience},
			IssuedAt:  jwt.NewNumericDate(sess.CreatedAt),
			NotBefore: jwt.NewNumericDate(sess.CreatedAt),
			ExpiresAt: jwt.NewNumericDate(sess.ExpiresAt),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = s.kid
	v, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("sign session: %w", err)
	}
	return v, nil
}

// parseSession verifies a cookie value: algorithm allow-list, our key, issuer, audience, expiry
// and not-before (both required), issued-at not in the future, and a session id present.
func (s *Service) parseSession(value string) (sessionClaims, error) {
	var c sessionClaims
	if value == "" {
		return c, fmt.Errorf("%w: no session cookie", ErrUnauthenticated)
	}
	if len(value) > maxCookieLen {
		return c, fmt.Errorf("%w: session cookie too long", ErrUnauthenticated)
	}
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{sessionAlg}),
		jwt.WithIssuer(s.cfg.SessionIssuer),
		jwt.WithAudience(SessionAudience),
		jwt.WithExpirationRequired(),
		jwt.WithNotBeforeRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(s.now),
		jwt.WithStrictDecoding(),
	)
	_, err := p.ParseWithClaims(value, &c, func(t *jwt.Token) (any, error) {
		// Belt and braces: WithValidMethods has already refused every other alg.
		if _, ok := t.Method.(*jwt.SigningMethodEd25519); !ok {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		if kid, _ := t.Header["kid"].(string); kid != s.kid {
			return nil, errors.New("unknown key id")
		}
		return s.key.Public().(ed25519.PublicKey), nil
	})
	if err != nil {
		return sessionClaims{}, fmt.Errorf("%w: session cookie: %w", ErrUnauthenticated, err)
	}
	if c.SessionID == "" || c.Subject == "" {
		return sessionClaims{}, fmt.Errorf("%w: session cookie lacks sid or sub", ErrUnauthenticated)
	}
	return c, nil
}

// Authenticate turns a session cookie value into the caller. The JWT proves the portal issued it;
// the server-side session proves it is still live (not logged out, revoked, expired or idle); the
// grants are read now, so a revoked grant is gone from the very next request.
func (s *Service) Authenticate(ctx context.Context, cookieValue string) (Principal, error) {
	claims, err := s.parseSession(cookieValue)
	if err != nil {
		return Principal{}, err
	}
	sess, err := s.store.GetSession(ctx, claims.SessionID)
	if errors.Is(err, ErrNotFound) {
		return Principal{}, fmt.Errorf("%w: session not found", ErrUnauthenticated)
	}
	if err != nil {
		return Principal{}, storeErr("read session", err)
	}
	now := s.now()
	switch {
	case sess.Subject != claims.Subject:
		return Principal{}, fmt.Errorf("%w: session subject mismatch", ErrUnauthenticated)
	case !sess.RevokedAt.IsZero():
		return Principal{}, fmt.Errorf("%w: session ended (%s)", ErrUnauthenticated, sess.RevokedReason)
	case !now.Before(sess.ExpiresAt):
		return Principal{}, fmt.Errorf("%w: session expired", ErrUnauthenticated)
	case !now.Before(sess.LastSeenAt.Add(s.cfg.SessionIdleTTL)):
		return Principal{}, fmt.Errorf("%w: session idle too long", ErrUnauthenticated)
	}
	p, err := s.sessionPrincipal(ctx, sess, now)
	if err != nil {
		return Principal{}, err
	}
	if now.Sub(sess.LastSeenAt) >= touchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
			return Principal{}, storeErr("touch session", err)
		}
	}
	return p, nil
}

// sessionPrincipal combines the session's IdP roles with the grants in force at now.
func (s *Service) sessionPrincipal(ctx context.Context, sess Session, now time.Time) (Principal, error) {
	grants, err := s.store.ListGrants(ctx, GrantFilter{Subject: sess.Subject, ActiveAt: now})
	if err != nil {
		return Principal{}, storeErr("read grants", err)
	}
	roles, rank := s.mergeGrants(sess.IdPRoles, sess.IdPRank, grants, now)
	return Principal{
		Kind: KindUser, Subject: sess.Subject, Name: sess.Name, Email: sess.Email,
		Roles: roles, Rank: rank, SessionID: sess.ID, csrfSecret: slices.Clone(sess.CSRFSecret),
	}, nil
}

// SessionCookie is the cookie that carries a session: HttpOnly (no script can read it),
// SameSite=Strict (no cross-site request carries it), Secure unless the development setting
// allows http on localhost, Path=/ and no Domain. It expires with the session.
func (s *Service) SessionCookie(value string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name: s.cfg.CookieName, Value: value, Path: "/", Expires: expires,
		MaxAge: max(1, int(expires.Sub(s.now()).Seconds())), HttpOnly: true,
		Secure: !s.cfg.AllowInsecureCookies, SameSite: http.SameSiteStrictMode,
	}
}

// ClearSessionCookie deletes the session cookie in the browser.
func (s *Service) ClearSessionCookie() *http.Cookie {
	return &http.Cookie{
		Name: s.cfg.CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: !s.cfg.AllowInsecureCookies, SameSite: http.SameSiteStrictMode,
	}
}

// SessionCookieValue returns the session cookie of r ("" when absent).
func (s *Service) SessionCookieValue(r *http.Request) string {
	c, err := r.Cookie(s.cfg.CookieName)
	if err != nil {
		return ""
	}
	return c.Value
}

// PurgeExpired deletes expired login flows and ended sessions. Run it periodically (e.g. hourly);
// nothing it deletes is needed any more, and logins and logouts live on in the audit log.
func (s *Service) PurgeExpired(ctx context.Context) error {
	now := s.now()
	if err := s.store.PurgeLoginFlows(ctx, now); err != nil {
		return storeErr("purge login flows", err)
	}
	if err := s.store.PurgeSessions(ctx, now); err != nil {
		return storeErr("purge sessions", err)
	}
	return nil
}
