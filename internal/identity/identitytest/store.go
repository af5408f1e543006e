// Package identitytest is the conformance suite for identity.Store: every backend runs
// RunStoreSuite, and is done when it passes, not when it compiles.
package identitytest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/identity"
)

// NewStore returns an empty store for one test; the caller closes it in t.Cleanup.
type NewStore func(t *testing.T) identity.Store

// T0 is the suite's reference time; backends keep at least microseconds.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// RunStoreSuite runs every conformance test against stores from newStore.
func RunStoreSuite(t *testing.T, newStore NewStore) {
	t.Run("LoginFlowConsumedOnce", func(t *testing.T) { testLoginFlow(t, newStore(t)) })
	t.Run("LoginFlowConsumeRace", func(t *testing.T) { testLoginFlowRace(t, newStore(t)) })
	t.Run("Sessions", func(t *testing.T) { testSessions(t, newStore(t)) })
	t.Run("Users", func(t *testing.T) { testUsers(t, newStore(t)) })
	t.Run("APIKeys", func(t *testing.T) { testAPIKeys(t, newStore(t)) })
	t.Run("Grants", func(t *testing.T) { testGrants(t, newStore(t)) })
	t.Run("GrantRace", func(t *testing.T) { testGrantRace(t, newStore(t)) })
	t.Run("SubjectLinks", func(t *testing.T) { testLinks(t, newStore(t)) })
	t.Run("SubjectLinkRace", func(t *testing.T) { testLinkRace(t, newStore(t)) })
}

func h(s string) []byte {
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: err = %v, want %v", what, err, kind)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func testLoginFlow(t *testing.T, s identity.Store) {
	ctx := t.Context()
	f := identity.LoginFlow{StateHash: h("state"), BindingHash: h("binding"), Nonce: "n", PKCEVerifier: "v", ReturnTo: "/x?y=1",
		CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}
	must(t, "create", s.CreateLoginFlow(ctx, f))
	old := f
	old.StateHash, old.ExpiresAt = h("old"), t0.Add(-time.Second)
	must(t, "create old", s.CreateLoginFlow(ctx, old))

	_, err := s.ConsumeLoginFlow(ctx, h("state"), h("other browser"))
	wantKind(t, "consume with a foreign binding", err, identity.ErrNotFound)
	got, err := s.ConsumeLoginFlow(ctx, h("state"), h("binding"))
	must(t, "consume (a foreign binding must not have burnt it)", err)
	if got.Nonce != "n" || got.PKCEVerifier != "v" || got.ReturnTo != "/x?y=1" || !got.ExpiresAt.Equal(f.ExpiresAt) || !got.CreatedAt.Equal(t0) {
		t.Errorf("consumed %+v, want %+v", got, f)
	}
	_, err = s.ConsumeLoginFlow(ctx, h("state"), h("binding"))
	wantKind(t, "second consume", err, identity.ErrNotFound)

	must(t, "purge", s.PurgeLoginFlows(ctx, t0))
	_, err = s.ConsumeLoginFlow(ctx, h("old"), h("binding"))
	wantKind(t, "consume a purged flow", err, identity.ErrNotFound)
}

