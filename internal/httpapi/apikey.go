package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// APIKeys authenticates machine clients by the SHA-256 of their key, compared in constant time.
// Only hashes are held. The identity issue replaces this with managed, scoped keys; until then
// every configured key carries the single scope reads:ingest.
type APIKeys struct {
	hashes [][]byte
}

// NewAPIKeys takes hex SHA-256 hashes (validated by config).
func NewAPIKeys(hexHashes []string) *APIKeys {
	k := &APIKeys{}
	for _, h := range hexHashes {
		if b, err := hex.DecodeString(h); err == nil && len(b) == sha256.Size {
			k.hashes = append(k.hashes, b)
		}
	}
	return k
}

// Valid reports whether key hashes to a configured hash. Every hash is compared, so timing does
// not reveal which (if any) matched.
func (k *APIKeys) Valid(key string) bool {
	if key == "" {
		return false
	}
	sum := sha256.Sum256([]byte(key))
	ok := 0
	for _, h := range k.hashes {
		ok |= subtle.ConstantTimeCompare(sum[:], h)
	}
	return ok == 1
}

// requireAPIKey refuses the request unless it carries a valid key, as "Authorization: Bearer KEY"
// or "X-API-Key: KEY". There is no configuration under which this passes without a key.
func (s *Server) requireAPIKey(scope string) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := c.GetHeader("X-API-Key")
		if a := c.GetHeader("Authorization"); key == "" && strings.HasPrefix(a, "Bearer ") {
			key = strings.TrimPrefix(a, "Bearer ")
		}
		if key == "" {
			c.Header("WWW-Authenticate", `Bearer realm="anpr"`)
			abortProblem(c, http.StatusUnauthorized, CodeUnauthenticated, "an API key with scope "+scope+" is required (Authorization: Bearer KEY)", nil)
			return
		}
		if !s.deps.Ingest.Keys.Valid(key) {
			logger(c).Warn("rejected API key", "scope", scope, "client", c.ClientIP())
			c.Header("WWW-Authenticate", `Bearer realm="anpr", error="invalid_token"`)
			abortProblem(c, http.StatusUnauthorized, CodeUnauthenticated, "the API key is not valid", nil)
			return
		}
		c.Next()
	}
}
