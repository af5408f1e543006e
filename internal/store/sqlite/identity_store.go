package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/anpr-portal/anpr/internal/identity"
)

// IdentityStore is identity.Store on SQLite: login flows, sessions, users, API keys and grants.
// It commits with synchronous=FULL: a logout, a revoked key or a revoked grant must survive a
// power cut, or a restart would bring the credential back to life.
type IdentityStore struct {
	storeDB
}

var _ identity.Store = (*IdentityStore)(nil)

// IdentityOptions configures the identity store.
type IdentityOptions struct {
	// MaxConns bounds the connection pool. Default 4.
	MaxConns int
}

// OpenIdentityStore opens (creating if needed) the identity database at path. It may be the same
// file as another store's: the tables are prefixed identity_.
func OpenIdentityStore(ctx context.Context, path string, opts IdentityOptions) (*IdentityStore, error) {
	if opts.MaxConns < 0 {
		return nil, fmt.Errorf("%w: identity store max conns %d is negative", identity.ErrInvalid, opts.MaxConns)
	}
	db, err := openStore(ctx, path, opts.MaxConns, identitySchema)
	if err != nil {
		return nil, err
	}
	return &IdentityStore{db}, nil
}

// identitySchema is the identity store's migration series (migrations/identity).
var identitySchema = schema{name: "identity"}

func identityJSON(v []string) (string, error) {
	if v == nil {
		v = []string{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode list: %w", err)
	}
	return string(b), nil
}

func identityList(s string) ([]string, error) {
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode stored list: %w", err)
	}
	return v, nil
}
