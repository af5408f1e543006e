package identity

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
)

// CSRFHeader is the request header that carries the CSRF token on state-changing requests.
const CSRFHeader = "X-CSRF-Token"

// CSRF design: a synchronizer token per session. Each session has its own random secret (stored
// with the session, never sent to the browser); the token is an HMAC of the session id under that
// secret, so only a page that can read a response of this session (GET /api/v1/me, same-origin
// only) learns it. Each CSRFToken call masks it with fresh random bytes (BREACH: a compressed
// response must not repeat a secret byte for byte); every masking of the session's token is valid.
//
// What "replayed" means here, and is refused: a token minted for any other session (another user,
// the attacker's own session, or the victim's earlier session before a logout or re-login) does
// not verify, and once the session ends every token of it is dead with it. Within one live
// session a token is reused on purpose: one-time tokens break a single-page app's concurrent
// requests and the back button, and buy nothing against an attacker who cannot read our responses
// (SameSite=Strict already keeps the cookie off cross-site requests; the token is the second wall).

const csrfMACLen = sha256.Size

func csrfMAC(secret []byte, sessionID string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("anpr-csrf-v1\x00"))
	m.Write([]byte(sessionID))
	return m.Sum(nil)
}

// CSRFToken returns a CSRF token for p's session, to hand to the front end (e.g. in GET
// /api/v1/me); it sends it back in the X-CSRF-Token header. Empty for API keys and access
// tokens, which need none.
func (s *Service) CSRFToken(p Principal) string {
	if p.Kind != KindUser || len(p.csrfSecret) == 0 {
		return ""
	}
	mac := csrfMAC(p.csrfSecret, p.SessionID)
	mask := make([]byte, csrfMACLen)
	if _, err := io.ReadFull(s.random, mask); err != nil {
		return "" // no token means the request is refused, never that it passes
	}
	out := make([]byte, 2*csrfMACLen)
	copy(out, mask)
	for i := range mac {
		out[csrfMACLen+i] = mac[i] ^ mask[i]
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// CheckCSRF refuses (ErrForbidden) a state-changing request of a session unless token is a CSRF
// token of that very session. Call it for every method but GET, HEAD and OPTIONS. Requests
// authenticated by an API key or access token pass: a browser never attaches those by itself, so
// they cannot be forged cross-site.
func (s *Service) CheckCSRF(p Principal, token string) error {
	switch p.Kind {
	case KindAPIKey, KindToken:
		return nil
	case KindUser:
	default:
		return fmt.Errorf("%w: not authenticated", ErrForbidden)
	}
	if token == "" {
		return fmt.Errorf("%w: missing CSRF token (send the %s header)", ErrForbidden, CSRFHeader)
	}
	if len(p.csrfSecret) == 0 || p.SessionID == "" {
		return fmt.Errorf("%w: no CSRF secret for this session", ErrForbidden)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 2*csrfMACLen {
		return fmt.Errorf("%w: malformed CSRF token", ErrForbidden)
	}
	got := make([]byte, csrfMACLen)
	for i := range got {
		got[i] = raw[i] ^ raw[csrfMACLen+i]
	}
	if !hmac.Equal(got, csrfMAC(p.csrfSecret, p.SessionID)) {
		return fmt.Errorf("%w: CSRF token does not belong to this session", ErrForbidden)
	}
	return nil
}
