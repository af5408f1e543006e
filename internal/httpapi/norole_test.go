package httpapi

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/identity"
)

// The no-role page for each kind of IdP: with RP-initiated logout a form that posts the
// end-session request (and a CSP that lets it go there, and nowhere else); without (Dex), how to
// end the IdP session by hand. Names from the IdP are escaped.
func TestNoRolePage(t *testing.T) {
	gin.SetMode(gin.ReleaseMode)
	base := identity.NoRoleError{Name: `Nia <b>Newton</b>`, Email: "nia@force.example", Issuer: "https://sso.force.example/realms/force",
		Subject: "0c9d-4e1f", Contact: "the ANPR manager, ext. 4321"}
	withLogout := base
	withLogout.Logout = &identity.IdPLogout{Endpoint: "https://sso.force.example/realms/force/protocol/openid-connect/logout",
		Params: url.Values{"id_token_hint": {"eyJ.x.y"}, "client_id": {"anpr-portal"}, "post_logout_redirect_uri": {"https://anpr.force.example/"}}}
	for _, tc := range []struct {
		name    string
		e       identity.NoRoleError
		want    []string
		wantCSP string
	}{
		{"an IdP with RP-initiated logout", withLogout, []string{
			`<form method="post" action="https://sso.force.example/realms/force/protocol/openid-connect/logout">`,
			`<input type="hidden" name="id_token_hint" value="eyJ.x.y">`, `name="post_logout_redirect_uri" value="https://anpr.force.example/"`,
			"Sign out of your identity provider"}, "form-action 'self' https://sso.force.example"},
		{"an IdP without (Dex)", base, []string{"close every browser window"}, "form-action 'none'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			c, _ := gin.CreateTestContext(w)
			renderNoRole(c, &tc.e)
			page := w.Body.String()
			if w.Code != http.StatusForbidden || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
				t.Fatalf("%d %s", w.Code, w.Header().Get("Content-Type"))
			}
			for _, want := range append(tc.want, "No access to the ANPR portal", "Nia &lt;b&gt;Newton&lt;/b&gt;", "the ANPR manager, ext. 4321", "0c9d-4e1f", tc.e.Issuer) {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q:\n%s", want, page)
				}
			}
			if csp := w.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, tc.wantCSP) || strings.Contains(csp, "script-src") {
				t.Errorf("CSP %q", csp)
			}
			if tc.e.Logout == nil && strings.Contains(page, "<form") {
				t.Error("a sign-out form without an end-session endpoint")
			}
		})
	}
}
