package authz_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/policies"
)

func newAuthz(t testing.TB, cfg authz.Config, now func() time.Time) *authz.Authorizer {
	t.Helper()
	az, err := authz.New(cfg, authz.Policy{Model: policies.Model(), Rules: policies.Rules()}, now)
	if err != nil {
		t.Fatalf("authz.New: %v", err)
	}
	return az
}

func defaultAuthz(t testing.TB) *authz.Authorizer {
	return newAuthz(t, authz.Config{}, time.Now)
}

const justification = "Silver Ford Transit seen leaving the burglary at 14 Acacia Avenue; establish its route"

var (
	seriousReason   = authz.Reason{Purpose: "serious_crime", CaseRef: "MPS/12345/26", OffenceCode: "TH68010", Justification: justification}
	generalReason   = authz.Reason{Purpose: "missing_person", CaseRef: "MPS/12345/26", Justification: justification}
	oversightReason = authz.Reason{Purpose: "audit_review", CaseRef: "AUD/0042/26", Justification: "Quarterly dip sample of band two searches made by the Croydon team"}
)

func user(id string, roles ...authz.Role) authz.Subject {
	return authz.Subject{ID: id, Roles: roles}
}

func mustDecide(t *testing.T, az *authz.Authorizer, req authz.Request) authz.Decision {
	t.Helper()
	d, err := az.Decide(req)
	if err != nil {
		t.Fatalf("Decide(%+v): %v", req, err)
	}
	return d
}

// The allowing decision cites the exact line of policy.csv, so an auditor can find it.
func TestAllowCitesPolicyLine(t *testing.T) {
	az := defaultAuthz(t)
	d := mustDecide(t, az, authz.Request{Subject: user("u1", authz.Investigator), Action: authz.SearchExact, Band: authz.Band1, Reason: generalReason})
	if !d.Allowed || d.Role != authz.Investigator {
		t.Fatalf("decision = %+v, want allowed by investigator", d)
	}
	file, rest, ok := strings.Cut(d.Rule, ":")
	noText, text, ok2 := strings.Cut(rest, ": ")
	no, err := strconv.Atoi(noText)
	if !ok || !ok2 || err != nil || file != "policy.csv" {
		t.Fatalf("rule %q is not policy.csv:<line>: <text>", d.Rule)
	}
	if got := strings.Split(policies.Rules(), "\n")[no-1]; got != text {
		t.Errorf("rule cites line %d as %q, but that line is %q", no, text, got)
	}
}

// Auditors read the audit log but never search reads, whatever they present.
func TestAuditorCannotSearchReads(t *testing.T) {
	az := defaultAuthz(t)
	for _, a := range authz.Actions() {
		if !a.Dated || strings.HasPrefix(string(a.Action), "authority.") {
			continue
		}
		for _, band := range authz.AllBands() {
			for _, reason := range []authz.Reason{{}, generalReason, seriousReason, oversightReason} {
				for _, auth := range authz.AllAuthorityStates() {
					d := mustDecide(t, az, authz.Request{Subject: user("aud", authz.Auditor), Action: a.Action, Band: band, Reason: reason, Authority: auth})
					if d.Allowed {
						t.Fatalf("auditor allowed to %s %s %s %s: %s", a.Action, band, reason.Purpose, auth, d.Rule)
					}
					if !strings.HasPrefix(d.Rule, "default-deny: no policy line allows roles [auditor]") {
						t.Fatalf("rule = %q", d.Rule)
					}
				}
			}
		}
	}
	if d := mustDecide(t, az, authz.Request{Subject: user("aud", authz.Auditor), Action: authz.AuditRead, Target: "someone"}); !d.Allowed {
		t.Errorf("auditor refused audit.read: %+v", d)
	}
}

