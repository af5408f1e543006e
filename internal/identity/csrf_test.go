package identity_test

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"

	"github.com/anpr-portal/anpr/internal/identity"
)

func TestIdentityCSRF(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	cookieA, a := e.sessionOf("ann", "Ann", identity.RoleInvestigator)
	_, b := e.sessionOf("bob", "Bob", identity.RoleInvestigator)
	_, a2 := e.sessionOf("ann", "Ann", identity.RoleInvestigator) // Ann's second browser

	tokA := e.svc.CSRFToken(a)
	if err := e.svc.CheckCSRF(a, tokA); err != nil {
		t.Fatalf("own token refused: %v", err)
	}
	if again := e.svc.CSRFToken(a); again == tokA {
		t.Error("two tokens for a session are identical: they must be freshly masked (BREACH)")
	} else if err := e.svc.CheckCSRF(a, again); err != nil {
		t.Errorf("second masking refused: %v", err)
	}

	raw, _ := base64.RawURLEncoding.DecodeString(tokA)
	raw[len(raw)-1] ^= 1
	cases := []struct {
		name  string
		p     identity.Principal
		token string
	}{
		{"missing token", a, ""},
		{"another user's token", a, e.svc.CSRFToken(b)},
		{"the same user's token from another session", a, e.svc.CSRFToken(a2)},
		{"token flipped", a, base64.RawURLEncoding.EncodeToString(raw)},
		{"token truncated", a, tokA[:20]},
		{"not base64", a, strings.Repeat("*", len(tokA))},
		{"principal not from a session", identity.Principal{Kind: identity.KindUser, Subject: "ann", SessionID: a.SessionID}, tokA},
		{"zero principal", identity.Principal{}, tokA},
	}
	for _, tc := range cases {
		wantErr(t, tc.name, e.svc.CheckCSRF(tc.p, tc.token), identity.ErrForbidden)
	}

	// After logout the old token dies with the session; the next session's token differs.
	if _, err := e.svc.Logout(ctx, a, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.Authenticate(ctx, cookieA)
	wantErr(t, "session after logout", err, identity.ErrUnauthenticated)
	_, a3 := e.sessionOf("ann", "Ann", identity.RoleInvestigator)
	wantErr(t, "token replayed from a logged-out session", e.svc.CheckCSRF(a3, tokA), identity.ErrForbidden)
	if e.svc.CSRFToken(identity.Principal{Kind: identity.KindAPIKey}) != "" {
		t.Error("an API key got a CSRF token")
	}
}

func TestIdentitySafeReturnTo(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/reads?vrm=AB12CDE&from=2026-01-01#map", "/reads?vrm=AB12CDE&from=2026-01-01#map"},
		{"/a/b%20c", "/a/b%20c"},
		{"//evil.com", "/"},
		{"//evil.com/path", "/"},
		{"///evil.com", "/"},
		{"/\\evil.com", "/"},
		{"\\\\evil.com", "/"},
		{"/\\/evil.com", "/"},
		{"https://evil.com", "/"},
		{"http://evil.com/", "/"},
		{"HTTPS://evil.com", "/"},
		{"javascript:alert(1)", "/"},
		{"JaVaScRiPt:alert(1)", "/"},
		{"data:text/html,<script>alert(1)</script>", "/"},
		{"evil.com", "/"},
		{"/%2F%2Fevil.com", "/"},
		{"/%2f/evil.com", "/"},
		{"/%5Cevil.com", "/"},
		{"/\t/evil.com", "/"},
		{"/\n/evil.com", "/"},
		{"/ /evil.com", "/"},
		{"/\x00", "/"},
		{"/é", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
	} {
		if got := identity.SafeReturnTo(tc.in); got != tc.want {
			t.Errorf("SafeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Whatever comes in, the result resolves to a URL on the portal's own origin, the way a browser
// resolves a Location header.
func FuzzIdentitySafeReturnTo(f *testing.F) {
	for _, s := range []string{"/", "//evil.com", "/\\evil.com", "https://evil.com", "javascript:x", "/a?b=c#d", "/%2F%2Fx", "/.//x", "/..//x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://portal.example/app/page")
	f.Fuzz(func(t *testing.T, in string) {
		out := identity.SafeReturnTo(in)
		if out != "/" && out != in {
			t.Fatalf("SafeReturnTo(%q) = %q: must be the input or /", in, out)
		}
		if !strings.HasPrefix(out, "/") || strings.HasPrefix(out, "//") || strings.ContainsAny(out, "\\\t\r\n ") {
			t.Fatalf("SafeReturnTo(%q) = %q", in, out)
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("SafeReturnTo(%q) = %q does not parse: %v", in, out, err)
		}
		if r := base.ResolveReference(u); r.Scheme != "https" || r.Host != "portal.example" || r.User != nil {
			t.Fatalf("SafeReturnTo(%q) = %q resolves to %s", in, out, r)
		}
	})
}
