package identity

import (
	"net/url"
	"strings"
)

// maxReturnToLen bounds a post-login return path.
const maxReturnToLen = 2048

// SafeReturnTo returns returnTo if it is a path on this site, else "/". Only a path that starts
// with a single "/" passes: "//evil.com" and "/\evil.com" (which browsers read as
// protocol-relative URLs), absolute URLs ("https://evil.com", "javascript:..."), backslashes,
// control characters and spaces anywhere (browsers strip or reinterpret them) are all refused, as
// is anything url.Parse reads as having a scheme or host.
func SafeReturnTo(returnTo string) string {
	const home = "/"
	if returnTo == "" || len(returnTo) > maxReturnToLen {
		return home
	}
	if returnTo[0] != '/' || strings.HasPrefix(returnTo, "//") {
		return home
	}
	for i := 0; i < len(returnTo); i++ {
		c := returnTo[i]
		if c <= ' ' || c == 0x7f || c == '\\' || c >= 0x80 {
			return home
		}
	}
	u, err := url.Parse(returnTo)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return home
	}
	// A percent-encoded slash or backslash at the start ("/%2F%2Fevil.com") is harmless to the
	// browser but may be decoded by a front-end router into "//evil.com"; refuse it too.
	if p, err := url.PathUnescape(u.EscapedPath()); err != nil || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return home
	}
	return returnTo
}
