package identity_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/identity/dextest"
)

// portal is a minimal HTTP front for the identity service, shaped like the portal's handlers:
// each route parses, calls one Service method and renders, so the tests drive the Service exactly as a browser would.
type portal struct {
	*env
	srv *httptest.Server
	dex *dextest.Dex

	mu   sync.Mutex
	hold bool // the callback answers "held" without completing the login (see callbackURL)
}

// statusOf maps the identity error kinds the way the HTTP layer should.
func statusOf(err error) int {
	switch {
	case errors.Is(err, identity.ErrUnauthenticated):
		return http.StatusUnauthorized
	case errors.Is(err, identity.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, identity.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, identity.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, identity.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, identity.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

type meResponse struct {
	Principal identity.Principal `json:"principal"`
	CSRFToken string             `json:"csrf_token"`
}

func (p *portal) routes() http.Handler {
	mux := http.NewServeMux()
	fail := func(w http.ResponseWriter, err error) { http.Error(w, err.Error(), statusOf(err)) }
	auth := func(r *http.Request) (identity.Principal, error) {
		return p.svc.Authenticate(r.Context(), p.svc.SessionCookieValue(r))
	}
	mux.HandleFunc("GET /auth/login", func(w http.ResponseWriter, r *http.Request) {
		start, err := p.svc.BeginLogin(r.Context(), r.URL.Query().Get("return_to"))
		if err != nil {
			fail(w, err)
			return
		}
		http.SetCookie(w, start.Cookie)
		http.Redirect(w, r, start.AuthURL, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /auth/callback", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		hold := p.hold
		p.mu.Unlock()
		if hold {
			_, _ = io.WriteString(w, "held")
			return
		}
		http.SetCookie(w, p.svc.ClearLoginCookie())
		res, err := p.svc.CompleteLogin(r.Context(), p.svc.CallbackFromRequest(r, r.RemoteAddr))
		if err != nil {
			fail(w, err)
			return
		}
		http.SetCookie(w, res.Cookie)
		http.Redirect(w, r, res.ReturnTo, http.StatusSeeOther)
	})
	mux.HandleFunc("GET /api/v1/me", func(w http.ResponseWriter, r *http.Request) {
		pr, err := auth(r)
		if err != nil {
			fail(w, err)
			return
		}
		_ = json.NewEncoder(w).Encode(meResponse{Principal: pr, CSRFToken: p.svc.CSRFToken(pr)})
	})
	mux.HandleFunc("POST /auth/logout", func(w http.ResponseWriter, r *http.Request) {
		pr, err := auth(r)
		if err == nil {
			err = p.svc.CheckCSRF(pr, r.Header.Get(identity.CSRFHeader))
		}
		if err != nil {
			fail(w, err)
			return
		}
		res, err := p.svc.Logout(r.Context(), pr, r.RemoteAddr)
		http.SetCookie(w, res.ClearCookie)
		if err != nil {
			fail(w, err)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"idp_logout_url": res.IdPLogoutURL})
	})
	mux.HandleFunc("POST /api/v1/echo", func(w http.ResponseWriter, r *http.Request) {
		pr, err := auth(r)
		if err == nil {
			err = p.svc.CheckCSRF(pr, r.Header.Get(identity.CSRFHeader))
		}
		if err != nil {
			fail(w, err)
			return
		}
		_, _ = io.WriteString(w, "changed")
	})
	// Everything else is "the app": it says where the browser landed.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "landed "+r.URL.RequestURI())
	})
	return mux
}

// newPortal starts the portal and a real Dex that knows its callback.
func newPortal(t *testing.T) *portal {
	t.Helper()
	p := &portal{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.routes().ServeHTTP(w, r) }))
	t.Cleanup(p.srv.Close)
	callback := p.srv.URL + "/auth/callback"
	p.dex = dextest.Start(t, dextest.Options{RedirectURIs: []string{callback}})
	p.env = newEnv(t, func(c *identity.Config) {
		c.Issuer, c.ClientID, c.ClientSecret, c.RedirectURL = p.dex.Issuer, p.dex.ClientID, p.dex.ClientSecret, callback
	})
	return p
}

