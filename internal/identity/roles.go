package identity

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// mapClaims turns the claims of an ID or access token into roles and a rank, through the
// configured RoleMapping and RankMapping (mapping.go).
func (s *Service) mapClaims(raw map[string]json.RawMessage) (roles []string, rank string) {
	rm := s.cfg.RoleMapping
	for _, v := range claimStrings(claimAt(raw, rm.Claim)) {
		v, ok := strings.CutPrefix(v, rm.Prefix)
		if !ok {
			continue
		}
		role := v
		if len(rm.Map) > 0 {
			role = rm.Map[v]
		} else if !slices.Contains(PersonRoles(), role) {
			role = ""
		}
		if role != "" && !slices.Contains(roles, role) {
			roles = append(roles, role)
		}
	}
	km := s.cfg.RankMapping
	for _, v := range claimStrings(claimAt(raw, km.Claim)) {
		v, ok := strings.CutPrefix(v, km.Prefix)
		if !ok {
			continue
		}
		r := normaliseRank(v)
		if len(km.Map) > 0 {
			r = km.Map[v]
		}
		rank = s.higherRank(rank, r)
	}
	slices.Sort(roles)
	return roles, rank
}

// claimAt finds the claim at path: the top-level claim of that exact name if there is one (some
// IdPs use names with dots, such as URLs), else the dotted path walked through nested objects
// ("realm_access.roles"). Anything not found, or found inside a non-object, is nil.
func claimAt(raw map[string]json.RawMessage, path string) json.RawMessage {
	if v, ok := raw[path]; ok {
		return v
	}
	parts := strings.Split(path, ".")
	cur := raw
	for i, p := range parts {
		v, ok := cur[p]
		if !ok {
			return nil
		}
		if i == len(parts)-1 {
			return v
		}
		var next map[string]json.RawMessage
		if json.Unmarshal(v, &next) != nil {
			return nil
		}
		cur = next
	}
	return nil
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
