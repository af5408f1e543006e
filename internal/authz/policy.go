package authz

import (
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
)

// Policy is the text of the Casbin model and policy: the portal passes policies.Model() and
// policies.Rules(). Tests pass edited copies to prove the decision table notices a change.
type Policy struct {
	Model string
	Rules string
	// Name labels policy lines in Decision.Rule (default "policy.csv").
	Name string
}

// ruleLine is where a policy row came from, so a decision can cite it.
type ruleLine struct {
	no   int
	text string
}

// engine is the Casbin enforcer plus the source lines of its rows. It is never changed after
// newEngine, which is what makes memoising its answers sound: the request space is finite (roles x
// actions x bands x purpose classes x authority states) and each answer is a pure function of the
// policy. The memo keeps the per-search cost at a map lookup instead of a scan of every row.
type engine struct {
	e     *casbin.Enforcer
	name  string
	lines map[string]ruleLine // key: the row's fields joined by ", "
	memo  sync.Map            // casbinRequest -> verdict
}

type casbinRequest struct {
	role      Role
	action    Action
	band      Band
	class     PurposeClass
	authority AuthorityState
}

type verdict struct {
	allowed bool
	line    ruleLine
}

// The request and policy shape model.conf must declare; checked at load so that an edited model
// fails at start rather than denying everything at run time.
var (
	wantRequest = []string{"r_role", "r_act", "r_band", "r_purpose", "r_authority"}
	wantPolicy  = []string{"p_role", "p_act", "p_band", "p_purpose", "p_authority"}
)

func newEngine(p Policy) (*engine, error) {
	if p.Name == "" {
		p.Name = "policy.csv"
	}
	m, err := model.NewModelFromString(p.Model)
	if err != nil {
		return nil, fmt.Errorf("%w: parse casbin model: %v", ErrInvalid, err)
	}
	if got := m["r"]["r"]; got == nil || !slices.Equal(got.Tokens, wantRequest) {
		return nil, fmt.Errorf("%w: casbin model: request must be r = role, act, band, purpose, authority", ErrInvalid)
	}
	if got := m["p"]["p"]; got == nil || !slices.Equal(got.Tokens, wantPolicy) {
		return nil, fmt.Errorf("%w: casbin model: policy must be p = role, act, band, purpose, authority", ErrInvalid)
	}
	pRows, gRows, lines, err := parseRules(p.Name, p.Rules)
	if err != nil {
		return nil, err
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("%w: casbin enforcer: %v", ErrInvalid, err)
	}
	e.AddFunction("oneOf", oneOf)
	if len(gRows) > 0 {
		if _, err := e.AddGroupingPolicies(gRows); err != nil {
			return nil, fmt.Errorf("%w: load role inheritance: %v", ErrInvalid, err)
		}
	}
	if _, err := e.AddPolicies(pRows); err != nil {
		return nil, fmt.Errorf("%w: load policy rows: %v", ErrInvalid, err)
	}
	eng := &engine{e: e, name: p.Name, lines: lines}
	// Probe once so a matcher that does not evaluate fails at start.
	if _, err := eng.enforce(casbinRequest{Investigator, SearchExact, Band1, ClassGeneral, AuthorityNone}); err != nil {
		return nil, fmt.Errorf("%w: casbin model does not evaluate: %v", ErrInvalid, err)
	}
	return eng, nil
}

// enforce asks Casbin, once per distinct request.
func (g *engine) enforce(r casbinRequest) (verdict, error) {
	if v, ok := g.memo.Load(r); ok {
		return v.(verdict), nil
	}
	ok, explain, err := g.e.EnforceEx(string(r.role), string(r.action), string(r.band), string(r.class), string(r.authority))
	if err != nil {
		return verdict{}, fmt.Errorf("casbin enforce %v: %w", r, err)
	}
	v := verdict{allowed: ok}
	if ok {
		line, found := g.lines[strings.Join(explain, ", ")]
		if !found {
			// Casbin allowed by a row we did not load: impossible unless the model changed shape.
			return verdict{}, fmt.Errorf("casbin allowed %v by unknown row %q", r, explain)
		}
		v.line = line
	}
	g.memo.Store(r, v)
	return v, nil
}

