package policies_test

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/policies"
)

// row is one line of testdata/decisions.csv.
type row struct {
	line      int
	role      authz.Role
	action    authz.Action
	band      authz.Band
	class     authz.PurposeClass
	authority authz.AuthorityState
	allow     bool
}

type combo struct {
	role      authz.Role
	action    authz.Action
	band      authz.Band
	class     authz.PurposeClass
	authority authz.AuthorityState
}

func (r row) combo() combo { return combo{r.role, r.action, r.band, r.class, r.authority} }

// readTable parses the decision table strictly: a typo in a value is an error, not a row that
// silently tests nothing.
func readTable(t *testing.T) []row {
	t.Helper()
	f, err := os.Open("testdata/decisions.csv")
	if err != nil {
		t.Fatalf("open decision table: %v", err)
	}
	defer f.Close()
	rd := csv.NewReader(f)
	rd.Comment = '#'
	rd.FieldsPerRecord = 6
	header, err := rd.Read()
	if err != nil {
		t.Fatalf("read decision table header: %v", err)
	}
	if got := strings.Join(header, ","); got != "role,action,band,purpose_class,authority,expected" {
		t.Fatalf("decision table header is %q", got)
	}
	var roles, actions, bands, classes, auths []string
	for _, r := range authz.Roles() {
		roles = append(roles, string(r))
	}
	for _, a := range authz.Actions() {
		actions = append(actions, string(a.Action))
	}
	for _, b := range authz.AllBands() {
		bands = append(bands, string(b))
	}
	for _, c := range authz.AllPurposeClasses() {
		classes = append(classes, string(c))
	}
	for _, s := range authz.AllAuthorityStates() {
		auths = append(auths, string(s))
	}
	var rows []row
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read decision table: %v", err)
		}
		line, _ := rd.FieldPos(0)
		for i, list := range [][]string{roles, actions, bands, classes, auths} {
			if !slices.Contains(list, rec[i]) {
				t.Errorf("decisions.csv:%d: unknown value %q in column %d", line, rec[i], i+1)
			}
		}
		if rec[5] != "allow" && rec[5] != "deny" {
			t.Errorf("decisions.csv:%d: expected must be allow or deny, not %q", line, rec[5])
		}
		rows = append(rows, row{line, authz.Role(rec[0]), authz.Action(rec[1]), authz.Band(rec[2]),
			authz.PurposeClass(rec[3]), authz.AuthorityState(rec[4]), rec[5] == "allow"})
	}
	return rows
}

func newAuthorizer(t *testing.T, rules string) *authz.Authorizer {
	t.Helper()
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: rules}, time.Now)
	if err != nil {
		t.Fatalf("load policy: %v", err)
	}
	return az
}

// decide runs one table row through the real Authorizer (Casbin plus the rules outside it). The
// subject has exactly the row's role, the minimum approver rank and acts on someone else, so the
// rules outside Casbin never change a table row's answer.
func decide(t *testing.T, az *authz.Authorizer, r row) authz.Decision {
	t.Helper()
	req := authz.Request{
		Subject:   authz.Subject{ID: "table-user", Roles: []authz.Role{r.role}, Rank: authz.Inspector},
		Action:    r.action,
		Band:      r.band,
		Authority: r.authority,
		Target:    "someone-else",
	}
	if r.class != authz.ClassNone {
		req.Reason = reasonOfClass(t, az, r.class)
	}
	d, err := az.Decide(req)
	if err != nil {
		t.Fatalf("decisions.csv:%d: %v", r.line, err)
	}
	return d
}

func reasonOfClass(t *testing.T, az *authz.Authorizer, c authz.PurposeClass) authz.Reason {
	t.Helper()
	for _, p := range az.ReasonRules().Purposes {
		if p.Class == c {
			return authz.Reason{
				Purpose:       p.Name,
				CaseRef:       "MPS/12345/26",
				OffenceCode:   "TH68010",
				Justification: "Silver Ford Transit seen leaving the burglary at 14 Acacia Avenue; establish its route and earlier visits",
			}
		}
	}
	t.Fatalf("no configured purpose of class %s", c)
	return authz.Reason{}
}

// disagreements returns the rows where az disagrees with the table.
func disagreements(t *testing.T, az *authz.Authorizer, rows []row) []string {
	t.Helper()
	var out []string
	for _, r := range rows {
		d := decide(t, az, r)
		if d.Allowed != r.allow {
			want := map[bool]string{true: "allow", false: "deny"}
			out = append(out, fmt.Sprintf("decisions.csv:%d %s %s %s %s %s: table says %s, policy says %s (%s)",
				r.line, r.role, r.action, r.band, r.class, r.authority, want[r.allow], want[d.Allowed], d.Rule))
		}
	}
	return out
}

