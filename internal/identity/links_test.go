package identity_test

import (
	"strings"
	"testing"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/identity"
)

// Linking is the ANPR manager's, never their own, needs a known previous person and a reason,
// and a person moved twice keeps one portal subject. Every refusal is audited.
func TestSubjectLinkRules(t *testing.T) {
	e := newEnv(t, nil)
	ctx := t.Context()
	const dex, kc, entra = "https://dex.force.example", "https://kc.force.example/realms/force", "https://login.example/tenant/v2.0"
	_, mgr := e.sessionOf("mgr-1", "Max Mercer", identity.RoleANPRManager)
	invCookie, inv := e.sessionOf("dex-inv", "DC Ivy Ingram", identity.RoleInvestigator)
	req := func(issuer, sub, prevIssuer, prevSub string) identity.LinkRequest {
		return identity.LinkRequest{Issuer: issuer, Subject: sub, PreviousIssuer: prevIssuer, PreviousSubject: prevSub,
			Reason: "force moved IdP; identity checked against HR record 4471"}
	}

	_, err := e.svc.LinkSubject(ctx, inv, req(kc, "kc-inv", dex, "dex-inv"))
	wantErr(t, "an investigator linking", err, identity.ErrForbidden)
	_, err = e.svc.LinkSubject(ctx, mgr, req(kc, "kc-mgr", dex, "mgr-1"))
	wantErr(t, "a manager linking an identity into their own subject", err, identity.ErrForbidden)
	_, err = e.svc.LinkSubject(ctx, mgr, req(kc, "mgr-1", dex, "dex-inv"))
	wantErr(t, "a manager linking their own identity to someone else", err, identity.ErrForbidden)
	if recs := e.events(identity.ActionSubjectLink, "mgr-1"); len(recs) != 2 || recs[0].Event.Rule != "identity:no-self-link" || recs[0].Event.Decision != audit.EffectDeny {
		t.Errorf("self-link refusals not audited: %+v", recs)
	}
	if recs := e.events(identity.ActionSubjectLink, inv.Subject); len(recs) != 1 || recs[0].Event.Decision != audit.EffectDeny {
		t.Errorf("investigator's refusal not audited: %+v", recs)
	}
	_, err = e.svc.LinkSubject(ctx, mgr, req(kc, "kc-x", dex, "never-signed-in"))
	wantErr(t, "a previous subject the portal never saw", err, identity.ErrNotFound)
	noReason := req(kc, "kc-inv", dex, "dex-inv")
	noReason.Reason = " "
	_, err = e.svc.LinkSubject(ctx, mgr, noReason)
	wantErr(t, "no reason", err, identity.ErrInvalid)
	_, err = e.svc.LinkSubject(ctx, mgr, req(dex, "dex-inv", dex, "dex-inv"))
	wantErr(t, "an identity linked to itself", err, identity.ErrInvalid)

	l, err := e.svc.LinkSubject(ctx, mgr, req(kc, "kc-inv", dex, "dex-inv"))
	if err != nil || l.PreviousSubject != "dex-inv" || l.LinkedBy != "mgr-1" {
		t.Fatalf("link: %+v %v", l, err)
	}
	// Moved again, from Keycloak to Entra: the new link points at the first subject.
	l2, err := e.svc.LinkSubject(ctx, mgr, req(entra, "entra-inv", kc, "kc-inv"))
	if err != nil || l2.PreviousSubject != "dex-inv" || l2.PreviousIssuer != dex {
		t.Fatalf("second move: %+v %v", l2, err)
	}
	recs := e.events(identity.ActionSubjectLink, "mgr-1")
	last := recs[len(recs)-1]
	if last.Event.Stage != audit.StageOutcome || last.Event.Decision != audit.EffectAllow {
		t.Errorf("last link event: %+v", last.Event)
	}
	if intent := recs[len(recs)-2]; intent.Payload == nil || !strings.Contains(intent.Payload.Query, `subject="entra-inv"`) || intent.Payload.Justification == "" {
		t.Errorf("link intent payload: %+v", intent.Payload)
	}
	links, err := e.svc.ListLinks(ctx, mgr)
	if err != nil || len(links) != 2 {
		t.Errorf("list: %v %v", links, err)
	}
	if _, err := e.svc.ListLinks(ctx, inv); err == nil {
		t.Error("an investigator listed links")
	}
	if err := e.svc.RevokeLink(ctx, inv, l.ID); err == nil {
		t.Error("an investigator removed a link")
	}
	if err := e.svc.RevokeLink(ctx, mgr, l.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "remove twice", e.svc.RevokeLink(ctx, mgr, l.ID), identity.ErrConflict)
	wantErr(t, "remove unknown", e.svc.RevokeLink(ctx, mgr, "l_nope"), identity.ErrNotFound)
	// Removing the link ended the investigator's sessions.
	if _, err := e.svc.Authenticate(ctx, invCookie); err == nil {
		t.Error("session survived the link's removal")
	}
}
