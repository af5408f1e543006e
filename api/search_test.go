package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/identity/dextest"
	"github.com/anpr-portal/anpr/internal/seed"
)

// send is browser.call with a chosen X-Request-ID, so the test can find the audit events the
// request left.
func (b *browser) send(method, path, body, reqID string) (int, map[string]any) {
	b.t.Helper()
	resp, raw := b.exchange(method, path, body, reqID)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		b.t.Fatalf("%s %s: %d %q", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, m
}

// eventsOf returns the audit events a request left, read through the auditor's API.
func eventsOf(t *testing.T, aud *browser, reqID string) []map[string]any {
	t.Helper()
	code, body := aud.call("GET", "/api/v1/audit/events?request_id="+reqID+"&"+aud.reasonToken(auditReasonJSON), "")
	if code != 200 {
		t.Fatalf("audit read: %d %v", code, body)
	}
	var out []map[string]any
	recs, _ := body["records"].([]any)
	for _, r := range recs {
		out = append(out, r.(map[string]any)["event"].(map[string]any))
	}
	return out
}

// checkSearchAudited asserts the request left an allowed intent and an outcome whose count and
// digest are those of exactly the ids the response showed.
func checkSearchAudited(t *testing.T, aud *browser, reqID, action, typ string, shown []string) {
	t.Helper()
	evs := eventsOf(t, aud, reqID)
	if len(evs) != 2 {
		t.Fatalf("%s: want intent + outcome, got %v", reqID, evs)
	}
	in, out := evs[0], evs[1]
	st, _ := in["search_type"].(string) // omitted when empty (record views)
	if in["stage"] != "intent" || out["stage"] != "outcome" || in["action"] != action || st != typ ||
		in["decision"] != "allow" || !strings.HasPrefix(fmt.Sprint(in["rule"]), "policy.csv:") {
		t.Errorf("%s: events %v", reqID, evs)
	}
	if out["result_count"] != float64(len(shown)) || out["result_digest"] != audit.DigestIDs(shown).String() {
		t.Errorf("%s: outcome count %v digest %v; want %d %s", reqID, out["result_count"], out["result_digest"], len(shown), audit.DigestIDs(shown))
	}
}

func checkDeniedAudited(t *testing.T, aud *browser, reqID string) {
	t.Helper()
	evs := eventsOf(t, aud, reqID)
	if len(evs) != 1 || evs[0]["decision"] != "deny" || evs[0]["rule"] == "" || evs[0]["rule"] == nil {
		t.Errorf("%s: want one deny event with a rule, got %v", reqID, evs)
	}
}

func hitIDs(body map[string]any, field string) []string {
	var out []string
	hs, _ := body[field].([]any)
	for _, h := range hs {
		out = append(out, h.(map[string]any)["id"].(string))
	}
	return out
}

func userByRole(dex *dextest.Dex, role string) dextest.User {
	for _, u := range dex.Users {
		if u.Role == role {
			return u
		}
	}
	panic("no demo user with role " + role)
}

// Every search type against the real stack (Dex login, Casbin, SQLite, audit):
// an investigator runs each search type on the seeded planted plates and views a record, each
// audited with the digest of what was shown; bad input and band 2 are refused; paging is audited
// per page and cursors are bound to their user; an auditor is refused every search.
func TestSearchesThroughDex(t *testing.T) {
	addr := freePort(t)
	dex := dextest.Start(t, dextest.Options{RedirectURIs: []string{"http://" + addr + "/auth/callback"}})
	p := startPortal(t, addr, dex.Issuer, dex.ClientSecret)
	defer func() { p.stop() }()
	inv := login(t, dex, p.base, userByRole(dex, dextest.RoleInvestigator))
	ext := login(t, dex, p.base, userByRole(dex, dextest.RoleExtendedInvestigator))
	aud := login(t, dex, p.base, userByRole(dex, dextest.RoleAuditor))

	now := time.Now().UTC()
	window := func(days int) string {
		return fmt.Sprintf(`"from":%q,"to":%q`, now.AddDate(0, 0, -days).Format(time.RFC3339), now.Format(time.RFC3339))
	}
	const reason = `"reason":{"purpose":"stolen_vehicle","case_ref":"MPS/12345/26","offence_code":"TH68010",` +
		`"justification":"vehicle reported stolen from Ealing driveway overnight; owner saw it leave westbound towards Perivale"}`
	n := 0
	rid := func() string { n++; return fmt.Sprintf("search-test-%04d", n) }

	// Exact: every hit is the plate.
	id := rid()
	code, body := inv.send("POST", "/api/v1/searches/exact", `{"vrm":"`+seed.MisreadVRM+`",`+window(30)+`,`+reason+`}`, id)
	exact := hitIDs(body, "hits")
	if code != 200 || len(exact) == 0 || body["band"] != "band1" {
		t.Fatalf("exact: %d %v", code, body)
	}
	for _, h := range body["hits"].([]any) {
		if h.(map[string]any)["vrm"] != seed.MisreadVRM {
			t.Errorf("exact hit %v", h)
		}
	}
	checkSearchAudited(t, aud, id, "search", "exact", exact)
	// Refused: band 2 of the aged plate.
	id = rid()
	if code, body := inv.send("POST", "/api/v1/searches/exact", `{"vrm":"`+seed.AgedVRM+`",`+window(200)+`,`+reason+`}`, id); code != 403 || body["code"] != "forbidden" {
		t.Errorf("exact band 2: %d %v", code, body)
	}
	checkDeniedAudited(t, aud, id)

	// Partial.
	id = rid()
	code, body = inv.send("POST", "/api/v1/searches/partial", `{"pattern":"AB12C?E","limit":500,`+window(30)+`,`+reason+`}`, id)
	partial := hitIDs(body, "hits")
	vrms := map[string]bool{}
	for _, h := range body["hits"].([]any) {
		vrms[h.(map[string]any)["vrm"].(string)] = true
	}
	if code != 200 || !vrms[seed.MisreadVRM] || !vrms[seed.MisreadZeroVRM] || vrms[seed.MisreadEightVRM] {
		t.Fatalf("partial AB12C?E should find %s and %s only: %d %v", seed.MisreadVRM, seed.MisreadZeroVRM, code, vrms)
	}
	checkSearchAudited(t, aud, id, "search", "partial", partial)
	id = rid()
	if code, body := inv.send("POST", "/api/v1/searches/partial", `{"pattern":"*",`+window(30)+`,`+reason+`}`, id); code != 400 || !strings.Contains(fmt.Sprint(body["detail"]), "every plate") {
		t.Errorf("partial *: %d %v", code, body)
	}
	// Bad input is a refusal like any other: recorded, never as a search that ran.
	if evs := eventsOf(t, aud, id); len(evs) != 1 || evs[0]["decision"] != "deny" || !strings.HasPrefix(fmt.Sprint(evs[0]["rule"]), "invalid-request") {
		t.Errorf("bad input not audited as a refusal: %v", evs)
	}

	// Misread: the misread plates come back explained.
	id = rid()
	code, body = inv.send("POST", "/api/v1/searches/misread", `{"vrm":"`+seed.MisreadVRM+`","limit":500,`+window(30)+`,`+reason+`}`, id)
	misread := hitIDs(body, "hits")
	if code != 200 {
		t.Fatalf("misread: %d %v", code, body)
	}
	explained := map[string]string{}
	for _, h := range body["hits"].([]any) {
		hm := h.(map[string]any)
		m, _ := hm["match"].(map[string]any)
		explained[hm["vrm"].(string)] = fmt.Sprint(m["explanation"])
	}
	if !strings.Contains(explained[seed.MisreadZeroVRM], "D read as 0 (confusable)") || !strings.Contains(explained[seed.MisreadEightVRM], "B read as 8 (confusable)") ||
		explained[seed.MisreadVRM] != "identical" {
		t.Errorf("misread explanations %v", explained)
	}
	checkSearchAudited(t, aud, id, "search", "misread", misread)
	if code, body := inv.send("POST", "/api/v1/searches/misread", `{"vrm":"`+seed.MisreadVRM+`","from":"2026-01-02T00:00:00Z","to":"2026-01-01T00:00:00Z",`+reason+`}`, rid()); code != 400 || !strings.Contains(fmt.Sprint(body["detail"]), "reversed") {
		t.Errorf("misread reversed window: %d %v", code, body)
	}

	// Journey: the cloned plate is flagged.
	id = rid()
	code, body = inv.send("POST", "/api/v1/searches/journey", `{"vrm":"`+seed.CloneVRM+`",`+window(30)+`,`+reason+`}`, id)
	if code != 200 {
		t.Fatalf("journey: %d %v", code, body)
	}
	flags, _ := body["impossible_travel"].([]any)
	if len(flags) == 0 || body["first_seen"] == nil || body["last_seen"] == nil {
		t.Errorf("journey of %s: %d flags, first %v last %v", seed.CloneVRM, len(flags), body["first_seen"], body["last_seen"])
	}
	checkSearchAudited(t, aud, id, "search", "journey", hitIDs(body, "stops"))
	if code, body := inv.send("POST", "/api/v1/searches/journey", `{"vrm":"`+seed.CloneVRM+`","cameras":["NO-SUCH-CAM"],`+window(30)+`,`+reason+`}`, rid()); code != 400 || !strings.Contains(fmt.Sprint(body["detail"]), "NO-SUCH-CAM") {
		t.Errorf("journey unknown camera: %d %v", code, body)
	}

	// Paging: each page audited with its own digest; the cursor is this user's only.
	id = rid()
	code, body = inv.send("POST", "/api/v1/searches/exact", `{"vrm":"`+seed.MisreadVRM+`","limit":2,`+window(30)+`,`+reason+`}`, id)
	next, _ := body["next"].(string)
	if code != 200 || next == "" {
		t.Fatalf("page 1: %d %v", code, body)
	}
	checkSearchAudited(t, aud, id, "search", "exact", hitIDs(body, "hits"))
	page2 := `{"vrm":"` + seed.MisreadVRM + `","limit":2,"cursor":"` + next + `",` + window(30) + `,` + reason + `}`
	// (The window is rebuilt from the same now, so the query is the same.)
	id = rid()
	code, body = inv.send("POST", "/api/v1/searches/exact", page2, id)
	if code != 200 || len(hitIDs(body, "hits")) == 0 {
		t.Fatalf("page 2: %d %v", code, body)
	}
	checkSearchAudited(t, aud, id, "search.page", "exact", hitIDs(body, "hits"))
	id = rid()
	if code, body := ext.send("POST", "/api/v1/searches/exact", page2, id); code != 400 || !strings.Contains(fmt.Sprint(body["detail"]), "cursor") {
		t.Errorf("another user's cursor: %d %v", code, body)
	}
	checkDeniedAudited(t, aud, id)
	if code, body := inv.send("POST", "/api/v1/searches/exact", `{"vrm":"`+seed.MisreadVRM+`","limit":100000,`+window(30)+`,`+reason+`}`, rid()); code != 400 {
		t.Errorf("page size out of range: %d %v", code, body)
	}

	// Record view, audited; a missing id is 404.
	viewReason := `{"purpose":"stolen_vehicle","case_ref":"MPS/12345/26","offence_code":"TH68010",` +
		`"justification":"vehicle reported stolen from Ealing driveway overnight; owner saw it leave westbound towards Perivale"}`
	q := "?" + inv.reasonToken(viewReason)
	id = rid()
	if code, body := inv.send("GET", "/api/v1/reads/"+exact[0]+q, "", id); code != 200 || body["id"] != exact[0] {
		t.Fatalf("record view: %d %v", code, body)
	}
	checkSearchAudited(t, aud, id, "record.view", "", exact[:1])
	if code, body := inv.send("GET", "/api/v1/reads/0123456789abcdef"+q, "", rid()); code != 404 {
		t.Errorf("missing read: %d %v", code, body)
	}

	// The HTTP layer's own refusals: unknown fields, trailing data, no CSRF token, no session.
	for name, body := range map[string]string{
		"unknown field": `{"vrm":"` + seed.MisreadVRM + `","vrn":"typo",` + window(30) + `,` + reason + `}`,
		"trailing data": `{"vrm":"` + seed.MisreadVRM + `",` + window(30) + `,` + reason + `} {}`,
		"not json":      `vrm=AB12CDE`,
	} {
		if code, resp := inv.send("POST", "/api/v1/searches/exact", body, rid()); code != 400 || resp["code"] != "bad_request" {
			t.Errorf("%s: %d %v", name, code, resp)
		}
	}
	noCSRF := *inv
	noCSRF.csrf = ""
	if code, body := noCSRF.send("POST", "/api/v1/searches/exact", `{"vrm":"`+seed.MisreadVRM+`",`+window(30)+`,`+reason+`}`, rid()); code != 403 {
		t.Errorf("search without CSRF token: %d %v", code, body)
	}
	anon := &browser{t: t, c: &http.Client{}, base: p.base}
	if code, body := anon.send("GET", "/api/v1/reads/"+exact[0]+q, "", rid()); code != 401 {
		t.Errorf("anonymous record view: %d %v", code, body)
	}

	// An auditor is refused every search and the record view, each refusal audited.
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/v1/searches/exact", `{"vrm":"` + seed.MisreadVRM + `",` + window(30) + `,` + reason + `}`},
		{"POST", "/api/v1/searches/partial", `{"pattern":"AB12C?E",` + window(30) + `,` + reason + `}`},
		{"POST", "/api/v1/searches/misread", `{"vrm":"` + seed.MisreadVRM + `",` + window(30) + `,` + reason + `}`},
		{"POST", "/api/v1/searches/journey", `{"vrm":"` + seed.CloneVRM + `",` + window(30) + `,` + reason + `}`},
		{"GET", "/api/v1/reads/" + exact[0] + "?" + aud.reasonToken(viewReason), ""},
	} {
		id := rid()
		if code, body := aud.send(r.method, r.path, r.body, id); code != 403 || body["code"] != "forbidden" {
			t.Errorf("auditor %s: %d %v", r.path, code, body)
		}
		checkDeniedAudited(t, aud, id)
	}

	p.stop()
	p.stop = func() {}
	if out, err := run(t, p.env, "audit", "verify"); err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
}
