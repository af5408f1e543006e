package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/anpr-portal/anpr/internal/identity/dextest"
)

// browser is one person's cookie jar against the portal.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	csrf string
}

// exchange sends one request as this person (their cookies and CSRF token, a JSON body, the
// request id when reqID is set) and returns the response with its body read; every helper below
// is exchange plus what it checks.
func (b *browser) exchange(method, path, body, reqID string) (*http.Response, []byte) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if b.csrf != "" {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	if reqID != "" {
		req.Header.Set("X-Request-ID", reqID)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, raw
}

// call is exchange for a body that may not be JSON (then the map is empty).
func (b *browser) call(method, path, body string) (int, map[string]any) {
	b.t.Helper()
	resp, raw := b.exchange(method, path, body, "")
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// reasonToken mints a reason token for this person's session (POST /api/v1/reason-tokens) and
// returns the query parameter that presents it: reasons never travel in URLs.
func (b *browser) reasonToken(reasonJSON string) string {
	b.t.Helper()
	code, body := b.call("POST", "/api/v1/reason-tokens", `{"reason":`+reasonJSON+`}`)
	tok, _ := body["token"].(string)
	if code != http.StatusCreated || tok == "" {
		b.t.Fatalf("mint reason token: %d %v", code, body)
	}
	return "reason_token=" + url.QueryEscape(tok)
}

// auditReasonJSON is the auditors' reason in the tests that read the audit log.
const auditReasonJSON = `{"purpose":"audit_review","case_ref":"AUD/123/26",` +
	`"justification":"quarterly dip sample of investigator searches against recorded case references for the oversight board"}`

// login signs u in through the real Dex and returns their browser with the CSRF token from /me.
func login(t *testing.T, dex *dextest.Dex, base string, u dextest.User) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := dex.Login(context.Background(), c, base+"/auth/login?return_to="+url.QueryEscape("/api/v1/me"), u)
	if err != nil {
		t.Fatalf("login %s: %v", u.Email, err)
	}
	resp.Body.Close()
	b := &browser{t: t, c: c, base: base}
	code, me := b.call("GET", "/api/v1/me", "")
	if code != 200 {
		t.Fatalf("%s: /me %d %v", u.Email, code, me)
	}
	b.csrf, _ = me["csrf_token"].(string)
	return b
}

func roles(me map[string]any) []string {
	var out []string
	p, _ := me["principal"].(map[string]any)
	rs, _ := p["roles"].([]any)
	for _, r := range rs {
		out = append(out, fmt.Sprint(r))
	}
	return out
}

// Login against the real stack: every demo user logs in through
// the bundled Dex and /me shows their role; each role can do its job and is refused the rest,
// with refusals audited; grants apply at once; logout ends the session; the log verifies.
func TestLoginEachRoleThroughDex(t *testing.T) {
	addr := freePort(t)
	dex := dextest.Start(t, dextest.Options{RedirectURIs: []string{"http://" + addr + "/auth/callback"}})
	p := startPortal(t, addr, dex.Issuer, dex.ClientSecret)
	defer func() { p.stop() }()

	people := map[string]*browser{}
	for _, u := range dex.Users {
		b := login(t, dex, p.base, u)
		code, me := b.call("GET", "/api/v1/me", "")
		if code != 200 || !strings.Contains(strings.Join(roles(me), ","), u.Role) {
			t.Errorf("%s: roles %v, want %s", u.Email, roles(me), u.Role)
		}
		people[u.Role+":"+u.Rank] = b
		people[u.Email] = b
	}
	inv, aud, mgr := people["investigator@anpr.example"], people["auditor@anpr.example"], people["manager@anpr.example"]
	reason := aud.reasonToken(auditReasonJSON)

	// The auditor reads the audit log (with a reason); an investigator may not.
	if code, body := aud.call("GET", "/api/v1/audit/events?action=login&"+reason, ""); code != 200 {
		t.Fatalf("auditor audit read: %d %v", code, body)
	} else if recs, _ := body["records"].([]any); len(recs) < len(dex.Users) {
		t.Errorf("auditor sees %d login events, want >= %d", len(recs), len(dex.Users))
	}
	if code, body := inv.call("GET", "/api/v1/audit/events?"+inv.reasonToken(auditReasonJSON), ""); code != 403 {
		t.Errorf("investigator audit read: %d %v", code, body)
	}

	// The manager issues an API key (CSRF token required) and cannot grant themselves a role.
	noCSRF := *mgr
	noCSRF.csrf = ""
	if code, body := noCSRF.call("POST", "/api/v1/admin/api-keys", `{"name":"north feed","scopes":["reads:ingest"]}`); code != 403 {
		t.Errorf("POST without CSRF token: %d %v", code, body)
	}
	if code, body := mgr.call("POST", "/api/v1/admin/api-keys", `{"name":"north feed","scopes":["reads:ingest"]}`); code != 201 || !strings.HasPrefix(fmt.Sprint(body["api_key"]), "anpr_") {
		t.Errorf("manager create key: %d %v", code, body)
	}
	_, me := mgr.call("GET", "/api/v1/me", "")
	self := me["principal"].(map[string]any)["subject"].(string)
	if code, body := mgr.call("POST", "/api/v1/admin/grants", fmt.Sprintf(`{"subject":%q,"role":"auditor","reason":"covering leave for the audit team"}`, self)); code != 403 {
		t.Errorf("self-grant: %d %v", code, body)
	}
	if code, body := inv.call("POST", "/api/v1/admin/grants", `{"subject":"x","role":"extended_investigator","reason":"wants more access"}`); code != 403 {
		t.Errorf("investigator granting: %d %v", code, body)
	}

	// A grant to the investigator applies to their live session at once.
	_, invMe := inv.call("GET", "/api/v1/me", "")
	invSub := invMe["principal"].(map[string]any)["subject"].(string)
	code, g := mgr.call("POST", "/api/v1/admin/grants", fmt.Sprintf(`{"subject":%q,"role":"extended_investigator","reason":"serious crime unit posting approved by the head of unit"}`, invSub))
	if code != 201 {
		t.Fatalf("grant: %d %v", code, g)
	}
	if _, me := inv.call("GET", "/api/v1/me", ""); !strings.Contains(strings.Join(roles(me), ","), "extended_investigator") {
		t.Errorf("grant not applied at once: %v", roles(me))
	}
	if code, body := mgr.call("DELETE", "/api/v1/admin/grants/"+fmt.Sprint(g["id"]), ""); code != 204 {
		t.Errorf("revoke grant: %d %v", code, body)
	}
	if _, me := inv.call("GET", "/api/v1/me", ""); strings.Contains(strings.Join(roles(me), ","), "extended_investigator") {
		t.Errorf("revoked grant still applies: %v", roles(me))
	}

	// Logout ends the session at once; the old cookie is then worthless.
	if code, body := inv.call("POST", "/auth/logout", ""); code != 200 {
		t.Errorf("logout: %d %v", code, body)
	}
	if code, _ := inv.call("GET", "/api/v1/me", ""); code != 401 {
		t.Errorf("/me after logout: %d", code)
	}

	// Every denial above is in the audit log with the rule that decided.
	code, body := aud.call("GET", "/api/v1/audit/events?decision=deny&"+reason, "")
	if code != 200 {
		t.Fatalf("deny query: %d %v", code, body)
	}
	recs, _ := body["records"].([]any)
	if len(recs) < 3 {
		t.Errorf("want >= 3 audited denials, got %d", len(recs))
	}
	for _, r := range recs {
		ev := r.(map[string]any)["event"].(map[string]any)
		if ev["rule"] == "" {
			t.Errorf("denial without rule: %v", ev)
		}
	}
	p.stop()
	p.stop = func() {}
	if out, err := run(t, p.env, "audit", "verify"); err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}