// Self-grant and self-approval are refused by rules outside Casbin.
func TestSeparationOfDuties(t *testing.T) {
	az := defaultAuthz(t)
	mgr := user("mgr1", authz.ANPRManager)
	officer := authz.Subject{ID: "ins1", Roles: []authz.Role{authz.AuthorisingOfficer}, Rank: authz.Inspector}
	tests := []struct {
		name    string
		req     authz.Request
		allowed bool
		rule    string
	}{
		{"manager grants someone else", authz.Request{Subject: mgr, Action: authz.AdminGrants, Target: "inv7"}, true, "policy.csv:"},
		{"manager grants themselves", authz.Request{Subject: mgr, Action: authz.AdminGrants, Target: "mgr1"}, false, authz.RuleSeparation},
		{"investigator grants someone", authz.Request{Subject: user("inv1", authz.Investigator), Action: authz.AdminGrants, Target: "inv7"}, false, authz.RuleDefaultDeny},
		{"investigator grants themselves", authz.Request{Subject: user("inv1", authz.Investigator), Action: authz.AdminGrants, Target: "inv1"}, false, authz.RuleDefaultDeny},
		{"auditor grants", authz.Request{Subject: user("aud1", authz.Auditor), Action: authz.AdminGrants, Target: "inv7"}, false, authz.RuleDefaultDeny},
		{"officer approves another's request", authz.Request{Subject: officer, Action: authz.AuthorityApprove, Band: authz.Band2, Reason: seriousReason, Target: "inv7"}, true, "policy.csv:"},
		{"officer approves own request", authz.Request{Subject: officer, Action: authz.AuthorityApprove, Band: authz.Band2, Reason: seriousReason, Target: "ins1"}, false, authz.RuleSeparation},
		{"approval of a band 2 request for a general purpose", authz.Request{Subject: officer, Action: authz.AuthorityApprove, Band: authz.Band2, Reason: generalReason, Target: "inv7"}, false, authz.RuleDefaultDeny},
		{"sergeant approves", authz.Request{Subject: authz.Subject{ID: "sgt1", Roles: []authz.Role{authz.AuthorisingOfficer}, Rank: authz.Sergeant}, Action: authz.AuthorityApprove, Band: authz.Band2, Reason: seriousReason, Target: "inv7"}, false, authz.RuleApproverRnk},
		{"officer with no rank approves", authz.Request{Subject: user("x1", authz.AuthorisingOfficer), Action: authz.AuthorityApprove, Band: authz.Band2, Reason: seriousReason, Target: "inv7"}, false, authz.RuleApproverRnk},
		{"officer with unknown rank approves", authz.Request{Subject: authz.Subject{ID: "x2", Roles: []authz.Role{authz.AuthorisingOfficer}, Rank: "field_marshal"}, Action: authz.AuthorityApprove, Band: authz.Band2, Reason: seriousReason, Target: "inv7"}, false, authz.RuleApproverRnk},
		{"superintendent approves", authz.Request{Subject: authz.Subject{ID: "sup1", Roles: []authz.Role{authz.AuthorisingOfficer}, Rank: authz.Superintendent}, Action: authz.AuthorityApprove, Band: authz.Band2, Reason: seriousReason, Target: "inv7"}, true, "policy.csv:"},
		{"high rank without the role", authz.Request{Subject: authz.Subject{ID: "sup2", Roles: []authz.Role{authz.Investigator}, Rank: authz.ChiefSuperintendent}, Action: authz.AuthorityApprove, Band: authz.Band1, Reason: generalReason, Target: "inv7"}, false, authz.RuleDefaultDeny},
		{"auditor reads someone else's events", authz.Request{Subject: user("aud1", authz.Auditor), Action: authz.AuditRead, Target: "inv7"}, true, "policy.csv:"},
		{"auditor reads own events without a reason", authz.Request{Subject: user("aud1", authz.Auditor), Action: authz.AuditRead, Target: "aud1"}, false, authz.RuleSelfAudit},
		{"auditor reads own events for a search purpose", authz.Request{Subject: user("aud1", authz.Auditor), Action: authz.AuditRead, Target: "aud1", Reason: generalReason}, false, authz.RuleSelfAudit},
		{"auditor reviews own events with a recorded reason", authz.Request{Subject: user("aud1", authz.Auditor), Action: authz.AuditRead, Target: "aud1", Reason: oversightReason}, true, "policy.csv:"},
		{"investigator reads own audit events", authz.Request{Subject: user("inv1", authz.Investigator), Action: authz.AuditRead, Target: "inv1", Reason: oversightReason}, false, authz.RuleDefaultDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDecide(t, az, tt.req)
			if d.Allowed != tt.allowed || !strings.HasPrefix(d.Rule, tt.rule) {
				t.Errorf("decision = %+v, want allowed=%v by %s", d, tt.allowed, tt.rule)
			}
			if !d.Allowed && d.Reason == "" {
				t.Error("refusal without a reason")
			}
		})
	}
}

