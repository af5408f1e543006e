package elastic

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types"

	"github.com/anpr-portal/anpr/internal/identity"
)

type flowDoc struct {
	BindingHash  []byte `json:"binding_hash"`
	Nonce        string `json:"nonce"`
	PKCEVerifier string `json:"pkce_verifier"`
	ReturnTo     string `json:"return_to"`
	CreatedUS    int64  `json:"created_us"`
	ExpiresUS    int64  `json:"expires_us"`
}

// CreateLoginFlow stores a login in progress; a second flow with the same state is refused.
func (s *IdentityStore) CreateLoginFlow(ctx context.Context, f identity.LoginFlow) error {
	doc := flowDoc{BindingHash: f.BindingHash, Nonce: f.Nonce, PKCEVerifier: f.PKCEVerifier, ReturnTo: f.ReturnTo,
		CreatedUS: us(f.CreatedAt), ExpiresUS: us(f.ExpiresAt)}
	err := putDoc(ctx, s, s.flows, docID(f.StateHash), versioned[flowDoc]{}, doc)
	if err == errStale {
		return fmt.Errorf("create login flow: a flow with this state exists: %w", identity.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create login flow: %w", err)
	}
	return nil
}

// ConsumeLoginFlow reads the flow and deletes it on the condition that it is still the version
// read (if_seq_no/if_primary_term): of callbacks racing with the same state, exactly one delete
// succeeds and only that caller gets the flow. A flow whose binding does not match is left alone.
func (s *IdentityStore) ConsumeLoginFlow(ctx context.Context, stateHash, bindingHash []byte) (identity.LoginFlow, error) {
	id := docID(stateHash)
	v, err := getDoc[flowDoc](ctx, s, s.flows, id)
	if err != nil {
		return identity.LoginFlow{}, fmt.Errorf("consume login flow: %w", err)
	}
	if !v.found || subtle.ConstantTimeCompare(v.doc.BindingHash, bindingHash) != 1 {
		return identity.LoginFlow{}, fmt.Errorf("login flow: %w", identity.ErrNotFound)
	}
	res, err := s.es.Delete(s.flows, id).IfSeqNo(strconv.FormatInt(v.seqNo, 10)).IfPrimaryTerm(strconv.FormatInt(v.term, 10)).Do(ctx)
	switch {
	case status(err) == http.StatusConflict:
		// Another callback consumed it between our read and our delete.
		return identity.LoginFlow{}, fmt.Errorf("login flow: consumed concurrently: %w", identity.ErrNotFound)
	case err != nil:
		return identity.LoginFlow{}, fmt.Errorf("consume login flow: %w", idUnavailable(err))
	case res.Result.Name != "deleted":
		return identity.LoginFlow{}, fmt.Errorf("login flow: %s: %w", res.Result.Name, identity.ErrNotFound)
	}
	return identity.LoginFlow{StateHash: stateHash, BindingHash: bindingHash, Nonce: v.doc.Nonce, PKCEVerifier: v.doc.PKCEVerifier,
		ReturnTo: v.doc.ReturnTo, CreatedAt: fromUS(v.doc.CreatedUS), ExpiresAt: fromUS(v.doc.ExpiresUS)}, nil
}

// PurgeLoginFlows deletes flows expired at now.
func (s *IdentityStore) PurgeLoginFlows(ctx context.Context, now time.Time) error {
	q := rangeLTE("expires_us", us(now))
	if err := s.purge(ctx, s.flows, &q); err != nil {
		return fmt.Errorf("purge login flows: %w", err)
	}
	return nil
}

type sessionDoc struct {
	ID            string   `json:"id"`
	Subject       string   `json:"subject"`
	Name          string   `json:"name"`
	Email         string   `json:"email"`
	IdPRoles      []string `json:"idp_roles"`
	IdPRank       string   `json:"idp_rank"`
	CSRFSecret    []byte   `json:"csrf_secret"`
	IDToken       string   `json:"id_token"`
	ClientAddr    string   `json:"client_addr"`
	CreatedUS     int64    `json:"created_us"`
	ExpiresUS     int64    `json:"expires_us"`
	LastSeenUS    int64    `json:"last_seen_us"`
	RevokedUS     int64    `json:"revoked_us"`
	RevokedReason string   `json:"revoked_reason"`
}

func (d sessionDoc) session() identity.Session {
	roles := d.IdPRoles
	if roles == nil {
		roles = []string{}
	}
	return identity.Session{ID: d.ID, Subject: d.Subject, Name: d.Name, Email: d.Email, IdPRoles: roles, IdPRank: d.IdPRank,
		CSRFSecret: d.CSRFSecret, IDToken: d.IDToken, ClientAddr: d.ClientAddr, CreatedAt: fromUS(d.CreatedUS),
		ExpiresAt: fromUS(d.ExpiresUS), LastSeenAt: fromUS(d.LastSeenUS), RevokedAt: fromUS(d.RevokedUS), RevokedReason: d.RevokedReason}
}

// CreateSession stores a new session; a second session with the same id is refused.
func (s *IdentityStore) CreateSession(ctx context.Context, x identity.Session) error {
	roles := x.IdPRoles
	if roles == nil {
		roles = []string{}
	}
	doc := sessionDoc{ID: x.ID, Subject: x.Subject, Name: x.Name, Email: x.Email, IdPRoles: roles, IdPRank: x.IdPRank,
		CSRFSecret: x.CSRFSecret, IDToken: x.IDToken, ClientAddr: x.ClientAddr, CreatedUS: us(x.CreatedAt), ExpiresUS: us(x.ExpiresAt),
		LastSeenUS: us(x.LastSeenAt), RevokedUS: us(x.RevokedAt), RevokedReason: x.RevokedReason}
	err := putDoc(ctx, s, s.sessions, docID([]byte(x.ID)), versioned[sessionDoc]{}, doc)
	if err == errStale {
		return fmt.Errorf("create session: a session with this id exists: %w", identity.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// GetSession returns a session, live or not, by a real-time GET.
func (s *IdentityStore) GetSession(ctx context.Context, id string) (identity.Session, error) {
	v, err := getDoc[sessionDoc](ctx, s, s.sessions, docID([]byte(id)))
	if err != nil {
		return identity.Session{}, fmt.Errorf("get session: %w", err)
	}
	if !v.found {
		return identity.Session{}, fmt.Errorf("session: %w", identity.ErrNotFound)
	}
	return v.doc.session(), nil
}

// TouchSession moves last-seen forward (never back: concurrent requests may finish out of order,
// and the conditional write makes the later of two racing touches win). An unknown id is not an
// error, as in the SQLite store.
func (s *IdentityStore) TouchSession(ctx context.Context, id string, at time.Time) error {
	t := us(at)
	err := modify(ctx, s, s.sessions, docID([]byte(id)), func(d sessionDoc, found bool) (sessionDoc, bool, error) {
		if !found || d.LastSeenUS >= t {
			return d, false, nil
		}
		d.LastSeenUS = t
		return d, true, nil
	})
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// revokeSession revokes one live session; it reports false if there was none.
func (s *IdentityStore) revokeSession(ctx context.Context, docID string, at time.Time, reason string, unlessExpired bool) (bool, error) {
	revoked := false
	err := modify(ctx, s, s.sessions, docID, func(d sessionDoc, found bool) (sessionDoc, bool, error) {
		revoked = false
		if !found || d.RevokedUS != 0 || (unlessExpired && d.ExpiresUS <= us(at)) {
			return d, false, nil
		}
		d.RevokedUS, d.RevokedReason = us(at), reason
		revoked = true
		return d, true, nil
	})
	return revoked, err
}

// RevokeSession ends a live session. Of two racing revocations exactly one succeeds; the other
// finds it revoked.
func (s *IdentityStore) RevokeSession(ctx context.Context, id string, at time.Time, reason string) error {
	ok, err := s.revokeSession(ctx, docID([]byte(id)), at, reason, false)
	if err != nil {
		return fmt.Errorf("revoke session: %w", err)
	}
	if !ok {
		return fmt.Errorf("live session: %w", identity.ErrNotFound)
	}
	return nil
}

// RevokeSubjectSessions ends every live session of subject. The search refreshes first, so it
// sees every session created before the call; each revocation is a conditional write, so a
// session revoked concurrently is counted once, by whoever revoked it.
func (s *IdentityStore) RevokeSubjectSessions(ctx context.Context, subject string, at time.Time, reason string) (int, error) {
	q := types.Query{Bool: &types.BoolQuery{Filter: []types.Query{
		term("subject", subject), term("revoked_us", 0), rangeGT("expires_us", us(at)),
	}}}
	var ids []string
	if err := s.searchAll(ctx, s.sessions, &q, sortBy("id"), func(id string, _ json.RawMessage) error {
		ids = append(ids, id)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("revoke sessions: %w", err)
	}
	n := 0
	for _, id := range ids {
		ok, err := s.revokeSession(ctx, id, at, reason, true)
		if err != nil {
			return n, fmt.Errorf("revoke sessions: %w", err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// PurgeSessions deletes sessions expired or revoked at now. Nothing is lost to the audit: logins
// and logouts are audit events.
func (s *IdentityStore) PurgeSessions(ctx context.Context, now time.Time) error {
	t := us(now)
	q := types.Query{Bool: &types.BoolQuery{MinimumShouldMatch: 1, Should: []types.Query{
		rangeLTE("expires_us", t),
		{Bool: &types.BoolQuery{Filter: []types.Query{rangeGT("revoked_us", 0), rangeLTE("revoked_us", t)}}},
	}}}
	if err := s.purge(ctx, s.sessions, &q); err != nil {
		return fmt.Errorf("purge sessions: %w", err)
	}
	return nil
}

type userDoc struct {
	Subject      string `json:"subject"`
	Name         string `json:"name"`
	Email        string `json:"email"`
	FirstLoginUS int64  `json:"first_login_us"`
	LastLoginUS  int64  `json:"last_login_us"`
}

func (d userDoc) user() identity.User {
	return identity.User{Subject: d.Subject, Name: d.Name, Email: d.Email, FirstLoginAt: fromUS(d.FirstLoginUS), LastLoginAt: fromUS(d.LastLoginUS)}
}

// RecordLogin creates the user or updates name, email and last login; the first login is kept.
// Two first logins racing both try to create: one wins, the other re-reads and updates.
func (s *IdentityStore) RecordLogin(ctx context.Context, u identity.User) error {
	err := modify(ctx, s, s.users, docID([]byte(u.Subject)), func(d userDoc, found bool) (userDoc, bool, error) {
		if !found {
			return userDoc{Subject: u.Subject, Name: u.Name, Email: u.Email, FirstLoginUS: us(u.FirstLoginAt), LastLoginUS: us(u.LastLoginAt)}, true, nil
		}
		d.Name, d.Email, d.LastLoginUS = u.Name, u.Email, max(d.LastLoginUS, us(u.LastLoginAt))
		return d, true, nil
	})
	if err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return nil
}

// GetUser returns one user.
func (s *IdentityStore) GetUser(ctx context.Context, subject string) (identity.User, error) {
	v, err := getDoc[userDoc](ctx, s, s.users, docID([]byte(subject)))
	if err != nil {
		return identity.User{}, fmt.Errorf("get user: %w", err)
	}
	if !v.found {
		return identity.User{}, fmt.Errorf("user: %w", identity.ErrNotFound)
	}
	return v.doc.user(), nil
}

// ListUsers returns every user, by name then subject (byte order, as SQLite's BINARY collation).
func (s *IdentityStore) ListUsers(ctx context.Context) ([]identity.User, error) {
	var out []identity.User
	err := s.searchAll(ctx, s.users, &types.Query{MatchAll: &types.MatchAllQuery{}}, sortBy("name", "subject"), func(_ string, src json.RawMessage) error {
		var d userDoc
		if err := json.Unmarshal(src, &d); err != nil {
			return fmt.Errorf("decode user: %w", err)
		}
		out = append(out, d.user())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}
