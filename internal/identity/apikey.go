package identity

import (
	"context"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/anpr-portal/anpr/internal/audit"
)

// Audit actions of API key management.
const (
	ActionAPIKeyCreate audit.Action = "apikey.create"
	ActionAPIKeyRevoke audit.Action = "apikey.revoke"
)

// Audit rules naming why an identity change was allowed or refused.
const (
	ruleManagerOnly = "identity:anpr-manager-only"
	ruleSelfGrant   = "identity:no-self-grant"
	// ruleSelfOrManager: a person may end their own sessions, a manager anyone's.
	ruleSelfOrManager = "identity:self-or-anpr-manager"
	// ruleOperator: a server operator acting from the command line.
	ruleOperator = "identity:server-operator"
)

// API keys look like "anpr_<id>_<secret>": the id (16 base32 characters, 80 random bits) is
// public and names the key in lists and audit events; the secret (32 random bytes, base64url) is
// shown once at creation. The store keeps SHA-256 of the whole key: with 256 random bits there is
// nothing to brute-force, so a slow password hash would only slow every ingest request.
const (
	apiKeyPrefix    = "anpr_"
	apiKeyIDLen     = 16
	apiKeySecretLen = 43
	apiKeyLen       = len(apiKeyPrefix) + apiKeyIDLen + 1 + apiKeySecretLen
)

var apiKeyIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// parseAPIKey splits a presented key into its id, refusing anything not shaped like one of ours.
func parseAPIKey(k string) (id string, ok bool) {
	if len(k) != apiKeyLen || !strings.HasPrefix(k, apiKeyPrefix) {
		return "", false
	}
	id, secret := k[len(apiKeyPrefix):len(apiKeyPrefix)+apiKeyIDLen], k[len(apiKeyPrefix)+apiKeyIDLen+1:]
	if k[len(apiKeyPrefix)+apiKeyIDLen] != '_' {
		return "", false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return "", false
		}
	}
	for _, c := range secret {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	return id, true
}

// APIKeyRequest asks for a new API key.
type APIKeyRequest struct {
	Name   string   // what the key is for, e.g. "north camera back-office"
	Scopes []string // from Config.APIKeyScopes, e.g. reads:ingest
	// ExpiresAt: zero means now + Config.APIKeyTTL; at most now + Config.APIKeyMaxTTL.
	ExpiresAt time.Time
}

// CreateAPIKey makes a key for a machine client. Only an ANPR manager signed in as a person may;
// the change is audited. The plaintext key is returned once and never stored.
func (s *Service) CreateAPIKey(ctx context.Context, by Principal, req APIKeyRequest) (string, APIKey, error) {
	if err := s.requireManager(ctx, by, ActionAPIKeyCreate, fmt.Sprintf("create api key name=%q", req.Name)); err != nil {
		return "", APIKey{}, err
	}
	return s.createAPIKey(ctx, by, ruleManagerOnly, req)
}

// CreateAPIKeyAsOperator is for the command line (`anpr apikey create`) on the server, whose user
// can read and write the database anyway; it bootstraps the first ingest key before any manager
// has signed in. It needs no session and is audited with the actor "operator:<operator>" (the
// OS user name, say).
func (s *Service) CreateAPIKeyAsOperator(ctx context.Context, operator string, req APIKeyRequest) (string, APIKey, error) {
	if operator == "" || len(operator) > 100 || strings.ContainsFunc(operator, isControl) {
		return "", APIKey{}, fmt.Errorf("%w: operator name is required", ErrInvalid)
	}
	by := Principal{Kind: KindUser, Subject: "operator:" + operator, Name: operator, Roles: []string{}}
	return s.createAPIKey(ctx, by, ruleOperator, req)
}

