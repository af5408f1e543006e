package dextest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/anpr-portal/anpr/internal/proc"
)

// callbackServer stands in for the portal's redirect URI: it echoes the query Dex sent back
// (code and state, or an error) as the response body, so a test reads it from Login's response.
func callbackServer(t *testing.T) (redirectURI string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/auth/callback" {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, r.URL.RawQuery)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/auth/callback"
}

type flow struct {
	d        *Dex
	conf     oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newFlow(t *testing.T, d *Dex, redirectURI string) flow {
	t.Helper()
	provider, err := oidc.NewProvider(t.Context(), d.Issuer)
	if err != nil {
		t.Fatalf("discover %s: %v", d.Issuer, err)
	}
	return flow{
		d: d,
		conf: oauth2.Config{
			ClientID: d.ClientID, ClientSecret: d.ClientSecret, RedirectURL: redirectURI,
			Endpoint: provider.Endpoint(),
			Scopes:   []string{oidc.ScopeOpenID, "email", "profile", "groups"},
		},
		verifier: provider.Verifier(&oidc.Config{ClientID: d.ClientID}),
	}
}

type authorization struct {
	code, pkceVerifier, nonce string
}

// authorize runs the browser half of the code flow with PKCE, state and nonce.
func (f flow) authorize(ctx context.Context, t *testing.T, u User) (authorization, error) {
	t.Helper()
	a := authorization{pkceVerifier: oauth2.GenerateVerifier(), nonce: oauth2.GenerateVerifier()}
	state := oauth2.GenerateVerifier()
	authURL := f.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(a.pkceVerifier), oidc.Nonce(a.nonce))
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.d.Login(ctx, &http.Client{Jar: jar, Timeout: 30 * time.Second}, authURL, u)
	if err != nil {
		return a, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read callback: %v", err)
	}
	if !strings.HasPrefix(resp.Request.URL.String(), f.conf.RedirectURL) {
		t.Fatalf("login ended at %s, want the redirect URI %s", resp.Request.URL, f.conf.RedirectURL)
	}
	q, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatalf("parse callback query %q: %v", body, err)
	}
	if q.Get("error") != "" {
		t.Fatalf("Dex returned error %q: %s", q.Get("error"), q.Get("error_description"))
	}
	if q.Get("state") != state {
		t.Fatalf("state = %q, want %q", q.Get("state"), state)
	}
	a.code = q.Get("code")
	if a.code == "" {
		t.Fatalf("no code in callback query %q", body)
	}
	return a, nil
}

type idClaims struct {
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Groups            []string `json:"groups"`
}

// TestDexPasswordLogin proves the bundled IdP end to end: every demo user logs in with the
// authorization-code flow and PKCE, and the ID token, verified against Dex's published keys,
// carries the claims the portal maps to roles. It also shows Dex refusing what it must refuse.
func TestDexPasswordLogin(t *testing.T) {
	redirectURI := callbackServer(t)
	d := Start(t, Options{RedirectURIs: []string{redirectURI}})
	f := newFlow(t, d, redirectURI)
	ctx := t.Context()

	if len(d.Users) != 6 {
		t.Errorf("got %d demo users, want 6 (one per role plus a second authorising officer)", len(d.Users))
	}
	for _, u := range d.Users {
		t.Run("login/"+u.Username, func(t *testing.T) {
			a, err := f.authorize(ctx, t, u)
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			tok, err := f.conf.Exchange(ctx, a.code, oauth2.VerifierOption(a.pkceVerifier))
			if err != nil {
				t.Fatalf("exchange code: %v", err)
			}
			raw, ok := tok.Extra("id_token").(string)
			if !ok {
				t.Fatal("token response has no id_token")
			}
			idt, err := f.verifier.Verify(ctx, raw)
			if err != nil {
				t.Fatalf("verify id_token: %v", err)
			}
			if idt.Nonce != a.nonce {
				t.Errorf("nonce = %q, want %q", idt.Nonce, a.nonce)
			}
			if idt.Issuer != d.Issuer || !slices.Equal(idt.Audience, []string{ClientID}) {
				t.Errorf("iss/aud = %s/%v, want %s/[%s]", idt.Issuer, idt.Audience, d.Issuer, ClientID)
			}
			var c idClaims
			if err := idt.Claims(&c); err != nil {
				t.Fatalf("decode claims: %v", err)
			}
			want := idClaims{Email: u.Email, EmailVerified: true, Name: u.Name,
				PreferredUsername: u.Username, Groups: u.Groups}
			if c.Email != want.Email || c.EmailVerified != want.EmailVerified || c.Name != want.Name ||
				c.PreferredUsername != want.PreferredUsername || !slices.Equal(c.Groups, want.Groups) {
				t.Errorf("claims = %+v, want %+v", c, want)
			}
			if !slices.Contains(u.Groups, "anpr:"+u.Role) {
				t.Errorf("groups %v lack anpr:%s", u.Groups, u.Role)
			}
		})
	}

	investigator := d.User("investigator")
	t.Run("refuse/wrong password", func(t *testing.T) {
		u := investigator
		u.Password = "not-" + u.Password
		if _, err := f.authorize(ctx, t, u); !errors.Is(err, ErrLoginRejected) {
			t.Fatalf("err = %v, want ErrLoginRejected", err)
		}
	})
	t.Run("refuse/unknown user", func(t *testing.T) {
		u := investigator
		u.Email = "nobody@anpr.example"
		if _, err := f.authorize(ctx, t, u); !errors.Is(err, ErrLoginRejected) {
			t.Fatalf("err = %v, want ErrLoginRejected", err)
		}
	})
	t.Run("refuse/unregistered redirect URI", func(t *testing.T) {
		evil := f
		evil.conf.RedirectURL = "http://127.0.0.1:1/steal"
		_, err := evil.authorize(ctx, t, investigator)
		if err == nil || errors.Is(err, ErrLoginRejected) || !strings.Contains(err.Error(), "redirect_uri") {
			t.Fatalf("err = %v, want Dex's unregistered redirect_uri page", err)
		}
	})
	for name, opts := range map[string][]oauth2.AuthCodeOption{
		"wrong PKCE verifier": {oauth2.VerifierOption(oauth2.GenerateVerifier())},
		"no PKCE verifier":    nil,
	} {
		t.Run("refuse/"+name, func(t *testing.T) {
			a, err := f.authorize(ctx, t, investigator)
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if _, err := f.conf.Exchange(ctx, a.code, opts...); err == nil {
				t.Fatal("code exchanged without the right PKCE verifier")
			}
		})
	}
	t.Run("refuse/wrong client secret", func(t *testing.T) {
		a, err := f.authorize(ctx, t, investigator)
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		bad := f.conf
		bad.ClientSecret = "not-the-secret"
		if _, err := bad.Exchange(ctx, a.code, oauth2.VerifierOption(a.pkceVerifier)); err == nil {
			t.Fatal("code exchanged with a wrong client secret")
		}
	})
}

// TestRunScript starts Dex the way `make run` does, through deploy/dex/run.sh, and logs in once,
// so the shell renderer of the config template cannot drift from the Go one unnoticed.
func TestRunScript(t *testing.T) {
	root, err := proc.WorkingRoot()
	if err != nil {
		t.Fatal(err)
	}
	build(t, root) // report a build failure as such, not as a run.sh failure
	port, err := proc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	redirectURI := callbackServer(t)
	d := &Dex{
		Issuer: "http://127.0.0.1:" + strconv.Itoa(port) + "/dex", ClientID: ClientID,
		ClientSecret: "run-script-secret", Users: DemoUsers(), tb: t,
		logPath: filepath.Join(t.TempDir(), "dex.log"),
	}
	logFile, err := os.Create(d.logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", filepath.Join(root, "deploy", "dex", "run.sh"),
		strconv.Itoa(port), "http://127.0.0.1:8080/auth/callback,"+redirectURI, t.TempDir())
	cmd.Env = append(os.Environ(), "DEX_CLIENT_SECRET="+d.ClientSecret)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p, err := proc.Start(cmd) // run.sh execs Dex, so this process is Dex
	_ = logFile.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(10 * time.Second); err != nil {
			t.Logf("stop Dex: %v", err)
		}
		if t.Failed() {
			t.Logf("Dex log:\n%s", d.logTail())
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), proc.WaitCap)
	defer cancel()
	if err := p.WaitReady(ctx, 50*time.Millisecond, d.ready); err != nil {
		t.Fatalf("Dex from run.sh: %v\n%s", err, d.logTail())
	}
	f := newFlow(t, d, redirectURI)
	a, err := f.authorize(t.Context(), t, d.User("inspector"))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	if _, err := f.conf.Exchange(t.Context(), a.code, oauth2.VerifierOption(a.pkceVerifier)); err != nil {
		t.Fatalf("exchange code with the run.sh client secret: %v", err)
	}
}

// TestDemoUsersMatchTemplate catches a user added to the config but not to DemoUsers (the login
// test catches the reverse and any password or group drift).
func TestDemoUsersMatchTemplate(t *testing.T) {
	root, err := proc.WorkingRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := os.ReadFile(filepath.Join(root, "deploy", "dex", "config.yaml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	for _, line := range strings.Split(string(tmpl), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "- email:"); ok {
			emails = append(emails, strings.Trim(strings.TrimSpace(rest), `"`))
		}
	}
	var want []string
	for _, u := range DemoUsers() {
		want = append(want, u.Email)
	}
	if !slices.Equal(emails, want) {
		t.Fatalf("config.yaml.tmpl users %v, DemoUsers %v", emails, want)
	}
}

func TestRenderConfig(t *testing.T) {
	const tmpl = "# @ISSUER@ in a comment is fine\nissuer: \"@ISSUER@\"\nhttp: \"@HTTP_ADDR@\"\n" +
		"secret: \"@CLIENT_SECRET@\"\nredirectURIs: @REDIRECT_URIS@\n"
	tests := []struct {
		name    string
		tmpl    string
		p       configParams
		want    string
		wantErr string
	}{
		{
			name: "fills every placeholder", tmpl: tmpl,
			p: configParams{Port: 5556, ClientSecret: "s3cret", RedirectURIs: []string{"http://a/cb?x=1&y=2", "http://b/cb"}},
			want: "# http://127.0.0.1:5556/dex in a comment is fine\nissuer: \"http://127.0.0.1:5556/dex\"\n" +
				"http: \"127.0.0.1:5556\"\nsecret: \"s3cret\"\nredirectURIs: [\"http://a/cb?x=1&y=2\", \"http://b/cb\"]\n",
		},
		{name: "refuses a quote in the secret", tmpl: tmpl,
			p: configParams{Port: 1, ClientSecret: `a"b`}, wantErr: "client secret"},
		{name: "refuses an empty secret", tmpl: tmpl, p: configParams{Port: 1}, wantErr: "client secret"},
		{name: "refuses a newline in a redirect URI", tmpl: tmpl,
			p: configParams{Port: 1, ClientSecret: "s", RedirectURIs: []string{"http://a/\nissuer: x"}}, wantErr: "redirect URI"},
		{name: "refuses an unknown placeholder", tmpl: tmpl + "x: @NEW_THING@\n",
			p: configParams{Port: 1, ClientSecret: "s"}, wantErr: "@NEW_THING@"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderConfig(tt.tmpl, tt.p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
