package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/anpr-portal/anpr/internal/identity/dextest"
	"github.com/anpr-portal/anpr/internal/seed"
)

// raw sends a request and returns status, headers and body, after checking the request and the
// response against api/openapi.yaml.
func (b *browser) raw(method, path, body, reqID string) (int, http.Header, []byte) {
	b.t.Helper()
	resp, out := b.exchange(method, path, body, reqID)
	checkAgainstSpec(b.t, b.base, method, path, body, resp, out)
	return resp.StatusCode, resp.Header, out
}

// sendChecked is send with the exchange checked against api/openapi.yaml.
func (b *browser) sendChecked(method, path, body, reqID string) (int, map[string]any) {
	b.t.Helper()
	code, _, raw := b.raw(method, path, body, reqID)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		b.t.Fatalf("%s %s: %d %q", method, path, code, raw)
	}
	return code, m
}

// checkAgainstSpec validates one real request and its response against the OpenAPI document.
func checkAgainstSpec(t *testing.T, base, method, path, body string, resp *http.Response, out []byte) {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: not in the document: %v", method, path, err)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    func(context.Context, *openapi3filter.AuthenticationInput) error { return nil },
		IncludeResponseStatus: true, MultiError: true,
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: opts}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		t.Errorf("%s %s: request does not match the document: %v", method, path, err)
	}
	if err := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Body: io.NopCloser(bytes.NewReader(out)), Options: opts,
	}); err != nil {
		t.Errorf("%s %s: response %d does not match the document: %v\n%s", method, path, resp.StatusCode, err, out)
	}
}

// sarRows runs a subject access report for vrm over the last three years and checks that the
// digest the response names is that of the file and of the durable audit outcome.
func sarRows(t *testing.T, mgr, aud *browser, vrm, reqID string) [][]string {
	t.Helper()
	now := time.Now().UTC()
	body := fmt.Sprintf(`{"vrm":%q,"from":%q,"to":%q,%s}`, vrm, now.AddDate(-3, 0, 0).Format(time.RFC3339), now.Format(time.RFC3339), dpReason)
	code, hdr, file := mgr.raw("POST", "/api/v1/subject-access", body, reqID)
	if code != 200 || hdr.Get("Content-Type") != "text/csv" {
		t.Fatalf("subject access: %d %s", code, file)
	}
	sum := sha256.Sum256(file)
	if hdr.Get("X-Content-SHA256") != hex.EncodeToString(sum[:]) {
		t.Fatalf("X-Content-SHA256 %s is not the file's digest %x", hdr.Get("X-Content-SHA256"), sum)
	}
	rows, err := csv.NewReader(strings.NewReader(string(file))).ReadAll()
	if err != nil || len(rows) < 1 || rows[0][0] != "read_id" {
		t.Fatalf("report: %v %v", rows, err)
	}
	evs := eventsOf(t, aud, reqID)
	if len(evs) != 2 || evs[1]["stage"] != "outcome" || evs[1]["result_digest"] != hdr.Get("X-Content-SHA256") ||
		evs[1]["result_count"] != float64(len(rows)-1) {
		t.Fatalf("subject access events: %v", evs)
	}
	return rows[1:]
}

const dpReason = `"reason":{"purpose":"data_protection","case_ref":"DP/0042/26",` +
	`"justification":"subject access request from the registered keeper received by the data office in writing"}`

