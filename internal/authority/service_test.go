package authority_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/proc"
	"github.com/anpr-portal/anpr/internal/search"
)

// Who may ask for what is the policy's business (band 2: extended access and a serious purpose);
// malformed requests are refused with every problem named, and change nothing.
func TestRequestRules(t *testing.T) {
	e := newEnv(t, authority.Config{})
	band1 := band2Request()
	band1.Reason = generalReason()
	band1.Scope.From, band1.Scope.To = t0.Add(-20*day), t0.Add(-10*day)
	general2 := band2Request()
	general2.Reason = generalReason()

	for _, tc := range []struct {
		name   string
		who    search.Caller
		req    authority.Request
		denied string // rule prefix of a refusal
	}{
		{"investigator, band 1", investigator, band1, ""},
		{"investigator, band 2", investigator, band2Request(), "default-deny"},
		{"extended, band 2, general purpose", extended, general2, "default-deny"},
		{"extended, band 2, serious purpose", extended, band2Request(), ""},
		{"inspector asks (not a searcher)", inspector, band1, "default-deny"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := e.svc.Request(context.Background(), tc.who, tc.req)
			if tc.denied != "" {
				wantDenied(t, tc.name, err, tc.denied)
				if !strings.HasPrefix(e.lastDenial(t), tc.denied) {
					t.Errorf("refusal not audited: last denial %q", e.lastDenial(t))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.State != authority.Pending || v.Requester != tc.who.Subject || v.Scope.VRMs[0] != "LD09HBR" || v.Searchable == "" {
				t.Errorf("request: %+v", v)
			}
			if got := e.eventsOf(t, v.ID); strings.Join(got, ",") != "authority.request/intent/allow,authority.request/outcome/allow" {
				t.Errorf("audit of the request: %v", got)
			}
		})
	}

	bad := func(edit func(*authority.Request)) authority.Request { r := band2Request(); edit(&r); return r }
	for _, tc := range []struct {
		name, want string
		req        authority.Request
	}{
		{"reversed window", "reversed", bad(func(r *authority.Request) { r.Scope.From, r.Scope.To = r.Scope.To, r.Scope.From })},
		{"future window", "future", bad(func(r *authority.Request) { r.Scope.To = t0.Add(day) })},
		{"no restriction", "never covers every vehicle", bad(func(r *authority.Request) { r.Scope.VRMs, r.Scope.Cameras = nil, nil })},
		{"unknown camera", "NOPE", bad(func(r *authority.Request) { r.Scope.Cameras = []string{"CAM-A", "NOPE"} })},
		{"unknown search type", "teleport", bad(func(r *authority.Request) { r.Scope.SearchTypes = []string{"teleport"} })},
		{"no search type", "search_types", bad(func(r *authority.Request) { r.Scope.SearchTypes = nil })},
		{"invalid VRM", "vrm", bad(func(r *authority.Request) { r.Scope.VRMs = []string{"#!"} })},
		{"no uses", "max_uses", bad(func(r *authority.Request) { r.MaxUses = 0 })},
		{"too many uses", "max_uses", bad(func(r *authority.Request) { r.MaxUses = 51 })},
		{"expiry passed", "not in the future", bad(func(r *authority.Request) { r.ExpiresAt = t0.Add(-time.Minute) })},
		{"expiry too far", "shorter", bad(func(r *authority.Request) { r.ExpiresAt = t0.Add(60 * day) })},
		{"self-intersecting polygon", "crosses itself", bad(func(r *authority.Request) {
			r.Scope.Area = &geo.Area{Polygon: [][2]float64{{51.53, -0.34}, {51.55, -0.31}, {51.53, -0.31}, {51.55, -0.34}}}
		})},
		{"polygon of two points", "at least 3", bad(func(r *authority.Request) {
			r.Scope.Area = &geo.Area{Polygon: [][2]float64{{51.53, -0.34}, {51.55, -0.31}}}
		})},
		{"polygon too large", "at most", bad(func(r *authority.Request) {
			r.Scope.Area = &geo.Area{Polygon: [][2]float64{{51.0, -1.0}, {52.0, -1.0}, {52.0, 1.0}, {51.0, 1.0}}}
		})},
		{"radius too large", "radius 50000 m is out of range", bad(func(r *authority.Request) {
			r.Scope.Area = &geo.Area{Centre: &[2]float64{51.5, -0.3}, RadiusM: 50_000}
		})},
		{"area without cameras", "contains no camera", bad(func(r *authority.Request) {
			r.Scope.Area = &geo.Area{Centre: &[2]float64{52.5, -1.9}, RadiusM: 500}
		})},
		{"unknown hold", "not an active preservation hold", bad(func(r *authority.Request) { r.HoldID = "hold-nope" })},
		{"past retention without a hold", "name it (hold_id)", bad(func(r *authority.Request) { r.Scope.From = t0.Add(-400 * day) })},
		{"vague reason", "justification", bad(func(r *authority.Request) { r.Reason.Justification = "investigation" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Request(context.Background(), extended, tc.req)
			if !errors.Is(err, authority.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want invalid mentioning %q", err, tc.want)
			}
		})
	}
	mine, err := e.svc.Mine(context.Background(), extended)
	if err != nil || len(mine) != 1 {
		t.Fatalf("bad requests were stored: %d, %v", len(mine), err)
	}
}

// An area becomes the set of cameras inside it, and that is what the authority covers.
func TestAreaResolvesToCameras(t *testing.T) {
	e := newEnv(t, authority.Config{})
	r := band2Request()
	r.Scope.VRMs, r.Scope.Cameras = nil, nil
	r.Scope.SearchTypes = []string{"area"}
	r.Scope.Area = &geo.Area{Centre: &[2]float64{51.538, -0.326}, RadiusM: 1000}
	v := e.request(t, extended, r)
	if got := strings.Join(v.Scope.CameraSet(), ","); got != "CAM-A,CAM-C" {
		t.Errorf("area resolved to %s, want CAM-A,CAM-C", got)
	}
	if !strings.Contains(v.Searchable, "every vehicle") || !strings.Contains(v.Searchable, "2 camera(s)") || !strings.Contains(v.Searchable, "band 2") {
		t.Errorf("searchable: %s", v.Searchable)
	}
}

// The approval rules, each shown refusing: self-approval, rank, role, already decided, widening.
// Refusals are audited and change nothing.
func TestApprovalRules(t *testing.T) {
	e := newEnv(t, authority.Config{})
	ctx := context.Background()
	a := e.request(t, extended, band2Request())
	own := e.request(t, dualRole, band2Request())

	_, err := e.svc.Approve(ctx, dualRole, own.ID, authority.Decision{Reason: "I approve my own request"})
	wantDenied(t, "self-approval", err, "rule:separation-of-duties")
	_, err = e.svc.Approve(ctx, sergeantAO, a.ID, authority.Decision{Reason: "looks fine to me"})
	wantDenied(t, "below the minimum rank", err, "rule:min-approver-rank")
	_, err = e.svc.Approve(ctx, colleague, a.ID, authority.Decision{Reason: "a colleague's approval"})
	wantDenied(t, "no authorising role", err, "default-deny")
	_, err = e.svc.Reject(ctx, extended, a.ID, "withdrawing it myself")
	wantDenied(t, "requester rejecting", err, "default-deny")
	_, err = e.svc.Approve(ctx, inspector, a.ID, authority.Decision{})
	if !errors.Is(err, authority.ErrInvalid) {
		t.Errorf("approval without a reason: %v", err)
	}

	for _, tc := range []struct {
		name string
		d    authority.Decision
		want string
	}{
		{"earlier window", authority.Decision{Scope: &authority.Scope{From: t0.Add(-220 * day)}}, "before the requested"},
		{"later window end", authority.Decision{Scope: &authority.Scope{To: t0.Add(-100 * day)}}, "after the requested"},
		{"another VRM", authority.Decision{Scope: &authority.Scope{VRMs: []string{"LD09HBR", "AB12CDE"}}}, "VRMs not requested: AB12CDE"},
		{"every VRM", authority.Decision{Scope: &authority.Scope{VRMs: []string{}, Cameras: []string{"CAM-A"}}}, "every VRM"},
		{"another camera", authority.Decision{Scope: &authority.Scope{Cameras: []string{"CAM-C"}}}, "cameras not requested: CAM-C"},
		{"another type", authority.Decision{Scope: &authority.Scope{SearchTypes: []string{"exact", "convoy"}}}, "search types not requested: convoy"},
		{"more uses", authority.Decision{MaxUses: 4}, "4 uses is more than the 3"},
		{"later expiry", authority.Decision{ExpiresAt: t0.Add(8 * day)}, "after the requested"},
	} {
		t.Run("widening: "+tc.name, func(t *testing.T) {
			tc.d.Reason = "widened on purpose to test the rule"
			_, err := e.svc.Approve(ctx, inspector, a.ID, tc.d)
			wantDenied(t, tc.name, err, authority.RuleNarrowOnly)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("message %q does not say %q", err, tc.want)
			}
		})
	}
	if v, _ := e.svc.Get(ctx, extended, a.ID); v.State != authority.Pending {
		t.Fatalf("refusals changed the request: %s", v.State)
	}

	// A narrowing is accepted: a shorter window, one camera, fewer uses, an earlier expiry.
	v := e.approve(t, a.ID, authority.Decision{Scope: &authority.Scope{From: t0.Add(-205 * day), To: t0.Add(-195 * day), Cameras: []string{"CAM-A"}},
		MaxUses: 2, ExpiresAt: t0.Add(3 * day)})
	if v.State != authority.Approved || !v.Scope.From.Equal(t0.Add(-205*day)) || strings.Join(v.Scope.CameraSet(), ",") != "CAM-A" ||
		v.MaxUses != 2 || !v.ExpiresAt.Equal(t0.Add(3*day)) || v.DecidedBy != inspector.Subject || v.Scope.VRMs[0] != "LD09HBR" {
		t.Fatalf("approved: %+v", v)
	}
	// Already decided: by the same officer again, by another, or rejected afterwards.
	_, err = e.svc.Approve(ctx, superintend, a.ID, authority.Decision{Reason: "approving it again"})
	if !errors.Is(err, authority.ErrConflict) {
		t.Errorf("approving an approved request: %v", err)
	}
	_, err = e.svc.Reject(ctx, superintend, a.ID, "too late to reject")
	if !errors.Is(err, authority.ErrConflict) {
		t.Errorf("rejecting an approved request: %v", err)
	}
	if !strings.HasPrefix(e.lastDenial(t), authority.RuleState) {
		t.Errorf("already-decided refusal not audited: %q", e.lastDenial(t))
	}

	// Rejection: the requester reads why.
	b := e.request(t, extended, band2Request())
	if _, err := e.svc.Reject(ctx, superintend, b.ID, "the window is wider than the offence justifies; ask for the night only"); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Get(ctx, extended, b.ID)
	if err != nil || got.State != authority.Rejected || !strings.Contains(got.DecisionReason, "night only") || got.DecidedByName != superintend.Name {
		t.Fatalf("requester's view of the rejection: %+v, %v", got, err)
	}
	// Another user cannot see it at all.
	if _, err := e.svc.Get(ctx, colleague, b.ID); !errors.Is(err, authority.ErrNotFound) {
		t.Errorf("a colleague reads someone else's authority: %v", err)
	}

	// Revocation: by an officer or the ANPR manager; not by the requester; only once.
	_, err = e.svc.Revoke(ctx, extended, a.ID, "I want to revoke it")
	wantDenied(t, "requester revoking", err, "default-deny")
	if v, err := e.svc.Revoke(ctx, manager, a.ID, "case closed; no further searches needed"); err != nil || v.State != authority.Revoked {
		t.Fatalf("revoke: %+v, %v", v, err)
	}
	if _, err := e.svc.Revoke(ctx, superintend, a.ID, "again"); !errors.Is(err, authority.ErrConflict) {
		t.Errorf("revoking twice: %v", err)
	}
	// Every refusal above left a deny event, and each transition an intent and an outcome.
	want := "authority.request/intent/allow,authority.request/outcome/allow," +
		"authority.approve//deny,authority.approve//deny,authority.reject//deny," + // rank, role, requester rejecting
		strings.Repeat("authority.approve//deny,", 8) + // the widenings
		"authority.approve/intent/allow,authority.approve/outcome/allow," +
		"authority.approve//deny,authority.reject//deny," + // already decided
		"authority.revoke//deny,authority.revoke/intent/allow,authority.revoke/outcome/allow,authority.revoke//deny"
	if got := strings.Join(e.eventsOf(t, a.ID), ","); got != want {
		t.Errorf("audit trail of %s:\n%s", a.ID, got)
	}
}

// The queue shows pending requests oldest first, each with its band and what would become
// searchable, only to officers who may decide them; subscribers hear of a new request at once.
func TestQueueAndLiveChanges(t *testing.T) {
	e := newEnv(t, authority.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := e.svc.WatchQueue(ctx, inspector)
	lowRank := e.svc.WatchQueue(ctx, sergeantAO)

	first := e.request(t, extended, band2Request())
	select {
	case ch := <-changes:
		if ch.ID != first.ID || ch.State != authority.Pending {
			t.Errorf("change %+v, want %s pending", ch, first.ID)
		}
	case <-time.After(proc.WaitCap):
		t.Fatal("the subscriber was not told of the new request")
	}
	e.clock.advance(time.Minute)
	second := e.request(t, dualRole, band2Request())
	<-changes
	_ = second

	q, err := e.svc.Queue(ctx, inspector)
	if err != nil || len(q) != 2 || q[0].ID != first.ID || q[1].ID != second.ID || q[0].Band != "band2" || !strings.Contains(q[0].Searchable, "LD09HBR") {
		t.Fatalf("inspector's queue: %+v, %v", q, err)
	}
	if q, _ := e.svc.Queue(ctx, dualRole); len(q) != 1 || q[0].ID != first.ID {
		t.Errorf("an officer's queue lists their own request: %+v", q)
	}
	for _, c := range []search.Caller{sergeantAO, extended, investigator} {
		if q, _ := e.svc.Queue(ctx, c); len(q) != 0 {
			t.Errorf("%s sees a queue of %d", c.Subject, len(q))
		}
	}
	e.approve(t, first.ID, authority.Decision{})
	if ch := <-changes; ch.ID != first.ID || ch.State != authority.Approved {
		t.Errorf("approval change %+v", ch)
	}
	select {
	case ch := <-lowRank:
		t.Errorf("an officer below the rank was told of %+v", ch)
	default:
	}
	e.svc.Close()
	for range changes {
	}
}
