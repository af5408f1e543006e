package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/audit"
)

// sendSpooled is how every file export leaves the portal (audit exports, read exports): produce
// writes the file into a temporary spool and returns its digest only after the audit outcome
// that records that digest is durable; only then is the spool sent, with the digest in
// X-Content-SHA256. If produce fails, nothing of the file is sent: the client gets the problem,
// rendered by fail, and the spool is deleted. The spool lives outside the data directory and is
// removed when the response is done.
func sendSpooled(c *gin.Context, filename, contentType string, produce func(w io.Writer) (audit.Digest, error), fail func(*gin.Context, error)) {
	spool, err := os.CreateTemp("", "anpr-export-*")
	if err != nil {
		fail(c, fmt.Errorf("create export spool: %w", err))
		return
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	digest, err := produce(spool)
	if err != nil {
		fail(c, err)
		return
	}
	size, err := spool.Seek(0, io.SeekCurrent)
	if err != nil {
		fail(c, fmt.Errorf("export spool: %w", err))
		return
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		fail(c, fmt.Errorf("export spool: %w", err))
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, filename))
	c.Header("X-Content-SHA256", digest.String())
	c.Header("Cache-Control", "no-store")
	c.DataFromReader(http.StatusOK, size, contentType, spool, nil)
}
