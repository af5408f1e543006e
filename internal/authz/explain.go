package authz

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// refusal builds the default-deny decision and works out the smallest change that would have
// allowed it, so the message tells the user what is missing rather than only "forbidden".
func (a *Authorizer) refusal(req Request, roles []Role, band Band, class PurposeClass, auth AuthorityState) Decision {
	tried := make([]string, len(roles))
	for i, r := range roles {
		tried[i] = string(r)
	}
	rule := fmt.Sprintf("%s: no policy line allows roles [%s] to %s with band=%s purpose=%s authority=%s",
		RuleDefaultDeny, strings.Join(tried, " "), req.Action, band, class, auth)
	who := "you"
	if len(roles) == 0 {
		who = "a user with no portal role"
	}
	msg := fmt.Sprintf("Refused: %s may not %s on %s with purpose class %s and authority %s.", who, req.Action, a.bandText(band), class, auth)

	if fixes, _ := a.fixes(roles, req.Action, band, class, auth); len(fixes) > 0 {
		return Decision{Rule: rule, Reason: msg + " It would be allowed with " + strings.Join(fixes, ", or with ") + "."}
	}
	var others []string
	for _, r := range Roles() {
		if slices.Contains(roles, r) {
			continue
		}
		if fixes, n := a.fixes([]Role{r}, req.Action, band, class, auth); n == 0 {
			others = append(others, string(r))
		} else if len(fixes) > 0 {
			others = append(others, fmt.Sprintf("%s (with %s)", r, fixes[0]))
		}
	}
	if len(others) > 0 {
		msg += " Only these roles may: " + strings.Join(others, ", ") + "."
	} else {
		msg += " No role may do this with this data."
	}
	return Decision{Rule: rule, Reason: msg}
}

// fixes returns the smallest changes of purpose class and authority that would let one of roles
// do action on band, and how many things change (0: allowed as asked; -1: no change helps). A
// hold authority satisfies whatever a plain one does, so it is suggested only where a plain one
// would not do.
func (a *Authorizer) fixes(roles []Role, action Action, band Band, class PurposeClass, auth AuthorityState) ([]string, int) {
	allows := func(c PurposeClass, s AuthorityState) bool {
		for _, r := range roles {
			if v, err := a.eng.enforce(casbinRequest{r, action, band, c, s}); err == nil && v.allowed {
				return true
			}
		}
		return false
	}
	if allows(class, auth) {
		return nil, 0
	}
	var out []string
	best := 3
	for _, c := range []PurposeClass{class, ClassGeneral, ClassSerious, ClassOversight} {
		for _, s := range []AuthorityState{auth, AuthorityValid, AuthorityHold} {
			if !allows(c, s) || (s == AuthorityHold && s != auth && allows(c, AuthorityValid)) {
				continue
			}
			var parts []string
			if c != class {
				parts = append(parts, a.classText(c))
			}
			if s != auth {
				parts = append(parts, authorityText(s))
			}
			fix := strings.Join(parts, " and ")
			switch {
			case len(parts) < best:
				best, out = len(parts), []string{fix}
			case len(parts) == best && !slices.Contains(out, fix):
				out = append(out, fix)
			}
		}
	}
	if len(out) == 0 {
		return nil, -1
	}
	return out, best
}

func (a *Authorizer) bandText(b Band) string {
	days := func(d time.Duration) int { return int(d / (24 * time.Hour)) }
	switch b {
	case Band1:
		return fmt.Sprintf("band 1 data (up to %d days old)", days(a.cfg.Bands.Band1))
	case Band2:
		return fmt.Sprintf("band 2 data (%d to %d days old)", days(a.cfg.Bands.Band1)+1, days(a.cfg.Bands.Retention))
	case BandExpired:
		return fmt.Sprintf("data past retention (over %d days old)", days(a.cfg.Bands.Retention))
	default:
		return "no dated data"
	}
}

func (a *Authorizer) classText(c PurposeClass) string {
	var names []string
	for _, p := range a.cfg.Reasons.Purposes {
		if p.Class == c {
			names = append(names, p.Name)
		}
	}
	article := "a"
	if strings.ContainsRune("aeiou", rune(string(c)[0])) {
		article = "an"
	}
	return fmt.Sprintf("%s %s purpose (%s)", article, c, strings.Join(names, ", "))
}

func authorityText(s AuthorityState) string {
	switch s {
	case AuthorityValid:
		return "an approved prior authority"
	case AuthorityHold:
		return "an authority naming a preservation hold"
	default:
		return "no authority"
	}
}
