package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/search"
)

// readImage serves GET /api/v1/reads/:id/images/{patch,overview}?reason_token= as
// image/png. The search service decides the view (read.image, band of the read), records its
// intent and, before returning the bytes, its outcome with the image's digest; the same digest is
// sent in X-Content-SHA256.
func (s *Server) readImage(kind search.ImageKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		svc, ok := s.searchService(c)
		if !ok {
			return
		}
		reason, err := s.tokenReason(c)
		if err != nil {
			abortError(c, err, nil)
			return
		}
		img, err := svc.Image(c.Request.Context(), caller(c), c.Param("id"), kind, reason)
		if err != nil {
			searchError(c, err)
			return
		}
		// Evidence about a person's movements: never kept by a shared cache or the browser's.
		c.Header("Cache-Control", "no-store")
		c.Header("X-Content-SHA256", img.SHA256)
		c.Data(http.StatusOK, "image/png", img.PNG)
	}
}