// The retention, holds and data rights story against the real stack (Dex login, Casbin, SQLite,
// audit): the investigator is refused every manager route, each refusal audited; the manager
// holds the aged plate, reports on it, runs retention (the held old reads survive, others go),
// corrects and erases reads, releases the hold and runs again; the auditor sees each step and
// the log verifies.
func TestHoldsRetentionDataRightsThroughDex(t *testing.T) {
	addr := freePort(t)
	dex := dextest.Start(t, dextest.Options{RedirectURIs: []string{"http://" + addr + "/auth/callback"}})
	p := startPortal(t, addr, dex.Issuer, dex.ClientSecret)
	defer func() { p.stop() }()
	inv := login(t, dex, p.base, userByRole(dex, dextest.RoleInvestigator))
	mgr := login(t, dex, p.base, dex.User("manager"))
	aud := login(t, dex, p.base, userByRole(dex, dextest.RoleAuditor))
	n := 0
	rid := func() string { n++; return fmt.Sprintf("retention-test-%04d", n) }
	now := time.Now().UTC()

	holdBody := fmt.Sprintf(`{"case_ref":"MPS/54321/26","reason":{"purpose":"major_crime","offence_code":"HO01001",`+
		`"justification":"homicide trial next spring; movements of the suspect vehicle before the attack are disclosed evidence"},`+
		`"scope":{"vrms":[%q]},"review_at":%q}`, seed.AgedVRM, now.AddDate(0, 6, 0).Format(time.RFC3339))

	// The investigator may do none of it; every refusal is audited with its rule.
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/api/v1/holds", holdBody},
		{"GET", "/api/v1/holds", ""},
		{"POST", "/api/v1/retention/runs", ""},
		{"POST", "/api/v1/reads/0123456789abcdef/correct", `{"vrm":"AB12CDE",` + dpReason + `}`},
		{"POST", "/api/v1/reads/0123456789abcdef/erase", `{` + dpReason + `}`},
		{"POST", "/api/v1/subject-access", fmt.Sprintf(`{"vrm":"AB12CDE","from":%q,"to":%q,%s}`,
			now.AddDate(-1, 0, 0).Format(time.RFC3339), now.Format(time.RFC3339), dpReason)},
	} {
		id := rid()
		if code, body := inv.send(r.method, r.path, r.body, id); code != 403 || body["code"] != "forbidden" {
			t.Errorf("investigator %s %s: %d %v", r.method, r.path, code, body)
		}
		checkDeniedAudited(t, aud, id)
	}

	// The manager holds the aged plate.
	code, hold := mgr.sendChecked("POST", "/api/v1/holds", holdBody, rid())
	if code != 201 || hold["active"] != true {
		t.Fatalf("create hold: %d %v", code, hold)
	}
	holdID := hold["id"].(string)
	if code, body := mgr.sendChecked("GET", "/api/v1/holds", "", rid()); code != 200 || len(body["holds"].([]any)) != 1 {
		t.Fatalf("list holds: %d %v", code, body)
	}

	// Its reads past retention are all in a subject access report.
	cutoff := now.AddDate(0, 0, -365)
	aged := sarRows(t, mgr, aud, seed.AgedVRM, rid())
	var old int
	for _, r := range aged {
		if at, _ := time.Parse(time.RFC3339Nano, r[2]); at.Before(cutoff) {
			old++
		}
	}
	if old == 0 {
		t.Fatalf("the seeded aged plate has no reads past retention: %v", aged)
	}

	// Retention: everything past it goes except the held plate's reads.
	id := rid()
	code, report := mgr.sendChecked("POST", "/api/v1/retention/runs", "", id)
	if code != 200 || report["status"] != "ok" || report["deleted"].(float64) == 0 || report["held_kept"] != float64(old) || report["holds"] != float64(1) {
		t.Fatalf("retention run: %d %v (held plate has %d old reads)", code, report, old)
	}
	evs := eventsOf(t, aud, id)
	if len(evs) != 2 || evs[0]["action"] != "retention.run" || evs[1]["result_count"] != report["deleted"] {
		t.Fatalf("retention events: %v", evs)
	}
	if again := sarRows(t, mgr, aud, seed.AgedVRM, rid()); len(again) != len(aged) {
		t.Fatalf("held plate: %d reads after retention, %d before", len(again), len(aged))
	}

	// Correct a misread, then erase the corrected read.
	misread := sarRows(t, mgr, aud, seed.MisreadZeroVRM, rid())
	if len(misread) == 0 {
		t.Fatal("no misread reads seeded")
	}
	target := misread[len(misread)-1][0]
	id = rid()
	code, fixed := mgr.sendChecked("POST", "/api/v1/reads/"+target+"/correct", `{"vrm":"`+seed.MisreadVRM+`",`+dpReason+`}`, id)
	if code != 200 || fixed["before_id"] != target || fixed["read"].(map[string]any)["vrm"] != seed.MisreadVRM {
		t.Fatalf("correct: %d %v", code, fixed)
	}
	evs = eventsOf(t, aud, id)
	if len(evs) != 2 || evs[0]["result_digest"] != fixed["before_digest"] || evs[1]["result_digest"] != fixed["after_digest"] {
		t.Fatalf("correct events: %v", evs)
	}
	newID := fixed["read"].(map[string]any)["id"].(string)
	if code, body := mgr.sendChecked("POST", "/api/v1/reads/"+newID+"/erase", `{`+dpReason+`}`, rid()); code != 200 || body["id"] != newID {
		t.Fatalf("erase: %d %v", code, body)
	}
	if code, body := mgr.sendChecked("POST", "/api/v1/reads/"+newID+"/erase", `{`+dpReason+`}`, rid()); code != 404 {
		t.Fatalf("erase twice: %d %v", code, body)
	}
	if code, body := mgr.sendChecked("POST", "/api/v1/reads/"+target+"/erase", `{"reason":{"purpose":"data_protection","case_ref":"DP/0042/26","justification":"check"}}`, rid()); code != 400 {
		t.Fatalf("erase with a vague reason: %d %v", code, body)
	}

	// Releasing the hold lets the next run delete the plate's old reads.
	if code, body := mgr.sendChecked("POST", "/api/v1/holds/"+holdID+"/release", `{"reason":"trial concluded and the appeal period has expired"}`, rid()); code != 200 || body["active"] != false {
		t.Fatalf("release: %d %v", code, body)
	}
	code, report = mgr.sendChecked("POST", "/api/v1/retention/runs", "", rid())
	if code != 200 || report["deleted"] != float64(old) || report["held_kept"] != float64(0) {
		t.Fatalf("run after release: %d %v; want the %d old reads deleted", code, report, old)
	}
	if left := sarRows(t, mgr, aud, seed.AgedVRM, rid()); len(left) != len(aged)-old {
		t.Fatalf("after release: %d reads, want %d", len(left), len(aged)-old)
	}
	if code, body := mgr.sendChecked("GET", "/api/v1/retention/runs", "", rid()); code != 200 || len(body["runs"].([]any)) != 2 {
		t.Fatalf("list runs: %d %v", code, body)
	}

	p.stop()
	p.stop = func() {}
	if out, err := run(t, p.env, "audit", "verify"); err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	// With the server stopped, the CLI runs retention too (audited as the operator).
	if out, err := run(t, p.env, "retention", "run"); err != nil || !strings.Contains(out, "deleted 0 reads") {
		t.Fatalf("retention run: %v\n%s", err, out)
	}
}
