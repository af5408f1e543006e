package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/identity/identitytest"
)

func identityOpenTestStore(t *testing.T, path string) *IdentityStore {
	t.Helper()
	s, err := OpenIdentityStore(context.Background(), path, IdentityOptions{})
	if err != nil {
		t.Fatalf("OpenIdentityStore: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestIdentityStoreConformance(t *testing.T) {
	identitytest.RunStoreSuite(t, func(t *testing.T) identity.Store {
		return identityOpenTestStore(t, filepath.Join(t.TempDir(), "identity.db"))
	})
}

// A revocation must survive a restart, or reopening the file would bring a logged-out session
// back to life.
func TestIdentityStoreRevocationSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "identity.db")
	s, err := OpenIdentityStore(ctx, path, IdentityOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := fromUnixMicro(1_700_000_000_000_000)
	if err := s.CreateSession(ctx, identity.Session{ID: "s", Subject: "u", CSRFSecret: []byte("k"), CreatedAt: now, ExpiresAt: now.Add(1e12), LastSeenAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeSession(ctx, "s", now, "logout"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := identityOpenTestStore(t, path)
	got, err := s2.GetSession(ctx, "s")
	if err != nil || got.RevokedAt.IsZero() {
		t.Fatalf("after reopen: %+v, %v; want the session still revoked", got, err)
	}
}
