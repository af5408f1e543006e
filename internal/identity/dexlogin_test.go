package identity_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/identity/dextest"
)

// The login flow against the bundled Dex, end to end. One Dex serves every subtest: starting it
// is the slow part.
func TestIdentityLoginWithDex(t *testing.T) {
	p := newPortal(t)

	t.Run("every demo user gets their role and rank", func(t *testing.T) {
		for _, u := range p.dex.Users {
			c := browser(t)
			if body := p.login(t, c, u, "/reads?vrm=AB12CDE"); body != "landed /reads?vrm=AB12CDE" {
				t.Errorf("%s landed on %q", fmtUser(u), body)
			}
			m, code := p.me(t, c)
			if code != http.StatusOK {
				t.Fatalf("%s: me: %d", fmtUser(u), code)
			}
			pr := m.Principal
			if pr.Kind != identity.KindUser || !pr.HasRole(u.Role) || len(pr.Roles) != 1 || pr.Rank != strings.ToLower(u.Rank) || pr.Name != u.Name || pr.Email != u.Email {
				t.Errorf("%s: principal %+v", fmtUser(u), pr)
			}
			if m.CSRFToken == "" {
				t.Errorf("%s: no CSRF token", fmtUser(u))
			}
			rec := p.wantEvent(audit.ActionLogin, pr.Subject, audit.EffectAllow, audit.StageEvent)
			if rec.Event.Actor.Session != pr.SessionID || !slices.Equal(rec.Event.Actor.Roles, pr.Roles) || rec.Event.ClientAddr == "" {
				t.Errorf("%s: login event %+v", fmtUser(u), rec.Event.Actor)
			}
		}
	})

	t.Run("a user without a portal role is refused, and the refusal audited", func(t *testing.T) {
		full := p.svc
		t.Cleanup(func() { p.svc = full })
		p.svc = p.withConfig(t, func(c *identity.Config) {
			c.RoleMapping.Map = map[string]string{"investigator": identity.RoleInvestigator}
		})
		c := browser(t)
		resp, err := p.dex.Login(t.Context(), c, p.srv.URL+"/auth/login", p.dex.User("auditor"))
		if err != nil {
			t.Fatal(err)
		}
		body := readBody(t, resp)
		mustStatus(t, "login with no mapped role", resp.StatusCode, http.StatusForbidden, body)
		if _, code := p.me(t, c); code != http.StatusUnauthorized {
			t.Errorf("me after a refused login: %d", code)
		}
		recs := p.events(audit.ActionLogin, "")
		if len(recs) == 0 {
			t.Fatal("no login events")
		}
		last := recs[len(recs)-1].Event
		if last.Decision != audit.EffectDeny || last.Rule != "identity:no-role" || last.Actor.Name != p.dex.User("auditor").Name || last.Actor.Session != "" {
			t.Errorf("last login event %+v", last)
		}
	})

	t.Run("open redirects after login land on /", func(t *testing.T) {
		for _, evil := range []string{"//evil.com", "https://evil.com", "/\\evil.com", "javascript:alert(1)", "/%2F%2Fevil.com"} {
			c := browser(t)
			if body := p.login(t, c, p.dex.User("investigator"), evil); body != "landed /" {
				t.Errorf("return_to %q landed on %q", evil, body)
			}
		}
	})

	t.Run("stolen state: the code and state without the browser's cookie are refused", func(t *testing.T) {
		victim := browser(t)
		cb := p.callbackURL(t, victim, p.srv.URL+"/auth/login?return_to=/inbox", p.dex.User("inspector"))

		attacker := browser(t)
		code, body := get(t, attacker, cb)
		mustStatus(t, "attacker presents the victim's callback", code, http.StatusUnauthorized, body)
		// The attacker's own login cookie does not help either.
		p.authURL(t, attacker, "/")
		code, body = get(t, attacker, cb)
		mustStatus(t, "attacker with their own login cookie", code, http.StatusUnauthorized, body)
		if !strings.Contains(body, "foreign login state") {
			t.Errorf("refused for another reason: %s", body)
		}

		// The refusals did not burn the victim's login ...
		code, body = get(t, victim, cb)
		if code != http.StatusOK || body != "landed /inbox" {
			t.Fatalf("victim's own callback: %d %s", code, body)
		}
		// ... the callback cleared the login cookie ...
		u, _ := url.Parse(p.srv.URL)
		for _, ck := range victim.Jar.Cookies(u) {
			if ck.Name == p.cfg.LoginCookieName {
				t.Errorf("login cookie still set after the callback")
			}
		}
		// ... and the callback cannot be replayed, from the victim's browser or any other.
		code, body = get(t, victim, cb)
		mustStatus(t, "callback replayed by the victim's browser", code, http.StatusUnauthorized, body)
		code, body = get(t, browser(t), cb)
		mustStatus(t, "callback replayed elsewhere", code, http.StatusUnauthorized, body)
	})

	t.Run("replayed callback with the original login cookie is refused", func(t *testing.T) {
		c := browser(t)
		cb := p.callbackURL(t, c, p.srv.URL+"/auth/login", p.dex.User("auditor"))
		u, _ := url.Parse(p.srv.URL)
		var binding string
		for _, ck := range c.Jar.Cookies(u) {
			if ck.Name == p.cfg.LoginCookieName {
				binding = ck.Value
			}
		}
		if binding == "" {
			t.Fatal("no login cookie")
		}
		code, body := get(t, c, cb)
		mustStatus(t, "first callback", code, http.StatusOK, body)
		replay := withCookie(t, p, p.cfg.LoginCookieName, binding)
		code, body = get(t, replay, cb)
		mustStatus(t, "same callback and login cookie again", code, http.StatusUnauthorized, body)
	})

	t.Run("a nonce other than the login's is refused", func(t *testing.T) {
		c := browser(t)
		auth, _ := url.Parse(p.authURL(t, c, "/"))
		q := auth.Query()
		if q.Get("nonce") == "" || q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" {
			t.Fatalf("authorisation URL lacks nonce, state or PKCE: %s", auth)
		}
		q.Set("nonce", "attacker-chosen-nonce")
		auth.RawQuery = q.Encode()
		cb := p.callbackURL(t, c, auth.String(), p.dex.User("extended"))
		code, body := get(t, c, cb)
		mustStatus(t, "ID token with a foreign nonce", code, http.StatusUnauthorized, body)
		if !strings.Contains(body, "nonce") {
			t.Errorf("refused for another reason: %s", body)
		}
	})

	t.Run("a code from another login is refused (PKCE)", func(t *testing.T) {
		attacker := browser(t)
		attackerCB, _ := url.Parse(p.callbackURL(t, attacker, p.srv.URL+"/auth/login", p.dex.User("investigator")))
		victim := browser(t)
		victimAuth, _ := url.Parse(p.authURL(t, victim, "/"))
		inject := p.srv.URL + "/auth/callback?" + url.Values{
			"code": {attackerCB.Query().Get("code")}, "state": {victimAuth.Query().Get("state")},
		}.Encode()
		code, body := get(t, victim, inject)
		mustStatus(t, "attacker's code with the victim's state", code, http.StatusUnauthorized, body)
		if !strings.Contains(body, "refused the code") {
			t.Errorf("refused for another reason: %s", body)
		}
	})

	t.Run("an error from the IdP is refused", func(t *testing.T) {
		c := browser(t)
		auth, _ := url.Parse(p.authURL(t, c, "/"))
		code, body := get(t, c, p.srv.URL+"/auth/callback?error=access_denied&state="+url.QueryEscape(auth.Query().Get("state")))
		mustStatus(t, "IdP error", code, http.StatusUnauthorized, body)
	})

	t.Run("logout ends the session at once", func(t *testing.T) {
		c := browser(t)
		p.login(t, c, p.dex.User("investigator"), "/")
		m, _ := p.me(t, c)
		stolen := p.sessionCookie(t, c)

		code, body := post(t, c, p.srv.URL+"/auth/logout", "")
		mustStatus(t, "logout without CSRF token", code, http.StatusForbidden, body)
		code, body = post(t, c, p.srv.URL+"/auth/logout", m.CSRFToken)
		mustStatus(t, "logout", code, http.StatusOK, body)
		if !strings.Contains(body, `"idp_logout_url":""`) { // Dex has no end_session_endpoint
			t.Errorf("logout response %s", body)
		}
		if _, code := p.me(t, c); code != http.StatusUnauthorized {
			t.Errorf("me after logout: %d", code)
		}
		if _, code := p.me(t, withCookie(t, p, p.cfg.CookieName, stolen)); code != http.StatusUnauthorized {
			t.Errorf("a copy of the cookie taken before logout still works: %d", code)
		}
		p.wantEvent(audit.ActionLogout, m.Principal.Subject, audit.EffectNone, audit.StageEvent)
	})

	t.Run("CSRF: missing, foreign and replayed tokens are refused", func(t *testing.T) {
		ann, bob := browser(t), browser(t)
		p.login(t, ann, p.dex.User("investigator"), "/")
		p.login(t, bob, p.dex.User("extended"), "/")
		annMe, _ := p.me(t, ann)
		bobMe, _ := p.me(t, bob)
		echo := p.srv.URL + "/api/v1/echo"
		code, body := post(t, ann, echo, annMe.CSRFToken)
		mustStatus(t, "own token", code, http.StatusOK, body)
		code, body = post(t, ann, echo, "")
		mustStatus(t, "missing token", code, http.StatusForbidden, body)
		code, body = post(t, ann, echo, bobMe.CSRFToken)
		mustStatus(t, "another user's token", code, http.StatusForbidden, body)

		code, body = post(t, ann, p.srv.URL+"/auth/logout", annMe.CSRFToken)
		mustStatus(t, "logout", code, http.StatusOK, body)
		p.login(t, ann, p.dex.User("investigator"), "/")
		code, body = post(t, ann, echo, annMe.CSRFToken)
		mustStatus(t, "token replayed from the previous session", code, http.StatusForbidden, body)
	})

	t.Run("role revocation applies to a live session at once", func(t *testing.T) {
		mgr, inv := browser(t), browser(t)
		p.login(t, mgr, p.dex.User("manager"), "/")
		p.login(t, inv, p.dex.User("investigator"), "/")
		mgrMe, _ := p.me(t, mgr)
		invMe, _ := p.me(t, inv)
		manager, err := p.svc.Authenticate(t.Context(), p.sessionCookie(t, mgr))
		if err != nil {
			t.Fatal(err)
		}
		g, err := p.svc.Grant(t.Context(), manager, identity.GrantRequest{Subject: invMe.Principal.Subject, Role: identity.RoleExtendedInvestigator, Reason: "Operation Kestrel"})
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := p.me(t, inv); !m.Principal.HasRole(identity.RoleExtendedInvestigator) {
			t.Errorf("grant not applied to the live session: %v", m.Principal.Roles)
		}
		if err := p.svc.RevokeGrant(t.Context(), manager, g.ID); err != nil {
			t.Fatal(err)
		}
		if m, _ := p.me(t, inv); m.Principal.HasRole(identity.RoleExtendedInvestigator) || !m.Principal.HasRole(identity.RoleInvestigator) {
			t.Errorf("after revocation the live session has %v", m.Principal.Roles)
		}
		// And the manager cannot grant themselves anything.
		_, err = p.svc.Grant(t.Context(), manager, identity.GrantRequest{Subject: mgrMe.Principal.Subject, Role: identity.RoleAuditor, Reason: "just because"})
		wantErr(t, "self-grant", err, identity.ErrForbidden)
	})

	t.Run("IdP access tokens for API clients", func(t *testing.T) {
		tok := p.accessToken(t, p.dex.User("investigator"))
		on := p.withConfig(t, func(c *identity.Config) { c.AccessTokens.Audience = p.dex.ClientID })
		pr, err := on.AuthenticateBearer(t.Context(), tok)
		if err != nil {
			t.Fatalf("access token refused: %v", err)
		}
		if pr.Kind != identity.KindToken || !pr.HasRole(identity.RoleInvestigator) || pr.Subject == "" {
			t.Errorf("principal %+v", pr)
		}
		wantErr(t, "Dex tokens carry no reads:ingest scope", pr.RequireScope(identity.ScopeReadsIngest), identity.ErrForbidden)

		_, err = p.svc.AuthenticateBearer(t.Context(), tok)
		wantErr(t, "access tokens not enabled", err, identity.ErrUnauthenticated)
		other := p.withConfig(t, func(c *identity.Config) { c.AccessTokens.Audience = "https://api.other.example" })
		_, err = other.AuthenticateBearer(t.Context(), tok)
		wantErr(t, "wrong audience", err, identity.ErrUnauthenticated)
		noRS := p.withConfig(t, func(c *identity.Config) {
			c.AccessTokens.Audience, c.IDTokenAlgs = p.dex.ClientID, []string{"ES256"}
		})
		_, err = noRS.AuthenticateBearer(t.Context(), tok)
		wantErr(t, "algorithm outside the allow-list (Dex signs RS256)", err, identity.ErrUnauthenticated)
		_, err = on.AuthenticateBearer(t.Context(), tamperPayload(t, tok, func(c map[string]any) { c["groups"] = []string{"anpr:anpr_manager"} }))
		wantErr(t, "tampered access token", err, identity.ErrUnauthenticated)
		_, err = on.AuthenticateBearer(t.Context(), tamperHeader(t, tok, func(h map[string]any) { h["alg"] = "none" }))
		wantErr(t, "alg none access token", err, identity.ErrUnauthenticated)
	})
}

// withConfig returns a second service over the same store and audit log with a changed config.
func (p *portal) withConfig(t *testing.T, edit func(*identity.Config)) *identity.Service {
	t.Helper()
	cfg := p.cfg
	edit(&cfg)
	s, err := identity.NewService(cfg, identity.Deps{Store: p.store, Audit: p.audit, Clock: p.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// accessToken runs a plain code flow with PKCE as an API client would and returns Dex's access
// token for u.
func (p *portal) accessToken(t *testing.T, u dextest.User) string {
	t.Helper()
	conf := oauth2.Config{
		ClientID: p.dex.ClientID, ClientSecret: p.dex.ClientSecret, RedirectURL: p.srv.URL + "/auth/callback",
		Endpoint: oauth2.Endpoint{AuthURL: p.dex.Issuer + "/auth", TokenURL: p.dex.Issuer + "/token"},
		Scopes:   []string{"openid", "profile", "email", "groups"},
	}
	verifier := oauth2.GenerateVerifier()
	cb, _ := url.Parse(p.callbackURL(t, browser(t), conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier)), u))
	tok, err := conf.Exchange(t.Context(), cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok.AccessToken
}
