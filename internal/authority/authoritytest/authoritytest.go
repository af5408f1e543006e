// Package authoritytest is the conformance suite for authority.Store: every backend runs Run, and
// is done when it passes, not when it compiles. It includes the concurrency tests that prove uses
// are counted atomically (no double spend) and that a request is decided once.
package authoritytest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
)

// NewStore returns an empty store for one test; the caller closes it in t.Cleanup.
type NewStore func(t *testing.T) authority.Store

// T0 is the suite's reference time; backends keep microseconds.
var T0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// Run runs every conformance test against stores from newStore.
func Run(t *testing.T, newStore NewStore) {
	t.Run("CreateGet", func(t *testing.T) { testCreateGet(t, newStore(t)) })
	t.Run("Lists", func(t *testing.T) { testLists(t, newStore(t)) })
	t.Run("Transitions", func(t *testing.T) { testTransitions(t, newStore(t)) })
	t.Run("Spend", func(t *testing.T) { testSpend(t, newStore(t)) })
	t.Run("ConcurrentSpendExactlyMaxUses", func(t *testing.T) { testConcurrentSpend(t, newStore(t), 40, 7) })
	t.Run("ConcurrentDecisionOnce", func(t *testing.T) { testConcurrentDecide(t, newStore(t)) })
}

// Sample returns a pending authority with every field set, created at created.
func Sample(id, requester string, created time.Time) authority.Authority {
	return authority.Authority{
		ID: id, Requester: requester, RequesterName: "DS " + requester, State: authority.Pending,
		Reason: authz.Reason{Purpose: "serious_crime", CaseRef: "MPS/12345/26", OffenceCode: "TH68010",
			Justification: "silver Ford seen leaving the burglary; establish its route that night"},
		Scope: authority.Scope{
			VRMs: []string{"AB12CDE", "YR17KDX"}, Cameras: []string{"CAM0001"},
			Area: &geo.Area{Centre: &[2]float64{51.5, -0.12}, RadiusM: 1500}, AreaCameras: []string{"CAM0002", "CAM0003"},
			From: created.Add(-200 * 24 * time.Hour), To: created.Add(-150 * 24 * time.Hour),
			SearchTypes: []string{"exact", "journey"},
		},
		RequestedExpiresAt: created.Add(7 * 24 * time.Hour), ExpiresAt: created.Add(7 * 24 * time.Hour),
		MaxUses: 3, HoldID: "hold-1", CreatedAt: created,
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: err = %v, want %v", what, err, kind)
	}
}

func testCreateGet(t *testing.T, s authority.Store) {
	ctx := context.Background()
	a := Sample("au_1", "alice", T0.Add(123456*time.Microsecond))
	must(t, "create", s.Create(ctx, a))
	got, err := s.Get(ctx, a.ID)
	must(t, "get", err)
	if !reflect.DeepEqual(got, a) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, a)
	}
	wantKind(t, "create twice", s.Create(ctx, a), authority.ErrConflict)
	_, err = s.Get(ctx, "au_missing")
	wantKind(t, "get missing", err, authority.ErrNotFound)
}

func ids(as []authority.Authority) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func testLists(t *testing.T, s authority.Store) {
	ctx := context.Background()
	for i, who := range []string{"alice", "bob", "alice", "alice", "bob"} {
		must(t, "create", s.Create(ctx, Sample(fmt.Sprintf("au_%d", i), who, T0.Add(time.Duration(i)*time.Minute))))
	}
	_, err := s.Transition(ctx, "au_2", authority.Transition{From: authority.Pending, To: authority.Rejected, At: T0.Add(time.Hour), By: "insp", Reason: "no"})
	must(t, "reject", err)

	mine, err := s.ListByRequester(ctx, "alice", 10)
	must(t, "list alice", err)
	if got, want := ids(mine), []string{"au_3", "au_2", "au_0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("alice's, newest first: %v, want %v", got, want)
	}
	mine, err = s.ListByRequester(ctx, "alice", 2)
	must(t, "list alice limit 2", err)
	if got, want := ids(mine), []string{"au_3", "au_2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("alice's, limit 2: %v, want %v", got, want)
	}
	none, err := s.ListByRequester(ctx, "nobody", 10)
	must(t, "list nobody", err)
	if none == nil || len(none) != 0 {
		t.Errorf("nobody's: %v, want an empty list", none)
	}
	pending, err := s.ListPending(ctx, 10)
	must(t, "list pending", err)
	if got, want := ids(pending), []string{"au_0", "au_1", "au_3", "au_4"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pending, oldest first: %v, want %v", got, want)
	}
}

