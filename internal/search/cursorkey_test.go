package search_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/policies"
)

// The cursor key file is created once, private to its owner, and read back the same, so
// instances sharing it (and a restarted one) accept the same cursors; a file too short to be a
// key is refused rather than used.
func TestCursorKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys", "cursor.key")
	k1, err := search.LoadOrCreateCursorKey(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file %v mode %v, want 0600", err, st.Mode().Perm())
	}
	k2, err := search.LoadOrCreateCursorKey(path)
	if err != nil || !bytes.Equal(k1, k2) || len(k1) < 32 {
		t.Fatalf("reloaded key differs (%v)", err)
	}
	short := filepath.Join(t.TempDir(), "short.key")
	if err := os.WriteFile(short, []byte("abcd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := search.LoadOrCreateCursorKey(short); err == nil {
		t.Fatal("a 2-byte cursor key was accepted")
	}
}

// Two instances reading one cursor key file accept each other's cursors (and so does an instance
// restarted with it); an instance with another key refuses them.
func TestCursorKeySharedByInstances(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cursor.key")
	instance := func(keyFile string) *search.Service {
		t.Helper()
		key, err := search.LoadOrCreateCursorKey(keyFile)
		if err != nil {
			t.Fatal(err)
		}
		clock := func() time.Time { return now }
		az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, clock)
		if err != nil {
			t.Fatal(err)
		}
		svc, err := search.New(search.Deps{Reads: e.store, Audit: e.log, Authz: az, Now: clock}, search.Config{CursorKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}
	a, b, other := instance(path), instance(path), instance(filepath.Join(t.TempDir(), "other.key"))
	first := search.Request{Pattern: "AB12C?E", From: now.Add(-48 * time.Hour), To: now, Limit: 2, Reason: goodReason()}
	p1, err := a.Partial(ctx, investigator, first)
	if err != nil || p1.Next == "" {
		t.Fatalf("page 1: %v %+v", err, p1)
	}
	second := first
	second.Cursor = p1.Next
	if p2, err := b.Partial(ctx, investigator, second); err != nil || len(p2.Hits) == 0 {
		t.Fatalf("page 2 on the other instance: %v %+v", err, p2)
	}
	if _, err := other.Partial(ctx, investigator, second); !errors.Is(err, search.ErrInvalid) {
		t.Fatalf("page 2 on an instance with another key: %v, want invalid", err)
	}
}
