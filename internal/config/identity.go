package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/identity"
)

// Identity configures login through the force's OIDC identity provider and the portal's sessions.
// Machine clients use API keys that the ANPR manager issues (anpr apikey create bootstraps one).
// The README shows the settings for Dex, Keycloak and Entra ID.
type Identity struct {
	Issuer       string `yaml:"issuer"` // e.g. http://127.0.0.1:5556/dex for the bundled Dex
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	RedirectURL  string `yaml:"redirect_url"` // default <public_url>/auth/callback
	// Scopes requested at login (ANPR_IDENTITY_SCOPES=openid,profile,email). Default openid,
	// profile, email, groups: the bundled Dex's. An IdP without a "groups" scope (Keycloak,
	// Entra ID) refuses a login that asks for it, so list its own.
	Scopes []string `yaml:"scopes"`
	// PostLogoutURL is where the IdP sends the browser after signing out there (RP-initiated
	// logout); register it at the IdP exactly as written. Default <public_url>/.
	PostLogoutURL string `yaml:"post_logout_url"`
	// AccessContact is whom a person signed in without a portal role is told to ask, e.g.
	// "the ANPR manager, anpr@force.example, ext. 4321". Default "your force's ANPR manager".
	AccessContact string `yaml:"access_contact"`
	// Roles and Rank say where the IdP's tokens carry a person's roles and rank.
	Roles IdentityRoles `yaml:"roles"`
	Rank  IdentityRank  `yaml:"rank"`
	// AllowInsecureCookies drops the Secure flag so a browser keeps the session over plain http;
	// refused unless the portal runs on localhost/127.0.0.1 (make run's demo).
	AllowInsecureCookies bool   `yaml:"allow_insecure_cookies"`
	SessionKeyFile       string `yaml:"session_key_file"` // default <data_dir>/session.key
	Path                 string `yaml:"path"`             // sessions, keys, grants; default <data_dir>/identity.db
	// AccessTokenAudience, when set, lets API clients present IdP access tokens for this audience.
	AccessTokenAudience string        `yaml:"access_token_audience"`
	SessionTTL          time.Duration `yaml:"session_ttl"`
	SessionIdleTTL      time.Duration `yaml:"session_idle_ttl"`
}

// IdentityRoles maps one claim's values to portal roles (identity.RoleMapping). Left out
// entirely, it is the bundled Dex's convention: groups "anpr:<role>".
type IdentityRoles struct {
	// Claim is a claim name or a dotted path into nested claims: groups, roles,
	// realm_access.roles, resource_access.<client>.roles. Default groups.
	Claim string `yaml:"claim"`
	// Prefix keeps only values that start with it, and removes it: "anpr:", or a group path
	// "/anpr/". Default "anpr:" when claim, prefix and map are all unset.
	Prefix string `yaml:"prefix"`
	// Map turns a value (after the prefix) into a role; without it the value must be a role's
	// name. As a variable: ANPR_IDENTITY_ROLES_MAP="ANPR.Investigator=investigator,ANPR.Auditor=auditor".
	Map map[string]string `yaml:"map"`
}

// IdentityRank maps one claim's values to a police rank, and sets the force's rank order.
// Left out entirely, it is the bundled Dex's convention: groups "rank:<rank>".
type IdentityRank struct {
	// Claim is a claim name or dotted path, as for roles: groups, or a claim of its own such as
	// rank (a user attribute). Default groups.
	Claim string `yaml:"claim"`
	// Prefix keeps only values that start with it, and removes it. Default "rank:" when claim,
	// prefix and map are all unset.
	Prefix string `yaml:"prefix"`
	// Map turns a value (after the prefix) into a rank of the order; without it the value in
	// lower case, spaces and hyphens as '_', must be one ("Chief Inspector" is chief_inspector).
	Map map[string]string `yaml:"map"`
	// Order lists the force's ranks, lowest first; authority.min_approver_rank and every grant's
	// rank must be one of them. Default constable, sergeant, inspector, chief_inspector,
	// superintendent, chief_superintendent.
	Order []string `yaml:"order"`
}

func (c *Config) setIdentityDerived() {
	if c.Identity.RedirectURL == "" {
		c.Identity.RedirectURL = strings.TrimRight(c.PublicURL, "/") + "/auth/callback"
	}
	if c.Identity.PostLogoutURL == "" {
		// With the slash: an IdP compares the registered URL exactly, and the portal's home
		// page is <public_url>/.
		c.Identity.PostLogoutURL = strings.TrimRight(c.PublicURL, "/") + "/"
	}
	if c.Identity.SessionKeyFile == "" {
		c.Identity.SessionKeyFile = filepath.Join(c.DataDir, "session.key")
	}
	if c.Identity.Path == "" {
		c.Identity.Path = filepath.Join(c.DataDir, "identity.db")
	}
}

// validate reports the identity section's problems. Issuer and client id are checked by
// ValidateServe: commands that do not serve need no IdP.
func (id Identity) validate(minApproverRank string) []error {
	var errs []error
	bad := func(field string, err error) { errs = append(errs, fmt.Errorf("identity.%s: %w", field, err)) }
	for _, s := range id.Scopes {
		if err := identity.CheckScope(s); err != nil {
			bad("scopes", err)
		}
	}
	if id.PostLogoutURL != "" {
		if err := identity.CheckURL(id.PostLogoutURL); err != nil {
			bad("post_logout_url", err)
		}
	}
	if len(id.AccessContact) > 500 {
		bad("access_contact", fmt.Errorf("at most 500 characters"))
	}
	for _, err := range identity.CheckRoleMapping(identity.RoleMapping{Claim: id.Roles.Claim, Prefix: id.Roles.Prefix, Map: id.Roles.Map}) {
		bad("roles", err)
	}
	order := id.Rank.Order
	if order != nil {
		for _, err := range identity.CheckRanks(order) {
			bad("rank.order", err)
		}
	} else {
		order = identity.DefaultRanks()
	}
	for _, err := range identity.CheckRankMapping(identity.RankMapping{Claim: id.Rank.Claim, Prefix: id.Rank.Prefix, Map: id.Rank.Map}, order) {
		bad("rank", err)
	}
	if minApproverRank == "" {
		minApproverRank = "inspector" // authz's default
	}
	if !slices.Contains(order, minApproverRank) {
		errs = append(errs, fmt.Errorf("authority.min_approver_rank: %q is not in the rank order %v (set identity.rank.order or authority.min_approver_rank)", minApproverRank, order))
	}
	return errs
}
