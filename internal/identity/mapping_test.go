package identity

import (
	"crypto/ed25519"
	"encoding/json"
	"slices"
	"testing"
)

// Claim mapping as each kind of IdP sends it: the token claims are the shapes those IdPs issue,
// the mappings the ones the README documents.
func TestMapClaimsForEachKindOfIdP(t *testing.T) {
	dexGroups := `{"groups":["anpr:authorising_officer","rank:inspector","anpr:ingest","staff"]}`
	keycloak := `{"realm_access":{"roles":["offline_access","anpr-authorising-officer","uma_authorization"]},"rank":"Chief Inspector","groups":["/anpr/auditor"]}`
	entra := `{"roles":["ANPR.Investigator"],"groups":["7d1f0a2e-0000-4000-8000-00000000abcd"],"extension_rank":["Sergeant","Superintendent"]}`
	cases := []struct {
		name      string
		roles     RoleMapping
		rank      RankMapping
		ranks     []string
		claims    string
		wantRoles []string
		wantRank  string
	}{
		{"Dex defaults: anpr: groups, rank: groups; ingest never from a prefix", RoleMapping{}, RankMapping{}, nil, dexGroups,
			[]string{"authorising_officer"}, "inspector"},
		{"Keycloak realm roles with a table, rank as a user attribute", RoleMapping{Claim: "realm_access.roles", Map: map[string]string{"anpr-authorising-officer": RoleAuthorisingOfficer}},
			RankMapping{Claim: "rank"}, nil, keycloak, []string{"authorising_officer"}, "chief_inspector"},
		{"Keycloak group paths", RoleMapping{Claim: "groups", Prefix: "/anpr/"}, RankMapping{Claim: "rank"}, nil, keycloak,
			[]string{"auditor"}, "chief_inspector"},
		{"Entra app roles; rank from an extension, the highest wins", RoleMapping{Claim: "roles", Map: map[string]string{"ANPR.Investigator": RoleInvestigator}},
			RankMapping{Claim: "extension_rank"}, nil, entra, []string{"investigator"}, "superintendent"},
		{"Entra groups by object id", RoleMapping{Claim: "groups", Map: map[string]string{"7d1f0a2e-0000-4000-8000-00000000abcd": RoleExtendedInvestigator}},
			RankMapping{Claim: "extension_rank", Map: map[string]string{"Sergeant": "sergeant"}}, nil, entra, []string{"extended_investigator"}, "sergeant"},
		{"a force's own rank order", RoleMapping{Claim: "roles", Map: map[string]string{"ANPR.Investigator": RoleInvestigator}},
			RankMapping{Claim: "extension_rank"}, []string{"sergeant", "detective_sergeant"}, entra, []string{"investigator"}, "sergeant"},
		{"a nested path into a list finds nothing", RoleMapping{Claim: "groups.0"}, RankMapping{Claim: "realm_access.roles.x"}, nil, keycloak, nil, ""},
		{"a missing claim gives nothing", RoleMapping{Claim: "resource_access.anpr-portal.roles"}, RankMapping{Claim: "rank"}, nil, dexGroups, nil, ""},
		{"a top-level claim with dots wins over the path", RoleMapping{Claim: "https://force.example/roles", Prefix: "anpr:"}, RankMapping{}, nil,
			`{"https://force.example/roles":["anpr:auditor"],"https://force":{"example/roles":["anpr:anpr_manager"]}}`, []string{"auditor"}, ""},
		{"a rank outside the order is ignored", RoleMapping{}, RankMapping{Claim: "rank"}, nil, `{"rank":"field_marshal","groups":["anpr:investigator"]}`,
			[]string{"investigator"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Issuer: "http://127.0.0.1:9/idp", ClientID: "c", RedirectURL: "http://127.0.0.1:8080/auth/callback",
				SigningKey: ed25519.NewKeyFromSeed(make([]byte, 32)), RoleMapping: tc.roles, RankMapping: tc.rank, Ranks: tc.ranks}
			if err := cfg.CheckAndSetDefaults(); err != nil {
				t.Fatal(err)
			}
			var raw map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tc.claims), &raw); err != nil {
				t.Fatal(err)
			}
			roles, rank := (&Service{cfg: cfg}).mapClaims(raw)
			if !slices.Equal(roles, tc.wantRoles) || rank != tc.wantRank {
				t.Errorf("got roles %v rank %q, want %v %q", roles, rank, tc.wantRoles, tc.wantRank)
			}
		})
	}
}
