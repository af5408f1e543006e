package holds_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/holds"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
	"github.com/anpr-portal/anpr/internal/store/sqlite/sqlitetest"
	"github.com/anpr-portal/anpr/policies"
)

var t0 = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

type env struct {
	svc   *holds.Service
	store *sqlite.HoldStore
	log   *sqlite.AuditLog
	now   time.Time
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	e := &env{now: t0}
	var err error
	if e.store, err = sqlite.OpenHoldStore(ctx, filepath.Join(dir, "holds.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	clock := func() time.Time { return e.now }
	e.log = sqlitetest.AuditLog(t, dir, sqlite.AuditOptions{Clock: clock})
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, clock)
	if err != nil {
		t.Fatal(err)
	}
	if e.svc, err = holds.New(e.store, e.log, az, clock); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) records(t *testing.T) []audit.Record { return sqlitetest.Records(t, e.log) }

var manager = holds.Caller{Actor: audit.Actor{Subject: "mgr-1", Name: "ANPR Manager", Roles: []string{"anpr_manager"}},
	ClientAddr: "10.0.0.9", RequestID: "req-h", Rule: "policy.csv:70: p, anpr_manager, admin.holds, *, *, *"}

func goodRequest() holds.CreateRequest {
	return holds.CreateRequest{
		CaseRef: "MPS/54321/26",
		Reason: authz.Reason{Purpose: "major_crime", OffenceCode: "HO01001",
			Justification: "homicide trial next spring; movements of the suspect vehicle before the attack are disclosed evidence"},
		Scope:    holds.Scope{VRMs: []string{"ab12 cde", "LD09HBR", "AB12CDE"}, From: t0.AddDate(-2, 0, 0), To: t0.AddDate(0, -6, 0)},
		ReviewAt: t0.AddDate(0, 6, 0),
	}
}

func TestCreateRecordsAndStores(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	h, err := e.svc.Create(ctx, manager, goodRequest())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.ID, "hold_") || h.CaseRef != "MPS/54321/26" || h.Reason.CaseRef != h.CaseRef ||
		!slices.Equal(h.Scope.VRMs, []string{"AB12CDE", "LD09HBR"}) || h.CreatedBy != "mgr-1" || !h.CreatedAt.Equal(t0) {
		t.Fatalf("hold = %+v", h)
	}
	scope, active, err := e.svc.Hold(ctx, h.ID)
	if err != nil || !active || !slices.Equal(scope.VRMs, h.Scope.VRMs) || !scope.From.Equal(h.Scope.From) {
		t.Fatalf("Hold(id) = %+v, %v, %v", scope, active, err)
	}
	recs := e.records(t)
	if len(recs) != 2 {
		t.Fatalf("want intent + outcome, got %d events", len(recs))
	}
	in, out := recs[0], recs[1]
	if in.Event.Action != holds.ActionCreate || in.Event.Stage != audit.StageIntent || in.Event.Reason.CaseRef != h.CaseRef ||
		in.Event.Rule != manager.Rule || in.Payload == nil || !slices.Equal(in.Payload.VRMs, h.Scope.VRMs) ||
		!strings.Contains(in.Payload.Query, h.ID) {
		t.Errorf("intent = %+v %+v", in.Event, in.Payload)
	}
	if out.Event.Stage != audit.StageOutcome || out.Event.Status != audit.StatusOK || out.Event.ResultCount != 1 ||
		out.Event.ResultDigest != audit.DigestIDs([]string{h.ID}) {
		t.Errorf("outcome = %+v", out.Event)
	}
}