// browser is an HTTP client with its own cookie jar. It refuses to follow a redirect off this
// machine, so an open-redirect regression fails the test instead of reaching for the network.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Hostname() != "127.0.0.1" {
			return fmt.Errorf("redirected off the test machine to %s", req.URL)
		}
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// login signs u in through the portal and Dex and returns the landing page body.
func (p *portal) login(t *testing.T, c *http.Client, u dextest.User, returnTo string) string {
	t.Helper()
	resp, err := p.dex.Login(t.Context(), c, p.srv.URL+"/auth/login?return_to="+url.QueryEscape(returnTo), u)
	if err != nil {
		t.Fatalf("login as %s: %v", u.Username, err)
	}
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login as %s: %s: %s", u.Username, resp.Status, body)
	}
	return body
}

// callbackURL runs the browser half of a login up to the IdP's redirect back to the portal and
// returns that URL (code and state) without completing the login: the portal holds callbacks
// meanwhile. (Stopping the client at the redirect instead would not do: Dex redirects straight
// from its login POST, which dextest.Login then takes for a refused password.) startURL is the
// portal's login URL or an IdP authorisation URL.
func (p *portal) callbackURL(t *testing.T, c *http.Client, startURL string, u dextest.User) string {
	t.Helper()
	p.mu.Lock()
	p.hold = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.hold = false
		p.mu.Unlock()
	}()
	resp, err := p.dex.Login(t.Context(), c, startURL, u)
	if err != nil {
		t.Fatalf("login as %s: %v", u.Username, err)
	}
	body := readBody(t, resp)
	loc := resp.Request.URL
	if body != "held" || loc.Path != "/auth/callback" || loc.Query().Get("code") == "" {
		t.Fatalf("expected the held callback with a code, got %s at %s: %s", resp.Status, loc, body)
	}
	return loc.String()
}

// authURL starts a login at the portal and returns the IdP authorisation URL it redirects to.
func (p *portal) authURL(t *testing.T, c *http.Client, returnTo string) string {
	t.Helper()
	stop := *c
	stop.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := stop.Get(p.srv.URL + "/auth/login?return_to=" + url.QueryEscape(returnTo))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || !strings.HasPrefix(loc.String(), p.dex.Issuer) {
		t.Fatalf("login did not redirect to Dex: %s %v", resp.Status, err)
	}
	return loc.String()
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(t, resp)
	return resp.StatusCode, body
}

func (p *portal) me(t *testing.T, c *http.Client) (meResponse, int) {
	t.Helper()
	code, body := get(t, c, p.srv.URL+"/api/v1/me")
	var m meResponse
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("me: %v: %s", err, body)
		}
	}
	return m, code
}

func post(t *testing.T, c *http.Client, u, csrf string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if csrf != "" {
		req.Header.Set(identity.CSRFHeader, csrf)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readBody(t, resp)
}

// sessionCookie reads the session cookie the jar holds for the portal.
func (p *portal) sessionCookie(t *testing.T, c *http.Client) string {
	t.Helper()
	u, _ := url.Parse(p.srv.URL)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == p.cfg.CookieName {
			return ck.Value
		}
	}
	t.Fatalf("no %s cookie in the jar", p.cfg.CookieName)
	return ""
}

func withCookie(t *testing.T, p *portal, name, value string) *http.Client {
	c := browser(t)
	u, _ := url.Parse(p.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
	return c
}

func mustStatus(t *testing.T, what string, got, want int, body string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: status %d, want %d: %s", what, got, want, strings.TrimSpace(body))
	}
}

func fmtUser(u dextest.User) string { return fmt.Sprintf("%s (%s)", u.Username, u.Role) }
