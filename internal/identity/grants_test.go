package identity_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/identity"
)

// A grant reaches a live session on its next request, and so does its revocation.
func TestIdentityGrantAndRevokeApplyToLiveSession(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	_, manager := e.sessionOf("mgr", "Max", identity.RoleANPRManager)
	cookie, before := e.sessionOf("inv", "Ivy", identity.RoleInvestigator)
	if before.HasRole(identity.RoleExtendedInvestigator) {
		t.Fatal("starts with extended access")
	}

	g, err := e.svc.Grant(ctx, manager, identity.GrantRequest{Subject: "inv", Role: identity.RoleExtendedInvestigator, Reason: "Operation Kestrel, approved by DCI Shaw"})
	if err != nil {
		t.Fatalf("grant: %v", err)
	}
	p, err := e.svc.Authenticate(ctx, cookie)
	if err != nil || !p.HasRole(identity.RoleExtendedInvestigator) || !p.HasRole(identity.RoleInvestigator) {
		t.Fatalf("after grant, same cookie: %+v, %v", p, err)
	}
	rec := e.wantEvent(audit.ActionGrantChange, "mgr", audit.EffectAllow, audit.StageIntent)
	if rec.Payload == nil || !strings.Contains(rec.Payload.Query, `subject="inv"`) || !strings.Contains(rec.Payload.Query, g.ID) || rec.Payload.Justification != "Operation Kestrel, approved by DCI Shaw" {
		t.Errorf("grant audit payload %+v", rec.Payload)
	}
	e.wantEvent(audit.ActionGrantChange, "mgr", audit.EffectAllow, audit.StageOutcome)

	if err := e.svc.RevokeGrant(ctx, manager, g.ID); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	p, err = e.svc.Authenticate(ctx, cookie)
	if err != nil || p.HasRole(identity.RoleExtendedInvestigator) {
		t.Fatalf("after revocation, same cookie still has the role: %+v, %v", p, err)
	}
	revokes := 0
	for _, r := range e.events(audit.ActionGrantChange, "mgr") {
		if r.Payload != nil && strings.HasPrefix(r.Payload.Query, "revoke grant id="+g.ID) {
			revokes++
		}
	}
	if revokes != 1 { // the intent carries the payload; the outcome refers to it
		t.Errorf("%d revoke intents in the audit log, want 1", revokes)
	}
	wantErr(t, "revoke twice", e.svc.RevokeGrant(ctx, manager, g.ID), identity.ErrConflict)
}

