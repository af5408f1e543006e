package identity

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/anpr-portal/anpr/internal/audit"
)

// LoginStart is what BeginLogin gives the login handler: redirect the browser to AuthURL (303)
// and set Cookie on that response.
type LoginStart struct {
	AuthURL string
	Cookie  *http.Cookie
}

// BeginLogin starts an authorisation-code login with PKCE (S256), state and nonce.
//
// The state, nonce and PKCE verifier live in a server-side row keyed by the state's hash, and
// the browser gets a login cookie with a separate random binding value. The callback must present
// both the state (in the URL) and the binding (in the cookie), and the row is deleted as it is
// read. So: a state or code stolen from a URL (logs, Referer, history) is useless without the
// victim's cookie; a callback URL replayed, even with the cookie, finds nothing; an attacker
// cannot log a victim into the attacker's account (login CSRF) because the victim's browser has
// no binding for the attacker's state; and the PKCE verifier and nonce never leave the server.
// A signed cookie holding them would need none of the table but could be replayed until it
// expired, so we chose the table.
//
// returnTo is where to land after login; anything but a same-site path becomes "/".
func (s *Service) BeginLogin(ctx context.Context, returnTo string) (LoginStart, error) {
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return LoginStart{}, err
	}
	var state, nonce, binding, verifier string
	for _, v := range []*string{&state, &nonce, &binding, &verifier} {
		if *v, err = s.token(32); err != nil {
			return LoginStart{}, err
		}
	}
	now := s.now()
	if err := s.store.PurgeLoginFlows(ctx, now); err != nil {
		s.log.Warn("purge expired login flows", "err", err)
	}
	f := LoginFlow{
		StateHash: hashString(state), BindingHash: hashString(binding), Nonce: nonce,
		PKCEVerifier: verifier, ReturnTo: SafeReturnTo(returnTo), CreatedAt: now, ExpiresAt: now.Add(s.cfg.LoginTTL),
	}
	if err := s.store.CreateLoginFlow(ctx, f); err != nil {
		return LoginStart{}, storeErr("store login flow", err)
	}
	conf := s.oauth2Config(p)
	return LoginStart{
		AuthURL: conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)),
		// SameSite=Lax, not Strict: the callback is a top-level navigation from the IdP's site,
		// on which browsers withhold Strict cookies. The cookie is useless after the callback.
		Cookie: &http.Cookie{
			Name: s.cfg.LoginCookieName, Value: binding, Path: "/", Expires: f.ExpiresAt,
			MaxAge: int(s.cfg.LoginTTL.Seconds()), HttpOnly: true,
			Secure: !s.cfg.AllowInsecureCookies, SameSite: http.SameSiteLaxMode,
		},
	}, nil
}

// ClearLoginCookie deletes the login cookie; send it with every callback response.
func (s *Service) ClearLoginCookie() *http.Cookie {
	return &http.Cookie{
		Name: s.cfg.LoginCookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: !s.cfg.AllowInsecureCookies, SameSite: http.SameSiteLaxMode,
	}
}

// Callback is what the IdP's redirect brought back.
type Callback struct {
	Code, State             string
	Error, ErrorDescription string // an error response from the IdP instead of a code
	LoginCookie             string // value of the login cookie
	ClientAddr              string // for the audit event
}

// CallbackFromRequest reads a Callback from the callback request.
func (s *Service) CallbackFromRequest(r *http.Request, clientAddr string) Callback {
	q := r.URL.Query()
	cb := Callback{
		Code: q.Get("code"), State: q.Get("state"),
		Error: q.Get("error"), ErrorDescription: q.Get("error_description"), ClientAddr: clientAddr,
	}
	if c, err := r.Cookie(s.cfg.LoginCookieName); err == nil {
		cb.LoginCookie = c.Value
	}
	return cb
}

// LoginResult is a completed login: set Cookie (and ClearLoginCookie), then redirect to ReturnTo.
type LoginResult struct {
	Principal Principal
	Cookie    *http.Cookie
	ReturnTo  string
	ExpiresAt time.Time
}

// Input limits for the callback; real values are far shorter.
const (
	maxStateLen = 256
	maxCodeLen  = 4096
)

