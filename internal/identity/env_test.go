package identity_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/mod/sumdb/note"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

// clock is a settable time source shared by the service and the audit log, so expiry tests move
// time instead of sleeping. It starts at the real time because Dex stamps real times in its tokens.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a Service on a real SQLite identity store and a real SQLite audit log.
type env struct {
	t     *testing.T
	svc   *identity.Service
	cfg   identity.Config // as checked by the service (defaults filled in)
	store *sqlite.IdentityStore
	audit *sqlite.AuditLog
	clock *clock
	key   ed25519.PrivateKey
	dir   string
}

// unreachableIssuer refuses connections at once, so a test that never logs in through an IdP
// cannot hang on one (and never leaves the machine).
const unreachableIssuer = "http://127.0.0.1:1/dex"

func baseConfig(key ed25519.PrivateKey) identity.Config {
	return identity.Config{
		Issuer: unreachableIssuer, ClientID: "anpr-portal", ClientSecret: "s",
		RedirectURL: "http://127.0.0.1:8080/auth/callback", AllowInsecureCookies: true, SigningKey: key,
	}
}

// newEnv builds an env; edit changes the config before the service checks it.
func newEnv(t *testing.T, edit func(*identity.Config)) *env {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clock: newClock(), key: key, dir: t.TempDir()}
	e.store, err = sqlite.OpenIdentityStore(t.Context(), filepath.Join(e.dir, "identity.db"), sqlite.IdentityOptions{})
	if err != nil {
		t.Fatalf("open identity store: %v", err)
	}
	t.Cleanup(func() { e.store.Close() })
	e.audit = openAuditLog(t, filepath.Join(e.dir, "audit.db"), e.clock.Now)
	cfg := baseConfig(key)
	if edit != nil {
		edit(&cfg)
	}
	e.svc, err = identity.NewService(cfg, identity.Deps{Store: e.store, Audit: e.audit, Clock: e.clock.Now})
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	e.cfg = e.svc.Config()
	return e
}

func openAuditLog(t *testing.T, path string, now func() time.Time) *sqlite.AuditLog {
	t.Helper()
	skey, _, err := audit.GenerateKey(rand.Reader, "identity-test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := sqlite.OpenAuditLog(context.Background(), path, sqlite.AuditOptions{Signer: signer, Clock: now})
	if err != nil {
		t.Fatalf("open audit log: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// sessionOf creates a live session row for subject with the given IdP roles and returns a valid
// cookie for it, minted the way the service mints them (the control case of the forgery tests
// proves that). It lets tests that are not about the IdP skip the login flow.
func (e *env) sessionOf(subject, name string, roles ...string) (cookie string, p identity.Principal) {
	e.t.Helper()
	now := e.clock.Now()
	sid := "sid-" + subject + "-" + hex.EncodeToString(randomBytes(e.t, 6))
	err := e.store.CreateSession(e.t.Context(), identity.Session{
		ID: sid, Subject: subject, Name: name, IdPRoles: roles, CSRFSecret: randomBytes(e.t, 32),
		CreatedAt: now, ExpiresAt: now.Add(e.cfg.SessionTTL), LastSeenAt: now,
	})
	if err != nil {
		e.t.Fatalf("create session: %v", err)
	}
	if err := e.store.RecordLogin(e.t.Context(), identity.User{Subject: subject, Name: name, FirstLoginAt: now, LastLoginAt: now}); err != nil {
		e.t.Fatalf("record login: %v", err)
	}
	cookie = e.mint(e.validClaims(sid, subject), jwt.SigningMethodEdDSA, e.key, e.kid())
	p, err = e.svc.Authenticate(e.t.Context(), cookie)
	if err != nil {
		e.t.Fatalf("authenticate a freshly minted session: %v", err)
	}
	return cookie, p
}

func (e *env) kid() string {
	sum := sha256.Sum256(e.key.Public().(ed25519.PublicKey))
	return hex.EncodeToString(sum[:8])
}

func (e *env) validClaims(sid, subject string) jwt.MapClaims {
	now := e.clock.Now()
	return jwt.MapClaims{
		"sid": sid, "sub": subject, "iss": e.cfg.SessionIssuer, "aud": []string{identity.SessionAudience},
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(e.cfg.SessionTTL).Unix(),
	}
}

// mint signs claims with any method and key: the forger's tool.
func (e *env) mint(claims jwt.MapClaims, m jwt.SigningMethod, key any, kid string) string {
	e.t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		e.t.Fatalf("mint %s token: %v", m.Alg(), err)
	}
	return s
}

// events returns the audit records of action (all stages) by actor ("" for anyone).
func (e *env) events(action audit.Action, actor string) []audit.Record {
	e.t.Helper()
	page, err := e.audit.Read(e.t.Context(), audit.Filter{Action: action, Actor: actor, Limit: audit.MaxPageSize})
	if err != nil {
		e.t.Fatalf("read audit log: %v", err)
	}
	return page.Records
}

// wantEvent fails unless the log holds an event of action by actor with decision (and, for a
// two-stage change, an ok outcome).
func (e *env) wantEvent(action audit.Action, actor string, decision audit.Effect, stage audit.Stage) audit.Record {
	e.t.Helper()
	for _, r := range slices.Backward(e.events(action, actor)) {
		if r.Event.Decision == decision && r.Event.Stage == stage {
			return r
		}
	}
	e.t.Fatalf("no %s audit event by %q with decision %q stage %q; have %+v", action, actor, decision, stage, e.events(action, ""))
	return audit.Record{}
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func wantErr(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: err = %v, want %v", what, err, kind)
	}
}
