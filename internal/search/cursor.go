package search

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// cursorSealer wraps store cursors in an HMAC-signed envelope that binds them to the caller's
// subject and to the canonical query. The store's own cursor already refuses another query, but
// it is not secret: without the binding, one user could hand a cursor to another (who would page
// through a search they never justified), or edit it to skip around.
type cursorSealer struct{ key []byte }

const (
	cursorPrefix = "s1."
	cursorMACLen = 16 // 128 bits: forging one needs 2^128 guesses
	// maxCursorLen bounds what is decoded from a client. A store cursor may carry an
	// Elasticsearch point-in-time id (reads.MaxCursorToken), which grows with the shards searched.
	maxCursorLen = 16384
)

func (c cursorSealer) mac(subject, query, inner string) []byte {
	m := hmac.New(sha256.New, c.key)
	for _, f := range []string{"anpr-search-cursor-v1", subject, query, inner} {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return m.Sum(nil)[:cursorMACLen]
}

// seal wraps the store cursor inner ("" stays "": there is no next page).
func (c cursorSealer) seal(subject, query, inner string) string {
	if inner == "" {
		return ""
	}
	enc := base64.RawURLEncoding
	return cursorPrefix + enc.EncodeToString([]byte(inner)) + "." + enc.EncodeToString(c.mac(subject, query, inner))
}

// open returns the store cursor inside s, or false when s was not sealed by this service for this
// subject and query (edited, forged, another user's, or another search's).
func (c cursorSealer) open(subject, query, s string) (string, bool) {
	if len(s) > maxCursorLen {
		return "", false
	}
	body, ok := strings.CutPrefix(s, cursorPrefix)
	if !ok {
		return "", false
	}
	innerB64, macB64, ok := strings.Cut(body, ".")
	if !ok {
		return "", false
	}
	enc := base64.RawURLEncoding.Strict()
	inner, err1 := enc.DecodeString(innerB64)
	mac, err2 := enc.DecodeString(macB64)
	if err1 != nil || err2 != nil || len(inner) == 0 {
		return "", false
	}
	if !hmac.Equal(mac, c.mac(subject, query, string(inner))) {
		return "", false
	}
	return string(inner), true
}