// CompleteLogin finishes a login: it consumes the flow (state + binding cookie, once), exchanges
// the code with the PKCE verifier, verifies the ID token (signature with an allowed algorithm,
// issuer, audience, expiry) and its nonce, maps roles, creates the server-side session, records
// the login in the audit log and only then returns the signed session cookie.
func (s *Service) CompleteLogin(ctx context.Context, cb Callback) (LoginResult, error) {
	if cb.State == "" || cb.LoginCookie == "" || len(cb.State) > maxStateLen || len(cb.LoginCookie) > maxStateLen || len(cb.Code) > maxCodeLen {
		return LoginResult{}, fmt.Errorf("%w: login callback without a valid state and login cookie", ErrUnauthenticated)
	}
	flow, err := s.store.ConsumeLoginFlow(ctx, hashString(cb.State), hashString(cb.LoginCookie))
	if errors.Is(err, ErrNotFound) {
		return LoginResult{}, fmt.Errorf("%w: unknown, used or foreign login state", ErrUnauthenticated)
	}
	if err != nil {
		return LoginResult{}, storeErr("read login flow", err)
	}
	if cb.Error != "" {
		return LoginResult{}, fmt.Errorf("%w: the identity provider refused the login (%.64q)", ErrUnauthenticated, cb.Error)
	}
	if cb.Code == "" {
		return LoginResult{}, fmt.Errorf("%w: login callback without a code", ErrUnauthenticated)
	}
	now := s.now()
	if !now.Before(flow.ExpiresAt) {
		return LoginResult{}, fmt.Errorf("%w: the login took too long; start again", ErrUnauthenticated)
	}
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return LoginResult{}, err
	}
	conf := s.oauth2Config(p)
	tok, err := conf.Exchange(s.clientContext(ctx), cb.Code, oauth2.VerifierOption(flow.PKCEVerifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return LoginResult{}, fmt.Errorf("%w: the identity provider refused the code: %s", ErrUnauthenticated, re.ErrorCode)
		}
		return LoginResult{}, fmt.Errorf("%w: exchange code: %v", ErrUnavailable, err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	if rawID == "" {
		return LoginResult{}, fmt.Errorf("%w: the identity provider returned no ID token", ErrUnauthenticated)
	}
	idt, err := s.idTokenVerifier(p).Verify(s.clientContext(ctx), rawID)
	if err != nil {
		return LoginResult{}, fmt.Errorf("%w: ID token: %v", ErrUnauthenticated, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.Nonce)) != 1 {
		return LoginResult{}, fmt.Errorf("%w: ID token nonce does not match this login", ErrUnauthenticated)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return LoginResult{}, fmt.Errorf("%w: ID token at_hash: %v", ErrUnauthenticated, err)
		}
	}
	id, err := readIdentity(idt)
	if err != nil {
		return LoginResult{}, err
	}
	if id, err = s.linked(ctx, id); err != nil {
		return LoginResult{}, err
	}
	idpRoles, idpRank := s.mapClaims(id.raw)
	return s.startSession(ctx, id, idpRoles, idpRank, rawID, flow.ReturnTo, cb.ClientAddr, now)
}

func (s *Service) idTokenVerifier(p *oidc.Provider) *oidc.IDTokenVerifier {
	return p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, SupportedSigningAlgs: s.cfg.IDTokenAlgs, Now: s.now})
}

type idpIdentity struct {
	subject, name, email string
	raw                  map[string]json.RawMessage
	// idpSubject is the sub the IdP sent; subject differs from it when a link (links.go) says
	// the portal knows this person by a previous identity's subject.
	idpSubject string
	link       *SubjectLink
}

// linked applies a live subject link to id.
func (s *Service) linked(ctx context.Context, id idpIdentity) (idpIdentity, error) {
	sub, link, err := s.portalSubject(ctx, id.subject)
	if err != nil {
		return idpIdentity{}, err
	}
	id.idpSubject, id.subject, id.link = id.subject, sub, link
	return id, nil
}

// loginPayload says, in the login event, through which link a linked identity signed in.
func (id idpIdentity) loginPayload() audit.Payload {
	if id.link == nil {
		return audit.Payload{}
	}
	return audit.Payload{Query: fmt.Sprintf("signed in as issuer=%q subject=%q through link %s to previous_issuer=%q previous_subject=%q",
		id.link.Issuer, id.idpSubject, id.link.ID, id.link.PreviousIssuer, id.link.PreviousSubject)}
}

