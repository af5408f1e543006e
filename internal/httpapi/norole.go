package httpapi

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/identity"
)

// noRolePage is what a person signed in at the IdP but without a portal role sees: what
// happened, whom to ask (with the identifier that person needs), and a sign-out that ends the
// IdP's session too, so that another account can sign in. The IdP logout is a POSTed form, so
// the ID token it carries stays out of the address bar, history and logs.
var noRolePage = template.Must(template.New("norole").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>No access to the ANPR portal</title></head>
<body>
<main>
<h1>No access to the ANPR portal</h1>
<p>You signed in as <strong>{{.Name}}</strong>{{if .Email}} ({{.Email}}){{end}}, but your account has no role in the
ANPR portal, so you cannot use it. This sign-in was refused and recorded in the audit log.</p>
<h2>To get access</h2>
<p>Ask {{.Contact}} to give your account a role. They will need your account identifier:</p>
<dl>
<dt>Identity provider</dt><dd><code>{{.Issuer}}</code></dd>
<dt>Account (subject)</dt><dd><code>{{.Subject}}</code></dd>
</dl>
<h2>Signed in with the wrong account?</h2>
{{if .Logout}}<form method="post" action="{{.Logout.Endpoint}}">
{{range $k, $vs := .Logout.Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">
{{end}}{{end}}<button type="submit">Sign out of your identity provider</button>
</form>
<p>This ends your sign-in there too, so you can then sign in with another account.</p>
{{else}}<p>Your identity provider offers no sign-out from here: close every browser window to end your
sign-in there, then <a href="/">sign in again</a> with another account.</p>
{{end}}</main>
</body></html>
`))

// renderNoRole answers a refused no-role login with the page instead of problem+json: a person
// arriving from the IdP's login form is reading a browser page, not calling the API.
func renderNoRole(c *gin.Context, e *identity.NoRoleError) {
	var buf bytes.Buffer
	if err := noRolePage.Execute(&buf, e); err != nil {
		abortError(c, e, nil)
		return
	}
	csp := "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
	if e.Logout != nil {
		if u, err := url.Parse(e.Logout.Endpoint); err == nil {
			csp = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self' " + u.Scheme + "://" + u.Host
		}
	}
	c.Header("Content-Security-Policy", csp)
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusForbidden, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}
