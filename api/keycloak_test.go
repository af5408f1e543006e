package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/identity/keycloaktest"
	"github.com/anpr-portal/anpr/internal/seed"
)

// keycloakPortal is a portal whose IdP is a realm of the test binary's Keycloak, set up as a
// force sets Keycloak up (keycloaktest.NewRealm): realm roles in realm_access.roles, rank as a
// user attribute in a claim "rank", no groups scope. The portal is fitted to it by configuration
// alone, the settings the README gives for Keycloak.
type keycloakPortal struct {
	*portal
	realm *keycloaktest.Realm
}

func startKeycloakPortal(t *testing.T) *keycloakPortal {
	t.Helper()
	kc := keycloaktest.Server(t)
	addr := freePort(t)
	base := "http://" + addr
	began := time.Now()
	realm := kc.NewRealm(t, keycloaktest.RealmOptions{
		RedirectURIs: []string{base + "/auth/callback"}, PostLogoutRedirectURIs: []string{base + "/"},
		Users: keycloaktest.DemoUsers(),
	})
	t.Logf("keycloak: realm %s configured through the admin API in %s", realm.Name, time.Since(began).Round(time.Millisecond))
	p := startPortalAfter(t, addr, realm.Issuer, realm.ClientSecret, func(env map[string]string) {
		maps.Copy(env, keycloakSettings(realm))
		env["ANPR_IDENTITY_ACCESS_CONTACT"] = "the ANPR manager (anpr@force.example)"
	})
	t.Cleanup(func() { p.stop() })
	return &keycloakPortal{portal: p, realm: realm}
}

// keycloakSettings are the portal's settings for a realm set up as keycloaktest sets it up:
// the README's Keycloak example with realm roles and the rank attribute, as ANPR_ variables.
func keycloakSettings(realm *keycloaktest.Realm) map[string]string {
	var roleMap []string
	for v, r := range keycloaktest.PortalRoleMap() {
		roleMap = append(roleMap, v+"="+r)
	}
	return map[string]string{
		"ANPR_IDENTITY_ISSUER": realm.Issuer, "ANPR_IDENTITY_CLIENT_ID": realm.ClientID, "ANPR_IDENTITY_CLIENT_SECRET": realm.ClientSecret,
		"ANPR_IDENTITY_SCOPES": "openid,profile,email", "ANPR_IDENTITY_ROLES_CLAIM": "realm_access.roles",
		"ANPR_IDENTITY_ROLES_MAP": strings.Join(roleMap, ","), "ANPR_IDENTITY_RANK_CLAIM": "rank",
	}
}

// login signs u in through Keycloak's login form and returns their browser with the CSRF token.
func (k *keycloakPortal) login(t *testing.T, u keycloaktest.User) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := k.realm.Login(t.Context(), c, k.base+"/auth/login?return_to="+url.QueryEscape("/api/v1/me"), u)
	if err != nil {
		t.Fatalf("login %s through Keycloak: %v", u.Username, err)
	}
	resp.Body.Close()
	b := &browser{t: t, c: c, base: k.base}
	code, me := b.call("GET", "/api/v1/me", "")
	if code != 200 {
		t.Fatalf("%s: /me %d %v", u.Username, code, me)
	}
	b.csrf, _ = me["csrf_token"].(string)
	return b
}