func testLoginFlowRace(t *testing.T, s identity.Store) {
	ctx := t.Context()
	must(t, "create", s.CreateLoginFlow(ctx, identity.LoginFlow{StateHash: h("s"), BindingHash: h("b"), Nonce: "n", PKCEVerifier: "v", ReturnTo: "/", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}))
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range n {
		wg.Go(func() {
			_, err := s.ConsumeLoginFlow(ctx, h("s"), h("b"))
			if err != nil && !errors.Is(err, identity.ErrNotFound) {
				t.Errorf("consume: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent callbacks consumed the same flow, want exactly 1", wins)
	}
}

func testSessions(t *testing.T, s identity.Store) {
	ctx := t.Context()
	x := identity.Session{ID: "sid1", Subject: "sub1", Name: "Ann", Email: "ann@example", IdPRoles: []string{"auditor", "investigator"},
		IdPRank: "inspector", CSRFSecret: []byte("0123456789abcdef0123456789abcdef"), IDToken: "eyJ.x.y", ClientAddr: "192.0.2.1",
		CreatedAt: t0, ExpiresAt: t0.Add(8 * time.Hour), LastSeenAt: t0.Add(123 * time.Microsecond)}
	must(t, "create", s.CreateSession(ctx, x))
	must(t, "create second", s.CreateSession(ctx, identity.Session{ID: "sid2", Subject: "sub1", CSRFSecret: []byte("k"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), LastSeenAt: t0}))
	must(t, "create other subject", s.CreateSession(ctx, identity.Session{ID: "sid3", Subject: "sub2", CSRFSecret: []byte("k"), CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), LastSeenAt: t0}))
	if err := s.CreateSession(ctx, x); err == nil {
		t.Error("a second session with the same id was accepted")
	}
	got, err := s.GetSession(ctx, "sid1")
	must(t, "get", err)
	if got.Subject != x.Subject || got.Name != x.Name || got.Email != x.Email || !slices.Equal(got.IdPRoles, x.IdPRoles) || got.IdPRank != x.IdPRank ||
		string(got.CSRFSecret) != string(x.CSRFSecret) || got.IDToken != x.IDToken || got.ClientAddr != x.ClientAddr ||
		!got.CreatedAt.Equal(x.CreatedAt) || !got.ExpiresAt.Equal(x.ExpiresAt) || !got.LastSeenAt.Equal(x.LastSeenAt) || !got.RevokedAt.IsZero() {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, x)
	}
	_, err = s.GetSession(ctx, "nope")
	wantKind(t, "get unknown", err, identity.ErrNotFound)

	must(t, "touch", s.TouchSession(ctx, "sid1", t0.Add(time.Minute)))
	must(t, "touch back in time", s.TouchSession(ctx, "sid1", t0.Add(time.Second)))
	if got, _ := s.GetSession(ctx, "sid1"); !got.LastSeenAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("last seen = %v after touches at +1m and +1s, want +1m (never backwards)", got.LastSeenAt)
	}

	must(t, "revoke", s.RevokeSession(ctx, "sid1", t0.Add(2*time.Minute), "logout"))
	got, _ = s.GetSession(ctx, "sid1")
	if !got.RevokedAt.Equal(t0.Add(2*time.Minute)) || got.RevokedReason != "logout" {
		t.Errorf("revoked session: at %v reason %q", got.RevokedAt, got.RevokedReason)
	}
	wantKind(t, "revoke twice", s.RevokeSession(ctx, "sid1", t0.Add(3*time.Minute), "again"), identity.ErrNotFound)
	wantKind(t, "revoke unknown", s.RevokeSession(ctx, "nope", t0, "x"), identity.ErrNotFound)

	n, err := s.RevokeSubjectSessions(ctx, "sub1", t0.Add(4*time.Minute), "revoked by m")
	must(t, "revoke subject", err)
	if n != 1 {
		t.Errorf("revoked %d live sessions of sub1, want 1 (sid1 was already revoked)", n)
	}
	if got, _ := s.GetSession(ctx, "sid3"); !got.RevokedAt.IsZero() {
		t.Error("revoking sub1's sessions revoked sub2's")
	}

	must(t, "purge", s.PurgeSessions(ctx, t0.Add(5*time.Minute)))
	for _, id := range []string{"sid1", "sid2"} {
		_, err := s.GetSession(ctx, id)
		wantKind(t, "get purged "+id, err, identity.ErrNotFound)
	}
	if _, err := s.GetSession(ctx, "sid3"); err != nil {
		t.Errorf("purge removed a live session: %v", err)
	}
}

func testUsers(t *testing.T, s identity.Store) {
	ctx := t.Context()
	must(t, "first login", s.RecordLogin(ctx, identity.User{Subject: "u1", Name: "Old", Email: "a@x", FirstLoginAt: t0, LastLoginAt: t0}))
	later := t0.Add(time.Hour)
	must(t, "second login", s.RecordLogin(ctx, identity.User{Subject: "u1", Name: "New", Email: "b@x", FirstLoginAt: later, LastLoginAt: later}))
	must(t, "other", s.RecordLogin(ctx, identity.User{Subject: "u0", Name: "Abe", FirstLoginAt: t0, LastLoginAt: t0}))
	u, err := s.GetUser(ctx, "u1")
	must(t, "get", err)
	if u.Name != "New" || u.Email != "b@x" || !u.FirstLoginAt.Equal(t0) || !u.LastLoginAt.Equal(later) {
		t.Errorf("user after two logins = %+v", u)
	}
	_, err = s.GetUser(ctx, "nobody")
	wantKind(t, "get unknown", err, identity.ErrNotFound)
	us, err := s.ListUsers(ctx)
	must(t, "list", err)
	if len(us) != 2 || us[0].Subject != "u0" || us[1].Subject != "u1" {
		t.Errorf("list = %+v, want u0 (Abe) then u1 (New)", us)
	}
}

