package identity

import (
	"sync"
	"time"
)

// DefaultAPIKeyCacheTTL is how long serve trusts a verified API key from memory
// (Config.APIKeyCacheTTL). Machine clients send a key with every request, and reading it from the
// store each time cost about a tenth of the CPU of a search. A revocation through this service
// drops the key from the cache at once; a revocation by another process sharing the store
// (another instance on Elasticsearch) takes effect here within this interval. Expiry is judged on
// every request from the cached record. MaxAPIKeyCacheTTL bounds what may be configured.
const (
	DefaultAPIKeyCacheTTL = 2 * time.Second
	MaxAPIKeyCacheTTL     = 5 * time.Second
)

// apiKeyCacheMax bounds the memory an attacker with many valid keys could pin; past it the
// cache starts again empty, which costs only store reads.
const apiKeyCacheMax = 10000

// apiKeyCache holds keys that passed verification, by the SHA-256 of the presented key. Only a
// key whose secret matched and that was neither revoked nor expired is ever put in, so a failed
// look-up is never remembered, let alone as a success.
type apiKeyCache struct {
	mu      sync.Mutex
	entries map[string]cachedKey
	// gen counts revocations. A verifier notes it before reading the store and may cache what it
	// read only if no revocation happened meanwhile, or a row read just before a revocation
	// could be cached just after it.
	gen uint64
}

type cachedKey struct {
	key      APIKey
	verified time.Time
}

// get returns the key verified for hash within ttl before now.
func (c *apiKeyCache) get(hash []byte, now time.Time, ttl time.Duration) (APIKey, bool) {
	if ttl <= 0 {
		return APIKey{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok {
		return APIKey{}, false
	}
	// A clock that moved backwards is as suspect as one far ahead: verify again.
	if age := now.Sub(e.verified); age < 0 || age >= ttl {
		delete(c.entries, string(hash))
		return APIKey{}, false
	}
	return e.key, true
}

// generation is the revocation count, to pass to put.
func (c *apiKeyCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put remembers a key verified at now from a store read begun at revocation count gen.
func (c *apiKeyCache) put(hash []byte, key APIKey, now time.Time, gen uint64, ttl time.Duration) {
	if ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.entries == nil || len(c.entries) >= apiKeyCacheMax {
		c.entries = make(map[string]cachedKey)
	}
	c.entries[string(hash)] = cachedKey{key: key, verified: now}
}

// touched records a last-use write, so the cached record does not ask for another one.
func (c *apiKeyCache) touched(hash []byte, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[string(hash)]; ok {
		e.key.LastUsedAt = at
		c.entries[string(hash)] = e
	}
}

// forget drops every cached entry of key id (it was revoked).
func (c *apiKeyCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for h, e := range c.entries {
		if e.key.ID == id {
			delete(c.entries, h)
		}
	}
}
