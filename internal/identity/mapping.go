package identity

import (
	"fmt"
	"slices"
	"strings"
)

// RoleMapping says where an IdP puts a person's portal roles: the values of one claim, each read
// as a role after an optional prefix is removed and an optional table is applied.
//
// Examples (the README has them in full):
//   - the bundled Dex: claim "groups", prefix "anpr:" ("anpr:investigator" is investigator);
//   - Keycloak realm roles: claim "realm_access.roles", a table {"anpr-investigator": "investigator"};
//   - Keycloak group paths: claim "groups", prefix "/anpr/" ("/anpr/investigator");
//   - Entra ID app roles: claim "roles", a table {"ANPR.Investigator": "investigator"}; groups by
//     object id: claim "groups", a table {"<object id>": "investigator"}.
type RoleMapping struct {
	// Claim is the claim's path: a top-level claim name, or a dotted path into nested objects
	// ("realm_access.roles", "resource_access.anpr-portal.roles"). A top-level claim whose name
	// contains dots is found first. Default "groups".
	Claim string
	// Prefix, when set, keeps only values that start with it and removes it before the lookup:
	// "anpr:" reads "anpr:auditor" as "auditor"; a group path prefix "/anpr/" reads
	// "/anpr/auditor" as "auditor". Default "anpr:" when Claim, Prefix and Map are all unset (the
	// bundled Dex's convention), else none.
	Prefix string
	// Map turns a value (after Prefix) into a role. Empty: the value must itself be the name of a
	// person's role (investigator, extended_investigator, authorising_officer, auditor,
	// anpr_manager). Values are matched exactly; ones that match nothing are ignored, since an IdP
	// sends many groups that mean nothing here.
	Map map[string]string
}

// RankMapping says where an IdP puts a person's police rank, which decides who may approve an
// authority. Values are read like RoleMapping's; a value that names no rank in the order is
// ignored, so a typo at the IdP cannot create a rank the policy has never heard of, and with
// several ranks the highest wins.
type RankMapping struct {
	// Claim is the claim's path, as in RoleMapping: "groups", or a claim of its own such as "rank"
	// (a Keycloak user attribute through a protocol mapper, an Entra extension attribute).
	// Default "groups".
	Claim string
	// Prefix, when set, keeps only values that start with it and removes it. Default "rank:" when
	// Claim, Prefix and Map are all unset (the bundled Dex's convention), else none.
	Prefix string
	// Map turns a value (after Prefix) into a rank of Config.Ranks. Empty: the value itself,
	// in lower case with spaces and hyphens as underscores ("Chief Inspector" is
	// chief_inspector), must be a rank of Config.Ranks.
	Map map[string]string
}

// DefaultRanks is the rank order, lowest first, when none is configured: the ranks of a UK
// territorial police force up to chief superintendent.
func DefaultRanks() []string {
	return []string{"constable", "sergeant", "inspector", "chief_inspector", "superintendent", "chief_superintendent"}
}

// PersonRoles are the roles an IdP may give a person without a table naming them: every role
// but the machine role ingest.
func PersonRoles() []string {
	return slices.DeleteFunc(KnownRoles(), func(r string) bool { return r == RoleIngest })
}

func (m *RoleMapping) checkAndSetDefaults() []error {
	var errs []error
	if m.Claim == "" && m.Prefix == "" && len(m.Map) == 0 {
		m.Prefix = "anpr:"
	}
	if m.Claim == "" {
		m.Claim = "groups"
	}
	if err := CheckClaimPath(m.Claim); err != nil {
		errs = append(errs, fmt.Errorf("role claim: %w", err))
	}
	for _, v := range sortedKeys(m.Map) {
		if r := m.Map[v]; !slices.Contains(KnownRoles(), r) {
			errs = append(errs, fmt.Errorf("role map %q -> %q: unknown role (known: %s)", v, r, strings.Join(KnownRoles(), ", ")))
		}
		if v == "" {
			errs = append(errs, fmt.Errorf("role map: an empty value maps nothing"))
		}
	}
	return errs
}

func (m *RankMapping) checkAndSetDefaults(ranks []string) []error {
	var errs []error
	if m.Claim == "" && m.Prefix == "" && len(m.Map) == 0 {
		m.Prefix = "rank:"
	}
	if m.Claim == "" {
		m.Claim = "groups"
	}
	if err := CheckClaimPath(m.Claim); err != nil {
		errs = append(errs, fmt.Errorf("rank claim: %w", err))
	}
	for _, v := range sortedKeys(m.Map) {
		if r := m.Map[v]; !slices.Contains(ranks, r) {
			errs = append(errs, fmt.Errorf("rank map %q -> %q: not a rank of the order (%s)", v, r, strings.Join(ranks, ", ")))
		}
	}
	return errs
}

// CheckRanks reports what is wrong with a rank order: it needs at least one rank, each a
// lower-case name of letters, digits and underscores, none twice.
func CheckRanks(ranks []string) []error {
	var errs []error
	if len(ranks) == 0 {
		return []error{fmt.Errorf("rank order: at least one rank is needed")}
	}
	for i, r := range ranks {
		if !validRankName(r) {
			errs = append(errs, fmt.Errorf("rank order: %q: use lower-case letters, digits and '_' (e.g. chief_inspector)", r))
		}
		if slices.Contains(ranks[:i], r) {
			errs = append(errs, fmt.Errorf("rank order: %q is listed twice", r))
		}
	}
	return errs
}

// CheckClaimPath reports whether path names a claim: a top-level name or dot-separated names,
// none empty.
func CheckClaimPath(path string) error {
	if len(path) > 256 {
		return fmt.Errorf("claim path %.32q... is too long", path)
	}
	for _, part := range strings.Split(path, ".") {
		if part == "" || strings.TrimSpace(part) != part {
			return fmt.Errorf("claim path %q: use a claim name or dot-separated names (realm_access.roles), without empty parts or spaces around them", path)
		}
	}
	return nil
}

func validRankName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

// normaliseRank reads a free-text rank as a rank name: "Chief Inspector" is chief_inspector.
func normaliseRank(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, v)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// CheckRoleMapping reports every problem of m as CheckAndSetDefaults would, without changing it,
// for the configuration loader to list with the rest of the configuration's problems.
func CheckRoleMapping(m RoleMapping) []error { return m.checkAndSetDefaults() }

// CheckRankMapping is CheckRoleMapping for a rank mapping against a rank order (DefaultRanks
// when empty).
func CheckRankMapping(m RankMapping, ranks []string) []error {
	if len(ranks) == 0 {
		ranks = DefaultRanks()
	}
	return m.checkAndSetDefaults(ranks)
}

// CheckScope reports whether s may be requested as an OAuth scope.
func CheckScope(s string) error {
	if !validOAuthScope(s) {
		return fmt.Errorf("scope %q: a scope is printable ASCII without spaces, quotes or backslashes", s)
	}
	return nil
}

// CheckURL accepts an absolute https URL, or http on a loopback host (a local IdP or portal).
func CheckURL(s string) error { return checkURL(s) }
