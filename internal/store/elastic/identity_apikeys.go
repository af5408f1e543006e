package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types"

	"github.com/anpr-portal/anpr/internal/identity"
)

type apiKeyDoc struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Hash       []byte   `json:"hash"`
	Scopes     []string `json:"scopes"`
	CreatedBy  string   `json:"created_by"`
	CreatedUS  int64    `json:"created_us"`
	ExpiresUS  int64    `json:"expires_us"`
	RevokedUS  int64    `json:"revoked_us"`
	RevokedBy  string   `json:"revoked_by"`
	LastUsedUS int64    `json:"last_used_us"`
}

func (d apiKeyDoc) key() identity.APIKey {
	scopes := d.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	return identity.APIKey{ID: d.ID, Name: d.Name, Scopes: scopes, CreatedBy: d.CreatedBy, CreatedAt: fromUS(d.CreatedUS),
		ExpiresAt: fromUS(d.ExpiresUS), RevokedAt: fromUS(d.RevokedUS), RevokedBy: d.RevokedBy, LastUsedAt: fromUS(d.LastUsedUS)}
}

// CreateAPIKey stores a key and the SHA-256 of its secret; a second key with the same id is
// refused.
func (s *IdentityStore) CreateAPIKey(ctx context.Context, k identity.APIKey, hash []byte) error {
	scopes := k.Scopes
	if scopes == nil {
		scopes = []string{}
	}
	doc := apiKeyDoc{ID: k.ID, Name: k.Name, Hash: hash, Scopes: scopes, CreatedBy: k.CreatedBy, CreatedUS: us(k.CreatedAt),
		ExpiresUS: us(k.ExpiresAt), RevokedUS: us(k.RevokedAt), RevokedBy: k.RevokedBy, LastUsedUS: us(k.LastUsedAt)}
	err := putDoc(ctx, s, s.apiKeys, docID([]byte(k.ID)), versioned[apiKeyDoc]{}, doc)
	if errors.Is(err, errStale) {
		return fmt.Errorf("create API key: a key with id %q exists: %w", k.ID, identity.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create API key: %w", err)
	}
	return nil
}

// GetAPIKey returns a key and its stored hash, by a real-time GET.
func (s *IdentityStore) GetAPIKey(ctx context.Context, id string) (identity.APIKey, []byte, error) {
	v, err := getDoc[apiKeyDoc](ctx, s, s.apiKeys, docID([]byte(id)))
	if err != nil {
		return identity.APIKey{}, nil, fmt.Errorf("get API key: %w", err)
	}
	if !v.found {
		return identity.APIKey{}, nil, fmt.Errorf("API key %q: %w", id, identity.ErrNotFound)
	}
	return v.doc.key(), v.doc.Hash, nil
}

// ListAPIKeys returns every key, newest first, without hashes.
func (s *IdentityStore) ListAPIKeys(ctx context.Context) ([]identity.APIKey, error) {
	var out []identity.APIKey
	err := s.searchAll(ctx, s.apiKeys, &types.Query{MatchAll: &types.MatchAllQuery{}}, sortBy("-created_us", "id"), func(_ string, src json.RawMessage) error {
		var d apiKeyDoc
		if err := json.Unmarshal(src, &d); err != nil {
			return fmt.Errorf("decode API key: %w", err)
		}
		out = append(out, d.key())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey marks a key revoked. The write is conditional on the version read, so of two
// racing revocations one succeeds and the other gets ErrConflict.
func (s *IdentityStore) RevokeAPIKey(ctx context.Context, id, by string, at time.Time) error {
	err := modify(ctx, s, s.apiKeys, docID([]byte(id)), func(d apiKeyDoc, found bool) (apiKeyDoc, bool, error) {
		switch {
		case !found:
			return d, false, fmt.Errorf("API key %q: %w", id, identity.ErrNotFound)
		case d.RevokedUS != 0:
			return d, false, fmt.Errorf("API key %q is already revoked: %w", id, identity.ErrConflict)
		}
		d.RevokedUS, d.RevokedBy = us(at), by
		return d, true, nil
	})
	if err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	return nil
}

// TouchAPIKey records the key's latest use, never moving it back. An unknown id is not an error.
func (s *IdentityStore) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	t := us(at)
	err := modify(ctx, s, s.apiKeys, docID([]byte(id)), func(d apiKeyDoc, found bool) (apiKeyDoc, bool, error) {
		if !found || d.LastUsedUS >= t {
			return d, false, nil
		}
		d.LastUsedUS = t
		return d, true, nil
	})
	if err != nil {
		return fmt.Errorf("touch API key: %w", err)
	}
	return nil
}
