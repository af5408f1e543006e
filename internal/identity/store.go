package identity

import (
	"context"
	"time"
)

// Store is what the identity service keeps server-side. Backends (store/sqlite) implement it and
// pass identitytest.RunStoreSuite. Missing records wrap ErrNotFound; clashing changes ErrConflict;
// anything else is a backend failure.
type Store interface {
	LoginFlowStore
	SessionStore
	UserStore
	APIKeyStore
	GrantStore
	LinkStore
}

// LoginFlow is a login in progress: created by BeginLogin, consumed exactly once by the callback.
// The state and the browser-binding cookie are stored only as SHA-256 hashes.
type LoginFlow struct {
	StateHash    []byte
	BindingHash  []byte
	Nonce        string
	PKCEVerifier string
	ReturnTo     string
	CreatedAt    time.Time
	ExpiresAt    time.Time
}

// LoginFlowStore holds login flows.
type LoginFlowStore interface {
	CreateLoginFlow(ctx context.Context, f LoginFlow) error
	// ConsumeLoginFlow atomically deletes and returns the flow with both hashes; ErrNotFound when
	// there is none (never created, already used, or the binding does not match). A flow whose
	// binding does not match is left in place, so a stolen state cannot burn the real login.
	ConsumeLoginFlow(ctx context.Context, stateHash, bindingHash []byte) (LoginFlow, error)
	// PurgeLoginFlows deletes flows expired at now (ExpiresAt <= now).
	PurgeLoginFlows(ctx context.Context, now time.Time) error
}

// Session is one portal login. The cookie carries only its ID (inside a signed JWT); roles from
// the IdP are fixed at login, grants are looked up on every request.
type Session struct {
	ID         string
	Subject    string
	Name       string
	Email      string
	IdPRoles   []string // roles mapped from the ID token's claims at login
	IdPRank    string   // rank from the ID token's claims at login
	CSRFSecret []byte
	IDToken    string // raw ID token, the id_token_hint of an IdP logout
	ClientAddr string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
	RevokedAt  time.Time // zero while live
	// RevokedReason: "logout", "revoked:<by subject>", ...
	RevokedReason string
}

// SessionStore holds sessions.
type SessionStore interface {
	CreateSession(ctx context.Context, s Session) error
	GetSession(ctx context.Context, id string) (Session, error)
	// TouchSession records use at at (the idle timeout counts from it).
	TouchSession(ctx context.Context, id string, at time.Time) error
	// RevokeSession marks a live session revoked; ErrNotFound if none is live with that id.
	RevokeSession(ctx context.Context, id string, at time.Time, reason string) error
	// RevokeSubjectSessions revokes every live session of subject and returns how many.
	RevokeSubjectSessions(ctx context.Context, subject string, at time.Time, reason string) (int, error)
	// PurgeSessions deletes sessions expired or revoked at now (at or before it).
	PurgeSessions(ctx context.Context, now time.Time) error
}

// User is someone who has logged in, so the ANPR manager can pick whom to grant a role.
type User struct {
	Subject      string    `json:"subject"`
	Name         string    `json:"name"`
	Email        string    `json:"email,omitempty"`
	FirstLoginAt time.Time `json:"first_login_at"`
	LastLoginAt  time.Time `json:"last_login_at"`
}

// UserStore holds users.
type UserStore interface {
	// RecordLogin creates the user or updates name, email and last login (first login is kept).
	RecordLogin(ctx context.Context, u User) error
	GetUser(ctx context.Context, subject string) (User, error)
	ListUsers(ctx context.Context) ([]User, error)
}

// APIKey is a machine client's key, without its secret. The store holds only a SHA-256 hash.
type APIKey struct {
	ID         string    `json:"id"` // public; the key's prefix after "anpr_"
	Name       string    `json:"name"`
	Scopes     []string  `json:"scopes"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	RevokedAt  time.Time `json:"revoked_at,omitzero"`
	RevokedBy  string    `json:"revoked_by,omitempty"`
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// APIKeyStore holds API keys.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k APIKey, hash []byte) error
	// GetAPIKey returns the key and its stored hash.
	GetAPIKey(ctx context.Context, id string) (APIKey, []byte, error)
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey marks the key revoked; ErrNotFound if absent, ErrConflict if already revoked.
	RevokeAPIKey(ctx context.Context, id, by string, at time.Time) error
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
}

// Grant is a role given to a person by the ANPR manager, on top of the IdP's roles.
type Grant struct {
	ID        string    `json:"id"`
	Subject   string    `json:"subject"`
	Role      string    `json:"role"`
	Rank      string    `json:"rank,omitempty"` // authorising officers: the rank they act at
	Reason    string    `json:"reason"`
	GrantedBy string    `json:"granted_by"`
	GrantedAt time.Time `json:"granted_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: until revoked
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
}

// Active reports whether g is in force at now.
func (g Grant) Active(now time.Time) bool {
	return g.RevokedAt.IsZero() && (g.ExpiresAt.IsZero() || now.Before(g.ExpiresAt))
}

// GrantFilter selects grants; zero fields do not filter.
type GrantFilter struct {
	Subject string
	// ActiveAt, when set, keeps only grants in force at that time.
	ActiveAt time.Time
}

// GrantStore holds grants.
type GrantStore interface {
	// CreateGrant adds g; ErrConflict if subject already holds an active grant of that role at
	// g.GrantedAt.
	CreateGrant(ctx context.Context, g Grant) error
	GetGrant(ctx context.Context, id string) (Grant, error)
	// RevokeGrant marks the grant revoked; ErrNotFound if absent, ErrConflict if already revoked.
	RevokeGrant(ctx context.Context, id, by string, at time.Time) error
	ListGrants(ctx context.Context, f GrantFilter) ([]Grant, error)
}

// SubjectLink says that the person who signs in as Subject at Issuer is the one the portal knew
// as PreviousSubject (at PreviousIssuer): after a force moves to another IdP, the ANPR manager
// links each new identity to the old one, and the person keeps their grants, authorities and
// history. The portal then treats the new identity as PreviousSubject throughout.
type SubjectLink struct {
	ID              string    `json:"id"`
	Issuer          string    `json:"issuer"`
	Subject         string    `json:"subject"`
	PreviousIssuer  string    `json:"previous_issuer"`
	PreviousSubject string    `json:"previous_subject"`
	Reason          string    `json:"reason"`
	LinkedBy        string    `json:"linked_by"`
	LinkedAt        time.Time `json:"linked_at"`
	RevokedAt       time.Time `json:"revoked_at,omitzero"`
	RevokedBy       string    `json:"revoked_by,omitempty"`
}

// Live reports whether l is in force (not revoked).
func (l SubjectLink) Live() bool { return l.RevokedAt.IsZero() }

// LinkStore holds subject links.
type LinkStore interface {
	// CreateLink adds l; ErrConflict if its (Issuer, Subject) already has a live link or its id
	// is taken.
	CreateLink(ctx context.Context, l SubjectLink) error
	// LiveLink returns the live link of the identity (issuer, subject); ErrNotFound if none.
	LiveLink(ctx context.Context, issuer, subject string) (SubjectLink, error)
	// RevokeLink marks the link revoked; ErrNotFound if absent, ErrConflict if already revoked.
	RevokeLink(ctx context.Context, id, by string, at time.Time) error
	// ListLinks returns every link, live and revoked, newest first.
	ListLinks(ctx context.Context) ([]SubjectLink, error)
}
