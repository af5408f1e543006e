package identity

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
)

// maxTokenLen bounds a bearer token before any parsing.
const maxTokenLen = 16 << 10

// AuthenticateAccessToken accepts an IdP access token (a JWT) for an API client when
// Config.AccessTokens.Audience is set: signature by the IdP's published keys with an allowed
// algorithm, issuer, audience and expiry are checked by go-oidc. Roles come from the same claim
// mapping as logins plus current grants; scopes from the scope claim, kept only where
// Config.APIKeyScopes knows them (and giving the same machine roles). Such tokens cannot be
// revoked by the portal: they live as long as the IdP says, so keep their lifetime short there.
func (s *Service) AuthenticateAccessToken(ctx context.Context, raw string) (Principal, error) {
	if !s.cfg.AccessTokens.Enabled() {
		return Principal{}, fmt.Errorf("%w: IdP access tokens are not enabled", ErrUnauthenticated)
	}
	if raw == "" || len(raw) > maxTokenLen {
		return Principal{}, fmt.Errorf("%w: missing or oversized access token", ErrUnauthenticated)
	}
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return Principal{}, err
	}
	v := p.Verifier(&oidc.Config{ClientID: s.cfg.AccessTokens.Audience, SupportedSigningAlgs: s.cfg.IDTokenAlgs, Now: s.now})
	tok, err := v.Verify(s.clientContext(ctx), raw)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: access token: %v", ErrUnauthenticated, err)
	}
	var claims map[string]json.RawMessage
	if err := tok.Claims(&claims); err != nil {
		return Principal{}, fmt.Errorf("%w: access token claims: %v", ErrUnauthenticated, err)
	}
	if tok.Subject == "" || len(tok.Subject) > 255 {
		return Principal{}, fmt.Errorf("%w: access token subject missing or too long", ErrUnauthenticated)
	}
	subject, _, err := s.portalSubject(ctx, tok.Subject)
	if err != nil {
		return Principal{}, err
	}
	idpRoles, idpRank := s.mapClaims(claims)
	for _, sc := range tokenScopes(claims[s.cfg.AccessTokens.ScopeClaim]) {
		if role, ok := s.cfg.APIKeyScopes[sc]; ok && !slices.Contains(idpRoles, role) {
			idpRoles = append(idpRoles, role)
		}
	}
	now := s.now()
	grants, err := s.store.ListGrants(ctx, GrantFilter{Subject: subject, ActiveAt: now})
	if err != nil {
		return Principal{}, storeErr("read grants", err)
	}
	roles, rank := s.mergeGrants(idpRoles, idpRank, grants, now)
	principal := Principal{Kind: KindToken, Subject: subject, Name: tokenName(claims, tok.Subject), Roles: roles, Rank: rank}
	for _, sc := range tokenScopes(claims[s.cfg.AccessTokens.ScopeClaim]) {
		if _, ok := s.cfg.APIKeyScopes[sc]; ok && !slices.Contains(principal.Scopes, sc) {
			principal.Scopes = append(principal.Scopes, sc)
		}
	}
	return principal, nil
}

// tokenScopes reads an OAuth scope claim: a space-separated string (RFC 8693 "scope") or a list
// (Entra's "scp" may be either).
func tokenScopes(raw json.RawMessage) []string {
	var out []string
	for _, v := range claimStrings(raw) {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

func tokenName(claims map[string]json.RawMessage, subject string) string {
	for _, c := range []string{"name", "preferred_username", "client_id", "azp"} {
		var v string
		if json.Unmarshal(claims[c], &v) == nil && v != "" {
			return truncate(v, 255)
		}
	}
	return subject
}