func testTransitions(t *testing.T, s authority.Store) {
	ctx := context.Background()
	a := Sample("au_t", "alice", T0)
	must(t, "create", s.Create(ctx, a))
	narrowed := a.Scope
	narrowed.From = a.Scope.From.Add(24 * time.Hour)
	narrowed.VRMs = []string{"AB12CDE"}
	at := T0.Add(time.Hour)
	got, err := s.Transition(ctx, a.ID, authority.Transition{From: authority.Pending, To: authority.Approved, At: at,
		By: "insp", ByName: "Insp Adams", Reason: "proportionate", Scope: &narrowed, ExpiresAt: T0.Add(48 * time.Hour), MaxUses: 2})
	must(t, "approve", err)
	want := a
	want.State, want.Scope, want.ExpiresAt, want.MaxUses = authority.Approved, narrowed, T0.Add(48*time.Hour), 2
	want.DecidedBy, want.DecidedByName, want.DecidedAt, want.DecisionReason = "insp", "Insp Adams", at, "proportionate"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("approved:\n got %+v\nwant %+v", got, want)
	}
	if stored, _ := s.Get(ctx, a.ID); !reflect.DeepEqual(stored, want) {
		t.Errorf("approved, stored:\n got %+v\nwant %+v", stored, want)
	}
	// Already decided: a second decision from pending changes nothing.
	_, err = s.Transition(ctx, a.ID, authority.Transition{From: authority.Pending, To: authority.Rejected, At: at, By: "supt", Reason: "no"})
	wantKind(t, "reject an approved request", err, authority.ErrConflict)
	_, err = s.Transition(ctx, "au_missing", authority.Transition{From: authority.Pending, To: authority.Approved, At: at})
	wantKind(t, "approve a missing request", err, authority.ErrNotFound)

	// A use, then revocation: the use is kept.
	if _, err := s.Spend(ctx, a.ID, "alice", T0.Add(2*time.Hour)); err != nil {
		t.Fatalf("spend: %v", err)
	}
	got, err = s.Transition(ctx, a.ID, authority.Transition{From: authority.Approved, To: authority.Revoked, At: T0.Add(3 * time.Hour), By: "supt", ByName: "Supt Shaw", Reason: "case closed"})
	must(t, "revoke", err)
	if got.State != authority.Revoked || got.Uses != 1 || got.DecidedBy != "supt" || got.DecisionReason != "case closed" {
		t.Errorf("revoked: %+v", got)
	}

	// Expiry keeps who decided.
	b := Sample("au_e", "alice", T0)
	must(t, "create", s.Create(ctx, b))
	_, err = s.Transition(ctx, b.ID, authority.Transition{From: authority.Pending, To: authority.Approved, At: at, By: "insp", ByName: "Insp Adams", Reason: "ok", Scope: &b.Scope, ExpiresAt: b.ExpiresAt, MaxUses: b.MaxUses})
	must(t, "approve", err)
	got, err = s.Transition(ctx, b.ID, authority.Transition{From: authority.Approved, To: authority.Expired, At: b.ExpiresAt, By: "system", Reason: "expired"})
	must(t, "expire", err)
	if got.State != authority.Expired || got.DecidedBy != "insp" || got.DecisionReason != "ok" {
		t.Errorf("expired: %+v", got)
	}
}

func approved(t *testing.T, s authority.Store, id string, uses int, expires time.Time) authority.Authority {
	t.Helper()
	ctx := context.Background()
	a := Sample(id, "alice", T0)
	must(t, "create", s.Create(ctx, a))
	got, err := s.Transition(ctx, id, authority.Transition{From: authority.Pending, To: authority.Approved, At: T0,
		By: "insp", Reason: "ok", Scope: &a.Scope, ExpiresAt: expires, MaxUses: uses})
	must(t, "approve", err)
	return got
}

