package identity

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// mapClaims turns the configured claim of an ID or access token into roles and a rank. The claim
// may be a string or a list of strings; values the mapping does not know are ignored (an IdP
// sends many groups that mean nothing here). With several rank values, the highest known wins;
// unknown ranks are ignored, so a typo at the IdP cannot create a rank authz has never heard of.
func (s *Service) mapClaims(raw map[string]json.RawMessage) (roles []string, rank string) {
	m := s.cfg.RoleMapping
	for _, v := range claimStrings(raw[m.Claim]) {
		if r, ok := m.Roles[v]; ok && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
		if after, ok := strings.CutPrefix(v, m.RankPrefix); ok {
			rank = s.higherRank(rank, strings.ToLower(after))
		}
	}
	slices.Sort(roles)
	return roles, rank
}

// claimStrings reads a claim that is a string or a JSON array of strings; anything else (a
// number, an object, a list with non-strings) yields nothing rather than a guess.
func claimStrings(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(raw, &one) == nil && one != "" {
		return []string{one}
	}
	return nil
}

// rankLevel is the position of rank in the configured order, -1 if unknown or empty.
func (s *Service) rankLevel(rank string) int { return slices.Index(s.cfg.Ranks, rank) }

// higherRank returns the higher of two ranks, ignoring unknown ones.
func (s *Service) higherRank(a, b string) string {
	if s.rankLevel(b) > s.rankLevel(a) {
		return b
	}
	if s.rankLevel(a) < 0 {
		return ""
	}
	return a
}

// mergeGrants adds the roles of grants in force at now to the IdP's roles. A grant's rank counts
// only if higher than the IdP's: a grant never demotes.
func (s *Service) mergeGrants(idpRoles []string, idpRank string, grants []Grant, now time.Time) ([]string, string) {
	roles := slices.Clone(idpRoles)
	rank := s.higherRank("", idpRank)
	for _, g := range grants {
		if !g.Active(now) {
			continue
		}
		if !slices.Contains(roles, g.Role) {
			roles = append(roles, g.Role)
		}
		rank = s.higherRank(rank, g.Rank)
	}
	slices.Sort(roles)
	if roles == nil {
		roles = []string{}
	}
	return roles, rank
}
