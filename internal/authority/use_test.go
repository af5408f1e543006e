package authority_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/search"
)

// exact runs an exact search of vrm over from..to (optionally at cameras) presenting id.
func (e *env) exact(c search.Caller, id, vrm string, from, to time.Time, cameras ...string) (search.Result, error) {
	return e.search.Exact(context.Background(), c, search.Request{VRM: vrm, From: from, To: to, Cameras: cameras,
		Reason: seriousReason(), AuthorityID: id})
}

// Every way an authority can fail to cover a search is refused by the search service with the
// authority rule, audited, and spends nothing; the search within scope succeeds and spends one.
func TestSearchesWithinAndOutsideScope(t *testing.T) {
	e := newEnv(t, authority.Config{})
	ctx := context.Background()
	a := e.request(t, extended, band2Request())
	// Refused before approval; refused with no authority at all.
	from, to := t0.Add(-205*day), t0.Add(-195*day)
	_, err := e.exact(extended, a.ID, "LD09HBR", from, to)
	wantDenied(t, "pending", err, search.RuleAuthority)
	_, err = e.exact(extended, "", "LD09HBR", from, to)
	wantDenied(t, "band 2 without authority", err, "default-deny")

	e.approve(t, a.ID, authority.Decision{Scope: &authority.Scope{From: t0.Add(-205 * day), To: t0.Add(-195 * day)}})
	for _, tc := range []struct {
		name     string
		who      search.Caller
		vrm      string
		from, to time.Time
		cameras  []string
		want     string
	}{
		{"someone else's", colleague, "LD09HBR", from, to, nil, "someone else"},
		{"before the approved window (within the requested one)", extended, "LD09HBR", t0.Add(-208 * day), to, nil, "outside the authorised window"},
		{"after the window", extended, "LD09HBR", from, t0.Add(-190 * day), nil, "outside the authorised window"},
		{"another VRM", extended, "AB12CDE", from, to, nil, "does not cover the VRM(s) AB12CDE"},
		{"every camera", extended, "LD09HBR", from, to, nil, "every camera"},
		{"a camera outside", extended, "LD09HBR", from, to, []string{"CAM-A", "CAM-C"}, "camera(s) CAM-C"},
		{"unknown id", extended, "LD09HBR", from, to, []string{"CAM-A"}, "no such authority"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := a.ID
			if tc.name == "unknown id" {
				id = "au_forged"
			}
			_, err := e.exact(tc.who, id, tc.vrm, tc.from, tc.to, tc.cameras...)
			wantDenied(t, tc.name, err, search.RuleAuthority)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("message %q does not say %q", err, tc.want)
			}
			if !strings.HasPrefix(e.lastDenial(t), search.RuleAuthority) {
				t.Errorf("refusal not audited: %q", e.lastDenial(t))
			}
		})
	}
	// Another search type than the authority's.
	_, err = e.search.Partial(ctx, extended, search.Request{Pattern: "LD09H*", From: from, To: to, Cameras: []string{"CAM-A"}, Reason: seriousReason(), AuthorityID: a.ID})
	wantDenied(t, "search type", err, search.RuleAuthority)
	if v, _ := e.svc.Get(ctx, extended, a.ID); v.Uses != 0 {
		t.Fatalf("refused searches spent %d uses", v.Uses)
	}

	// Within scope: found, spent once, and the search's audit events name the authority.
	res, err := e.exact(extended, a.ID, "LD09HBR", from, to, "CAM-A", "CAM-B")
	if err != nil || len(res.Hits) != 2 || res.Band != "band2" {
		t.Fatalf("search within scope: %+v, %v", res, err)
	}
	if v, _ := e.svc.Get(ctx, extended, a.ID); v.Uses != 1 {
		t.Errorf("uses after one search: %d", v.Uses)
	}
	linked := 0
	for _, r := range e.events(t) {
		if r.Event.Action == audit.ActionSearch && r.Event.AuthorityID == a.ID && r.Event.Decision == audit.EffectAllow {
			linked++
		}
	}
	if linked != 2 {
		t.Errorf("%d allowed search events link the authority, want intent and outcome", linked)
	}
	// A journey is covered too (listed type).
	if _, err := e.search.Journey(ctx, extended, search.JourneyRequest{VRM: "LD09HBR", From: from, To: to, Cameras: []string{"CAM-A"}, Reason: seriousReason(), AuthorityID: a.ID}); err != nil {
		t.Fatalf("journey within scope: %v", err)
	}

	// Beyond its uses: the third search exhausts it, the fourth is refused.
	if _, err := e.exact(extended, a.ID, "LD09HBR", from, to, "CAM-A"); err != nil {
		t.Fatalf("last use: %v", err)
	}
	_, err = e.exact(extended, a.ID, "LD09HBR", from, to, "CAM-A")
	wantDenied(t, "beyond uses", err, search.RuleAuthority)
	if v, _ := e.svc.Get(ctx, extended, a.ID); v.State != authority.Exhausted || v.Uses != 3 {
		t.Errorf("after the last use: %s, %d uses", v.State, v.Uses)
	}
	if got := e.eventsOf(t, a.ID); !contains(got, string(authority.ActionExhaust)) {
		t.Errorf("exhaustion not audited: %v", got)
	}
}

