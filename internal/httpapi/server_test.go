package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/httpapi"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
	"github.com/anpr-portal/anpr/internal/store/sqlite/sqlitetest"
	"github.com/anpr-portal/anpr/policies"
)

type harness struct {
	srv      *httptest.Server
	store    *sqlite.Store
	writer   *ingest.Writer
	auditLog *sqlite.AuditLog
	ident    *identity.Service
	idStore  *sqlite.IdentityStore
	server   *httpapi.Server
	key      string // an API key with scope reads:ingest
}

func newHarness(t *testing.T, queue int) *harness { return newHarnessWith(t, queue, nil) }

// newHarnessWith builds the real stack (SQLite reads, audit log, identity, Casbin policy) and
// lets a test put a faulty disk (wrap) between the ingest writer and the store.
func newHarnessWith(t *testing.T, queue int, wrap func(reads.Appender) reads.Appender) *harness {
	t.Helper()
	return newHarnessIdP(t, queue, wrap, "http://127.0.0.1:9/no-idp", "")
}

func newHarnessIdP(t *testing.T, queue int, wrap func(reads.Appender) reads.Appender, issuer, secret string) *harness {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "reads.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.PutCameras(ctx, []reads.Camera{{ID: "CAM1", Name: "A406 / Brent Cross NB"}}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cams, err := ingest.NewCameraCache(ctx, store, time.Now, time.Hour, log)
	if err != nil {
		t.Fatal(err)
	}
	var app reads.Appender = store
	if wrap != nil {
		app = wrap(store)
	}
	w := ingest.NewWriter(app, queue)
	t.Cleanup(func() { w.Close(context.Background()) })
	v := &ingest.Validator{Cameras: cams, Now: time.Now, ClockSkew: time.Minute}

	al := sqlitetest.AuditLog(t, dir, sqlite.AuditOptions{CheckpointEvery: 1})
	keys, _ := audit.LoadKeyring(filepath.Join(dir, "keys"))
	ist, err := sqlite.OpenIdentityStore(ctx, filepath.Join(dir, "identity.db"), sqlite.IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ist.Close() })
	srv := httptest.NewUnstartedServer(nil)
	ident, err := identity.NewService(identity.Config{
		Issuer: issuer, ClientID: "anpr-portal", ClientSecret: secret,
		RedirectURL: "http://" + srv.Listener.Addr().String() + "/auth/callback", AllowInsecureCookies: true,
		SigningKeyFile: filepath.Join(dir, "session.key"),
	}, identity.Deps{Store: ist, Audit: al, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	s := httpapi.New(httpapi.Deps{
		Log: log, Store: store, Registry: httpapi.NewRegistry(),
		Ingest: &httpapi.IngestService{
			Pipeline: func() *ingest.Pipeline {
				return &ingest.Pipeline{Validator: v, Writer: w, BatchSize: 100, MaxLineBytes: 1024, MaxErrors: 10, SubmitWait: time.Second}
			},
			Writer: w, MaxBodyBytes: 4096, RetryAfter: 3 * time.Second,
		},
		Identity: ident, Authz: az, Audit: al, Reviewer: audit.Reviewer{Log: al},
		Transparency: audit.NewTransparency(nil), AuditKeys: keys.Text(),
	})
	srv.Config.Handler = s.Handler()
	srv.Start()
	t.Cleanup(srv.Close)
	key, _, err := ident.CreateAPIKeyAsOperator(ctx, "test", identity.APIKeyRequest{Name: "camera feed", Scopes: []string{identity.ScopeReadsIngest}})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{srv: srv, store: store, writer: w, auditLog: al, ident: ident, idStore: ist, server: s, key: key}
}

func (h *harness) post(t *testing.T, body string, hdr map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/v1/reads:bulk", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}

func ndjson(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"camera_id":"CAM1","vrm":"AB12CDE","seen_at":%q}`+"\n", time.Now().UTC().Add(-time.Duration(i+1)*time.Minute).Format(time.RFC3339))
	}
	return b.String()
}

// No unauthenticated write path: no key, a wrong key, and a key in the wrong header all fail and
// store nothing.
func TestIngestRefusesWithoutValidKey(t *testing.T) {
	h := newHarness(t, 4)
	for name, hdr := range map[string]map[string]string{
		"none":         nil,
		"wrong":        {"Authorization": "Bearer anpr_not-the-key"},
		"basic":        {"Authorization": "Basic " + h.key},
		"empty bearer": {"Authorization": "Bearer "},
	} {
		resp, body := h.post(t, ndjson(2), hdr)
		if resp.StatusCode != http.StatusUnauthorized || body["code"] != httpapi.CodeUnauthenticated {
			t.Errorf("%s: status %d body %v", name, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s: content type %q", name, ct)
		}
	}
	n, _ := h.store.CountReads(context.Background(), reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: time.Now().Add(-time.Hour), To: time.Now()})
	if n != 0 {
		t.Fatalf("refused uploads stored %d reads", n)
	}
}

func TestIngestAcceptsAndReportsLines(t *testing.T) {
	h := newHarness(t, 4)
	body := ndjson(2) + "not json\n"
	for _, hdr := range []map[string]string{{"Authorization": "Bearer " + h.key}, {"X-API-Key": h.key}} {
		resp, rep := h.post(t, body, hdr)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d %v", resp.StatusCode, rep)
		}
		if rep["lines"] != 3.0 || rep["rejected"] != 1.0 {
			t.Fatalf("report %v", rep)
		}
	}
	n, _ := h.store.CountReads(context.Background(), reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: time.Now().Add(-time.Hour), To: time.Now()})
	if n != 2 {
		t.Fatalf("stored %d reads, want 2 (second upload must add nothing)", n)
	}
}

func TestIngestRequestLevelErrors(t *testing.T) {
	h := newHarness(t, 4)
	auth := map[string]string{"Authorization": "Bearer " + h.key}
	resp, body := h.post(t, ndjson(100), auth) // > 4096 bytes declared
	if resp.StatusCode != http.StatusRequestEntityTooLarge || body["code"] != httpapi.CodeTooLarge {
		t.Errorf("oversized: %d %v", resp.StatusCode, body)
	}
	resp, body = h.post(t, ndjson(1), map[string]string{"Authorization": "Bearer " + h.key, "Content-Type": "application/xml"})
	if resp.StatusCode != http.StatusUnsupportedMediaType || body["code"] != httpapi.CodeUnsupportedMedia {
		t.Errorf("content type: %d %v", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/api/v1/reads:bulkk", strings.NewReader(ndjson(1)))
	req.Header.Set("Authorization", "Bearer "+h.key)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusNotFound {
		t.Errorf("misspelt custom method: %d", r2.StatusCode)
	}
}

// gate stalls the disk so the writer saturates.
type gate struct {
	next    reads.Appender
	release chan struct{}
}

func (g *gate) AppendReads(ctx context.Context, b []reads.Read) (reads.AppendResult, error) {
	<-g.release
	return g.next.AppendReads(ctx, b)
}

func TestIngestSaturatedGets429WithRetryAfter(t *testing.T) {
	g := &gate{release: make(chan struct{})}
	h := newHarnessWith(t, 1, func(a reads.Appender) reads.Appender { g.next = a; return g })
	defer close(g.release)
	// One batch is taken by the stalled writer, the next fills the queue.
	for i := 0; i < 50 && !h.writer.Saturated(); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		h.writer.Submit(ctx, make([]reads.Read, 0))
		cancel()
	}
	if !h.writer.Saturated() {
		t.Fatal("writer never saturated behind a stalled disk")
	}
	resp, body := h.post(t, ndjson(1), map[string]string{"Authorization": "Bearer " + h.key})
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "3" || body["code"] != httpapi.CodeRateLimited {
		t.Fatalf("want 429 with Retry-After 3: %d %v %v", resp.StatusCode, resp.Header, body)
	}
}

func TestHealthReadyMetricsAndProblems(t *testing.T) {
	h := newHarness(t, 4)
	get := func(path string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+path, nil)
		req.Header.Set("X-Request-ID", "req-abcdef123")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if r, _ := get("/healthz"); r.StatusCode != 200 || r.Header.Get("X-Request-ID") != "req-abcdef123" {
		t.Fatalf("healthz %d %v", r.StatusCode, r.Header)
	}
	if r, b := get("/readyz"); r.StatusCode != 200 || !strings.Contains(b, `"store":"ok"`) {
		t.Fatalf("readyz %d %s", r.StatusCode, b)
	}
	if r, b := get("/metrics"); r.StatusCode != 200 || !strings.Contains(b, "anpr_http_requests_total") || !strings.Contains(b, "anpr_ingest_queue_batches") {
		t.Fatalf("metrics %d", r.StatusCode)
	}
	if r, b := get("/api/no/such/route"); r.StatusCode != 404 || !strings.Contains(b, `"code":"not_found"`) || !strings.Contains(b, "req-abcdef123") {
		t.Fatalf("404 %d %s", r.StatusCode, b)
	}
	// readyz fails closed when the store is gone, and so does the writer check after close.
	h.store.Close()
	h.writer.Close(context.Background())
	if r, b := get("/readyz"); r.StatusCode != 503 || !strings.Contains(b, "ingest_writer") {
		t.Fatalf("readyz after close %d %s", r.StatusCode, b)
	}
}