func TestMinApproverRankIsConfigured(t *testing.T) {
	az := newAuthz(t, authz.Config{MinApproverRank: authz.Superintendent}, time.Now)
	req := authz.Request{Subject: authz.Subject{ID: "ci1", Roles: []authz.Role{authz.AuthorisingOfficer}, Rank: authz.ChiefInspector},
		Action: authz.AuthorityApprove, Band: authz.Band2, Reason: seriousReason, Target: "inv7"}
	d := mustDecide(t, az, req)
	if d.Allowed || !strings.Contains(d.Reason, "superintendent or above; you have chief_inspector") {
		t.Errorf("decision = %+v", d)
	}
	if _, err := authz.New(authz.Config{MinApproverRank: "general"}, authz.Policy{Model: policies.Model(), Rules: policies.Rules()}, time.Now); !errors.Is(err, authz.ErrInvalid) {
		t.Errorf("unknown min rank: err = %v", err)
	}
}

// A force's own rank order: its ranks compare by their place in it, and a rank it does not list
// (even one of the default order) approves nothing.
func TestRankOrderIsConfigured(t *testing.T) {
	order := []authz.Rank{"sergeant", "detective_sergeant", "inspector", "detective_inspector", "superintendent"}
	az := newAuthz(t, authz.Config{Ranks: order, MinApproverRank: "detective_inspector"}, time.Now)
	approve := func(rank authz.Rank) authz.Decision {
		return mustDecide(t, az, authz.Request{Subject: authz.Subject{ID: "o1", Roles: []authz.Role{authz.AuthorisingOfficer}, Rank: rank},
			Action: authz.AuthorityApprove, Band: authz.Band2, Reason: seriousReason, Target: "inv7"})
	}
	for rank, want := range map[authz.Rank]bool{"superintendent": true, "detective_inspector": true, "inspector": false, "chief_superintendent": false, "": false} {
		if d := approve(rank); d.Allowed != want {
			t.Errorf("rank %q: allowed %v, want %v (%s)", rank, d.Allowed, want, d.Rule)
		}
	}
	for _, bad := range [][]authz.Rank{{"inspector", "inspector"}, {"sergeant", ""}} {
		if _, err := authz.New(authz.Config{Ranks: bad}, authz.Policy{Model: policies.Model(), Rules: policies.Rules()}, time.Now); !errors.Is(err, authz.ErrInvalid) {
			t.Errorf("rank order %q accepted: %v", bad, err)
		}
	}
}

