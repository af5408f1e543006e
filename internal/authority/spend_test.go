package authority_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/search"
)

// Spend skips re-reading an authority that Check has just seen approved, keeping only its scope.
// Everything that can change after Check must still refuse the spend: a search outside the
// scope, another subject, a revocation, an expiry (recorded once), the last use gone.
func TestSpendAfterCheckStillRefuses(t *testing.T) {
	ctx := context.Background()
	from, to := t0.Add(-205*day), t0.Add(-195*day)
	use := func(id string) search.AuthorityUse {
		return search.AuthorityUse{ID: id, Subject: extended.Subject, Type: "exact", VRMs: []string{"LD09HBR"},
			Cameras: []string{"CAM-A"}, From: from, To: to}
	}
	for _, tc := range []struct {
		name   string
		change func(e *env, id string, u *search.AuthorityUse)
		want   string
	}{
		{"outside the scope", func(e *env, id string, u *search.AuthorityUse) { u.VRMs = []string{"AB12CDE"} }, "does not cover"},
		{"someone else", func(e *env, id string, u *search.AuthorityUse) { u.Subject = colleague.Subject }, "someone else"},
		{"revoked", func(e *env, id string, u *search.AuthorityUse) {
			if _, err := e.svc.Revoke(ctx, superintend, id, "the suspect was charged; no further searches"); err != nil {
				t.Fatal(err)
			}
		}, "revoked"},
		{"expired", func(e *env, id string, u *search.AuthorityUse) { e.clock.advance(8 * day) }, "expired"},
		{"last use spent", func(e *env, id string, u *search.AuthorityUse) {
			for range 3 {
				if err := e.svc.Spend(ctx, use(id)); err != nil {
					t.Fatal(err)
				}
			}
		}, "uses have been spent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, authority.Config{})
			a := e.request(t, extended, band2Request())
			e.approve(t, a.ID, authority.Decision{})
			u := use(a.ID)
			if _, err := e.svc.Check(ctx, u); err != nil {
				t.Fatalf("check: %v", err)
			}
			tc.change(e, a.ID, &u)
			err := e.svc.Spend(ctx, u)
			wantDenied(t, tc.name, err, search.RuleAuthority)
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("spend: %v, want %q", err, tc.want)
			}
			if tc.name == "expired" {
				n := 0
				for _, ev := range e.eventsOf(t, a.ID) {
					if ev == string(authority.ActionExpire) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("expiry recorded %d times, want once", n)
				}
			}
		})
	}
}

// TestCheckSpendCost measures one Check plus one Spend (what every sensitive search does) on the
// real SQLite store. It needs *testing.T for the shared env, so it runs testing.Benchmark itself.
func TestCheckSpendCost(t *testing.T) {
	if os.Getenv("ANPR_AUTHORITY_BENCH") == "" {
		t.Skip("a measurement, not a check: set ANPR_AUTHORITY_BENCH=1 to run it")
	}
	ctx := context.Background()
	e := newEnv(t, authority.Config{MaxUses: 1 << 30})
	from, to := t0.Add(-205*day), t0.Add(-195*day)
	r := testing.Benchmark(func(b *testing.B) {
		b.StopTimer()
		req := band2Request()
		req.MaxUses = b.N
		a := e.request(t, extended, req)
		e.approve(t, a.ID, authority.Decision{})
		u := search.AuthorityUse{ID: a.ID, Subject: extended.Subject, Type: "exact", VRMs: []string{"LD09HBR"},
			Cameras: []string{"CAM-A"}, From: from, To: to}
		b.StartTimer()
		for range b.N {
			if _, err := e.svc.Check(ctx, u); err != nil {
				b.Fatal(err)
			}
			if err := e.svc.Spend(ctx, u); err != nil {
				b.Fatal(err)
			}
		}
	})
	t.Logf("Check+Spend: %s", r)
}