func testAPIKeys(t *testing.T, s identity.Store) {
	ctx := t.Context()
	k := identity.APIKey{ID: "abcdefgh234567ab", Name: "north", Scopes: []string{"reads:ingest"}, CreatedBy: "m", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	must(t, "create", s.CreateAPIKey(ctx, k, h("secret")))
	if err := s.CreateAPIKey(ctx, k, h("other")); err == nil {
		t.Error("a second key with the same id was accepted")
	}
	k2 := k
	k2.ID, k2.CreatedAt = "zzzzzzzzzzzzzzzz", t0.Add(time.Second)
	must(t, "create second", s.CreateAPIKey(ctx, k2, h("secret2")))

	got, hash, err := s.GetAPIKey(ctx, k.ID)
	must(t, "get", err)
	if string(hash) != string(h("secret")) || got.Name != "north" || !slices.Equal(got.Scopes, k.Scopes) || got.CreatedBy != "m" ||
		!got.ExpiresAt.Equal(k.ExpiresAt) || !got.RevokedAt.IsZero() || !got.LastUsedAt.IsZero() {
		t.Errorf("round trip: %+v hash ok=%v", got, string(hash) == string(h("secret")))
	}
	_, _, err = s.GetAPIKey(ctx, "nope")
	wantKind(t, "get unknown", err, identity.ErrNotFound)

	must(t, "touch", s.TouchAPIKey(ctx, k.ID, t0.Add(time.Minute)))
	must(t, "revoke", s.RevokeAPIKey(ctx, k.ID, "m2", t0.Add(2*time.Minute)))
	got, _, _ = s.GetAPIKey(ctx, k.ID)
	if !got.RevokedAt.Equal(t0.Add(2*time.Minute)) || got.RevokedBy != "m2" || !got.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("after touch and revoke: %+v", got)
	}
	wantKind(t, "revoke twice", s.RevokeAPIKey(ctx, k.ID, "m2", t0.Add(3*time.Minute)), identity.ErrConflict)
	wantKind(t, "revoke unknown", s.RevokeAPIKey(ctx, "nope", "m2", t0), identity.ErrNotFound)

	list, err := s.ListAPIKeys(ctx)
	must(t, "list", err)
	if len(list) != 2 || list[0].ID != k2.ID || list[1].ID != k.ID {
		t.Errorf("list = %+v, want newest first", list)
	}
}

func grant(id, subject, role string, at time.Time) identity.Grant {
	return identity.Grant{ID: id, Subject: subject, Role: role, Reason: "r", GrantedBy: "m", GrantedAt: at}
}

func testGrants(t *testing.T, s identity.Store) {
	ctx := t.Context()
	g1 := grant("g1", "u1", "extended_investigator", t0)
	must(t, "create", s.CreateGrant(ctx, g1))
	wantKind(t, "duplicate active grant", s.CreateGrant(ctx, grant("g2", "u1", "extended_investigator", t0.Add(time.Minute))), identity.ErrConflict)
	ao := grant("g3", "u1", "authorising_officer", t0)
	ao.Rank, ao.ExpiresAt = "inspector", t0.Add(time.Hour)
	must(t, "create expiring", s.CreateGrant(ctx, ao))
	must(t, "other subject", s.CreateGrant(ctx, grant("g4", "u2", "extended_investigator", t0)))

	got, err := s.GetGrant(ctx, "g3")
	must(t, "get", err)
	if got.Rank != "inspector" || !got.ExpiresAt.Equal(ao.ExpiresAt) || got.Reason != "r" || got.GrantedBy != "m" || !got.GrantedAt.Equal(t0) {
		t.Errorf("round trip: %+v", got)
	}
	_, err = s.GetGrant(ctx, "nope")
	wantKind(t, "get unknown", err, identity.ErrNotFound)

	active := func(at time.Time) []string {
		gs, err := s.ListGrants(ctx, identity.GrantFilter{Subject: "u1", ActiveAt: at})
		must(t, "list active", err)
		var ids []string
		for _, g := range gs {
			ids = append(ids, g.ID)
		}
		slices.Sort(ids)
		return ids
	}
	if ids := active(t0.Add(time.Minute)); !slices.Equal(ids, []string{"g1", "g3"}) {
		t.Errorf("active at +1m = %v", ids)
	}
	if ids := active(t0.Add(2 * time.Hour)); !slices.Equal(ids, []string{"g1"}) {
		t.Errorf("active at +2h = %v (g3 expired at +1h)", ids)
	}
	must(t, "re-grant after expiry", s.CreateGrant(ctx, func() identity.Grant {
		g := grant("g5", "u1", "authorising_officer", t0.Add(2*time.Hour))
		g.Rank = "superintendent"
		return g
	}()))

	must(t, "revoke", s.RevokeGrant(ctx, "g1", "m2", t0.Add(3*time.Hour)))
	if ids := active(t0.Add(3 * time.Hour)); !slices.Equal(ids, []string{"g5"}) {
		t.Errorf("active after revoking g1 = %v", ids)
	}
	wantKind(t, "revoke twice", s.RevokeGrant(ctx, "g1", "m2", t0.Add(4*time.Hour)), identity.ErrConflict)
	wantKind(t, "revoke unknown", s.RevokeGrant(ctx, "nope", "m2", t0), identity.ErrNotFound)
	must(t, "grant again after revocation", s.CreateGrant(ctx, grant("g6", "u1", "extended_investigator", t0.Add(5*time.Hour))))

	all, err := s.ListGrants(ctx, identity.GrantFilter{})
	must(t, "list all", err)
	if len(all) != 5 {
		t.Errorf("list all = %d grants, want 5: g1 g3 g4 g5 g6 (revoked and expired included, refused g2 not)", len(all))
	}
	if r, _ := s.GetGrant(ctx, "g1"); r.RevokedBy != "m2" || !r.RevokedAt.Equal(t0.Add(3*time.Hour)) {
		t.Errorf("revoked grant = %+v", r)
	}
}