// The core data-age band rules (docs/architecture.md, section 8), as they reach a caller, with the refusal saying what
// is missing.
func TestBandRulesAndRefusalMessages(t *testing.T) {
	az := defaultAuthz(t)
	inv := user("inv1", authz.Investigator)
	ext := user("ext1", authz.ExtendedInvestigator)
	tests := []struct {
		name    string
		req     authz.Request
		allowed bool
		inMsg   string
	}{
		{"band 1 with a reason", authz.Request{Subject: inv, Action: authz.SearchExact, Band: authz.Band1, Reason: generalReason}, true, ""},
		{"band 1 without a reason", authz.Request{Subject: inv, Action: authz.SearchExact, Band: authz.Band1}, false, "allowed with a general purpose (crime_investigation"},
		{"forgotten band fails closed", authz.Request{Subject: inv, Action: authz.SearchExact, Reason: generalReason}, false, "no dated data"},
		{"area search needs an authority in band 1", authz.Request{Subject: inv, Action: authz.SearchArea, Band: authz.Band1, Reason: generalReason}, false, "allowed with an approved prior authority"},
		{"area search with an authority", authz.Request{Subject: inv, Action: authz.SearchArea, Band: authz.Band1, Reason: generalReason, Authority: authz.AuthorityValid}, true, ""},
		{"convoy needs an authority", authz.Request{Subject: ext, Action: authz.SearchConvoy, Band: authz.Band1, Reason: seriousReason}, false, "prior authority"},
		{"multi-location needs an authority", authz.Request{Subject: inv, Action: authz.SearchMultiLocation, Band: authz.Band1, Reason: seriousReason}, false, "prior authority"},
		{"investigator in band 2", authz.Request{Subject: inv, Action: authz.SearchExact, Band: authz.Band2, Reason: seriousReason, Authority: authz.AuthorityValid}, false, "Only these roles may: extended_investigator"},
		{"investigator in band 2 without authority", authz.Request{Subject: inv, Action: authz.SearchExact, Band: authz.Band2, Reason: seriousReason}, false, "Only these roles may: extended_investigator (with an approved prior authority)."},
		{"erasure needs an oversight reason", authz.Request{Subject: user("m", authz.ANPRManager), Action: authz.DataErase, Reason: generalReason}, false, "allowed with an oversight purpose (audit_review, data_protection)."},
		{"extended in band 2 without authority", authz.Request{Subject: ext, Action: authz.SearchExact, Band: authz.Band2, Reason: seriousReason}, false, "allowed with an approved prior authority"},
		{"extended in band 2 for a general purpose", authz.Request{Subject: ext, Action: authz.SearchExact, Band: authz.Band2, Reason: generalReason, Authority: authz.AuthorityValid}, false, "allowed with a serious purpose (serious_crime, major_crime, counter_terrorism)"},
		{"extended in band 2, serious, authority", authz.Request{Subject: ext, Action: authz.SearchExact, Band: authz.Band2, Reason: seriousReason, Authority: authz.AuthorityValid}, true, ""},
		{"expired data with a plain authority", authz.Request{Subject: ext, Action: authz.SearchJourney, Band: authz.BandExpired, Reason: seriousReason, Authority: authz.AuthorityValid}, false, "preservation hold"},
		{"expired data under a hold", authz.Request{Subject: ext, Action: authz.SearchJourney, Band: authz.BandExpired, Reason: seriousReason, Authority: authz.AuthorityHold}, true, ""},
		{"manager cannot search", authz.Request{Subject: user("m", authz.ANPRManager), Action: authz.SearchExact, Band: authz.Band1, Reason: generalReason}, false, "Only these roles may: investigator, extended_investigator"},
		{"ingest cannot search", authz.Request{Subject: user("cam", authz.Ingest), Action: authz.SearchPartial, Band: authz.Band1, Reason: generalReason}, false, "Refused"},
		{"oversight purpose is no reason to search", authz.Request{Subject: inv, Action: authz.ReadView, Band: authz.Band1, Reason: oversightReason}, false, "general purpose"},
		{"no roles at all", authz.Request{Subject: user("nobody"), Action: authz.SearchExact, Band: authz.Band1, Reason: generalReason}, false, "a user with no portal role"},
		{"unknown roles are ignored", authz.Request{Subject: user("x", "admin", "root"), Action: authz.AdminGrants, Target: "y"}, false, "Only these roles may: anpr_manager"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mustDecide(t, az, tt.req)
			if d.Allowed != tt.allowed {
				t.Fatalf("decision = %+v, want allowed=%v", d, tt.allowed)
			}
			if !strings.Contains(d.Reason, tt.inMsg) {
				t.Errorf("reason %q does not contain %q", d.Reason, tt.inMsg)
			}
			if !tt.allowed && !strings.HasPrefix(d.Rule, authz.RuleDefaultDeny+": no policy line allows roles [") {
				t.Errorf("rule = %q", d.Rule)
			}
		})
	}
}

