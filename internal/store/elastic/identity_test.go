package elastic

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/identity/identitytest"
	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
)

// Every identity test runs against the real node of estest (see TestMain in store_test.go).

// openIdentityTest opens an identity store under a fresh prefix and removes its indices after.
func openIdentityTest(t *testing.T) *IdentityStore {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	s := openIdentityPrefix(t, "anpr-test-"+hex.EncodeToString(b[:])+"-")
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, index := range slices.Sorted(maps.Keys(s.mappings())) {
			if _, err := s.es.Indices.Delete(index).Do(ctx); err != nil {
				t.Logf("cleanup: delete %s: %v", index, err)
			}
		}
	})
	return s
}

// openIdentityPrefix opens another store (its own client and connections, as a second portal
// replica would have) over the indices of prefix.
func openIdentityPrefix(t *testing.T, prefix string) *IdentityStore {
	t.Helper()
	node := estest.Node(t)
	s, err := OpenIdentityStore(t.Context(), Config{Addresses: []string{node.URL}, Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("OpenIdentityStore: %v", err)
	}
	return s
}

// replicas is n stores over the same indices, so races run over separate connections.
func replicas(t *testing.T, n int) []*IdentityStore {
	first := openIdentityTest(t)
	out := []*IdentityStore{first}
	for len(out) < n {
		out = append(out, openIdentityPrefix(t, first.cfg.Prefix))
	}
	return out
}

func TestIdentityStoreConformance(t *testing.T) {
	estest.Node(t) // skip or fail once here, not once per case
	identitytest.RunStoreSuite(t, func(t *testing.T) identity.Store { return openIdentityTest(t) })
}

func TestIdentityOpenIsIdempotent(t *testing.T) {
	s := openIdentityTest(t)
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := s.CreateSession(t.Context(), identity.Session{ID: "s", Subject: "u", CSRFSecret: []byte("k"), CreatedAt: at, ExpiresAt: at.Add(time.Hour), LastSeenAt: at}); err != nil {
		t.Fatal(err)
	}
	again := openIdentityPrefix(t, s.cfg.Prefix)
	if _, err := again.GetSession(t.Context(), "s"); err != nil {
		t.Fatalf("session after reopening the indices: %v", err)
	}
}

// The mappings are strict: a field the code does not know is refused, in every identity index.
func TestIdentityMappingsAreStrict(t *testing.T) {
	s := openIdentityTest(t)
	for _, index := range slices.Sorted(maps.Keys(s.mappings())) {
		_, err := s.es.Index(index).Id("x").Raw(strings.NewReader(`{"smuggled": "field"}`)).Do(t.Context())
		if !isType(err, "strict_dynamic_mapping_exception") {
			t.Errorf("%s: a document with an unknown field: err = %v, want strict_dynamic_mapping_exception", index, err)
		}
	}
}

func hashOf(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// race runs f on n goroutines spread over the stores, all released at once, and returns the
// errors in goroutine order.
func race(stores []*IdentityStore, n int, f func(i int, s *IdentityStore) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = f(i, stores[i%len(stores)])
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// tally counts nil errors and errors of kind; anything else fails the test.
func tally(t *testing.T, what string, errs []error, kind error) (wins int) {
	t.Helper()
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, kind):
			t.Errorf("%s: unexpected error %v", what, err)
		}
	}
	return wins
}

