package httpapi

import (
	"io"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/search"
)

// exportBody is the JSON body of POST /api/v1/exports: the body of the search to export, with its
// type. cursor and limit are accepted by the decoder (they are search fields) but refused by the
// service: an export is always the whole result.
type exportBody struct {
	Type string `json:"type"`
	searchBody
}

// exportReads streams the CSV of every read a search finds. The search service decides it (the
// search type's rule and the export rule, for the window's band), writes the file into a spool
// while hashing it, and records the count and the file's SHA-256 in the audit outcome; only after
// that outcome is durable does a byte go to the client (sendSpooled).
func (s *Server) exportReads(c *gin.Context) {
	svc, ok := s.searchService(c)
	if !ok {
		return
	}
	var b exportBody
	if err := decodeJSON(c, &b); err != nil {
		searchError(c, err)
		return
	}
	t := search.Type(b.Type)
	req := search.Request{
		VRM: b.VRM, Pattern: b.Pattern, From: b.From, To: b.To, Cameras: b.Cameras,
		Limit: b.Limit, Cursor: b.Cursor, Reason: b.Reason, AuthorityID: b.AuthorityID, Area: b.Area,
	}
	sendSpooled(c, "anpr-export-"+safeFilePart(b.Type)+".csv", "text/csv; charset=utf-8", func(w io.Writer) (audit.Digest, error) {
		res, err := svc.Export(c.Request.Context(), caller(c), t, req, w)
		return res.Digest, err
	}, searchError)
}

// safeFilePart keeps a client-supplied word fit for a Content-Disposition filename. The service
// refuses unknown types anyway; this only matters for the header of a refusal that never comes.
func safeFilePart(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !('a' <= ch && ch <= 'z' || '0' <= ch && ch <= '9' || ch == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 32 {
		b = b[:32]
	}
	return string(b)
}