func testGrantRace(t *testing.T, s identity.Store) {
	ctx := context.Background()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = s.CreateGrant(ctx, grant(fmt.Sprintf("r%d", i), "u1", "auditor", t0)) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, identity.ErrConflict):
			t.Errorf("concurrent grant: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d concurrent identical grants succeeded, want exactly 1", ok)
	}
}

func link(id, issuer, subject, prevSubject string, at time.Time) identity.SubjectLink {
	return identity.SubjectLink{ID: id, Issuer: issuer, Subject: subject, PreviousIssuer: "https://old.example/dex", PreviousSubject: prevSubject,
		Reason: "moved to the new IdP", LinkedBy: "m", LinkedAt: at}
}

// testLinks: one live link per identity (issuer and subject together), revocation, round trip.
func testLinks(t *testing.T, s identity.Store) {
	ctx := t.Context()
	const kc, entra = "https://kc.example/realms/force", "https://login.example/tenant/v2.0"
	_, err := s.LiveLink(ctx, kc, "k1")
	wantKind(t, "no link yet", err, identity.ErrNotFound)
	must(t, "create", s.CreateLink(ctx, link("l1", kc, "k1", "dex-1", t0)))
	wantKind(t, "second live link of one identity", s.CreateLink(ctx, link("l2", kc, "k1", "dex-2", t0.Add(time.Minute))), identity.ErrConflict)
	wantKind(t, "link id reused", s.CreateLink(ctx, link("l1", kc, "k9", "dex-9", t0)), identity.ErrConflict)
	// The same subject at another issuer is another identity.
	must(t, "same subject, other issuer", s.CreateLink(ctx, link("l3", entra, "k1", "dex-3", t0.Add(2*time.Minute))))
	got, err := s.LiveLink(ctx, kc, "k1")
	must(t, "live", err)
	if got.ID != "l1" || got.PreviousSubject != "dex-1" || got.PreviousIssuer != "https://old.example/dex" || got.Reason != "moved to the new IdP" ||
		got.LinkedBy != "m" || !got.LinkedAt.Equal(t0) || !got.Live() {
		t.Errorf("round trip: %+v", got)
	}
	if got, err := s.LiveLink(ctx, entra, "k1"); err != nil || got.ID != "l3" {
		t.Errorf("other issuer's link: %+v %v", got, err)
	}
	must(t, "revoke", s.RevokeLink(ctx, "l1", "m2", t0.Add(time.Hour)))
	wantKind(t, "revoke again", s.RevokeLink(ctx, "l1", "m2", t0.Add(time.Hour)), identity.ErrConflict)
	wantKind(t, "revoke unknown", s.RevokeLink(ctx, "nope", "m2", t0), identity.ErrNotFound)
	_, err = s.LiveLink(ctx, kc, "k1")
	wantKind(t, "revoked link is not live", err, identity.ErrNotFound)
	must(t, "link again after revoking", s.CreateLink(ctx, link("l4", kc, "k1", "dex-4", t0.Add(2*time.Hour))))
	all, err := s.ListLinks(ctx)
	must(t, "list", err)
	var ids []string
	for _, l := range all {
		ids = append(ids, l.ID)
		if l.ID == "l1" && (l.Live() || l.RevokedBy != "m2" || !l.RevokedAt.Equal(t0.Add(time.Hour))) {
			t.Errorf("revoked link listed as %+v", l)
		}
	}
	if !slices.Equal(ids, []string{"l4", "l3", "l1"}) {
		t.Errorf("list newest first = %v", ids)
	}
}

// testLinkRace: managers linking one identity at once; exactly one wins.
func testLinkRace(t *testing.T, s identity.Store) {
	ctx := t.Context()
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateLink(ctx, link(fmt.Sprintf("r%d", i), "https://kc.example", "racer", fmt.Sprintf("old-%d", i), t0))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, identity.ErrConflict):
			t.Errorf("racing link: %v", err)
		}
	}
	if won != 1 {
		t.Errorf("%d racing links won, want 1", won)
	}
}