func (s *Service) createAPIKey(ctx context.Context, by Principal, rule string, req APIKeyRequest) (string, APIKey, error) {
	now := s.now()
	name := strings.TrimSpace(req.Name)
	if name == "" || len(name) > 100 || !utf8.ValidString(name) || strings.ContainsFunc(name, isControl) {
		return "", APIKey{}, fmt.Errorf("%w: an API key needs a name of 1 to 100 printable characters", ErrInvalid)
	}
	scopes := slices.Clone(req.Scopes)
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	if len(scopes) == 0 {
		return "", APIKey{}, fmt.Errorf("%w: an API key needs at least one scope", ErrInvalid)
	}
	for _, sc := range scopes {
		if _, ok := s.cfg.APIKeyScopes[sc]; !ok {
			return "", APIKey{}, fmt.Errorf("%w: unknown API key scope %q", ErrInvalid, sc)
		}
	}
	expires := req.ExpiresAt
	if expires.IsZero() {
		expires = now.Add(s.cfg.APIKeyTTL)
	}
	if !expires.After(now) || expires.After(now.Add(s.cfg.APIKeyMaxTTL)) {
		return "", APIKey{}, fmt.Errorf("%w: an API key must expire after now and within %v", ErrInvalid, s.cfg.APIKeyMaxTTL)
	}
	idBytes, err := s.secret(10)
	if err != nil {
		return "", APIKey{}, err
	}
	secret, err := s.token(32)
	if err != nil {
		return "", APIKey{}, err
	}
	key := APIKey{
		ID: apiKeyIDEncoding.EncodeToString(idBytes), Name: name, Scopes: scopes,
		CreatedBy: by.Subject, CreatedAt: now, ExpiresAt: expires,
	}
	plain := apiKeyPrefix + key.ID + "_" + secret
	what := fmt.Sprintf("create api key id=%s name=%q scopes=%s expires=%s", key.ID, key.Name, strings.Join(scopes, ","), expires.UTC().Format(time.RFC3339))
	err = s.runAudited(ctx, by, ActionAPIKeyCreate, rule, audit.Payload{Query: what}, func(ctx context.Context) error {
		if err := s.store.CreateAPIKey(ctx, key, hashString(plain)); err != nil {
			return storeErr("create API key", err)
		}
		return nil
	})
	if err != nil {
		return "", APIKey{}, err
	}
	return plain, key, nil
}

// RevokeAPIKey revokes a key at once (ANPR manager only; audited).
func (s *Service) RevokeAPIKey(ctx context.Context, by Principal, id string) error {
	what := fmt.Sprintf("revoke api key id=%q", id)
	if err := s.requireManager(ctx, by, ActionAPIKeyRevoke, what); err != nil {
		return err
	}
	if _, _, err := s.store.GetAPIKey(ctx, id); err != nil {
		return storeErr("read API key", err)
	}
	return s.runAudited(ctx, by, ActionAPIKeyRevoke, ruleManagerOnly, audit.Payload{Query: what}, func(ctx context.Context) error {
		// Forgetting after the write is enough: a verifier that read the row before it cannot
		// cache it afterwards (see apiKeyCache.gen).
		defer s.keys.forget(id)
		if err := s.store.RevokeAPIKey(ctx, id, by.Subject, s.now()); err != nil {
			return storeErr("revoke API key", err)
		}
		s.keys.forget(id)
		return nil
	})
}

// ListAPIKeys lists every key, without secrets (ANPR manager only).
func (s *Service) ListAPIKeys(ctx context.Context, by Principal) ([]APIKey, error) {
	if by.Kind != KindUser || !by.HasRole(RoleANPRManager) {
		return nil, fmt.Errorf("%w: listing API keys needs the %s role", ErrForbidden, RoleANPRManager)
	}
	keys, err := s.store.ListAPIKeys(ctx)
	if err != nil {
		return nil, storeErr("list API keys", err)
	}
	return keys, nil
}