func TestIdentityGrantAuthorisingOfficerRankAndExpiry(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	_, manager := e.sessionOf("mgr", "Max", identity.RoleANPRManager)
	cookie, _ := e.sessionOf("sgt", "Sam", identity.RoleInvestigator)
	_, err := e.svc.Grant(ctx, manager, identity.GrantRequest{Subject: "sgt", Role: identity.RoleAuthorisingOfficer, Rank: "inspector",
		Reason: "acting inspector while Insp Adams is on leave", ExpiresAt: e.clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []time.Duration{0, 20 * time.Minute, 20 * time.Minute} {
		e.clock.Advance(step)
		p, err := e.svc.Authenticate(ctx, cookie)
		if err != nil || !p.HasRole(identity.RoleAuthorisingOfficer) || p.Rank != "inspector" {
			t.Fatalf("acting inspector within the grant: %+v, %v", p, err)
		}
	}
	e.clock.Advance(21 * time.Minute) // 61 minutes after the grant; the session is still live
	p, err := e.svc.Authenticate(ctx, cookie)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasRole(identity.RoleAuthorisingOfficer) || p.Rank != "" {
		t.Errorf("grant outlived its expiry: %+v", p)
	}
}

func TestIdentityGrantRefusals(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	_, manager := e.sessionOf("mgr", "Max", identity.RoleANPRManager)
	_, investigator := e.sessionOf("inv", "Ivy", identity.RoleInvestigator)
	e.sessionOf("other", "Otto", identity.RoleInvestigator)
	ok := identity.GrantRequest{Subject: "other", Role: identity.RoleExtendedInvestigator, Reason: "Operation Kestrel"}
	with := func(edit func(*identity.GrantRequest)) identity.GrantRequest {
		r := ok
		edit(&r)
		return r
	}

	// Self-grant: refused for the manager and for anyone else, and audited as a denial.
	_, err := e.svc.Grant(ctx, manager, with(func(r *identity.GrantRequest) { r.Subject = "mgr" }))
	wantErr(t, "manager grants themselves", err, identity.ErrForbidden)
	rec := e.wantEvent(audit.ActionGrantChange, "mgr", audit.EffectDeny, audit.StageEvent)
	if rec.Event.Rule != "identity:no-self-grant" {
		t.Errorf("denial rule %q", rec.Event.Rule)
	}
	_, err = e.svc.Grant(ctx, investigator, with(func(r *identity.GrantRequest) { r.Subject = "inv" }))
	wantErr(t, "investigator grants themselves", err, identity.ErrForbidden)
	_, err = e.svc.Grant(ctx, investigator, ok)
	wantErr(t, "investigator grants another", err, identity.ErrForbidden)
	e.wantEvent(audit.ActionGrantChange, "inv", audit.EffectDeny, audit.StageEvent)
	_, err = e.svc.Grant(ctx, identity.Principal{Kind: identity.KindAPIKey, Subject: "apikey:x", Roles: []string{identity.RoleANPRManager}}, ok)
	wantErr(t, "API key grants", err, identity.ErrForbidden)
	wantErr(t, "investigator revokes", e.svc.RevokeGrant(ctx, investigator, "g_x"), identity.ErrForbidden)
	_, err = e.svc.ListGrants(ctx, investigator, identity.GrantFilter{Subject: "other"})
	wantErr(t, "investigator lists others' grants", err, identity.ErrForbidden)
	if _, err := e.svc.ListGrants(ctx, investigator, identity.GrantFilter{Subject: "inv"}); err != nil {
		t.Errorf("a person lists their own grants: %v", err)
	}

	for _, tc := range []struct {
		name string
		req  identity.GrantRequest
		kind error
	}{
		{"manager role is not grantable", with(func(r *identity.GrantRequest) { r.Role = identity.RoleANPRManager }), identity.ErrInvalid},
		{"ingest is not a person's role", with(func(r *identity.GrantRequest) { r.Role = identity.RoleIngest }), identity.ErrInvalid},
		{"unknown role", with(func(r *identity.GrantRequest) { r.Role = "root" }), identity.ErrInvalid},
		{"authorising officer without rank", with(func(r *identity.GrantRequest) { r.Role = identity.RoleAuthorisingOfficer }), identity.ErrInvalid},
		{"authorising officer with unknown rank", with(func(r *identity.GrantRequest) { r.Role, r.Rank = identity.RoleAuthorisingOfficer, "field_marshal" }), identity.ErrInvalid},
		{"rank on another role", with(func(r *identity.GrantRequest) { r.Rank = "inspector" }), identity.ErrInvalid},
		{"no reason", with(func(r *identity.GrantRequest) { r.Reason = "  " }), identity.ErrInvalid},
		{"expiry in the past", with(func(r *identity.GrantRequest) { r.ExpiresAt = e.clock.Now().Add(-time.Minute) }), identity.ErrInvalid},
		{"nobody by that subject", with(func(r *identity.GrantRequest) { r.Subject = "never-logged-in" }), identity.ErrNotFound},
	} {
		_, err := e.svc.Grant(ctx, manager, tc.req)
		wantErr(t, tc.name, err, tc.kind)
	}

	if _, err := e.svc.Grant(ctx, manager, ok); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Grant(ctx, manager, ok)
	wantErr(t, "duplicate active grant", err, identity.ErrConflict)
	gs, err := e.svc.ListGrants(ctx, manager, identity.GrantFilter{})
	if err != nil || len(gs) != 1 {
		t.Errorf("grants = %+v, %v; want exactly the one that was allowed", gs, err)
	}
	users, err := e.svc.ListUsers(ctx, manager)
	if err != nil || !slices.ContainsFunc(users, func(u identity.User) bool { return u.Subject == "other" }) {
		t.Errorf("users = %+v, %v", users, err)
	}
	_, err = e.svc.ListUsers(ctx, investigator)
	wantErr(t, "investigator lists users", err, identity.ErrForbidden)
}

// A person may sign themselves out everywhere; only a manager may sign out someone else.
func TestIdentityRevokeSessions(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	_, manager := e.sessionOf("mgr", "Max", identity.RoleANPRManager)
	c1, investigator := e.sessionOf("inv", "Ivy", identity.RoleInvestigator)
	c2, _ := e.sessionOf("inv", "Ivy", identity.RoleInvestigator)
	_, err := e.svc.RevokeSessions(ctx, investigator, "mgr")
	wantErr(t, "investigator signs out the manager", err, identity.ErrForbidden)
	n, err := e.svc.RevokeSessions(ctx, manager, "inv")
	if err != nil || n != 2 {
		t.Fatalf("manager signs out inv: %d, %v", n, err)
	}
	for _, c := range []string{c1, c2} {
		_, err := e.svc.Authenticate(ctx, c)
		wantErr(t, "revoked session", err, identity.ErrUnauthenticated)
	}
	e.wantEvent(identity.ActionSessionRevoke, "mgr", audit.EffectAllow, audit.StageOutcome)
}
