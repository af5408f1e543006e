package httpapi

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/frontend"
)

// webCSP is the policy for the front end's pages: everything from our own origin, nothing inline.
// maplibre-gl runs its tile worker from a same-origin script (worker-src 'self', set up in
// frontend/src/map), and draws markers with data:/blob: images; no tiles, glyphs or fonts are
// fetched from anywhere else.
const webCSP = "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self'; " +
	"script-src 'self'; worker-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// apiPrefixes are the server's own paths: an unknown path under them stays a problem+json 404,
// never the app's HTML, so an API client that mistypes a path gets an API answer.
var apiPrefixes = []string{"/api/", "/auth/"}

func isAPIPath(p string) bool {
	switch p {
	case "/api", "/auth", "/healthz", "/readyz", "/metrics":
		return true
	}
	for _, pre := range apiPrefixes {
		if strings.HasPrefix(p, pre) {
			return true
		}
	}
	return false
}

// serveWeb serves the embedded front end at / for every GET or HEAD no API route matched: a file
// of the build when one exists, else index.html, so the app's own routes (/search, /journey/...)
// survive a reload. It is the router's NoRoute handler rather than registered routes on purpose:
// the route table (and the OpenAPI test that walks it) stays exactly the API, and no page route
// can shadow an API route.
func (s *Server) serveWeb() {
	app, built := frontend.App()
	var index []byte
	if built {
		index, _ = fs.ReadFile(app, "index.html")
	} else {
		index = frontend.Placeholder()
	}
	s.engine.NoRoute(func(c *gin.Context) {
		p := c.Request.URL.Path
		if isAPIPath(p) || (c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead) {
			abortProblem(c, http.StatusNotFound, CodeNotFound, "no such route", nil)
			return
		}
		name := strings.TrimPrefix(path.Clean(p), "/")
		if built && name != "" && name != "index.html" {
			if st, err := fs.Stat(app, name); err == nil && st.Mode().IsRegular() {
				webHeaders(c.Writer.Header())
				if strings.HasPrefix(name, "assets/") {
					// Vite names every asset by its content hash, so it never changes under its name.
					c.Header("Cache-Control", "public, max-age=31536000, immutable")
				}
				http.ServeFileFS(c.Writer, c.Request, app, name)
				return
			}
			// A missing file (a stale asset name, a typo'd /favicon.png) is a 404, not the app's
			// HTML under a script's name.
			if path.Ext(name) != "" {
				abortProblem(c, http.StatusNotFound, CodeNotFound, "no such file", nil)
				return
			}
		}
		webHeaders(c.Writer.Header())
		c.Data(http.StatusOK, "text/html; charset=utf-8", index)
	})
}

// webHeaders replaces the API's default-src 'none' policy with the app's, and adds the headers a
// page (unlike a JSON answer) needs. Cache-Control stays no-store (set for every response) except
// for hashed assets: a page may show who is signed in.
func webHeaders(h http.Header) {
	h.Set("Content-Security-Policy", webCSP)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
}
