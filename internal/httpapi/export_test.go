package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/httpapi"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/images"
	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
	"github.com/anpr-portal/anpr/internal/store/sqlite/sqlitetest"
	"github.com/anpr-portal/anpr/policies"
)

// searchHarness is the real stack with the search service and an image store, and API keys that
// carry people's roles (the identity service maps a key's scope to a role, as a force may
// configure for a search client), so these tests need no IdP. It is a separate harness from
// newHarness, which has no search service, so the two can change independently.
type searchHarness struct {
	srv                *httptest.Server
	server             *httpapi.Server
	store              *sqlite.Store
	auditLog           *sqlite.AuditLog
	investigator, audr string // API keys
	recent, bare, aged reads.Read
}

func newSearchHarness(t *testing.T) *searchHarness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store, err := sqlite.Open(ctx, filepath.Join(dir, "reads.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.PutCameras(ctx, []reads.Camera{{ID: "CAM1", Name: "A406 / Brent Cross NB", Road: "A406", Lat: 51.57, Lon: -0.22}}); err != nil {
		t.Fatal(err)
	}
	imgs, err := images.Open(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	h := &searchHarness{store: store}
	now := time.Now().UTC().Truncate(time.Millisecond)
	var batch []reads.Read
	for i := 0; i < 25; i++ {
		r := reads.Read{CameraID: "CAM1", VRM: "AB12CDE", SeenAt: now.Add(-time.Duration(i+1) * time.Minute)}
		r.ID = reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
		batch = append(batch, r)
	}
	h.recent, h.bare = batch[0], batch[1]
	if h.recent.PatchSHA, err = imgs.Put(ctx, images.Patch("AB12CDE", true)); err != nil {
		t.Fatal(err)
	}
	if h.recent.OverviewSHA, err = imgs.Put(ctx, images.Overview(images.Scene{VRM: "AB12CDE", CameraID: "CAM1", SeenAt: h.recent.SeenAt, Lane: 1})); err != nil {
		t.Fatal(err)
	}
	batch[0] = h.recent
	h.aged = reads.Read{CameraID: "CAM1", VRM: "LD09HBR", SeenAt: now.AddDate(0, 0, -200)}
	h.aged.ID = reads.ReadID(h.aged.CameraID, h.aged.SeenAt, h.aged.VRM)
	h.aged.PatchSHA = h.recent.PatchSHA
	batch = append(batch, h.aged)
	if _, err := store.AppendReads(ctx, batch); err != nil {
		t.Fatal(err)
	}
	cams, err := ingest.NewCameraCache(ctx, store, time.Now, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	w := ingest.NewWriter(store, 2)
	t.Cleanup(func() { w.Close(context.Background()) })
	v := &ingest.Validator{Cameras: cams, Now: time.Now, ClockSkew: time.Minute}
	al := sqlitetest.AuditLog(t, dir, sqlite.AuditOptions{})
	keys, _ := audit.LoadKeyring(filepath.Join(dir, "keys"))
	h.auditLog = al
	ist, err := sqlite.OpenIdentityStore(ctx, filepath.Join(dir, "identity.db"), sqlite.IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ist.Close() })
	ident, err := identity.NewService(identity.Config{
		Issuer: "http://127.0.0.1:9/no-idp", ClientID: "anpr-portal", RedirectURL: "http://127.0.0.1:9/auth/callback",
		SigningKeyFile: filepath.Join(dir, "session.key"),
		APIKeyScopes: map[string]string{
			identity.ScopeReadsIngest: identity.RoleIngest, "test:investigator": identity.RoleInvestigator,
			"test:auditor": identity.RoleAuditor,
		},
	}, identity.Deps{Store: ist, Audit: al, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := search.New(search.Deps{Reads: store, Audit: al, Authz: az, Images: imgs, Now: time.Now}, search.Config{})
	if err != nil {
		t.Fatal(err)
	}
	h.server = httpapi.New(httpapi.Deps{
		Log: log, Store: store, Registry: httpapi.NewRegistry(),
		Ingest: &httpapi.IngestService{
			Pipeline: func() *ingest.Pipeline {
				return &ingest.Pipeline{Validator: v, Writer: w, BatchSize: 100, MaxLineBytes: 1024, MaxErrors: 10, SubmitWait: time.Second}
			},
			Writer: w, MaxBodyBytes: 4096, RetryAfter: time.Second,
		},
		Identity: ident, Authz: az, Audit: al, Reviewer: audit.Reviewer{Log: al},
		Transparency: audit.NewTransparency(nil), AuditKeys: keys.Text(), Search: svc,
	})
	h.srv = httptest.NewServer(h.server.Handler())
	t.Cleanup(h.srv.Close)
	key := func(scope string) string {
		k, _, err := ident.CreateAPIKeyAsOperator(ctx, "test", identity.APIKeyRequest{Name: scope, Scopes: []string{scope}})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	h.investigator, h.audr = key("test:investigator"), key("test:auditor")
	return h
}

// send makes one request with a request id, and returns the response with its body read.
func (h *searchHarness) send(t *testing.T, method, path, key, body, reqID string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("X-Request-ID", reqID)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// eventsOf returns the audit events a request left.
func (h *searchHarness) eventsOf(t *testing.T, reqID string) []audit.Event {
	t.Helper()
	page, err := h.auditLog.Read(context.Background(), audit.Filter{RequestID: reqID})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Event
	for _, r := range page.Records {
		out = append(out, r.Event)
	}
	return out
}

const exportReason = `"reason":{"purpose":"stolen_vehicle","case_ref":"MPS/12345/26","offence_code":"TH68010",` +
	`"justification":"vehicle reported stolen from Ealing driveway overnight; owner saw it leave westbound towards Perivale"}`

func window(days int) string {
	now := time.Now().UTC()
	return fmt.Sprintf(`"from":%q,"to":%q`, now.AddDate(0, 0, -days).Format(time.RFC3339), now.Format(time.RFC3339))
}

// The file sent is the file audited: X-Content-SHA256 is the SHA-256 of the body, and the audit
// outcome of the export carries the same digest and the row count.
func TestExportOverHTTPDigestIsAudited(t *testing.T) {
	h := newSearchHarness(t)
	resp, body := h.send(t, "POST", "/api/v1/exports", h.investigator, `{"type":"exact","vrm":"AB12CDE",`+window(1)+`,`+exportReason+`}`, "export-ok")
	if resp.StatusCode != 200 {
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	sum := sha256.Sum256(body)
	if got := resp.Header.Get("X-Content-SHA256"); got != hex.EncodeToString(sum[:]) {
		t.Errorf("X-Content-SHA256 %s, body SHA-256 %x", got, sum)
	}
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); !strings.HasPrefix(ct, "text/csv") ||
		cd != `attachment; filename="anpr-export-exact.csv"` {
		t.Errorf("content type %q, disposition %q", ct, cd)
	}
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil || len(rows) != 26 || rows[1][1] != "AB12CDE" {
		t.Fatalf("%d rows (%v): %s", len(rows), err, body)
	}
	evs := h.eventsOf(t, "export-ok")
	if len(evs) != 2 || evs[0].Action != audit.ActionExport || evs[1].Stage != audit.StageOutcome ||
		evs[1].ResultCount != 25 || evs[1].ResultDigest != audit.Digest(sum) {
		t.Fatalf("audit events %+v; want an export outcome with 25 rows and digest %x", evs, sum)
	}
}

// Exports are refused like searches; every refusal, of the policy or of a malformed request, is
// audited, and no CSV leaves.
func TestExportOverHTTPRefused(t *testing.T) {
	h := newSearchHarness(t)
	for _, tc := range []struct {
		name, key, body string
		status          int
		code            string
		audited         string // the rule's start; "" for no event
	}{
		{"band 2 by an investigator", h.investigator, `{"type":"exact","vrm":"LD09HBR",` + window(250) + `,` + exportReason + `}`, 403, httpapi.CodeForbidden, "default-deny"},
		{"auditor", h.audr, `{"type":"exact","vrm":"AB12CDE",` + window(1) + `,` + exportReason + `}`, 403, httpapi.CodeForbidden, "default-deny"},
		{"unknown type", h.investigator, `{"type":"everything","vrm":"AB12CDE",` + window(1) + `,` + exportReason + `}`, 400, httpapi.CodeBadRequest, "invalid-request"},
		{"cursor", h.investigator, `{"type":"exact","vrm":"AB12CDE","cursor":"s1.x.y",` + window(1) + `,` + exportReason + `}`, 400, httpapi.CodeBadRequest, "invalid-request"},
		{"unknown field", h.investigator, `{"type":"exact","vrn":"AB12CDE",` + window(1) + `,` + exportReason + `}`, 400, httpapi.CodeBadRequest, "invalid-request"},
		{"anonymous", "", `{"type":"exact","vrm":"AB12CDE",` + window(1) + `,` + exportReason + `}`, 401, httpapi.CodeUnauthenticated, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "export-" + strings.ReplaceAll(tc.name, " ", "-")
			resp, body := h.send(t, "POST", "/api/v1/exports", tc.key, tc.body, id)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), `"code":"`+tc.code+`"`) ||
				resp.Header.Get("X-Content-SHA256") != "" || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
			}
			evs := h.eventsOf(t, id)
			if tc.audited != "" && (len(evs) != 1 || evs[0].Decision != audit.EffectDeny || evs[0].Action != audit.ActionExport || !strings.HasPrefix(evs[0].Rule, tc.audited)) {
				t.Errorf("want one export denial with a rule starting %q, got %+v", tc.audited, evs)
			}
			if tc.audited == "" && len(evs) != 0 {
				t.Errorf("an anonymous request left audit events %+v", evs)
			}
		})
	}
}

const imageReason = `{"purpose":"stolen_vehicle","case_ref":"MPS/12345/26","offence_code":"TH68010",` +
	`"justification":"vehicle reported stolen from Ealing driveway overnight; owner saw it leave westbound towards Perivale"}`

// reasonQuery mints a reason token for key and returns the query string that presents it.
func (h *searchHarness) reasonQuery(t *testing.T, key, reason string) string {
	t.Helper()
	return "?" + mintReason(t, h.srv.URL, key, reason)
}

// mintReason mints a reason token for the API key and returns "reason_token=<token>".
func mintReason(t *testing.T, base, key, reason string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/reason-tokens", strings.NewReader(`{"reason":`+reason+`}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("mint reason token: %d %s", resp.StatusCode, body)
	}
	var out struct{ Token string }
	if err := json.Unmarshal(body, &out); err != nil || out.Token == "" {
		t.Fatalf("mint reason token: %v %s", err, body)
	}
	return "reason_token=" + url.QueryEscape(out.Token)
}