// After expiry and after revocation an authority is refused; the expiry is recorded once.
func TestExpiryAndRevocation(t *testing.T) {
	e := newEnv(t, authority.Config{})
	from, to := t0.Add(-205*day), t0.Add(-195*day)
	a := e.request(t, extended, band2Request())
	e.approve(t, a.ID, authority.Decision{ExpiresAt: t0.Add(day)})
	b := e.request(t, extended, band2Request())
	e.approve(t, b.ID, authority.Decision{})
	if _, err := e.exact(extended, a.ID, "LD09HBR", from, to, "CAM-A"); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	if _, err := e.svc.Revoke(context.Background(), superintend, b.ID, "the suspect was charged; no further searches"); err != nil {
		t.Fatal(err)
	}
	_, err := e.exact(extended, b.ID, "LD09HBR", from, to, "CAM-A")
	wantDenied(t, "after revocation", err, search.RuleAuthority)
	if !strings.Contains(err.Error(), "revoked") {
		t.Errorf("revocation message: %v", err)
	}

	e.clock.advance(day)
	for range 2 {
		_, err := e.exact(extended, a.ID, "LD09HBR", from.Add(day), to.Add(day), "CAM-A")
		wantDenied(t, "after expiry", err, search.RuleAuthority)
		if !strings.Contains(err.Error(), "expired") {
			t.Errorf("expiry message: %v", err)
		}
	}
	v, _ := e.svc.Get(context.Background(), extended, a.ID)
	if v.State != authority.Expired || v.DecidedBy != inspector.Subject {
		t.Errorf("after expiry: %s decided by %s", v.State, v.DecidedBy)
	}
	n := 0
	for _, ev := range e.eventsOf(t, a.ID) {
		if ev == string(authority.ActionExpire) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("expiry recorded %d times, want once", n)
	}
	// Revoking an expired authority is a conflict, not a revocation.
	if _, err := e.svc.Revoke(context.Background(), superintend, a.ID, "belt and braces"); !errors.Is(err, authority.ErrConflict) {
		t.Errorf("revoking an expired authority: %v", err)
	}
}

// Many concurrent searches on one authority with n uses: exactly n run, the rest are refused.
func TestConcurrentSearchesSpendExactlyMaxUses(t *testing.T) {
	e := newEnv(t, authority.Config{})
	r := band2Request()
	r.MaxUses = 5
	a := e.request(t, extended, r)
	e.approve(t, a.ID, authority.Decision{})
	from, to := t0.Add(-205*day), t0.Add(-195*day)
	const workers = 24
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := e.exact(extended, a.ID, "LD09HBR", from, to, "CAM-A")
			var d *search.DeniedError
			switch {
			case err == nil:
				ok.Add(1)
			case errors.As(err, &d) && strings.HasPrefix(d.Rule, search.RuleAuthority):
				refused.Add(1)
			default:
				t.Errorf("search failed otherwise: %v", err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 5 || refused.Load() != workers-5 {
		t.Fatalf("%d concurrent searches on 5 uses: %d ran, %d refused", workers, ok.Load(), refused.Load())
	}
	if v, _ := e.svc.Get(context.Background(), extended, a.ID); v.Uses != 5 || v.State != authority.Exhausted {
		t.Errorf("after the race: %d uses, %s", v.Uses, v.State)
	}
}

// An authority naming an active preservation hold reaches held data past retention, but only
// what the hold keeps; a released hold, or one that does not cover the search, does not.
func TestHoldAuthority(t *testing.T) {
	e := newEnv(t, authority.Config{})
	e.holds.set("hold-7", authority.HoldScope{VRMs: []string{"LD09HBR"}, From: t0.Add(-420 * day), To: t0.Add(-380 * day)}, true)
	e.holds.set("hold-ab", authority.HoldScope{VRMs: []string{"AB12CDE"}, From: t0.Add(-420 * day), To: t0.Add(-380 * day)}, true)
	from, to := t0.Add(-410*day), t0.Add(-390*day)
	req := func(hold string) authority.View {
		r := band2Request()
		r.Scope.From, r.Scope.To, r.HoldID = from, to, hold
		v := e.request(t, extended, r)
		if v.Band != "expired" {
			t.Fatalf("band of a held window: %s", v.Band)
		}
		e.approve(t, v.ID, authority.Decision{})
		return v
	}
	held := req("hold-7")
	res, err := e.exact(extended, held.ID, "LD09HBR", from, to, "CAM-A")
	if err != nil || len(res.Hits) != 1 {
		t.Fatalf("held data with a hold authority: %+v, %v", res, err)
	}
	// A hold that keeps another vehicle: the authority is valid, but not a hold authority here.
	other := req("hold-ab")
	_, err = e.exact(extended, other.ID, "LD09HBR", from, to, "CAM-A")
	wantDenied(t, "hold not covering the search", err, "default-deny")
	// Released: no longer reaches past retention.
	e.holds.set("hold-7", authority.HoldScope{VRMs: []string{"LD09HBR"}, From: t0.Add(-420 * day), To: t0.Add(-380 * day)}, false)
	_, err = e.exact(extended, held.ID, "LD09HBR", from, to, "CAM-A")
	wantDenied(t, "released hold", err, "default-deny")
	// A request naming the released hold is refused.
	r := band2Request()
	r.HoldID = "hold-7"
	if _, err := e.svc.Request(context.Background(), extended, r); !errors.Is(err, authority.ErrInvalid) {
		t.Errorf("request naming a released hold: %v", err)
	}
}
