// Package reasontoken seals a caller's structured reason into a short-lived opaque token, so that
// a reason given once in a POST body can accompany GET requests (a record view, its images, an
// auditor's reads) without the justification or case reference ever appearing in a URL, a
// browser's history or a proxy's log.
//
// A token is AES-256-GCM ciphertext of the reason and its expiry, bound (as additional data) to
// the subject and session it was minted for: nobody can read it, change it, or use it as someone
// else. Tokens are stateless, so instances sharing the key accept each other's.
package reasontoken

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
)

// ErrInvalid: the token is malformed, tampered with, minted for someone else, or expired. The
// wrapped text says which, and never quotes the reason.
var ErrInvalid = errors.New("invalid reason token")

// DefaultTTL is how long a token is accepted: long enough to view a record and its images, short
// enough that a token copied from a log is useless.
const DefaultTTL = 10 * time.Minute

// MaxLen bounds a presented token before any work is done on it; a token of the largest reason
// the portal accepts is about 4 KiB.
const MaxLen = 8 << 10

// MaxReasonBytes bounds what may be sealed, so a token always fits MaxLen.
const MaxReasonBytes = 5 << 10

const prefix = "rt1."

// Sealer mints and opens tokens. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
	ttl  time.Duration
	now  func() time.Time
}

// New derives the token key from secret (at least 32 bytes; the portal passes the cursor key, so
// instances that share cursors share tokens) and returns a Sealer whose tokens live ttl (zero:
// DefaultTTL).
func New(secret []byte, ttl time.Duration, now func() time.Time) (*Sealer, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("reason token: secret of %d bytes, want at least 32", len(secret))
	}
	if now == nil {
		return nil, errors.New("reason token: no clock")
	}
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if ttl < 0 {
		return nil, fmt.Errorf("reason token: negative lifetime %v", ttl)
	}
	// A key of its own, derived: the secret may sign other things (cursors), and no token can be
	// mistaken for one of those.
	key, err := hkdf.Key(sha256.New, secret, nil, "anpr reason token v1", 32)
	if err != nil {
		return nil, fmt.Errorf("reason token: derive key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("reason token: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("reason token: %w", err)
	}
	return &Sealer{aead: aead, ttl: ttl, now: now}, nil
}

// TTL is how long a token minted now stays valid.
func (s *Sealer) TTL() time.Duration { return s.ttl }

type sealed struct {
	Exp    int64        `json:"exp"` // Unix seconds
	Reason authz.Reason `json:"reason"`
}

// Seal mints a token of r for subject in session (empty for machine clients), and says when it
// expires. The reason is not validated here: whoever uses the token decides on it, and records
// the decision.
func (s *Sealer) Seal(subject, session string, r authz.Reason) (string, time.Time, error) {
	if subject == "" {
		return "", time.Time{}, fmt.Errorf("%w: no subject to bind it to", ErrInvalid)
	}
	exp := s.now().Add(s.ttl).Truncate(time.Second)
	plain, err := json.Marshal(sealed{Exp: exp.Unix(), Reason: r})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("reason token: %w", err)
	}
	if len(plain) > MaxReasonBytes {
		return "", time.Time{}, fmt.Errorf("%w: the reason is longer than %d bytes", ErrInvalid, MaxReasonBytes)
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", time.Time{}, fmt.Errorf("reason token: nonce: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, plain, binding(subject, session))
	return prefix + base64.RawURLEncoding.EncodeToString(out), exp, nil
}

// Open returns the reason sealed in token, if it was minted for subject in session and has not
// expired.
func (s *Sealer) Open(subject, session, token string) (authz.Reason, error) {
	if len(token) > MaxLen {
		return authz.Reason{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalid, MaxLen)
	}
	body, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return authz.Reason{}, fmt.Errorf("%w: not a reason token", ErrInvalid)
	}
	raw, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil || len(raw) < s.aead.NonceSize()+s.aead.Overhead() {
		return authz.Reason{}, fmt.Errorf("%w: malformed", ErrInvalid)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], binding(subject, session))
	if err != nil {
		return authz.Reason{}, fmt.Errorf("%w: it was altered, or minted for another user or session", ErrInvalid)
	}
	var v sealed
	if err := json.Unmarshal(plain, &v); err != nil {
		return authz.Reason{}, fmt.Errorf("%w: malformed", ErrInvalid)
	}
	if !s.now().Before(time.Unix(v.Exp, 0)) {
		return authz.Reason{}, fmt.Errorf("%w: it expired at %s; give the reason again", ErrInvalid, time.Unix(v.Exp, 0).UTC().Format(time.RFC3339))
	}
	return v.Reason, nil
}

// binding is the additional data a token is sealed under: length-prefixed, so no two
// (subject, session) pairs share it.
func binding(subject, session string) []byte {
	return fmt.Appendf(nil, "%d:%s|%d:%s", len(subject), subject, len(session), session)
}
