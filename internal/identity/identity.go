// Package identity says who is calling: OIDC login (code flow with PKCE, state and nonce) that
// ends in the portal's own signed session cookie backed by a server-side session table, CSRF
// tokens, managed API keys and IdP access tokens for machine clients, and roles from a claim
// mapping plus audited grants made by the ANPR manager.
package identity

import (
	"errors"
	"slices"

	"github.com/anpr-portal/anpr/internal/audit"
)

// Error kinds. The HTTP layer maps them to problem+json in one place; the wrapped text explains
// the cause for logs and is safe to show (it never quotes a token or secret).
var (
	// ErrUnauthenticated: no valid credential (missing, forged, expired or revoked session,
	// token or API key; a refused login). HTTP 401.
	ErrUnauthenticated = errors.New("not authenticated")
	// ErrForbidden: authenticated but not allowed (missing role or scope, self-grant, missing or
	// wrong CSRF token). HTTP 403.
	ErrForbidden = errors.New("forbidden")
	// ErrInvalid: malformed input (unknown role or scope, bad expiry, bad config). HTTP 400.
	ErrInvalid = errors.New("invalid identity input")
	// ErrNotFound: no such API key, grant, session or user. HTTP 404.
	ErrNotFound = errors.New("identity record not found")
	// ErrConflict: the change clashes with current state (an active grant already exists, the
	// key is already revoked). HTTP 409.
	ErrConflict = errors.New("identity conflict")
	// ErrUnavailable: the store, the IdP or the audit log could not be reached. HTTP 503.
	ErrUnavailable = errors.New("identity service unavailable")
)

// Roles of the portal (docs/architecture.md, section 1).
const (
	RoleInvestigator         = "investigator"
	RoleExtendedInvestigator = "extended_investigator"
	RoleAuthorisingOfficer   = "authorising_officer"
	RoleAuditor              = "auditor"
	RoleANPRManager          = "anpr_manager"
	// RoleIngest is the machine role of clients that push reads.
	RoleIngest = "ingest"
)

// KnownRoles lists every role a mapping or grant may name.
func KnownRoles() []string {
	return []string{RoleInvestigator, RoleExtendedInvestigator, RoleAuthorisingOfficer, RoleAuditor, RoleANPRManager, RoleIngest}
}

// ScopeReadsIngest lets an API key or access token push reads.
const ScopeReadsIngest = "reads:ingest"

// Kind says how a principal authenticated.
type Kind string

const (
	KindUser   Kind = "user"   // a person with a session cookie
	KindAPIKey Kind = "apikey" // a machine client with a portal API key
	KindToken  Kind = "token"  // a client with an IdP access token
)

// Principal is an authenticated caller as of this request: roles include grants current at the
// moment of authentication, so a revoked grant is gone on the next request.
type Principal struct {
	Kind      Kind     `json:"kind"`
	Subject   string   `json:"subject"` // IdP subject; "apikey:<id>" for API keys
	Name      string   `json:"name"`
	Email     string   `json:"email,omitempty"`
	Roles     []string `json:"roles"`
	Rank      string   `json:"rank,omitempty"` // e.g. "inspector"; "" when none
	SessionID string   `json:"session_id,omitempty"`
	APIKeyID  string   `json:"api_key_id,omitempty"`
	Scopes    []string `json:"scopes,omitempty"` // API keys and access tokens only

	// csrfSecret is the session's CSRF key; never serialised, set only by Authenticate and
	// CompleteLogin.
	csrfSecret []byte
}

// HasRole reports whether p holds role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// HasScope reports whether p (an API key or access token) carries scope. People authenticated
// by a session have no scopes: scopes limit machine clients, roles limit people.
func (p Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

// Actor is p as the audit log records it.
func (p Principal) Actor() audit.Actor {
	return audit.Actor{Subject: p.Subject, Name: p.Name, Roles: slices.Clone(p.Roles), Session: p.SessionID}
}