// Many callbacks with the same state, over several clients: the conditional delete lets exactly
// one of them have the flow, every time.
func TestIdentityConsumeLoginFlowRaceAcrossClients(t *testing.T) {
	stores := replicas(t, 4)
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	for round := range 10 {
		state := fmt.Sprintf("state-%d", round)
		f := identity.LoginFlow{StateHash: hashOf(state), BindingHash: hashOf("b"), Nonce: "n", PKCEVerifier: "v", ReturnTo: "/", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		if err := stores[0].CreateLoginFlow(ctx, f); err != nil {
			t.Fatal(err)
		}
		errs := race(stores, 24, func(_ int, s *IdentityStore) error {
			_, err := s.ConsumeLoginFlow(ctx, hashOf(state), hashOf("b"))
			return err
		})
		if wins := tally(t, "consume", errs, identity.ErrNotFound); wins != 1 {
			t.Fatalf("round %d: %d of 24 concurrent callbacks consumed the flow, want exactly 1", round, wins)
		}
	}
}

// Revocations racing on one record: exactly one wins, the rest are told it is already done.
func TestIdentityRevokeRaces(t *testing.T) {
	stores := replicas(t, 3)
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	const n = 16
	if err := stores[0].CreateAPIKey(ctx, identity.APIKey{ID: "k", Name: "k", Scopes: []string{"reads:ingest"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}, hashOf("s")); err != nil {
		t.Fatal(err)
	}
	if err := stores[0].CreateSession(ctx, identity.Session{ID: "sid", Subject: "u", CSRFSecret: []byte("k"), CreatedAt: at, ExpiresAt: at.Add(time.Hour), LastSeenAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := stores[0].CreateGrant(ctx, identity.Grant{ID: "g", Subject: "u", Role: "auditor", Reason: "r", GrantedBy: "m", GrantedAt: at}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		kind error
		f    func(i int, s *IdentityStore) error
	}{
		{"API key", identity.ErrConflict, func(i int, s *IdentityStore) error {
			return s.RevokeAPIKey(ctx, "k", fmt.Sprint("m", i), at.Add(time.Minute))
		}},
		{"session", identity.ErrNotFound, func(i int, s *IdentityStore) error {
			return s.RevokeSession(ctx, "sid", at.Add(time.Minute), fmt.Sprint("by ", i))
		}},
		{"grant", identity.ErrConflict, func(i int, s *IdentityStore) error {
			return s.RevokeGrant(ctx, "g", fmt.Sprint("m", i), at.Add(time.Minute))
		}},
	} {
		if wins := tally(t, tc.name, race(stores, n, tc.f), tc.kind); wins != 1 {
			t.Errorf("%s: %d of %d concurrent revocations succeeded, want exactly 1", tc.name, wins, n)
		}
	}
}

// Concurrent grants of different roles to one subject all land (no lost update of the subject's
// document), while concurrent grants of one role let exactly one through.
func TestIdentityGrantRacesAcrossClients(t *testing.T) {
	stores := replicas(t, 3)
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	roles := identity.KnownRoles()
	errs := race(stores, len(roles), func(i int, s *IdentityStore) error {
		return s.CreateGrant(ctx, identity.Grant{ID: fmt.Sprint("d", i), Subject: "u", Role: roles[i], Reason: "r", GrantedBy: "m", GrantedAt: at})
	})
	if wins := tally(t, "distinct roles", errs, identity.ErrConflict); wins != len(roles) {
		t.Errorf("%d of %d concurrent grants of distinct roles landed, want all", wins, len(roles))
	}
	errs = race(stores, 16, func(i int, s *IdentityStore) error {
		return s.CreateGrant(ctx, identity.Grant{ID: fmt.Sprint("same", i), Subject: "v", Role: identity.RoleAuditor, Reason: "r", GrantedBy: "m", GrantedAt: at})
	})
	if wins := tally(t, "same role", errs, identity.ErrConflict); wins != 1 {
		t.Errorf("%d of 16 concurrent grants of one role succeeded, want exactly 1", wins)
	}
	all, err := stores[0].ListGrants(ctx, identity.GrantFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(roles)+1 {
		t.Errorf("%d grants stored, want %d", len(all), len(roles)+1)
	}
	// The refused grants' ids point nowhere.
	for i := range 16 {
		if g, err := stores[0].GetGrant(ctx, fmt.Sprint("same", i)); err == nil && g.Subject != "v" {
			t.Errorf("grant same%d has subject %q", i, g.Subject)
		}
	}
}

// Touches and logins racing: the latest time wins whatever order the writes land in, and
// concurrent first logins make one user.
func TestIdentityConcurrentTouchesAndLogins(t *testing.T) {
	stores := replicas(t, 3)
	ctx := t.Context()
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := stores[0].CreateSession(ctx, identity.Session{ID: "sid", Subject: "u", CSRFSecret: []byte("k"), CreatedAt: at, ExpiresAt: at.Add(time.Hour), LastSeenAt: at}); err != nil {
		t.Fatal(err)
	}
	if err := stores[0].CreateAPIKey(ctx, identity.APIKey{ID: "k", Name: "k", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}, hashOf("s")); err != nil {
		t.Fatal(err)
	}
	const n = 24
	when := func(i int) time.Time { return at.Add(time.Duration(i+1) * time.Second) }
	for _, err := range race(stores, n, func(i int, s *IdentityStore) error {
		return errors.Join(s.TouchSession(ctx, "sid", when(i)), s.TouchAPIKey(ctx, "k", when(i)),
			s.RecordLogin(ctx, identity.User{Subject: "u", Name: fmt.Sprint("n", i), FirstLoginAt: when(i), LastLoginAt: when(i)}))
	}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	latest := when(n - 1)
	if x, _ := stores[1].GetSession(ctx, "sid"); !x.LastSeenAt.Equal(latest) {
		t.Errorf("session last seen %v, want the latest touch %v", x.LastSeenAt, latest)
	}
	if k, _, _ := stores[1].GetAPIKey(ctx, "k"); !k.LastUsedAt.Equal(latest) {
		t.Errorf("key last used %v, want %v", k.LastUsedAt, latest)
	}
	us, err := stores[2].ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(us) != 1 || !us[0].LastLoginAt.Equal(latest) || us[0].FirstLoginAt.After(us[0].LastLoginAt) {
		t.Errorf("users after %d concurrent logins = %+v, want one, last login %v", n, us, latest)
	}
}
