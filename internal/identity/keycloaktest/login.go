package keycloaktest

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// ErrLoginRejected means Keycloak showed its login form again after the credentials were posted.
var ErrLoginRejected = errors.New("keycloak rejected the login")

var loginForm = regexp.MustCompile(`<form[^>]*id="kc-form-login"[^>]*action="([^"]*)"`)

// Login signs u in the way a browser would, without one: it GETs startURL with c (a portal login
// URL), expects Keycloak's login form, posts the username and password, and lets c follow the
// redirects that follow (to the portal's callback and on). c needs a cookie jar: Keycloak keeps
// the login in cookies. The caller closes the returned response's body.
func (r *Realm) Login(ctx context.Context, c *http.Client, startURL string, u User) (*http.Response, error) {
	form, body, err := r.get(ctx, c, startURL)
	if err != nil {
		return nil, err
	}
	action, err := r.formAction(form, body)
	if err != nil {
		return nil, err
	}
	vals := url.Values{"username": {u.Username}, "password": {u.Password}, "credentialId": {""}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post Keycloak login form: %w", err)
	}
	if r.isKeycloak(resp.Request.URL) {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if loginForm.Match(b) {
			return nil, fmt.Errorf("%w: %s", ErrLoginRejected, u.Username)
		}
		return nil, fmt.Errorf("after the login form, still at Keycloak (%s %s): %s", resp.Status, resp.Request.URL.Redacted(), snippet(string(b)))
	}
	return resp, nil
}

// ShowsLoginForm reports whether startURL (a portal login URL) leads to Keycloak's login form,
// that is whether Keycloak has no session for c's browser; with one it would go straight back to
// the portal.
func (r *Realm) ShowsLoginForm(ctx context.Context, c *http.Client, startURL string) (bool, error) {
	resp, body, err := r.get(ctx, c, startURL)
	if err != nil {
		return false, err
	}
	return r.isKeycloak(resp.Request.URL) && loginForm.MatchString(body), nil
}

func (r *Realm) get(ctx context.Context, c *http.Client, target string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("get %s: %w", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(b), err
}

func (r *Realm) formAction(resp *http.Response, body string) (string, error) {
	m := loginForm.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || !r.isKeycloak(resp.Request.URL) || m == nil {
		return "", fmt.Errorf("expected Keycloak's login form, got %s at %s: %s", resp.Status, resp.Request.URL.Redacted(), snippet(body))
	}
	action, err := resp.Request.URL.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return "", fmt.Errorf("parse login form action %q: %w", m[1], err)
	}
	return action.String(), nil
}

func (r *Realm) isKeycloak(u *url.URL) bool {
	return strings.HasPrefix(u.Scheme+"://"+u.Host+u.Path, r.Issuer+"/")
}

func snippet(body string) string {
	body = strings.Join(strings.Fields(body), " ")
	if len(body) > 400 {
		body = body[:400] + "..."
	}
	return body
}

// DemoUsers are the portal's demo people as a force's Keycloak would hold them: the same names,
// emails and passwords as the bundled Dex's, each with a realm role and (for officers) a rank
// attribute, plus "newstarter", who has an account but no portal role yet.
func DemoUsers() []User {
	return []User{
		{Username: "investigator", Email: "investigator@anpr.example", Password: "investigator-demo", FirstName: "DC Ivy", LastName: "Ingram",
			Roles: []string{RoleNames["investigator"]}, Rank: "Constable"},
		{Username: "extended", Email: "extended@anpr.example", Password: "extended-demo", FirstName: "DS Ezra", LastName: "Ellis",
			Roles: []string{RoleNames["extended_investigator"]}, Rank: "Sergeant"},
		{Username: "inspector", Email: "inspector@anpr.example", Password: "inspector-demo", FirstName: "Insp Aisha", LastName: "Adams",
			Roles: []string{RoleNames["authorising_officer"]}, Rank: "Inspector"},
		{Username: "superintendent", Email: "superintendent@anpr.example", Password: "superintendent-demo", FirstName: "Supt Sam", LastName: "Shaw",
			Roles: []string{RoleNames["authorising_officer"]}, Rank: "Superintendent"},
		{Username: "auditor", Email: "auditor@anpr.example", Password: "auditor-demo", FirstName: "Audrey", LastName: "Hale",
			Roles: []string{RoleNames["auditor"]}},
		{Username: "manager", Email: "manager@anpr.example", Password: "manager-demo", FirstName: "Max", LastName: "Mercer",
			Roles: []string{RoleNames["anpr_manager"]}},
		{Username: "newstarter", Email: "newstarter@anpr.example", Password: "newstarter-demo", FirstName: "Nia", LastName: "Newton", Rank: "Constable"},
	}
}

// PortalRoleMap is the identity.roles.map a portal needs for RoleNames.
func PortalRoleMap() map[string]string {
	m := map[string]string{}
	for portal, realm := range RoleNames {
		m[realm] = portal
	}
	return m
}