func testSpend(t *testing.T, s authority.Store) {
	ctx := context.Background()
	pend := Sample("au_p", "alice", T0)
	must(t, "create", s.Create(ctx, pend))
	_, err := s.Spend(ctx, pend.ID, "alice", T0)
	wantKind(t, "spend pending", err, authority.ErrConflict)
	_, err = s.Spend(ctx, "au_missing", "alice", T0)
	wantKind(t, "spend missing", err, authority.ErrNotFound)

	a := approved(t, s, "au_s", 2, T0.Add(time.Hour))
	_, err = s.Spend(ctx, a.ID, "mallory", T0)
	wantKind(t, "spend someone else's", err, authority.ErrConflict)
	_, err = s.Spend(ctx, a.ID, "alice", T0.Add(time.Hour))
	wantKind(t, "spend at expiry", err, authority.ErrConflict)
	got, err := s.Spend(ctx, a.ID, "alice", T0)
	must(t, "spend 1", err)
	if got.Uses != 1 || got.State != authority.Approved {
		t.Errorf("after 1 of 2: %d uses, %s", got.Uses, got.State)
	}
	got, err = s.Spend(ctx, a.ID, "alice", T0)
	must(t, "spend 2", err)
	if got.Uses != 2 || got.State != authority.Exhausted {
		t.Errorf("after 2 of 2: %d uses, %s; want exhausted", got.Uses, got.State)
	}
	_, err = s.Spend(ctx, a.ID, "alice", T0)
	wantKind(t, "spend beyond uses", err, authority.ErrConflict)
	if cur, _ := s.Get(ctx, a.ID); cur.Uses != 2 {
		t.Errorf("refused spend counted: %d uses", cur.Uses)
	}

	r := approved(t, s, "au_r", 5, T0.Add(time.Hour))
	_, err = s.Transition(ctx, r.ID, authority.Transition{From: authority.Approved, To: authority.Revoked, At: T0, By: "supt", Reason: "withdrawn"})
	must(t, "revoke", err)
	_, err = s.Spend(ctx, r.ID, "alice", T0)
	wantKind(t, "spend revoked", err, authority.ErrConflict)
}

// testConcurrentSpend races workers spends on one authority with uses uses: exactly uses succeed.
func testConcurrentSpend(t *testing.T, s authority.Store, workers, uses int) {
	a := approved(t, s, "au_race", uses, T0.Add(time.Hour))
	var ok, conflict atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := s.Spend(context.Background(), a.ID, "alice", T0)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, authority.ErrConflict):
				conflict.Add(1)
			default:
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("spend failed other than by conflict: %v", err)
	}
	if ok.Load() != int64(uses) || conflict.Load() != int64(workers-uses) {
		t.Fatalf("%d concurrent spends of %d uses: %d succeeded, %d refused; want exactly %d", workers, uses, ok.Load(), conflict.Load(), uses)
	}
	got, err := s.Get(context.Background(), a.ID)
	must(t, "get", err)
	if got.Uses != uses || got.State != authority.Exhausted {
		t.Errorf("after the race: %d uses, %s; want %d, exhausted", got.Uses, got.State, uses)
	}
}

// testConcurrentDecide races officers deciding one request: exactly one decision lands.
func testConcurrentDecide(t *testing.T, s authority.Store) {
	a := Sample("au_decide", "alice", T0)
	must(t, "create", s.Create(context.Background(), a))
	const workers = 12
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			to := authority.Approved
			if i%2 == 1 {
				to = authority.Rejected
			}
			_, err := s.Transition(context.Background(), a.ID, authority.Transition{From: authority.Pending, To: to, At: T0,
				By: fmt.Sprintf("officer%d", i), Reason: "decided", Scope: &a.Scope, ExpiresAt: a.ExpiresAt, MaxUses: a.MaxUses})
			if err == nil {
				ok.Add(1)
			} else if !errors.Is(err, authority.ErrConflict) {
				t.Errorf("decide: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d officers deciding at once: %d decisions landed, want exactly 1", workers, ok.Load())
	}
}
