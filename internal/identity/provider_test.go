package identity_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/anpr-portal/anpr/internal/identity"
)

// fakeIdP is an identity provider at a true process boundary: it serves discovery and a key set,
// and can be told to fail either, or to answer 503 to its first requests.
type fakeIdP struct {
	srv *httptest.Server

	mu        sync.Mutex
	downFor   int  // answer 503 to this many more discovery requests
	keysFail  bool // the key set answers 500
	emptyKeys bool // the key set has no keys
	jwks      []byte
	// onDiscovery, when set, is called (under mu) on every discovery request.
	onDiscovery func()
}

func newFakeIdP(t *testing.T) *fakeIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIdP{}
	f.jwks, err = json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		if f.onDiscovery != nil {
			f.onDiscovery()
		}
		down := f.downFor > 0
		if down {
			f.downFor--
		}
		f.mu.Unlock()
		if down {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": f.srv.URL, "authorization_endpoint": f.srv.URL + "/auth", "token_endpoint": f.srv.URL + "/token",
			"jwks_uri": f.srv.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /keys", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case f.keysFail:
			http.Error(w, "key store broken", http.StatusInternalServerError)
		case f.emptyKeys:
			_, _ = w.Write([]byte(`{"keys":[]}`))
		default:
			_, _ = w.Write(f.jwks)
		}
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// logBuffer collects the service's log lines; onLine, when set, sees each as it is written.
type logBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	onLine func(string)
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.onLine != nil {
		b.onLine(string(p))
	}
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serviceFor is an identity service whose issuer is url, logging into log.
func serviceFor(t *testing.T, url string, log *logBuffer) *identity.Service {
	t.Helper()
	e := newEnv(t, nil)
	cfg := e.cfg
	cfg.Issuer = url
	svc, err := identity.NewService(cfg, identity.Deps{Store: e.store, Audit: e.audit, Clock: e.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// CheckProvider is what /readyz reports for the IdP: each way it can be unusable is named, and a
// working one (discovery and a signing key) is ready.
func TestCheckProviderNamesWhatFails(t *testing.T) {
	closed := newFakeIdP(t)
	closed.srv.Close()
	cases := []struct {
		name string
		idp  func() *fakeIdP
		url  func(*fakeIdP) string
		want string // "" for ready
	}{
		{"unreachable", func() *fakeIdP { return closed }, nil, "discovery"},
		{"discovery failing", func() *fakeIdP { f := newFakeIdP(t); f.downFor = 1 << 30; return f }, nil, "discovery"},
		{"discovery of another issuer", newFakeIdPFor(t), func(f *fakeIdP) string { return f.srv.URL + "/other" }, "discovery"},
		{"keys failing", func() *fakeIdP { f := newFakeIdP(t); f.keysFail = true; return f }, nil, "signing keys"},
		{"no keys", func() *fakeIdP { f := newFakeIdP(t); f.emptyKeys = true; return f }, nil, "no public signing key"},
		{"working", newFakeIdPFor(t), nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.idp()
			url := f.srv.URL
			if tc.url != nil {
				url = tc.url(f)
			}
			err := serviceFor(t, url, &logBuffer{}).CheckProvider(t.Context())
			if tc.want == "" {
				if err != nil {
					t.Fatalf("working provider: %v", err)
				}
				return
			}
			if !errors.Is(err, identity.ErrUnavailable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckProvider = %v, want ErrUnavailable naming %q", err, tc.want)
			}
		})
	}
}

func newFakeIdPFor(t *testing.T) func() *fakeIdP { return func() *fakeIdP { return newFakeIdP(t) } }

// An IdP that is down at start is reported once, as a warning, and retried with backoff until it
// answers; then logins can work and that is logged too.
func TestAwaitProviderWarnsOnceThenRecovers(t *testing.T) {
	f := newFakeIdP(t)
	f.downFor = 5
	var log logBuffer
	svc := serviceFor(t, f.srv.URL, &log)
	if err := svc.AwaitProvider(t.Context(), time.Millisecond, 4*time.Millisecond); err != nil {
		t.Fatalf("AwaitProvider: %v", err)
	}
	f.mu.Lock()
	left := f.downFor
	f.mu.Unlock()
	if left != 0 {
		t.Fatalf("AwaitProvider returned with %d failures still to come", left)
	}
	if err := svc.CheckProvider(t.Context()); err != nil {
		t.Errorf("CheckProvider after recovery: %v", err)
	}
	var warns, infos int
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var rec struct{ Level, Msg, Issuer string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		switch {
		case rec.Level == "WARN" && strings.Contains(rec.Msg, "identity provider unreachable") && rec.Issuer == f.srv.URL:
			warns++
		case rec.Level == "INFO" && strings.Contains(rec.Msg, "identity provider reachable"):
			infos++
		}
	}
	if warns != 1 || infos != 1 {
		t.Errorf("%d warnings and %d recoveries logged over five failures, want one of each:\n%s", warns, infos, log.String())
	}
}

// AwaitProvider gives up when its context ends (serve shutting down), having warned once.
func TestAwaitProviderStopsWithItsContext(t *testing.T) {
	f := newFakeIdP(t)
	f.downFor = 1 << 30
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	retries := 0
	log := logBuffer{onLine: func(string) {}}
	svc := serviceFor(t, f.srv.URL, &log)
	// Cancel after a few more tries than the one that warned, as serve's shutdown would.
	f.onDiscovery = func() {
		if retries++; retries == 5 {
			cancel()
		}
	}
	if err := svc.AwaitProvider(ctx, time.Millisecond, 2*time.Millisecond); err == nil {
		t.Fatal("AwaitProvider succeeded against an IdP that never answers")
	}
	if n := strings.Count(log.String(), "identity provider unreachable"); n != 1 {
		t.Errorf("%d warnings, want 1", n)
	}
	if err := svc.CheckProvider(t.Context()); !errors.Is(err, identity.ErrUnavailable) {
		t.Errorf("CheckProvider while down: %v", err)
	}
}