// Every bad request is refused whole, with every problem named, and leaves nothing behind.
func TestCreateRefusesBadRequests(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		edit func(r *holds.CreateRequest)
		want string
	}{
		{"vague justification", func(r *holds.CreateRequest) { r.Reason.Justification = "investigation" }, "justification"},
		{"unknown purpose", func(r *holds.CreateRequest) { r.Reason.Purpose = "curiosity" }, "purpose"},
		{"no case reference", func(r *holds.CreateRequest) { r.CaseRef = "" }, "case"},
		{"case references differ", func(r *holds.CreateRequest) { r.Reason.CaseRef = "MPS/11111/26" }, "differ"},
		{"no review date", func(r *holds.CreateRequest) { r.ReviewAt = time.Time{} }, "review_at"},
		{"review date passed", func(r *holds.CreateRequest) { r.ReviewAt = t0.Add(-time.Hour) }, "review_at"},
		{"empty scope", func(r *holds.CreateRequest) { r.Scope = holds.Scope{} }, "empty scope"},
		{"bad plate", func(r *holds.CreateRequest) { r.Scope.VRMs = []string{"AB12CDE", "%%"} }, "vrm"},
		{"empty camera", func(r *holds.CreateRequest) { r.Scope.Cameras = []string{" "} }, "camera"},
		{"reversed window", func(r *holds.CreateRequest) { r.Scope.From, r.Scope.To = r.Scope.To, r.Scope.From }, "window"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := goodRequest()
			tc.edit(&req)
			_, err := e.svc.Create(t.Context(), manager, req)
			if !errors.Is(err, holds.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v; want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
	if hs, _ := e.svc.List(t.Context()); len(hs) != 0 {
		t.Fatalf("refused requests stored %d holds", len(hs))
	}
	if recs := e.records(t); len(recs) != 0 {
		t.Fatalf("refused requests left %d audit events", len(recs))
	}
}

func TestReleaseAndReview(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	h, err := e.svc.Create(ctx, manager, goodRequest())
	if err != nil {
		t.Fatal(err)
	}
	e.now = h.ReviewAt.Add(time.Hour) // the review date passes: the hold still holds, and says so
	vs, err := e.svc.List(ctx)
	if err != nil || len(vs) != 1 || !vs[0].Active || !vs[0].ReviewDue {
		t.Fatalf("List = %+v, %v; want one active hold due for review", vs, err)
	}
	if scopes, _ := e.svc.ActiveScopes(ctx); len(scopes) != 1 {
		t.Fatalf("a hold past review stopped holding: %v", scopes)
	}
	_, err = e.svc.Release(ctx, manager, h.ID, "done")
	if !errors.Is(err, holds.ErrInvalid) {
		t.Fatalf("short release reason: %v", err)
	}
	why := "the crown court trial ended and the appeal period has expired"
	r, err := e.svc.Release(ctx, manager, h.ID, why)
	if err != nil || r.Active() || r.ReleaseReason != why || r.ReleasedBy != "mgr-1" {
		t.Fatalf("Release = %+v, %v", r, err)
	}
	if _, active, _ := e.svc.Hold(ctx, h.ID); active {
		t.Fatal("a released hold is still active")
	}
	if scopes, _ := e.svc.ActiveScopes(ctx); len(scopes) != 0 {
		t.Fatalf("released hold still honoured: %v", scopes)
	}
	_, err = e.svc.Release(ctx, manager, h.ID, why)
	if !errors.Is(err, holds.ErrConflict) {
		t.Fatalf("second release: %v", err)
	}
	_, err = e.svc.Release(ctx, manager, "hold_nope", why)
	if !errors.Is(err, holds.ErrNotFound) {
		t.Fatalf("unknown hold: %v", err)
	}
	recs := e.records(t)
	last := recs[len(recs)-2:]
	if last[0].Event.Action != holds.ActionRelease || last[0].Payload == nil || last[0].Payload.Justification != why ||
		last[1].Event.Status != audit.StatusOK {
		t.Fatalf("release events = %+v / %+v", last[0], last[1])
	}
}

// Fail closed: if the audit log cannot record the change, the change does not happen.
func TestCreateFailsClosedWithoutAudit(t *testing.T) {
	e := newEnv(t)
	e.log.Close()
	_, err := e.svc.Create(t.Context(), manager, goodRequest())
	if !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("err = %v; want audit.ErrUnavailable", err)
	}
	if hs, _ := e.svc.List(t.Context()); len(hs) != 0 {
		t.Fatalf("a hold was stored without its audit event: %+v", hs)
	}
}
