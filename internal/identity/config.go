package identity

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Config configures login, sessions, API keys and role mapping. Zero values take the defaults
// that CheckAndSetDefaults fills in.
type Config struct {
	// Issuer is the IdP's issuer URL (discovery at Issuer/.well-known/openid-configuration).
	// https, except on a loopback host for development.
	Issuer       string
	ClientID     string
	ClientSecret string // may be empty for a public client; PKCE protects the code either way
	// RedirectURL is the portal's callback, e.g. https://anpr.example/auth/callback; it must be
	// registered at the IdP.
	RedirectURL string
	// PostLogoutURL is where the IdP sends the browser after an IdP logout (registered there);
	// default: the origin of RedirectURL + "/".
	PostLogoutURL string
	// Scopes requested at login. Default openid, profile, email, groups (the bundled Dex's);
	// an IdP without a "groups" scope (Keycloak, Entra ID) answers invalid_scope to it, so such a
	// force lists its own. "openid" is always added.
	Scopes []string
	// IDTokenAlgs is the signature allow-list for ID and access tokens from the IdP. Only
	// asymmetric algorithms may be listed. Default RS256, ES256, PS256, EdDSA.
	IDTokenAlgs []string

	// SessionTTL is the absolute lifetime of a portal session (default 8h, at most 24h);
	// SessionIdleTTL ends a session unused for that long (default 30m, at most SessionTTL).
	SessionTTL     time.Duration
	SessionIdleTTL time.Duration
	// LoginTTL bounds the time between starting a login and its callback (default 10m).
	LoginTTL time.Duration
	// SessionIssuer is the iss of session JWTs; default the origin of RedirectURL.
	SessionIssuer string

	// CookieName and LoginCookieName name the session and login-flow cookies. Defaults
	// "__Host-anpr_session" and "__Host-anpr_login" (the __Host- prefix makes browsers insist on
	// Secure, Path=/ and no Domain); without the prefix under AllowInsecureCookies.
	CookieName      string
	LoginCookieName string
	// AllowInsecureCookies drops the Secure attribute so login works over plain http. It is
	// refused unless RedirectURL is http on a loopback host (localhost, 127.0.0.1, ::1).
	AllowInsecureCookies bool

	// SigningKey signs session JWTs (EdDSA). When nil, SigningKeyFile is loaded, or created
	// with a new key when absent (LoadOrCreateSigningKey). One of the two is required.
	SigningKey     ed25519.PrivateKey
	SigningKeyFile string

	// RoleMapping turns IdP claims into roles; RankMapping into a rank (mapping.go).
	RoleMapping RoleMapping
	RankMapping RankMapping
	// Ranks lists the known police ranks, lowest first; a mapped or granted rank must be one of
	// them and the higher of the IdP's and a grant's rank wins. Default DefaultRanks(). The
	// policy (authz) must be given the same order.
	Ranks []string
	// AccessContact says whom a person signed in without a portal role should ask for access,
	// on the page that refuses them. Default "your force's ANPR manager".
	AccessContact string
	// GrantableRoles are the roles the ANPR manager may grant through the API. Default
	// investigator, extended_investigator, authorising_officer, auditor: anpr_manager and ingest
	// come only from the IdP and API keys, so one manager cannot mint another.
	GrantableRoles []string

	// APIKeyScopes maps each scope an API key may carry to the machine role it gives.
	// Default {"reads:ingest": "ingest"}.
	APIKeyScopes map[string]string
	// APIKeyTTL is the lifetime of a key created without an expiry (default 90 days);
	// APIKeyMaxTTL the longest allowed (default 366 days).
	APIKeyTTL    time.Duration
	APIKeyMaxTTL time.Duration
	// APIKeyCacheTTL, when positive, lets a verified API key be trusted from memory for that long
	// (at most MaxAPIKeyCacheTTL; serve uses DefaultAPIKeyCacheTTL), sparing a store read per
	// machine request. Revocation through this service still takes effect at once; a revocation
	// written to the store by another process (another instance) takes effect within it. Zero:
	// every request reads the key from the store, so any revocation is seen at once.
	APIKeyCacheTTL time.Duration

	// AccessTokens, when Audience is set, accepts IdP access tokens (JWTs) as bearer
	// credentials for API clients.
	AccessTokens AccessTokenConfig
}