func readIdentity(idt *oidc.IDToken) (idpIdentity, error) {
	var std struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
	}
	var raw map[string]json.RawMessage
	if err := idt.Claims(&std); err != nil {
		return idpIdentity{}, fmt.Errorf("%w: ID token claims: %v", ErrUnauthenticated, err)
	}
	if err := idt.Claims(&raw); err != nil {
		return idpIdentity{}, fmt.Errorf("%w: ID token claims: %v", ErrUnauthenticated, err)
	}
	if idt.Subject == "" || len(idt.Subject) > 255 {
		return idpIdentity{}, fmt.Errorf("%w: ID token subject missing or too long", ErrUnauthenticated)
	}
	name := std.Name
	for _, alt := range []string{std.PreferredUsername, std.Email, idt.Subject} {
		if name == "" {
			name = alt
		}
	}
	return idpIdentity{subject: idt.Subject, idpSubject: idt.Subject, name: truncate(name, 255), email: truncate(std.Email, 255), raw: raw}, nil
}

// startSession creates and audits the session of a verified identity.
func (s *Service) startSession(ctx context.Context, id idpIdentity, idpRoles []string, idpRank, rawID, returnTo, clientAddr string, now time.Time) (LoginResult, error) {
	sid, err := s.token(24)
	if err != nil {
		return LoginResult{}, err
	}
	csrf, err := s.secret(32)
	if err != nil {
		return LoginResult{}, err
	}
	sess := Session{
		ID: sid, Subject: id.subject, Name: id.name, Email: id.email, IdPRoles: idpRoles, IdPRank: idpRank,
		CSRFSecret: csrf, IDToken: rawID, ClientAddr: truncate(clientAddr, 255),
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL), LastSeenAt: now,
	}
	principal, err := s.sessionPrincipal(ctx, sess, now)
	if err != nil {
		return LoginResult{}, err
	}
	event := audit.Event{Actor: principal.Actor(), ClientAddr: sess.ClientAddr, Action: audit.ActionLogin}
	if len(principal.Roles) == 0 {
		event.Actor.Session, event.Decision, event.Rule = "", audit.EffectDeny, "identity:no-role"
		if err := s.record(ctx, event, id.loginPayload()); err != nil {
			return LoginResult{}, err
		}
		return LoginResult{}, &NoRoleError{Name: id.name, Email: id.email, Issuer: s.cfg.Issuer, Subject: id.idpSubject,
			Contact: s.cfg.AccessContact, Logout: s.idpLogout(ctx, rawID)}
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return LoginResult{}, storeErr("create session", err)
	}
	if err := s.store.RecordLogin(ctx, User{Subject: id.subject, Name: id.name, Email: id.email, FirstLoginAt: now, LastLoginAt: now}); err != nil {
		s.revokeQuietly(ctx, sid, "login failed")
		return LoginResult{}, storeErr("record user", err)
	}
	event.Decision = audit.EffectAllow
	if err := s.record(ctx, event, id.loginPayload()); err != nil {
		// No audited login, no session: the cookie is never handed out and the row is dead.
		s.revokeQuietly(ctx, sid, "login not audited")
		return LoginResult{}, err
	}
	value, err := s.signSession(sess)
	if err != nil {
		s.revokeQuietly(ctx, sid, "login failed")
		return LoginResult{}, err
	}
	return LoginResult{Principal: principal, Cookie: s.SessionCookie(value, sess.ExpiresAt), ReturnTo: returnTo, ExpiresAt: sess.ExpiresAt}, nil
}

func (s *Service) revokeQuietly(ctx context.Context, sid, reason string) {
	if err := s.store.RevokeSession(context.WithoutCancel(ctx), sid, s.now(), reason); err != nil {
		s.log.Error("could not revoke a half-made session", "reason", reason, "err", err)
	}
}

func truncate(v string, n int) string {
	if len(v) <= n {
		return v
	}
	// Cut on a rune boundary so the audit log's UTF-8 check holds.
	for n > 0 && (v[n]&0xC0) == 0x80 {
		n--
	}
	return v[:n]
}

// NoRoleError is a login refused because the person, though signed in at the IdP, has no portal
// role (from the IdP's claims or a grant). It is ErrForbidden, and carries what the refusal page
// tells them: who they signed in as, whom to ask, the account identifier to give that person,
// and how to end the IdP session so they can sign in with another account.
type NoRoleError struct {
	Name, Email     string
	Issuer, Subject string // the identifier the ANPR manager grants or links
	Contact         string // Config.AccessContact
	// Logout ends the IdP's session; nil when the IdP offers no RP-initiated logout.
	Logout *IdPLogout
}

func (e *NoRoleError) Error() string {
	return fmt.Sprintf("%s: %s has no role in the portal", ErrForbidden, e.Name)
}

func (e *NoRoleError) Unwrap() error { return ErrForbidden }