// AuthenticateAPIKey checks a presented key: well formed, known, hash equal (constant time), not
// revoked, not expired. The principal's scopes are the key's; its roles come from the scopes that
// the configuration still knows, so removing a scope from the config disarms old keys.
func (s *Service) AuthenticateAPIKey(ctx context.Context, presented string) (Principal, error) {
	id, ok := parseAPIKey(presented)
	if !ok {
		return Principal{}, fmt.Errorf("%w: malformed API key", ErrUnauthenticated)
	}
	presentedHash := hashString(presented)
	now := s.now()
	key, cached := s.keys.get(presentedHash, now, s.cfg.APIKeyCacheTTL)
	gen := s.keys.generation()
	if !cached || key.ID != id {
		stored, hash, err := s.store.GetAPIKey(ctx, id)
		if errors.Is(err, ErrNotFound) {
			return Principal{}, fmt.Errorf("%w: unknown API key", ErrUnauthenticated)
		}
		if err != nil {
			return Principal{}, storeErr("read API key", err)
		}
		if subtle.ConstantTimeCompare(hash, presentedHash) != 1 {
			return Principal{}, fmt.Errorf("%w: wrong API key secret", ErrUnauthenticated)
		}
		key, cached = stored, false
	}
	if !key.RevokedAt.IsZero() {
		return Principal{}, fmt.Errorf("%w: API key %s was revoked", ErrUnauthenticated, id)
	}
	if !now.Before(key.ExpiresAt) {
		return Principal{}, fmt.Errorf("%w: API key %s expired", ErrUnauthenticated, id)
	}
	if !cached { // only a key that passed every check above is remembered
		s.keys.put(presentedHash, key, now, gen, s.cfg.APIKeyCacheTTL)
	}
	if now.Sub(key.LastUsedAt) >= touchEvery {
		if err := s.store.TouchAPIKey(ctx, id, now); err != nil {
			s.log.Warn("record API key use", "key", id, "err", err)
		} else {
			s.keys.touched(presentedHash, now)
		}
	}
	p := Principal{Kind: KindAPIKey, Subject: "apikey:" + id, Name: key.Name, APIKeyID: id, Roles: []string{}}
	for _, sc := range key.Scopes {
		if role, ok := s.cfg.APIKeyScopes[sc]; ok {
			p.Scopes = append(p.Scopes, sc)
			if !slices.Contains(p.Roles, role) {
				p.Roles = append(p.Roles, role)
			}
		}
	}
	return p, nil
}

// RequireScope refuses (ErrForbidden) a machine client without scope. A person's session never
// has scopes, so machine-only endpoints stay machine-only.
func (p Principal) RequireScope(scope string) error {
	if !p.HasScope(scope) {
		return fmt.Errorf("%w: this needs scope %s", ErrForbidden, scope)
	}
	return nil
}

// AuthenticateBearer accepts either credential a machine client may send: a portal API key
// ("anpr_...") or, when configured, an IdP access token.
func (s *Service) AuthenticateBearer(ctx context.Context, credential string) (Principal, error) {
	if credential == "" {
		return Principal{}, fmt.Errorf("%w: no credential", ErrUnauthenticated)
	}
	if strings.HasPrefix(credential, apiKeyPrefix) {
		return s.AuthenticateAPIKey(ctx, credential)
	}
	if !s.cfg.AccessTokens.Enabled() {
		return Principal{}, fmt.Errorf("%w: not a portal API key (IdP access tokens are not enabled)", ErrUnauthenticated)
	}
	return s.AuthenticateAccessToken(ctx, credential)
}

// BearerCredential reads "Authorization: Bearer X" or "X-API-Key: X" from r ("" when neither).
func BearerCredential(r *http.Request) string {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return k
	}
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "Bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// requireManager lets only a person with the anpr_manager role manage keys and grants; a refusal
// is audited.
func (s *Service) requireManager(ctx context.Context, by Principal, action audit.Action, what string) error {
	if by.Kind == KindUser && by.HasRole(RoleANPRManager) {
		return nil
	}
	if by.Subject != "" {
		s.recordDenial(ctx, by, action, ruleManagerOnly, what)
	}
	return fmt.Errorf("%w: this needs the %s role in a signed-in session", ErrForbidden, RoleANPRManager)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }
