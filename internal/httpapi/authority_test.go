package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/httpapi"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/identity/dextest"
	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/proc"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
	"github.com/anpr-portal/anpr/internal/store/sqlite/sqlitetest"
	"github.com/anpr-portal/anpr/policies"
)

// authorityServer is the real stack with the authority service wired in, behind the real Dex.
type authorityServer struct {
	srv *httptest.Server
	dex *dextest.Dex
}

func newAuthorityServer(t *testing.T) *authorityServer {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(ctx, filepath.Join(dir, "reads.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.PutCameras(ctx, []reads.Camera{{ID: "CAM1", Name: "A406 / Brent Cross NB", Lat: 51.576, Lon: -0.223}}); err != nil {
		t.Fatal(err)
	}
	w := ingest.NewWriter(store, 2)
	t.Cleanup(func() { w.Close(context.Background()) })
	al := sqlitetest.AuditLog(t, dir, sqlite.AuditOptions{CheckpointEvery: 1})
	ist, err := sqlite.OpenIdentityStore(ctx, filepath.Join(dir, "identity.db"), sqlite.IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ist.Close() })
	ast, err := sqlite.OpenAuthorityStore(ctx, filepath.Join(dir, "authority.db"), sqlite.AuthorityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ast.Close() })

	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	dex := dextest.Start(t, dextest.Options{RedirectURIs: []string{base + "/auth/callback"}})
	ident, err := identity.NewService(identity.Config{
		Issuer: dex.Issuer, ClientID: dex.ClientID, ClientSecret: dex.ClientSecret,
		RedirectURL: base + "/auth/callback", AllowInsecureCookies: true, SigningKeyFile: filepath.Join(dir, "session.key"),
	}, identity.Deps{Store: ist, Audit: al, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := authority.New(authority.Deps{Store: ast, Audit: al, Authz: az, Cameras: store, Now: time.Now}, authority.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sv, err := search.New(search.Deps{Reads: store, Audit: al, Authz: az, Authorities: auth, Now: time.Now}, search.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := httpapi.New(httpapi.Deps{
		Log: log, Store: store, Registry: httpapi.NewRegistry(),
		Ingest:   &httpapi.IngestService{Pipeline: func() *ingest.Pipeline { return nil }, Writer: w, MaxBodyBytes: 4096, RetryAfter: time.Second},
		Identity: ident, Authz: az, Audit: al, Reviewer: audit.Reviewer{Log: al},
		Transparency: audit.NewTransparency(nil), Search: sv, Authority: auth,
	})
	srv.Config.Handler = s.Handler()
	srv.Start()
	// Streams end when the service closes, before the test server waits for its connections.
	t.Cleanup(srv.Close)
	t.Cleanup(auth.Close)
	return &authorityServer{srv: srv, dex: dex}
}

type person struct {
	c    *http.Client
	base string
	csrf string
}

func (a *authorityServer) login(t *testing.T, username string) *person {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := a.dex.Login(context.Background(), c, a.srv.URL+"/auth/login?return_to="+url.QueryEscape("/api/v1/me"), a.dex.User(username))
	if err != nil {
		t.Fatalf("login %s: %v", username, err)
	}
	resp.Body.Close()
	p := &person{c: c, base: a.srv.URL}
	_, me := p.do(t, nil, "GET", "/api/v1/me", "")
	p.csrf, _ = me["csrf_token"].(string)
	return p
}

// do sends a request and, when router is set, validates the request and the response against
// api/openapi.yaml.
func (p *person) do(t *testing.T, router routers.Router, method, path, body string) (int, map[string]any) {
	t.Helper()
	ctx := context.Background()
	req, _ := http.NewRequestWithContext(ctx, method, p.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-CSRF-Token", p.csrf)
	var raw []byte
	var resp *http.Response
	if router != nil {
		resp, raw = contractCall(t, router, p.c, req, body, false)
	} else {
		r, err := p.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		resp = r
		raw, _ = io.ReadAll(r.Body)
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// Every authority route, with real traffic through the real stack, matches api/openapi.yaml in
// both its requests and its responses (successes and refusals), so the front end's generated
// types are the truth.
func TestAuthorityRoutesMatchTheDocument(t *testing.T) {
	doc := loadSpec(t)
	a := newAuthorityServer(t)
	doc.Servers = openapi3.Servers{{URL: a.srv.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	ext, insp, inv := a.login(t, "extended"), a.login(t, "inspector"), a.login(t, "investigator")
	now := time.Now().UTC()
	at := func(days int) string { return now.AddDate(0, 0, -days).Format(time.RFC3339) }
	mk := func(from, to int) string {
		return fmt.Sprintf(`{"reason":{"purpose":"serious_crime","case_ref":"MPS/54321/26","offence_code":"TH68010",`+
			`"justification":"armed robbery at Brent Cross jewellers; suspect vehicle seen leaving northbound on the A406"},`+
			`"scope":{"vrms":["AB12CDE"],"area":{"centre":[51.576,-0.223],"radius_m":500},"from":%q,"to":%q,"search_types":["exact","area"]},`+
			`"expires_at":%q,"max_uses":3}`, at(from), at(to), now.Add(48*time.Hour).Format(time.RFC3339))
	}
	request := mk(205, 195)

	code, created := ext.do(t, router, "POST", "/api/v1/authorities", request)
	if code != 201 || created["band"] != "band2" {
		t.Fatalf("request: %d %v", code, created)
	}
	id := created["id"].(string)
	if cams := created["scope"].(map[string]any)["area_cameras"]; fmt.Sprint(cams) != "[CAM1]" {
		t.Errorf("area resolved to %v", cams)
	}
	for _, c := range []struct {
		who          *person
		method, path string
		body         string
		want         int
	}{
		{inv, "POST", "/api/v1/authorities", request, 403},
		{ext, "POST", "/api/v1/authorities", mk(195, 205), 400}, // a reversed window
		{ext, "GET", "/api/v1/authorities", "", 200},
		{insp, "GET", "/api/v1/authorities/queue", "", 200},
		{ext, "GET", "/api/v1/authorities/" + id, "", 200},
		{inv, "GET", "/api/v1/authorities/" + id, "", 404},
		{ext, "POST", "/api/v1/authorities/" + id + "/approve", `{"reason":"approving my own"}`, 403},
		{insp, "POST", "/api/v1/authorities/" + id + "/approve", `{"reason":"widening","max_uses":5}`, 403},
		{insp, "POST", "/api/v1/authorities/" + id + "/approve", `{"reason":"proportionate; the night of the robbery only","scope":{"from":"` + at(201) + `","to":"` + at(199) + `"},"max_uses":2}`, 200},
		{insp, "POST", "/api/v1/authorities/" + id + "/reject", `{"reason":"too late"}`, 409},
		{ext, "POST", "/api/v1/authorities/" + id + "/revoke", `{"reason":"mine"}`, 403},
		{insp, "POST", "/api/v1/authorities/" + id + "/revoke", `{"reason":"the suspect was charged this morning"}`, 200},
		{insp, "POST", "/api/v1/authorities/au_missing/revoke", `{"reason":"no such thing"}`, 404},
	} {
		if code, body := c.who.do(t, router, c.method, c.path, c.body); code != c.want {
			t.Errorf("%s %s: %d %v, want %d", c.method, c.path, code, body, c.want)
		}
	}
}

// An approver's open event stream is told of a new request the moment it is filed: no polling.
// An officer who may not decide it hears nothing.
func TestAuthorityQueueEventsPushOnRequest(t *testing.T) {
	a := newAuthorityServer(t)
	ext, insp, inv := a.login(t, "extended"), a.login(t, "inspector"), a.login(t, "investigator")
	open := func(p *person) (*bufio.Scanner, func()) {
		req, _ := http.NewRequest("GET", a.srv.URL+"/api/v1/authorities/queue/events", nil)
		resp, err := p.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
			t.Fatalf("events: %d %s", resp.StatusCode, ct)
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() && sc.Text() != "event: ready" {
		}
		return sc, func() { resp.Body.Close() }
	}
	sc, done := open(insp)
	defer done()
	other, doneOther := open(inv)
	defer doneOther()

	now := time.Now().UTC()
	body := fmt.Sprintf(`{"reason":{"purpose":"serious_crime","case_ref":"MPS/54321/26","offence_code":"TH68010",`+
		`"justification":"armed robbery at Brent Cross jewellers; suspect vehicle seen leaving northbound on the A406"},`+
		`"scope":{"vrms":["AB12CDE"],"from":%q,"to":%q,"search_types":["exact"]},"expires_at":%q,"max_uses":1}`,
		now.AddDate(0, 0, -200).Format(time.RFC3339), now.AddDate(0, 0, -190).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
	code, created := ext.do(t, nil, "POST", "/api/v1/authorities", body)
	if code != 201 {
		t.Fatalf("request: %d %v", code, created)
	}
	got := make(chan string, 1)
	go func() {
		queue := false
		for sc.Scan() {
			queue = queue || sc.Text() == "event: queue"
			if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok && queue {
				got <- line
				return
			}
		}
		close(got)
	}()
	select {
	case line := <-got:
		var ch authority.QueueChange
		if err := json.Unmarshal([]byte(line), &ch); err != nil || ch.ID != created["id"] || ch.State != authority.Pending {
			t.Errorf("event data %q", line)
		}
	case <-time.After(proc.WaitCap):
		t.Fatal("no event for the new request")
	}
	// The investigator's stream has nothing but its opening: close it and read what was sent.
	doneOther()
	for other.Scan() {
		if strings.HasPrefix(other.Text(), "event: queue") {
			t.Errorf("an investigator was told of a request they cannot decide")
		}
	}
}