// A user with several roles gets what any role allows; refusals list every role tried.
func TestSeveralRoles(t *testing.T) {
	az := defaultAuthz(t)
	both := user("u", authz.Auditor, authz.Investigator, authz.Investigator)
	d := mustDecide(t, az, authz.Request{Subject: both, Action: authz.SearchExact, Band: authz.Band1, Reason: generalReason})
	if !d.Allowed || d.Role != authz.Investigator {
		t.Errorf("decision = %+v, want allowed by investigator", d)
	}
	d = mustDecide(t, az, authz.Request{Subject: both, Action: authz.AdminCameras})
	if d.Allowed || !strings.Contains(d.Rule, "roles [investigator auditor]") {
		t.Errorf("decision = %+v, want refusal listing both roles", d)
	}
	// Extended investigators inherit the investigator rows; the decision cites the inherited line.
	d = mustDecide(t, az, authz.Request{Subject: user("e", authz.ExtendedInvestigator), Action: authz.Export, Band: authz.Band1, Reason: generalReason})
	if !d.Allowed || !strings.Contains(d.Rule, "p, investigator, export, band1") {
		t.Errorf("decision = %+v", d)
	}
}

func TestMalformedRequests(t *testing.T) {
	az := defaultAuthz(t)
	inv := user("inv1", authz.Investigator)
	tests := []struct {
		name string
		req  authz.Request
		want string
	}{
		{"unknown action", authz.Request{Subject: inv, Action: "search.everything"}, "unknown action"},
		{"no subject id", authz.Request{Subject: authz.Subject{Roles: []authz.Role{authz.Investigator}}, Action: authz.SearchExact, Band: authz.Band1, Reason: generalReason}, "no id"},
		{"unknown band", authz.Request{Subject: inv, Action: authz.SearchExact, Band: "band3", Reason: generalReason}, "unknown band"},
		{"unknown authority", authz.Request{Subject: inv, Action: authz.SearchExact, Band: authz.Band1, Reason: generalReason, Authority: "forged"}, "unknown authority"},
		{"grant without grantee", authz.Request{Subject: user("m", authz.ANPRManager), Action: authz.AdminGrants}, "target subject"},
		{"approval without requester", authz.Request{Subject: user("o", authz.AuthorisingOfficer), Action: authz.AuthorityApprove, Band: authz.Band1, Reason: generalReason}, "target subject"},
		{"vague reason", authz.Request{Subject: inv, Action: authz.SearchExact, Band: authz.Band1, Reason: authz.Reason{Purpose: "missing_person", CaseRef: "MPS/1/26", Justification: "intel"}}, "justification: is too vague"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := az.Decide(tt.req)
			if !errors.Is(err, authz.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
			if d.Allowed || !strings.HasPrefix(d.Rule, authz.RuleInvalid) {
				t.Errorf("decision = %+v, want an auditable refusal", d)
			}
		})
	}
}

