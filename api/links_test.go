package main

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/identity/dextest"
	"github.com/anpr-portal/anpr/internal/identity/keycloaktest"
	"github.com/anpr-portal/anpr/internal/seed"
)

// A force moves from one IdP (the bundled Dex) to another (Keycloak), on the same portal data.
// The investigator's grant and approved authority were made under their Dex subject; at
// Keycloak they are someone new, until the ANPR manager links the Keycloak identity to the Dex
// one. Then grant and authority follow them; the link is audited, a manager cannot link their
// own identity, and removing the link ends the sessions begun through it.
func TestSubjectLinkCarriesGrantsAndAuthoritiesToANewIdP(t *testing.T) {
	kc := keycloaktest.Server(t) // before Dex: a skip here should not cost a Dex start
	addr := freePort(t)
	base := "http://" + addr
	dex := dextest.Start(t, dextest.Options{RedirectURIs: []string{base + "/auth/callback"}})
	p := startPortal(t, addr, dex.Issuer, dex.ClientSecret)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			p.stop()
		}
	})
	now := time.Now().UTC()
	window := fmt.Sprintf(`"from":%q,"to":%q`, now.AddDate(0, 0, -210).Format(time.RFC3339), now.AddDate(0, 0, -190).Format(time.RFC3339))
	search := func(b *browser, authority string) (int, map[string]any) {
		body := `{"vrm":"` + seed.AgedVRM + `",` + window + `,` + seriousReasonJSON
		if authority != "" {
			body += `,"authority_id":"` + authority + `"`
		}
		return b.send("POST", "/api/v1/searches/exact", body+"}", "")
	}

	// Under Dex: the investigator is granted extended access and an authority is approved.
	inv := login(t, dex, p.base, dex.User("investigator"))
	_, me := inv.call("GET", "/api/v1/me", "")
	dexSub := me["principal"].(map[string]any)["subject"].(string)
	mgr := login(t, dex, p.base, dex.User("manager"))
	if code, body := mgr.call("POST", "/api/v1/admin/grants", fmt.Sprintf(`{"subject":%q,"role":"extended_investigator","reason":"serious crime unit posting approved by the head of unit"}`, dexSub)); code != 201 {
		t.Fatalf("grant under Dex: %d %v", code, body)
	}
	code, a := inv.send("POST", "/api/v1/authorities", fmt.Sprintf(`{%s,"scope":{"vrms":["%s"],%s,"search_types":["exact"]},"expires_at":%q,"max_uses":5}`,
		seriousReasonJSON, seed.AgedVRM, window, now.Add(48*time.Hour).Format(time.RFC3339)), "")
	if code != 201 {
		t.Fatalf("request authority under Dex: %d %v", code, a)
	}
	authority := a["id"].(string)
	insp := login(t, dex, p.base, dex.User("inspector"))
	if code, body := insp.send("POST", "/api/v1/authorities/"+authority+"/approve", `{"reason":"proportionate: the sightings put the vehicle at the robbery within the hour"}`, ""); code != 200 {
		t.Fatalf("approve under Dex: %d %v", code, body)
	}
	if code, body := search(inv, authority); code != 200 {
		t.Fatalf("band-2 search under Dex with the authority: %d %v", code, body)
	}
	p.stop()
	stopped = true

	// The same portal data, now signing in through Keycloak.
	realm := kc.NewRealm(t, keycloaktest.RealmOptions{
		RedirectURIs: []string{base + "/auth/callback"}, PostLogoutRedirectURIs: []string{base + "/"}, Users: keycloaktest.DemoUsers(),
	})
	env := maps.Clone(p.env)
	maps.Copy(env, keycloakSettings(realm))
	p = serveEnv(t, env)
	stopped = false
	k := &keycloakPortal{portal: p, realm: realm}

	kinv := k.login(t, realm.User("investigator"))
	_, me = kinv.call("GET", "/api/v1/me", "")
	kcSub := realm.SubjectOf("investigator")
	if pr := me["principal"].(map[string]any); pr["subject"] != kcSub || slices.Contains(roles(me), "extended_investigator") {
		t.Fatalf("unlinked Keycloak identity: %v", pr)
	}
	if code, body := search(kinv, authority); code == 200 {
		t.Fatalf("an unlinked identity used the Dex identity's authority: %v", body)
	}

	kmgr := k.login(t, realm.User("manager"))
	linkBody := func(subject, prevSubject string) string {
		return fmt.Sprintf(`{"subject":%q,"previous_issuer":%q,"previous_subject":%q,"reason":"force moved from Dex to Keycloak on 1 March; identity checked against HR record 4471"}`,
			subject, dex.Issuer, prevSubject)
	}
	// The manager may not link an identity of their own (nor one into their own old subject).
	if code, body := kmgr.call("POST", "/api/v1/admin/subject-links", linkBody(realm.SubjectOf("manager"), dexSub)); code != 403 {
		t.Errorf("manager linking their own identity: %d %v", code, body)
	}
	if code, body := kinv.call("POST", "/api/v1/admin/subject-links", linkBody(kcSub, dexSub)); code != 403 {
		t.Errorf("investigator linking: %d %v", code, body)
	}
	code, l := kmgr.call("POST", "/api/v1/admin/subject-links", linkBody(kcSub, dexSub))
	if code != 201 || l["issuer"] != realm.Issuer || l["previous_subject"] != dexSub {
		t.Fatalf("link: %d %v", code, l)
	}
	if code, body := kmgr.call("POST", "/api/v1/admin/subject-links", linkBody(kcSub, dexSub)); code != 409 {
		t.Errorf("second live link of one identity: %d %v", code, body)
	}

	// Signed in again, the investigator is their Dex self: the grant and the authority follow.
	kinv = k.login(t, realm.User("investigator"))
	_, me = kinv.call("GET", "/api/v1/me", "")
	if pr := me["principal"].(map[string]any); pr["subject"] != dexSub || !slices.Contains(roles(me), "extended_investigator") {
		t.Fatalf("linked identity: %v", pr)
	}
	if code, body := search(kinv, authority); code != 200 {
		t.Errorf("band-2 search through the link with the Dex identity's authority: %d %v", code, body)
	}

	// The link and the linked sign-in are audited.
	aud := k.login(t, realm.User("auditor"))
	code, evs := aud.call("GET", "/api/v1/audit/events?action=identity.link&"+aud.reasonToken(auditReasonJSON), "")
	if code != 200 {
		t.Fatalf("audit read: %d %v", code, evs)
	}
	var made, refusedSelf int
	for _, r := range evs["records"].([]any) {
		ev := r.(map[string]any)["event"].(map[string]any)
		switch {
		case ev["stage"] == "outcome" && ev["status"] == "ok":
			made++
		case ev["decision"] == "deny" && ev["rule"] == "identity:no-self-link":
			refusedSelf++
		}
	}
	if made != 1 || refusedSelf != 1 {
		t.Errorf("want 1 link made and 1 self-link refused in the audit log, got %d and %d: %v", made, refusedSelf, evs["records"])
	}

	// Removing the link ends the session begun through it; the next sign-in is the new identity
	// alone again.
	if code, body := kmgr.call("DELETE", "/api/v1/admin/subject-links/"+l["id"].(string), ""); code != 204 {
		t.Fatalf("revoke link: %d %v", code, body)
	}
	if code, _ := kinv.call("GET", "/api/v1/me", ""); code != 401 {
		t.Errorf("session begun through a removed link still works: %d", code)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := realm.Login(t.Context(), c, base+"/auth/login?return_to="+url.QueryEscape("/api/v1/me"), realm.User("investigator"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, me = (&browser{t: t, c: c, base: base}).call("GET", "/api/v1/me", "")
	if pr := me["principal"].(map[string]any); pr["subject"] != kcSub {
		t.Errorf("after the link was removed: %v", pr)
	}
	p.stop()
	stopped = true
	if out, err := run(t, p.env, "audit", "verify"); err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}
