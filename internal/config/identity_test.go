package config

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

// The identity settings a force needs to point the portal at its own IdP, from a file and from
// ANPR_ variables, as the README's Keycloak example writes them.
func TestIdentitySettingsFromFileAndEnv(t *testing.T) {
	p := writeFile(t, `public_url: https://anpr.force.example
identity:
  scopes: [openid, profile, email]
  access_contact: "the ANPR manager, anpr@force.example"
  roles:
    claim: realm_access.roles
    map:
      anpr-investigator: investigator
      anpr-manager: anpr_manager
  rank:
    claim: rank
    order: [constable, sergeant, inspector, detective_inspector, superintendent]
authority:
  min_approver_rank: detective_inspector
`)
	cfg, err := Load(p, idp)
	if err != nil {
		t.Fatal(err)
	}
	id := cfg.Identity
	if !slices.Equal(id.Scopes, []string{"openid", "profile", "email"}) || id.Roles.Claim != "realm_access.roles" ||
		id.Roles.Map["anpr-manager"] != "anpr_manager" || id.Rank.Claim != "rank" || len(id.Rank.Order) != 5 ||
		id.AccessContact != "the ANPR manager, anpr@force.example" {
		t.Errorf("identity section read wrong: %+v", id)
	}
	// The post-logout URL an IdP compares exactly: public_url with its slash.
	if id.PostLogoutURL != "https://anpr.force.example/" {
		t.Errorf("post_logout_url = %q, want https://anpr.force.example/", id.PostLogoutURL)
	}

	cfg, err = Load("", append([]string{
		"ANPR_IDENTITY_SCOPES=openid,profile",
		"ANPR_IDENTITY_ROLES_CLAIM=roles",
		"ANPR_IDENTITY_ROLES_MAP=ANPR.Investigator=investigator, ANPR.Auditor=auditor",
		"ANPR_IDENTITY_RANK_ORDER=sergeant,inspector",
		"ANPR_IDENTITY_POST_LOGOUT_URL=http://127.0.0.1:8080/signed-out",
	}, idp...))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"ANPR.Investigator": "investigator", "ANPR.Auditor": "auditor"}; !maps.Equal(cfg.Identity.Roles.Map, want) {
		t.Errorf("roles map from env = %v", cfg.Identity.Roles.Map)
	}
	if !slices.Equal(cfg.Identity.Rank.Order, []string{"sergeant", "inspector"}) || cfg.Identity.PostLogoutURL != "http://127.0.0.1:8080/signed-out" {
		t.Errorf("env overrides: %+v", cfg.Identity)
	}
	names := strings.Join(EnvNames(), " ")
	for _, want := range []string{"ANPR_IDENTITY_SCOPES", "ANPR_IDENTITY_POST_LOGOUT_URL", "ANPR_IDENTITY_ACCESS_CONTACT", "ANPR_IDENTITY_ROLES_CLAIM",
		"ANPR_IDENTITY_ROLES_PREFIX", "ANPR_IDENTITY_ROLES_MAP", "ANPR_IDENTITY_RANK_CLAIM", "ANPR_IDENTITY_RANK_PREFIX", "ANPR_IDENTITY_RANK_MAP", "ANPR_IDENTITY_RANK_ORDER"} {
		if !strings.Contains(names, want) {
			t.Errorf("EnvNames lacks %s", want)
		}
	}
	// Left out, the defaults are the bundled Dex's convention, and the demo still signs in.
	cfg, err = Load("", idp)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Identity.PostLogoutURL != "http://127.0.0.1:8080/" || cfg.Identity.Scopes != nil || cfg.Identity.Roles.Map != nil {
		t.Errorf("defaults: %+v", cfg.Identity)
	}
}

// Each identity setting is validated with the rest of the configuration, every problem at once,
// each named by its setting.
func TestIdentitySettingsValidation(t *testing.T) {
	cases := []struct {
		name, yaml string
		env        []string
		want       string
	}{
		{"a scope with a space", "identity:\n  scopes: [openid, \"profile email\"]\n", nil, "identity.scopes"},
		{"a scope with a quote", "", []string{`ANPR_IDENTITY_SCOPES=openid,pro"file`}, "identity.scopes"},
		{"post-logout URL over http off localhost", "identity:\n  post_logout_url: http://anpr.example/\n", nil, "identity.post_logout_url"},
		{"post-logout URL not absolute", "identity:\n  post_logout_url: /signed-out\n", nil, "identity.post_logout_url"},
		{"role claim path with an empty part", "identity:\n  roles:\n    claim: realm_access..roles\n", nil, "identity.roles: role claim"},
		{"role mapped to an unknown role", "identity:\n  roles:\n    map: {anpr-admin: admin}\n", nil, "identity.roles: role map \"anpr-admin\" -> \"admin\": unknown role"},
		{"role map from env without '='", "", []string{"ANPR_IDENTITY_ROLES_MAP=anpr-investigator"}, "ANPR_IDENTITY_ROLES_MAP"},
		{"rank claim path ending in a dot", "identity:\n  rank:\n    claim: \"rank.\"\n", nil, "identity.rank: rank claim"},
		{"rank mapped outside the order", "identity:\n  rank:\n    claim: rank\n    map: {DI: detective_inspector}\n", nil, "identity.rank: rank map \"DI\" -> \"detective_inspector\""},
		{"rank order with a rank twice", "identity:\n  rank:\n    order: [constable, inspector, constable]\n", nil, "identity.rank.order"},
		{"rank order with a display name", "identity:\n  rank:\n    order: [Police Constable]\n", nil, "identity.rank.order"},
		{"empty rank order", "identity:\n  rank:\n    order: []\n", nil, "identity.rank.order"},
		{"approver rank outside the order", "identity:\n  rank:\n    order: [constable, sergeant]\n", nil, "authority.min_approver_rank"},
		{"access contact too long", "identity:\n  access_contact: " + strings.Repeat("x", 501) + "\n", nil, "identity.access_contact"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := ""
			if tc.yaml != "" {
				p = writeFile(t, tc.yaml)
			}
			_, err := Load(p, append(tc.env, idp...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want an error naming %q, got %v", tc.want, err)
			}
		})
	}
	// All at once, beside a problem elsewhere in the file.
	p := writeFile(t, "log_level: chatty\nidentity:\n  scopes: [\"a b\"]\n  post_logout_url: ftp://x/\n  roles:\n    map: {x: root}\n  rank:\n    order: [A]\n")
	_, err := Load(p, idp)
	for _, want := range []string{"log_level", "identity.scopes", "identity.post_logout_url", "identity.roles", "identity.rank.order"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}
