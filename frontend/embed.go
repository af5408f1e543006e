// Package frontend holds the portal's single-page web app (React + TypeScript, built by Vite into
// dist/app) and embeds the built files in the anpr binary, so one binary serves API and pages.
package frontend

import (
	"embed"
	"io/fs"
)

// dist always holds placeholder.html (committed), so the package compiles and `go vet` passes on a
// clean clone before `npm run build` has made dist/app (which git ignores).
//
//go:embed all:dist
var dist embed.FS

// App returns the built app rooted at its index.html, and false when the binary was built without
// it (dist/app missing); callers then serve Placeholder.
func App() (fs.FS, bool) {
	app, err := fs.Sub(dist, "dist/app")
	if err != nil {
		return nil, false
	}
	if _, err := fs.Stat(app, "index.html"); err != nil {
		return nil, false
	}
	return app, true
}

// Placeholder is the page served instead of the app when it was not built: it says how to build it.
func Placeholder() []byte {
	b, err := dist.ReadFile("dist/placeholder.html")
	if err != nil {
		// Unreachable: the file is embedded at compile time or the build fails.
		return []byte("front end not built; run make build")
	}
	return b
}
