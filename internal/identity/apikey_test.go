package identity_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/identity"
)

const scopeCameraStatus = "cameras:status"

func apiKeyEnv(t *testing.T) *env {
	return newEnv(t, func(c *identity.Config) {
		c.APIKeyScopes = map[string]string{identity.ScopeReadsIngest: identity.RoleIngest, scopeCameraStatus: identity.RoleIngest}
	})
}

func TestIdentityAPIKeyLifecycle(t *testing.T) {
	e := apiKeyEnv(t)
	ctx := t.Context()
	_, manager := e.sessionOf("mgr", "Max", identity.RoleANPRManager)

	plain, key, err := e.svc.CreateAPIKey(ctx, manager, identity.APIKeyRequest{Name: "north back-office", Scopes: []string{identity.ScopeReadsIngest}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !strings.HasPrefix(plain, "anpr_"+key.ID+"_") || !key.ExpiresAt.Equal(e.clock.Now().Add(identity.DefaultAPIKeyTTL)) || key.CreatedBy != "mgr" {
		t.Errorf("key %q %+v", plain, key)
	}
	p, err := e.svc.AuthenticateBearer(ctx, plain)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	if p.Kind != identity.KindAPIKey || p.APIKeyID != key.ID || p.Subject != "apikey:"+key.ID || !slices.Equal(p.Roles, []string{identity.RoleIngest}) {
		t.Errorf("principal %+v", p)
	}
	if err := p.RequireScope(identity.ScopeReadsIngest); err != nil {
		t.Errorf("key used within its scope: %v", err)
	}
	if err := e.svc.CheckCSRF(p, ""); err != nil {
		t.Errorf("an API key request needs no CSRF token (no browser attaches it): %v", err)
	}

	// Stored as a hash: neither the database nor its WAL holds the secret.
	_, hash, err := e.store.GetAPIKey(ctx, key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256([]byte(plain)); !bytes.Equal(hash, sum[:]) {
		t.Error("stored hash is not SHA-256 of the key")
	}
	secret := plain[len(plain)-43:] // anpr_<16-char id>_<43-char secret>
	files, _ := filepath.Glob(filepath.Join(e.dir, "identity.db*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the key's secret in clear", f)
		}
	}
	keys, err := e.svc.ListAPIKeys(ctx, manager)
	if err != nil || len(keys) != 1 || keys[0].ID != key.ID {
		t.Errorf("list = %+v, %v", keys, err)
	}

	rec := e.wantEvent(identity.ActionAPIKeyCreate, "mgr", audit.EffectAllow, audit.StageOutcome)
	if rec.Event.Status != audit.StatusOK {
		t.Errorf("create outcome %+v", rec.Event)
	}
	e.wantEvent(identity.ActionAPIKeyCreate, "mgr", audit.EffectAllow, audit.StageIntent)

	if err := e.svc.RevokeAPIKey(ctx, manager, key.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	_, err = e.svc.AuthenticateBearer(ctx, plain)
	wantErr(t, "key after revocation", err, identity.ErrUnauthenticated)
	e.wantEvent(identity.ActionAPIKeyRevoke, "mgr", audit.EffectAllow, audit.StageOutcome)
	wantErr(t, "revoke twice", e.svc.RevokeAPIKey(ctx, manager, key.ID), identity.ErrConflict)
	wantErr(t, "revoke unknown", e.svc.RevokeAPIKey(ctx, manager, "aaaaaaaaaaaaaaaa"), identity.ErrNotFound)
}

func TestIdentityAPIKeyRefusals(t *testing.T) {
	e := apiKeyEnv(t)
	ctx := t.Context()
	_, manager := e.sessionOf("mgr", "Max", identity.RoleANPRManager)
	_, investigator := e.sessionOf("inv", "Ivy", identity.RoleInvestigator)

	statusKey, _, err := e.svc.CreateAPIKey(ctx, manager, identity.APIKeyRequest{Name: "status only", Scopes: []string{scopeCameraStatus}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.AuthenticateAPIKey(ctx, statusKey)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "key used beyond its scope", p.RequireScope(identity.ScopeReadsIngest), identity.ErrForbidden)
	wantErr(t, "a person's session has no machine scope", investigator.RequireScope(identity.ScopeReadsIngest), identity.ErrForbidden)

	short, _, err := e.svc.CreateAPIKey(ctx, manager, identity.APIKeyRequest{Name: "short", Scopes: []string{identity.ScopeReadsIngest}, ExpiresAt: e.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateAPIKey(ctx, short); err != nil {
		t.Fatalf("before expiry: %v", err)
	}

	wrongSecret := short[:len(short)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(short, "A")]
	for _, tc := range []struct{ name, key string }{
		{"wrong secret for a real id", wrongSecret},
		{"unknown id", "anpr_aaaaaaaaaaaaaaaa_" + strings.Repeat("x", 43)},
		{"malformed", "anpr_short"},
		{"not ours", "sk_live_" + strings.Repeat("x", 60)},
		{"empty", ""},
	} {
		_, err := e.svc.AuthenticateBearer(ctx, tc.key)
		wantErr(t, tc.name, err, identity.ErrUnauthenticated)
	}

	e.clock.Advance(time.Hour)
	_, err = e.svc.AuthenticateAPIKey(ctx, short)
	wantErr(t, "expired key", err, identity.ErrUnauthenticated)

	// Only a manager, signed in as a person, manages keys; refusals are audited.
	for _, by := range []identity.Principal{investigator, p, {Kind: identity.KindToken, Subject: "tok", Roles: []string{identity.RoleANPRManager}}} {
		_, _, err := e.svc.CreateAPIKey(ctx, by, identity.APIKeyRequest{Name: "x", Scopes: []string{identity.ScopeReadsIngest}})
		wantErr(t, "create by "+by.Subject, err, identity.ErrForbidden)
		_, err = e.svc.ListAPIKeys(ctx, by)
		wantErr(t, "list by "+by.Subject, err, identity.ErrForbidden)
	}
	e.wantEvent(identity.ActionAPIKeyCreate, "inv", audit.EffectDeny, audit.StageEvent)

	for _, tc := range []struct {
		name string
		req  identity.APIKeyRequest
	}{
		{"no scopes", identity.APIKeyRequest{Name: "x"}},
		{"unknown scope", identity.APIKeyRequest{Name: "x", Scopes: []string{"audit:write"}}},
		{"no name", identity.APIKeyRequest{Scopes: []string{identity.ScopeReadsIngest}}},
		{"expiry in the past", identity.APIKeyRequest{Name: "x", Scopes: []string{identity.ScopeReadsIngest}, ExpiresAt: e.clock.Now().Add(-time.Second)}},
		{"expiry too far", identity.APIKeyRequest{Name: "x", Scopes: []string{identity.ScopeReadsIngest}, ExpiresAt: e.clock.Now().AddDate(2, 0, 0)}},
	} {
		_, _, err := e.svc.CreateAPIKey(ctx, manager, tc.req)
		wantErr(t, tc.name, err, identity.ErrInvalid)
	}
}

func TestIdentityAPIKeyCreatedByOperator(t *testing.T) {
	e := apiKeyEnv(t)
	plain, key, err := e.svc.CreateAPIKeyAsOperator(t.Context(), "alice", identity.APIKeyRequest{Name: "seed loader", Scopes: []string{identity.ScopeReadsIngest}})
	if err != nil {
		t.Fatal(err)
	}
	if key.CreatedBy != "operator:alice" {
		t.Errorf("created by %q", key.CreatedBy)
	}
	if _, err := e.svc.AuthenticateAPIKey(t.Context(), plain); err != nil {
		t.Error(err)
	}
	rec := e.wantEvent(identity.ActionAPIKeyCreate, "operator:alice", audit.EffectAllow, audit.StageIntent)
	if rec.Event.Rule != "identity:server-operator" {
		t.Errorf("rule %q", rec.Event.Rule)
	}
	_, _, err = e.svc.CreateAPIKeyAsOperator(t.Context(), "", identity.APIKeyRequest{Name: "x", Scopes: []string{identity.ScopeReadsIngest}})
	wantErr(t, "anonymous operator", err, identity.ErrInvalid)
}

// Removing a scope from the configuration disarms keys that carry it.
func TestIdentityAPIKeyScopeRemovedFromConfig(t *testing.T) {
	e := apiKeyEnv(t)
	_, manager := e.sessionOf("mgr", "Max", identity.RoleANPRManager)
	plain, _, err := e.svc.CreateAPIKey(t.Context(), manager, identity.APIKeyRequest{Name: "k", Scopes: []string{identity.ScopeReadsIngest, scopeCameraStatus}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(e.key) // reads:ingest only
	svc2, err := identity.NewService(cfg, identity.Deps{Store: e.store, Audit: e.audit, Clock: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc2.AuthenticateAPIKey(t.Context(), plain)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasScope(scopeCameraStatus) || !p.HasScope(identity.ScopeReadsIngest) {
		t.Errorf("scopes %v after %s left the config", p.Scopes, scopeCameraStatus)
	}
}

func TestIdentityBearerCredential(t *testing.T) {
	for _, tc := range []struct {
		header, value, want string
	}{
		{"Authorization", "Bearer abc", "abc"},
		{"Authorization", "bearer abc", "abc"},
		{"Authorization", "Basic abc", ""},
		{"X-API-Key", "k", "k"},
	} {
		r, _ := http.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set(tc.header, tc.value)
		if got := identity.BearerCredential(r); got != tc.want {
			t.Errorf("%s: %s -> %q, want %q", tc.header, tc.value, got, tc.want)
		}
	}
}

// A change that cannot be audited does not happen.
func TestIdentityManagementFailsClosedWithoutAudit(t *testing.T) {
	e := apiKeyEnv(t)
	ctx := t.Context()
	_, manager := e.sessionOf("mgr", "Max", identity.RoleANPRManager)
	e.sessionOf("inv", "Ivy", identity.RoleInvestigator)
	if err := e.audit.Close(); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.svc.CreateAPIKey(ctx, manager, identity.APIKeyRequest{Name: "k", Scopes: []string{identity.ScopeReadsIngest}})
	wantErr(t, "create key with the audit log down", err, identity.ErrUnavailable)
	_, err = e.svc.Grant(ctx, manager, identity.GrantRequest{Subject: "inv", Role: identity.RoleExtendedInvestigator, Reason: "Operation Kestrel"})
	wantErr(t, "grant with the audit log down", err, identity.ErrUnavailable)
	if keys, _ := e.store.ListAPIKeys(ctx); len(keys) != 0 {
		t.Errorf("unaudited key stored: %+v", keys)
	}
	if gs, _ := e.store.ListGrants(ctx, identity.GrantFilter{}); len(gs) != 0 {
		t.Errorf("unaudited grant stored: %+v", gs)
	}
	if !errors.Is(err, identity.ErrUnavailable) {
		t.Errorf("err %v", err)
	}
}