// logout signs b out of the portal and, through the RP-initiated logout URL the portal gives,
// out of Keycloak, and checks that both sessions are gone.
func (k *keycloakPortal) logout(t *testing.T, b *browser, u keycloaktest.User) {
	t.Helper()
	code, body := b.call("POST", "/auth/logout", "")
	if code != 200 {
		t.Fatalf("%s: portal logout %d %v", u.Username, code, body)
	}
	idpURL, _ := body["idp_logout_url"].(string)
	lu, err := url.Parse(idpURL)
	if err != nil || !strings.HasPrefix(idpURL, k.realm.Issuer+"/protocol/openid-connect/logout?") {
		t.Fatalf("%s: IdP logout URL %q is not the realm's end_session_endpoint", u.Username, idpURL)
	}
	q := lu.Query()
	if q.Get("id_token_hint") == "" || q.Get("post_logout_redirect_uri") != k.base+"/" || q.Get("client_id") != k.realm.ClientID {
		t.Fatalf("%s: IdP logout URL lacks id_token_hint or the exact post-logout URL: %s", u.Username, lu.Query())
	}
	if code, _ := b.call("GET", "/api/v1/me", ""); code != 401 {
		t.Errorf("%s: /me after the portal logout: %d", u.Username, code)
	}
	resp, err := b.c.Get(idpURL)
	if err != nil {
		t.Fatalf("%s: follow the IdP logout: %v", u.Username, err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// Keycloak ends its session and sends the browser back to the portal's home page: it accepts
	// post_logout_redirect_uri only when it equals the registered one exactly.
	if resp.Request.URL.String() != k.base+"/" {
		t.Fatalf("%s: IdP logout ended at %s (%d): %.300s", u.Username, resp.Request.URL, resp.StatusCode, page)
	}
	if n := k.realm.SessionCount(u.Username); n != 0 {
		t.Errorf("%s: %d Keycloak session(s) left after RP-initiated logout", u.Username, n)
	}
	if form, err := k.realm.ShowsLoginForm(t.Context(), b.c, k.base+"/auth/login"); err != nil || !form {
		t.Errorf("%s: signing in again does not ask for the password (%v): the IdP session lives on", u.Username, err)
	}
}

// Every demo role signs in through Keycloak's real login form, does one action of its job and
// signs out of the portal and of Keycloak. Roles and rank come only from the realm roles nested
// in the token and the rank attribute's claim, mapped by configuration.
func TestLoginEachRoleThroughKeycloak(t *testing.T) {
	began := time.Now()
	k := startKeycloakPortal(t)
	people := map[string]*browser{}
	subjects := map[string]string{}
	for _, u := range k.realm.Users {
		if len(u.Roles) == 0 {
			continue
		}
		b := k.login(t, u)
		_, me := b.call("GET", "/api/v1/me", "")
		pr := me["principal"].(map[string]any)
		want := keycloaktest.PortalRoleMap()[u.Roles[0]]
		if got := roles(me); !slices.Equal(got, []string{want}) {
			t.Errorf("%s: roles %v, want [%s]", u.Username, got, want)
		}
		if wantRank := strings.ToLower(u.Rank); pr["rank"] != nil && pr["rank"] != wantRank || pr["rank"] == nil && wantRank != "" {
			t.Errorf("%s: rank %v, want %q", u.Username, pr["rank"], wantRank)
		}
		if pr["name"] != u.Name() || pr["subject"] != k.realm.SubjectOf(u.Username) {
			t.Errorf("%s: principal %v", u.Username, pr)
		}
		people[u.Username], subjects[u.Username] = b, pr["subject"].(string)
	}
	now := time.Now().UTC()
	window := func(from, to int) string {
		return fmt.Sprintf(`"from":%q,"to":%q`, now.AddDate(0, 0, -from).Format(time.RFC3339), now.AddDate(0, 0, -to).Format(time.RFC3339))
	}
	// Investigator: a band-1 search.
	if code, body := people["investigator"].send("POST", "/api/v1/searches/exact", `{"vrm":"`+seed.MisreadVRM+`",`+window(30, 0)+`,`+seriousReasonJSON+`}`, "kc-1"); code != 200 {
		t.Errorf("investigator search: %d %v", code, body)
	}
	// Extended investigator: two requests for prior authority over band-2 data.
	request := func() string {
		body := fmt.Sprintf(`{%s,"scope":{"vrms":["%s"],%s,"search_types":["exact"]},"expires_at":%q,"max_uses":2}`,
			seriousReasonJSON, seed.AgedVRM, window(210, 190), now.Add(48*time.Hour).Format(time.RFC3339))
		code, a := people["extended"].send("POST", "/api/v1/authorities", body, "")
		if code != 201 {
			t.Fatalf("extended: request authority: %d %v", code, a)
		}
		return a["id"].(string)
	}
	first, second := request(), request()
	// Inspector and superintendent: the rank from the attribute lets them decide.
	if code, body := people["inspector"].send("POST", "/api/v1/authorities/"+first+"/approve", `{"reason":"proportionate: the sightings put the vehicle at the robbery within the hour"}`, ""); code != 200 || body["state"] != "approved" {
		t.Errorf("inspector approves: %d %v", code, body)
	}
	if code, body := people["superintendent"].send("POST", "/api/v1/authorities/"+second+"/reject",
		`{"reason":"the window is wider than the sightings justify; ask again for the fortnight of the offence"}`, ""); code != 200 || body["state"] != "rejected" {
		t.Errorf("superintendent rejects: %d %v", code, body)
	}
	// Auditor: the Keycloak logins are in the audit log.
	if code, body := people["auditor"].call("GET", "/api/v1/audit/events?action=login&"+people["auditor"].reasonToken(auditReasonJSON), ""); code != 200 {
		t.Errorf("auditor audit read: %d %v", code, body)
	} else if recs, _ := body["records"].([]any); len(recs) < len(people) {
		t.Errorf("auditor sees %d login events, want >= %d", len(recs), len(people))
	}
	// ANPR manager: a grant to the investigator, by their Keycloak subject.
	if code, body := people["manager"].call("POST", "/api/v1/admin/grants", fmt.Sprintf(`{"subject":%q,"role":"extended_investigator","reason":"posted to the serious crime unit for Operation Kestrel"}`, subjects["investigator"])); code != 201 {
		t.Errorf("manager grant: %d %v", code, body)
	}
	for _, u := range k.realm.Users {
		if b := people[u.Username]; b != nil {
			k.logout(t, b, u)
		}
	}
	t.Logf("Keycloak login test: %s (Keycloak start included when this test started it)", time.Since(began).Round(100*time.Millisecond))
}

// A person with a Keycloak account but no portal role gets a page, not JSON: it says what
// happened, whom to ask and with which identifier, and its sign-out ends the Keycloak session
// (a POSTed RP-initiated logout) so another account can sign in.
func TestNoRolePageThroughKeycloak(t *testing.T) {
	k := startKeycloakPortal(t)
	u := k.realm.User("newstarter")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := k.realm.Login(context.Background(), c, k.base+"/auth/login", u)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(raw)
	if resp.StatusCode != 403 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("no-role login: %d %s: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	sub := k.realm.SubjectOf(u.Username)
	for _, want := range []string{"No access to the ANPR portal", u.Name(), u.Email, "the ANPR manager (anpr@force.example)", sub, k.realm.Issuer,
		`action="` + k.realm.Issuer + `/protocol/openid-connect/logout"`, `name="id_token_hint"`, "Sign out of your identity provider"} {
		if !strings.Contains(page, want) {
			t.Errorf("no-role page lacks %q:\n%s", want, page)
		}
	}
	if csp, kc := resp.Header.Get("Content-Security-Policy"), keycloaktest.Server(t).URL; !strings.Contains(csp, "form-action 'self' "+kc) {
		t.Errorf("CSP %q does not let the sign-out form reach the IdP", csp)
	}
	b := &browser{t: t, c: c, base: k.base}
	if code, _ := b.call("GET", "/api/v1/me", ""); code != 401 {
		t.Errorf("/me after a refused login: %d", code)
	}
	if n := k.realm.SessionCount(u.Username); n != 1 {
		t.Fatalf("Keycloak sessions before the sign-out: %d, want 1", n)
	}
	// Post the page's form as the browser would.
	form := url.Values{}
	for _, name := range []string{"id_token_hint", "client_id", "post_logout_redirect_uri"} {
		form.Set(name, hiddenValue(t, page, name))
	}
	resp, err = c.PostForm(k.realm.Issuer+"/protocol/openid-connect/logout", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.String() != k.base+"/" {
		t.Errorf("sign-out ended at %s (%d), want the portal's home page", resp.Request.URL, resp.StatusCode)
	}
	if n := k.realm.SessionCount(u.Username); n != 0 {
		t.Errorf("Keycloak sessions after the sign-out: %d", n)
	}
	if form, err := k.realm.ShowsLoginForm(t.Context(), c, k.base+"/auth/login"); err != nil || !form {
		t.Errorf("after the sign-out the login form is not shown (%v): another account could not sign in", err)
	}
	// The refusal is audited with the rule and the person's Keycloak subject.
	aud := k.login(t, k.realm.User("auditor"))
	code, body := aud.call("GET", "/api/v1/audit/events?action=login&decision=deny&"+aud.reasonToken(auditReasonJSON), "")
	if code != 200 {
		t.Fatalf("audit read: %d %v", code, body)
	}
	found := false
	for _, r := range body["records"].([]any) {
		ev := r.(map[string]any)["event"].(map[string]any)
		actor := ev["actor"].(map[string]any)
		found = found || (ev["rule"] == "identity:no-role" && actor["subject"] == sub)
	}
	if !found {
		t.Errorf("no identity:no-role denial for %s in %v", sub, body["records"])
	}
}

// hiddenValue reads <input type="hidden" name=name value="..."> from page.
func hiddenValue(t *testing.T, page, name string) string {
	t.Helper()
	marker := `<input type="hidden" name="` + name + `" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("page has no hidden %s", name)
	}
	v := page[i+len(marker):]
	v = v[:strings.IndexByte(v, '"')]
	return htmlUnescape(v)
}

func htmlUnescape(s string) string { return html.UnescapeString(s) }