// TestDecisionTable is the contract between policy.csv and the people who review it: every
// combination is listed, and the real enforcer agrees with every row.
func TestDecisionTable(t *testing.T) {
	rows := readTable(t)
	seen := map[combo]int{}
	for _, r := range rows {
		if prev, dup := seen[r.combo()]; dup {
			t.Errorf("decisions.csv:%d repeats line %d", r.line, prev)
		}
		seen[r.combo()] = r.line
	}
	missing := 0
	for _, role := range authz.Roles() {
		for _, a := range authz.Actions() {
			for _, b := range authz.AllBands() {
				for _, c := range authz.AllPurposeClasses() {
					for _, s := range authz.AllAuthorityStates() {
						if _, ok := seen[combo{role, a.Action, b, c, s}]; !ok {
							missing++
							if missing <= 20 {
								t.Errorf("decisions.csv has no row for %s,%s,%s,%s,%s", role, a.Action, b, c, s)
							}
						}
					}
				}
			}
		}
	}
	if missing > 0 {
		t.Errorf("decisions.csv is missing %d combinations in all", missing)
	}

	az := newAuthorizer(t, policies.Rules())
	bad := disagreements(t, az, rows)
	for i, msg := range bad {
		if i == 30 {
			t.Errorf("... and %d more", len(bad)-30)
			break
		}
		t.Error(msg)
	}
}

// TestEveryPolicyLineMatters deletes each allow row of policy.csv in turn and requires the table
// to notice. A row the table cannot detect would be a policy change that passes the build.
func TestEveryPolicyLineMatters(t *testing.T) {
	rows := readTable(t)
	byAction := map[authz.Action][]row{}
	for _, r := range rows {
		byAction[r.action] = append(byAction[r.action], r)
	}
	lines := strings.Split(policies.Rules(), "\n")
	checked := 0
	for i, l := range lines {
		if !strings.HasPrefix(l, "p,") {
			continue
		}
		checked++
		mutated := strings.Join(append(append([]string{}, lines[:i]...), lines[i+1:]...), "\n")
		action := authz.Action(strings.TrimSpace(strings.Split(l, ",")[2]))
		az := newAuthorizer(t, mutated)
		if len(disagreements(t, az, byAction[action])) == 0 {
			t.Errorf("policy.csv:%d %q can be deleted without the decision table noticing", i+1, l)
		}
	}
	if checked < 40 {
		t.Fatalf("only %d policy rows found; is policy.csv empty?", checked)
	}
}

// TestWidenedPolicyFailsTable edits rows the way a careless change would and requires the table to
// fail for each.
func TestWidenedPolicyFailsTable(t *testing.T) {
	rows := readTable(t)
	edits := []struct{ name, from, to string }{
		{"area search without authority", "p, investigator, search.area, band1, general|serious, valid|hold", "p, investigator, search.area, band1, general|serious, *"},
		{"band 2 for any purpose", "p, extended_investigator, search.exact, band2, serious, valid|hold", "p, extended_investigator, search.exact, band2, general|serious, valid|hold"},
		{"investigators reach band 2", "p, investigator, export, band1, general|serious, *", "p, investigator, export, band1|band2, general|serious, *"},
		{"expired data with a plain authority", "p, extended_investigator, read.image, expired, serious, hold", "p, extended_investigator, read.image, expired, serious, valid|hold"},
		{"auditor searches", "p, auditor, audit.read, *, *, *", "p, auditor, audit.read, *, *, *\np, auditor, search.exact, band1, general, *"},
		{"anyone grants", "p, anpr_manager, admin.grants, *, *, *", "p, anpr_manager, admin.grants, *, *, *\np, investigator, admin.grants, *, *, *"},
		{"no role inheritance", "g, extended_investigator, investigator", ""},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			if !strings.Contains(policies.Rules(), e.from) {
				t.Fatalf("policy.csv no longer contains %q; update this test", e.from)
			}
			az := newAuthorizer(t, strings.Replace(policies.Rules(), e.from, e.to, 1))
			if len(disagreements(t, az, rows)) == 0 {
				t.Errorf("edit %q passes the decision table", e.name)
			}
		})
	}
}