func TestImagesOverHTTPAudited(t *testing.T) {
	h := newSearchHarness(t)
	imageQuery := h.reasonQuery(t, h.investigator, imageReason)
	for _, kind := range []string{"patch", "overview"} {
		id := "image-" + kind
		resp, body := h.send(t, "GET", "/api/v1/reads/"+h.recent.ID+"/images/"+kind+imageQuery, h.investigator, "", id)
		want := h.recent.PatchSHA
		if kind == "overview" {
			want = h.recent.OverviewSHA
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("Cache-Control") != "no-store" ||
			resp.Header.Get("X-Content-SHA256") != want || images.Digest(body) != want {
			t.Fatalf("%s: %d %v (%d bytes)", kind, resp.StatusCode, resp.Header, len(body))
		}
		evs := h.eventsOf(t, id)
		if len(evs) != 2 || evs[0].Action != audit.ActionImageView || evs[1].ResultDigest.String() != want {
			t.Errorf("%s: audit events %+v", kind, evs)
		}
	}
	for _, tc := range []struct {
		name, path, key string
		status          int
	}{
		{"read without images", "/api/v1/reads/" + h.bare.ID + "/images/patch", h.investigator, 404},
		{"no such read", "/api/v1/reads/0123456789abcdef/images/overview", h.investigator, 404},
		{"band 2 by an investigator", "/api/v1/reads/" + h.aged.ID + "/images/patch", h.investigator, 403},
		{"auditor", "/api/v1/reads/" + h.recent.ID + "/images/patch" + h.reasonQuery(t, h.audr, imageReason), h.audr, 403},
		{"anonymous", "/api/v1/reads/" + h.recent.ID + "/images/patch", "", 401},
		{"bad id", "/api/v1/reads/not-an-id/images/patch", h.investigator, 400},
		{"another caller's token", "/api/v1/reads/" + h.recent.ID + "/images/patch" + h.reasonQuery(t, h.audr, imageReason), h.investigator, 400},
		{"reason in the URL", "/api/v1/reads/" + h.recent.ID + "/images/patch?purpose=stolen_vehicle&case_ref=MPS/12345/26", h.investigator, 400},
	} {
		path := tc.path
		if !strings.Contains(path, "?") {
			path += imageQuery
		}
		resp, body := h.send(t, "GET", path, tc.key, "", "image-refused")
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, body)
		}
	}
}
