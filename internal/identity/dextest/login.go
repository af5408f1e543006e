package dextest

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

// ErrLoginRejected means Dex showed its login form again after the credentials were posted:
// wrong password or unknown user.
var ErrLoginRejected = errors.New("dex rejected the login")

var formAction = regexp.MustCompile(`<form[^>]*method="post"[^>]*action="([^"]*)"`)

// Login signs u in the way a browser would, without one. It GETs startURL with c (a portal
// login URL or a Dex authorization URL), expects to land on Dex's password form, posts u's email
// and password, and lets c follow the redirects that follow: with the default redirect policy
// that ends at the client's redirect URI (and whatever the portal does next); a CheckRedirect
// returning http.ErrUseLastResponse stops at the first redirect instead. c should have a cookie
// jar when the portal keeps state (state, nonce, PKCE) in cookies.
//
// The caller owns the returned response and must close its body. A refused login returns
// ErrLoginRejected; a start URL that does not lead to the form (e.g. Dex refusing an
// unregistered redirect_uri) returns an error quoting the page reached.
func (d *Dex) Login(ctx context.Context, c *http.Client, startURL string, u User) (*http.Response, error) {
	form, err := d.get(ctx, c, startURL)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(form.Body, 1<<20))
	_ = form.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read Dex login page: %w", err)
	}
	action, err := d.loginAction(form, string(body))
	if err != nil {
		return nil, err
	}

	vals := url.Values{"login": {u.Email}, "password": {u.Password}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, action, strings.NewReader(vals.Encode()))
	if err != nil {
		return nil, fmt.Errorf("build login POST: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("post Dex login form: %w", err)
	}
	// Dex answers a bad password with its form again (status 401), at the form's own URL.
	if d.isDexLoginForm(resp.Request.URL) {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("%w: %s", ErrLoginRejected, u.Email)
	}
	return resp, nil
}

func (d *Dex) get(ctx context.Context, c *http.Client, target string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("build login GET: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", target, err)
	}
	return resp, nil
}

// loginAction checks that the page is Dex's password form and returns the absolute URL to post.
func (d *Dex) loginAction(resp *http.Response, body string) (string, error) {
	at := resp.Request.URL
	m := formAction.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || !d.isDexLoginForm(at) || m == nil {
		return "", fmt.Errorf("expected Dex's login form, got %s at %s: %s",
			resp.Status, at.Redacted(), snippet(body))
	}
	action, err := at.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return "", fmt.Errorf("parse login form action %q: %w", m[1], err)
	}
	return action.String(), nil
}

// isDexLoginForm: the local password connector serves its form under <issuer>/auth/local.
func (d *Dex) isDexLoginForm(u *url.URL) bool {
	return strings.HasPrefix(u.Scheme+"://"+u.Host+u.Path, d.Issuer+"/auth/local")
}

// snippet shortens a page for an error message, preferring Dex's error text when present.
func snippet(body string) string {
	if i := strings.Index(body, `class="theme-panel"`); i >= 0 {
		body = body[i:]
	}
	body = strings.Join(strings.Fields(body), " ")
	if len(body) > 300 {
		body = body[:300] + "..."
	}
	return body
}