// Broken policies are refused at start with the line at fault, never loaded into a silent deny
// (or a silent allow).
func TestPolicyLoadErrors(t *testing.T) {
	good := policies.Rules()
	tests := []struct {
		name  string
		model string
		rules string
		want  string
	}{
		{"unknown role", "", "p, investigatr, search.exact, band1, general, *", "policy.csv:1: unknown role"},
		{"unknown action", "", "p, investigator, search.all, band1, general, *", "unknown action"},
		{"unknown band", "", "p, investigator, search.exact, band1|band3, general, *", `unknown band "band3"`},
		{"unknown class", "", "p, investigator, search.exact, band1, urgent, *", "unknown purpose class"},
		{"unknown authority", "", "p, investigator, search.exact, band1, general, maybe", "unknown authority"},
		{"dated action for any band", "", "p, investigator, search.exact, *, general, *", "list its bands"},
		{"dated action without a band", "", "p, investigator, search.exact, none, general, *", "list its bands"},
		{"dated action without a purpose", "", "p, investigator, search.exact, band1, *, *", "needs a purpose"},
		{"dated action for purpose none", "", "p, investigator, search.exact, band1, none|general, *", "needs a purpose"},
		{"short row", "", "p, investigator, search.exact, band1", "5 fields"},
		{"duplicate row", "", "p, ingest, reads.ingest, *, *, *\n\np, ingest, reads.ingest, *, *, *", "policy.csv:3: duplicates line 1"},
		{"deny rows are not supported", "", "p, ingest, reads.ingest, *, *, *, deny", "5 fields"},
		{"bad inheritance", "", "g, investigator, wizard\np, ingest, reads.ingest, *, *, *", "unknown role \"wizard\""},
		{"other row type", "", "p2, ingest, reads.ingest, *, *, *", "starts with p or g"},
		{"empty policy", "", "# nothing\n", "no p rows"},
		{"all problems at once", "", "p, a, b, c, d, e\np, x, y, z, w, v", "policy.csv:2"},
		{"model with another request shape", strings.Replace(policies.Model(), "r = role, act, band, purpose, authority", "r = sub, obj, act", 1), good, "request must be"},
		{"model that does not parse", "[matchers", good, "casbin model"},
		{"matcher calling an unknown function", strings.Replace(policies.Model(), "oneOf(r.band, p.band)", "within(r.band, p.band)", 1), good, "does not evaluate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			model := tt.model
			if model == "" {
				model = policies.Model()
			}
			_, err := authz.New(authz.Config{}, authz.Policy{Model: model, Rules: tt.rules}, time.Now)
			if !errors.Is(err, authz.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrInvalid mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: good}, nil); !errors.Is(err, authz.ErrInvalid) {
		t.Errorf("nil clock: err = %v", err)
	}
}

// Run with -race: decisions are made concurrently by every request handler.
func TestConcurrentDecisions(t *testing.T) {
	az := defaultAuthz(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				a := authz.Actions()[(g+i)%len(authz.Actions())].Action
				band := authz.AllBands()[i%4]
				d, err := az.Decide(authz.Request{Subject: user("u", authz.ExtendedInvestigator), Action: a, Band: band, Reason: seriousReason, Authority: authz.AuthorityValid, Target: "t"})
				if err != nil || (d.Allowed && d.Rule == "") {
					errs <- fmt.Errorf("%s %s: %+v %v", a, band, d, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestVocabulary(t *testing.T) {
	seen := map[authz.Action]bool{}
	for _, a := range authz.Actions() {
		if seen[a.Action] || a.Description == "" {
			t.Errorf("action %q duplicated or undescribed", a.Action)
		}
		seen[a.Action] = true
		if info, ok := a.Action.Info(); !ok || info != a {
			t.Errorf("Info(%q) = %+v, %v", a.Action, info, ok)
		}
	}
	for _, r := range authz.Roles() {
		if got, err := authz.ParseRole(string(r)); err != nil || got != r || r.Description() == "" {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	if _, err := authz.ParseRole("admin"); !errors.Is(err, authz.ErrInvalid) {
		t.Errorf("ParseRole(admin) err = %v", err)
	}
	az := defaultAuthz(t)
	if !az.RankAtLeast(authz.Inspector, authz.Inspector) || az.RankAtLeast(authz.Sergeant, authz.Inspector) || az.RankAtLeast("general", authz.RankNone) || az.RankAtLeast("Chief Inspector", authz.RankNone) {
		t.Error("rank order wrong")
	}
}

// BenchmarkDecide measures the per-search cost of authorisation (memoised Casbin answers). The raw
// figure beside it is one uncached Casbin evaluation, measured by BenchmarkDecideColdPolicy.
func BenchmarkDecide(b *testing.B) {
	az := defaultAuthz(b)
	req := authz.Request{Subject: user("u", authz.ExtendedInvestigator), Action: authz.SearchExact, Band: authz.Band2, Reason: seriousReason, Authority: authz.AuthorityValid}
	for b.Loop() {
		if d, err := az.Decide(req); err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
}

func BenchmarkDecideColdPolicy(b *testing.B) {
	req := authz.Request{Subject: user("u", authz.ExtendedInvestigator), Action: authz.SearchExact, Band: authz.Band2, Reason: seriousReason, Authority: authz.AuthorityValid}
	for b.Loop() {
		b.StopTimer()
		az := defaultAuthz(b)
		b.StartTimer()
		if d, err := az.Decide(req); err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
}
