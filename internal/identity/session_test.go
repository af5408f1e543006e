package identity_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/anpr-portal/anpr/internal/identity"
)

// Every way to forge or bend a session cookie is refused; the first case (unchanged claims, our
// key) is accepted, so each refusal is the check under test and not a broken helper.
func TestIdentitySessionCookieForgeryRefused(t *testing.T) {
	e := newEnv(t, nil)
	_, victim := e.sessionOf("victim", "Vic", identity.RoleInvestigator)
	_, other := e.sessionOf("other", "Otto", identity.RoleAuditor)
	sid := victim.SessionID
	pub := e.key.Public().(ed25519.PublicKey)
	_, otherEd, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	with := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := e.validClaims(sid, "victim")
		edit(c)
		return c
	}
	valid := e.mint(e.validClaims(sid, "victim"), jwt.SigningMethodEdDSA, e.key, e.kid())

	cases := []struct {
		name   string
		cookie string
		ok     bool
	}{
		{"control: our key, valid claims", valid, true},
		{"alg none", e.mint(e.validClaims(sid, "victim"), jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, e.kid()), false},
		{"alg none, no signature part", strings.TrimSuffix(e.mint(e.validClaims(sid, "victim"), jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, e.kid()), "."), false},
		{"HS256 keyed with the public key (alg confusion)", e.mint(e.validClaims(sid, "victim"), jwt.SigningMethodHS256, []byte(pub), e.kid()), false},
		{"HS256 keyed with the base64 public key", e.mint(e.validClaims(sid, "victim"), jwt.SigningMethodHS256, []byte(base64.StdEncoding.EncodeToString(pub)), e.kid()), false},
		{"RS256 with an attacker key", e.mint(e.validClaims(sid, "victim"), jwt.SigningMethodRS256, rsaKey, e.kid()), false},
		{"ES256 with an attacker key", e.mint(e.validClaims(sid, "victim"), jwt.SigningMethodES256, ecKey, e.kid()), false},
		{"EdDSA with another key, our kid", e.mint(e.validClaims(sid, "victim"), jwt.SigningMethodEdDSA, otherEd, e.kid()), false},
		{"EdDSA with another key, its own kid", e.mint(e.validClaims(sid, "victim"), jwt.SigningMethodEdDSA, otherEd, "0011223344556677"), false},
		{"our key, no kid", e.mint(e.validClaims(sid, "victim"), jwt.SigningMethodEdDSA, e.key, ""), false},
		{"wrong issuer", e.mint(with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"no issuer", e.mint(with(func(c jwt.MapClaims) { delete(c, "iss") }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"wrong audience", e.mint(with(func(c jwt.MapClaims) { c["aud"] = "anpr-portal" }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"no audience", e.mint(with(func(c jwt.MapClaims) { delete(c, "aud") }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"expired", e.mint(with(func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Second).Unix() }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"no expiry", e.mint(with(func(c jwt.MapClaims) { delete(c, "exp") }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"not before in the future", e.mint(with(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"no not-before", e.mint(with(func(c jwt.MapClaims) { delete(c, "nbf") }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"issued in the future", e.mint(with(func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"unknown session id", e.mint(with(func(c jwt.MapClaims) { c["sid"] = "sid-made-up" }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"no session id", e.mint(with(func(c jwt.MapClaims) { delete(c, "sid") }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"another subject's session id", e.mint(with(func(c jwt.MapClaims) { c["sid"] = other.SessionID }), jwt.SigningMethodEdDSA, e.key, e.kid()), false},
		{"payload tampered (sid swapped, signature kept)", tamperPayload(t, valid, func(c map[string]any) { c["sid"] = other.SessionID; c["sub"] = "other" }), false},
		{"payload tampered (expiry extended)", tamperPayload(t, valid, func(c map[string]any) { c["exp"] = now.Add(48 * time.Hour).Unix() }), false},
		{"header tampered (alg none, signature kept)", tamperHeader(t, valid, func(h map[string]any) { h["alg"] = "none" }), false},
		{"signature flipped", flipLast(valid), false},
		{"signature dropped", valid[:strings.LastIndexByte(valid, '.')+1], false},
		{"garbage", "not-a-jwt", false},
		{"empty", "", false},
		{"oversized", valid + strings.Repeat("A", 5000), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := e.svc.Authenticate(t.Context(), tc.cookie)
			if tc.ok {
				if err != nil || p.Subject != "victim" || p.SessionID != sid {
					t.Fatalf("valid cookie: %+v, %v", p, err)
				}
				return
			}
			wantErr(t, "forged cookie", err, identity.ErrUnauthenticated)
			if err == nil {
				t.Errorf("accepted as %+v", p)
			}
		})
	}
}

func splitJWT(t *testing.T, tok string) []string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	return parts
}

func editSegment(t *testing.T, seg string, edit func(map[string]any)) string {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func tamperPayload(t *testing.T, tok string, edit func(map[string]any)) string {
	p := splitJWT(t, tok)
	return p[0] + "." + editSegment(t, p[1], edit) + "." + p[2]
}

func tamperHeader(t *testing.T, tok string, edit func(map[string]any)) string {
	p := splitJWT(t, tok)
	return editSegment(t, p[0], edit) + "." + p[1] + "." + p[2]
}

func flipLast(tok string) string {
	b := []byte(tok)
	i := len(b) - 2 // the last character carries padding bits; flip one that matters
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// A valid signature is not enough: the server-side session decides, so revocation, absolute
// expiry and idleness end a session whose JWT is still in date.
func TestIdentitySessionServerSideChecks(t *testing.T) {
	e := newEnv(t, func(c *identity.Config) { c.SessionIdleTTL = 30 * time.Minute })
	ctx := t.Context()

	cookie, _ := e.sessionOf("u1", "Una", identity.RoleInvestigator)
	if _, err := e.store.RevokeSubjectSessions(ctx, "u1", e.clock.Now(), "test"); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Authenticate(ctx, cookie)
	wantErr(t, "revoked session", err, identity.ErrUnauthenticated)

	cookie, _ = e.sessionOf("u2", "Ugo", identity.RoleInvestigator)
	for range 5 { // used every 20 minutes: stays alive past the idle limit
		e.clock.Advance(20 * time.Minute)
		if _, err := e.svc.Authenticate(ctx, cookie); err != nil {
			t.Fatalf("session in use every 20m ended: %v", err)
		}
	}
	e.clock.Advance(31 * time.Minute)
	_, err = e.svc.Authenticate(ctx, cookie)
	wantErr(t, "idle session", err, identity.ErrUnauthenticated)

	// Absolute expiry of the row, with a JWT that claims longer.
	now := e.clock.Now()
	if err := e.store.CreateSession(ctx, identity.Session{ID: "short", Subject: "u3", CSRFSecret: []byte("k"), CreatedAt: now, ExpiresAt: now.Add(time.Minute), LastSeenAt: now}); err != nil {
		t.Fatal(err)
	}
	long := e.mint(e.validClaims("short", "u3"), jwt.SigningMethodEdDSA, e.key, e.kid())
	if _, err := e.svc.Authenticate(ctx, long); err != nil {
		t.Fatalf("before row expiry: %v", err)
	}
	e.clock.Advance(time.Minute)
	_, err = e.svc.Authenticate(ctx, long)
	wantErr(t, "row expired, JWT not", err, identity.ErrUnauthenticated)

	if err := e.svc.PurgeExpired(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"short"} {
		_, err := e.store.GetSession(ctx, id)
		wantErr(t, "purged session "+id, err, identity.ErrNotFound)
	}
}

func TestIdentitySessionCookieAttributes(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cfg := baseConfig(key)
	cfg.RedirectURL, cfg.AllowInsecureCookies = "https://anpr.example/auth/callback", false
	e := newEnv(t, func(c *identity.Config) { *c = cfg })
	c := e.svc.SessionCookie("v", e.clock.Now().Add(time.Hour))
	if c.Name != "__Host-anpr_session" || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
		t.Errorf("session cookie %+v: want __Host- name, HttpOnly, Secure, SameSite=Strict, Path=/, no Domain", c)
	}
	if c := e.svc.ClearSessionCookie(); c.MaxAge >= 0 || !c.Secure || c.Name != "__Host-anpr_session" {
		t.Errorf("clearing cookie %+v", c)
	}
	if e.cfg.SessionIssuer != "https://anpr.example" {
		t.Errorf("session issuer = %q, want the portal origin", e.cfg.SessionIssuer)
	}
	if c := e.svc.ClearLoginCookie(); c.Name != "__Host-anpr_login" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("login cookie %+v: want __Host-, Secure, HttpOnly, SameSite=Lax (the IdP redirect is cross-site)", c)
	}
}

func TestIdentityConfigRefusesUnsafeSettings(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name string
		edit func(*identity.Config)
		want string
	}{
		{"insecure cookies off localhost", func(c *identity.Config) { c.RedirectURL = "http://anpr.example/cb" }, "redirect URL"},
		{"insecure cookies with https", func(c *identity.Config) { c.RedirectURL = "https://127.0.0.1/cb" }, "insecure cookies"},
		{"plain http issuer off localhost", func(c *identity.Config) { c.Issuer = "http://idp.example" }, "issuer"},
		{"HS256 for ID tokens", func(c *identity.Config) { c.IDTokenAlgs = []string{"RS256", "HS256"} }, "HS256"},
		{"none for ID tokens", func(c *identity.Config) { c.IDTokenAlgs = []string{"none"} }, "none"},
		{"no signing key", func(c *identity.Config) { c.SigningKey = nil }, "signing key"},
		{"__Host- cookie without Secure", func(c *identity.Config) { c.CookieName = "__Host-x" }, "Secure"},
		{"idle longer than session", func(c *identity.Config) { c.SessionTTL, c.SessionIdleTTL = time.Hour, 2*time.Hour }, "idle"},
		{"manager grantable to... ingest", func(c *identity.Config) { c.GrantableRoles = []string{"ingest"} }, "grantable"},
		{"unknown mapped role", func(c *identity.Config) { c.RoleMapping.Map = map[string]string{"g": "root"} }, "unknown role"},
		{"scope with a space", func(c *identity.Config) { c.Scopes = []string{"openid", "profile email"} }, "scope"},
		{"role claim path with an empty part", func(c *identity.Config) { c.RoleMapping.Claim = "realm_access..roles" }, "role claim"},
		{"rank claim path ending in a dot", func(c *identity.Config) { c.RankMapping.Claim = "rank." }, "rank claim"},
		{"rank mapped to a rank outside the order", func(c *identity.Config) { c.RankMapping.Map = map[string]string{"DI": "detective_inspector"} }, "not a rank of the order"},
		{"rank listed twice", func(c *identity.Config) { c.Ranks = []string{"constable", "inspector", "constable"} }, "twice"},
		{"rank name with capitals", func(c *identity.Config) { c.Ranks = []string{"Constable"} }, "lower-case"},
		{"post-logout URL off localhost over http", func(c *identity.Config) { c.PostLogoutURL = "http://anpr.example/" }, "post-logout URL"},
		{"access contact with a newline", func(c *identity.Config) { c.AccessContact = "ring\n1234" }, "access contact"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig(key)
			tc.edit(&cfg)
			err := cfg.CheckAndSetDefaults()
			wantErr(t, "config", err, identity.ErrInvalid)
			if err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
		})
	}
	// All problems at once.
	cfg := identity.Config{IDTokenAlgs: []string{"HS256"}}
	err := cfg.CheckAndSetDefaults()
	for _, want := range []string{"issuer is required", "client id", "redirect URL is required", "HS256", "signing key"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not list %q", err, want)
		}
	}
}

func TestIdentitySigningKeyFileIsCreatedOnceAndReused(t *testing.T) {
	path := t.TempDir() + "/keys/session.key"
	k1, err := identity.LoadOrCreateSigningKey(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := identity.LoadOrCreateSigningKey(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !k1.Equal(k2) {
		t.Error("second load made a new key: every restart would sign everyone out")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
}