// AccessTokenConfig configures IdP access tokens for API clients.
type AccessTokenConfig struct {
	// Audience the token must carry (aud). Empty disables access tokens.
	Audience string
	// ScopeClaim holds the token's scopes, space-separated or a list. Default "scope"
	// (Entra ID uses "scp").
	ScopeClaim string
}

// Enabled reports whether access tokens are accepted.
func (a AccessTokenConfig) Enabled() bool { return a.Audience != "" }

// Defaults.
const (
	DefaultSessionTTL     = 8 * time.Hour
	DefaultSessionIdleTTL = 30 * time.Minute
	DefaultLoginTTL       = 10 * time.Minute
	DefaultAPIKeyTTL      = 90 * 24 * time.Hour
	DefaultAPIKeyMaxTTL   = 366 * 24 * time.Hour
	maxSessionTTL         = 24 * time.Hour
)

// CheckAndSetDefaults fills unset fields and reports every invalid one at once.
func (c *Config) CheckAndSetDefaults() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if c.Issuer == "" {
		bad("issuer is required")
	} else if err := checkURL(c.Issuer); err != nil {
		bad("issuer: %v", err)
	}
	if c.ClientID == "" {
		bad("client id is required")
	}
	var redirect *url.URL
	if c.RedirectURL == "" {
		bad("redirect URL is required")
	} else if err := checkURL(c.RedirectURL); err != nil {
		bad("redirect URL: %v", err)
	} else {
		redirect, _ = url.Parse(c.RedirectURL)
	}
	if c.AllowInsecureCookies && redirect != nil && !(redirect.Scheme == "http" && isLoopback(redirect.Hostname())) {
		bad("insecure cookies are allowed only for an http redirect URL on localhost, 127.0.0.1 or ::1")
	}
	origin := ""
	if redirect != nil {
		origin = redirect.Scheme + "://" + redirect.Host
	}
	if c.PostLogoutURL == "" && origin != "" {
		c.PostLogoutURL = origin + "/"
	} else if c.PostLogoutURL != "" {
		if err := checkURL(c.PostLogoutURL); err != nil {
			bad("post-logout URL: %v", err)
		}
	}
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email", "groups"}
	} else if !slices.Contains(c.Scopes, "openid") {
		c.Scopes = append([]string{"openid"}, c.Scopes...)
	}
	for _, sc := range c.Scopes {
		if !validOAuthScope(sc) {
			bad("scope %q: a scope is printable ASCII without spaces, quotes or backslashes (RFC 6749 section 3.3)", sc)
		}
	}
	if len(c.IDTokenAlgs) == 0 {
		c.IDTokenAlgs = []string{"RS256", "ES256", "PS256", "EdDSA"}
	}
	for _, a := range c.IDTokenAlgs {
		if !asymmetricAlgs[a] {
			bad("ID token algorithm %q is not allowed: use an asymmetric algorithm (RS*, PS*, ES*, EdDSA)", a)
		}
	}

	durations := []struct {
		name     string
		v        *time.Duration
		def, max time.Duration
	}{
		{"session TTL", &c.SessionTTL, DefaultSessionTTL, maxSessionTTL},
		{"session idle TTL", &c.SessionIdleTTL, DefaultSessionIdleTTL, maxSessionTTL},
		{"login TTL", &c.LoginTTL, DefaultLoginTTL, time.Hour},
		{"API key TTL", &c.APIKeyTTL, DefaultAPIKeyTTL, 0},
		{"API key max TTL", &c.APIKeyMaxTTL, DefaultAPIKeyMaxTTL, 0},
	}
	for _, d := range durations {
		switch {
		case *d.v < 0:
			bad("%s %v is negative", d.name, *d.v)
		case *d.v == 0:
			*d.v = d.def
		case d.max > 0 && *d.v > d.max:
			bad("%s %v is longer than %v", d.name, *d.v, d.max)
		}
	}
	if c.APIKeyCacheTTL < 0 || c.APIKeyCacheTTL > MaxAPIKeyCacheTTL {
		bad("API key cache TTL %v must be 0 (off) to %v: revocation elsewhere must take effect within seconds", c.APIKeyCacheTTL, MaxAPIKeyCacheTTL)
	}
	if c.SessionIdleTTL > c.SessionTTL {
		bad("session idle TTL %v is longer than the session TTL %v", c.SessionIdleTTL, c.SessionTTL)
	}
	if c.APIKeyTTL > c.APIKeyMaxTTL {
		bad("API key TTL %v is longer than the max %v", c.APIKeyTTL, c.APIKeyMaxTTL)
	}
	if c.SessionIssuer == "" {
		c.SessionIssuer = origin
	}

	prefix := "__Host-"
	if c.AllowInsecureCookies {
		prefix = ""
	}
	for _, f := range []struct {
		name string
		v    *string
		def  string
	}{{"cookie name", &c.CookieName, prefix + "anpr_session"}, {"login cookie name", &c.LoginCookieName, prefix + "anpr_login"}} {
		if *f.v == "" {
			*f.v = f.def
		}
		if !validCookieName(*f.v) {
			bad("%s %q is not a valid cookie name", f.name, *f.v)
		}
		if c.AllowInsecureCookies && (strings.HasPrefix(*f.v, "__Host-") || strings.HasPrefix(*f.v, "__Secure-")) {
			bad("%s %q needs Secure cookies, which AllowInsecureCookies turns off", f.name, *f.v)
		}
	}
	if c.CookieName == c.LoginCookieName {
		bad("cookie name and login cookie name must differ")
	}

	if c.SigningKey == nil && c.SigningKeyFile == "" {
		bad("a session signing key or signing key file is required")
	}
	if c.SigningKey != nil && len(c.SigningKey) != ed25519.PrivateKeySize {
		bad("session signing key must be an Ed25519 private key")
	}

	if len(c.Ranks) == 0 {
		c.Ranks = DefaultRanks()
	}
	errs = append(errs, CheckRanks(c.Ranks)...)
	errs = append(errs, c.RoleMapping.checkAndSetDefaults()...)
	errs = append(errs, c.RankMapping.checkAndSetDefaults(c.Ranks)...)
	if c.AccessContact == "" {
		c.AccessContact = "your force's ANPR manager"
	} else if len(c.AccessContact) > 500 || strings.ContainsFunc(c.AccessContact, isControl) {
		bad("access contact: at most 500 printable characters")
	}
	if c.GrantableRoles == nil {
		c.GrantableRoles = []string{RoleInvestigator, RoleExtendedInvestigator, RoleAuthorisingOfficer, RoleAuditor}
	}
	for _, r := range c.GrantableRoles {
		if !slices.Contains(KnownRoles(), r) || r == RoleIngest {
			bad("grantable role %q is not a person's role", r)
		}
	}
	if c.APIKeyScopes == nil {
		c.APIKeyScopes = map[string]string{ScopeReadsIngest: RoleIngest}
	}
	for s, r := range c.APIKeyScopes {
		if !validScope(s) {
			bad("API key scope %q: use lower-case letters, digits, '_', '.' and one ':'", s)
		}
		if !slices.Contains(KnownRoles(), r) {
			bad("API key scope %q gives unknown role %q", s, r)
		}
	}
	if c.AccessTokens.ScopeClaim == "" {
		c.AccessTokens.ScopeClaim = "scope"
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: identity config: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// asymmetricAlgs are the JWS algorithms an IdP token may use. HS* (a shared secret, which would
// let anyone holding the client secret mint tokens) and "none" are never accepted.
var asymmetricAlgs = map[string]bool{
	"RS256": true, "RS384": true, "RS512": true,
	"PS256": true, "PS384": true, "PS512": true,
	"ES256": true, "ES384": true, "ES512": true,
	"EdDSA": true,
}

// checkURL accepts an absolute https URL, or http on a loopback host (a local IdP or portal).
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Host == "" || u.User != nil || u.Fragment != "" {
		return fmt.Errorf("%q must be an absolute URL without user info or fragment", s)
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%q must use https (http only on localhost, 127.0.0.1 or ::1)", s)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func validCookieName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// validOAuthScope: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
func validOAuthScope(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func validScope(s string) bool {
	if s == "" || len(s) > 64 || strings.Count(s, ":") > 1 {
		return false
	}
	for _, r := range s {
		if !(r == ':' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}