// oneOf is the matcher's field test: the policy value "*" matches anything, otherwise it lists the
// accepted values separated by "|" ("valid|hold").
func oneOf(args ...any) (any, error) {
	if len(args) != 2 {
		return false, fmt.Errorf("oneOf wants 2 arguments, got %d", len(args))
	}
	value, ok1 := args[0].(string)
	pattern, ok2 := args[1].(string)
	if !ok1 || !ok2 {
		return false, errors.New("oneOf wants string arguments")
	}
	return pattern == "*" || slices.Contains(strings.Split(pattern, "|"), value), nil
}

// parseRules reads policy.csv strictly: casbin's own loaders skip malformed lines silently, and a
// silently skipped allow row (or a typo that never matches) is a policy nobody reviewed. Every
// problem is reported with its line number.
func parseRules(name, text string) (p, g [][]string, lines map[string]ruleLine, err error) {
	lines = map[string]ruleLine{}
	var errs []error
	bad := func(no int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s:%d: %s", ErrInvalid, name, no, fmt.Sprintf(format, args...)))
	}
	for i, raw := range strings.Split(text, "\n") {
		no := i + 1
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		rd := csv.NewReader(strings.NewReader(line))
		rd.TrimLeadingSpace = true
		fields, rerr := rd.Read()
		if rerr != nil {
			bad(no, "not a CSV line: %v", rerr)
			continue
		}
		for j := range fields {
			fields[j] = strings.TrimSpace(fields[j])
		}
		switch fields[0] {
		case "p":
			if len(fields) != 6 {
				bad(no, "a p row has 5 fields (role, action, band, purpose class, authority), got %d", len(fields)-1)
				continue
			}
			if msg := checkRow(fields[1:]); msg != "" {
				bad(no, "%s", msg)
				continue
			}
			key := strings.Join(fields[1:], ", ")
			if prev, dup := lines[key]; dup {
				bad(no, "duplicates line %d", prev.no)
				continue
			}
			lines[key] = ruleLine{no: no, text: line}
			p = append(p, fields[1:])
		case "g":
			if len(fields) != 3 {
				bad(no, "a g row has 2 fields (role, inherited role), got %d", len(fields)-1)
				continue
			}
			for _, r := range fields[1:] {
				if Role(r).Description() == "" {
					bad(no, "unknown role %q", r)
				}
			}
			g = append(g, fields[1:])
		default:
			bad(no, "a row starts with p or g, not %q", fields[0])
		}
	}
	if len(p) == 0 && len(errs) == 0 {
		bad(0, "no p rows: the policy would deny everything")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, nil, err
	}
	return p, g, lines, nil
}

// checkRow validates one p row and enforces two invariants no force should be able to edit away:
// an action on dated reads must name its bands (so BandNone, the value of a forgotten band, and
// expired data never slip through a "*"), and must require a purpose (every search has a reason).
func checkRow(f []string) string {
	role, action, band, purpose, authority := f[0], Action(f[1]), f[2], f[3], f[4]
	if Role(role).Description() == "" {
		return fmt.Sprintf("unknown role %q", role)
	}
	info, ok := action.Info()
	if !ok {
		return fmt.Sprintf("unknown action %q", action)
	}
	if msg := checkAlternatives("band", band, func(s string) bool { return Band(s).known() }); msg != "" {
		return msg
	}
	if msg := checkAlternatives("purpose class", purpose, func(s string) bool { return PurposeClass(s).known() }); msg != "" {
		return msg
	}
	if msg := checkAlternatives("authority", authority, func(s string) bool { return AuthorityState(s).known() }); msg != "" {
		return msg
	}
	if info.Dated {
		if band == "*" || slices.Contains(strings.Split(band, "|"), string(BandNone)) {
			return fmt.Sprintf("%s reads dated data: list its bands (band1|band2|expired), not %q", action, band)
		}
		if purpose == "*" || slices.Contains(strings.Split(purpose, "|"), string(ClassNone)) {
			return fmt.Sprintf("%s reads dated data: it needs a purpose, so the purpose class cannot be %q", action, purpose)
		}
	}
	return ""
}

func checkAlternatives(what, pattern string, known func(string) bool) string {
	if pattern == "*" {
		return ""
	}
	for _, v := range strings.Split(pattern, "|") {
		if !known(v) {
			return fmt.Sprintf("unknown %s %q", what, v)
		}
	}
	return ""
}
