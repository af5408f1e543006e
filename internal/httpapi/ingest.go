package httpapi

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/ingest"
)

// bulkIngest is POST /api/v1/reads:bulk: NDJSON in, a per-line report out. The body is streamed
// through the pipeline, never buffered whole.
func (s *Server) bulkIngest(c *gin.Context) {
	in := s.deps.Ingest
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/x-ndjson" && mt != "application/jsonl" && mt != "text/plain") {
			abortProblem(c, http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
				"send newline-delimited JSON with Content-Type: application/x-ndjson", nil)
			return
		}
	}
	if c.Request.ContentLength > in.MaxBodyBytes {
		abortProblem(c, http.StatusRequestEntityTooLarge, CodeTooLarge,
			fmt.Sprintf("the body is %d bytes; the limit is %d: split the upload", c.Request.ContentLength, in.MaxBodyBytes), nil)
		return
	}
	// Refuse before reading anything when the writer is already full: the client backs off and
	// nothing of this upload is half-done.
	if in.Writer.Saturated() {
		s.tooBusy(c, nil)
		return
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, in.MaxBodyBytes)
	rep, err := in.Pipeline().Run(c.Request.Context(), body)
	if err != nil {
		if ctx := c.Request.Context(); ctx.Err() != nil {
			// Cut short by the client leaving or by shutdown, not by a saturated writer.
			abortError(c, fmt.Errorf("upload cut short: %w", context.Cause(ctx)), rep)
			return
		}
		if errors.Is(err, ingest.ErrSaturated) {
			s.tooBusy(c, rep)
			return
		}
		abortError(c, fmt.Errorf("%w; re-sending the whole upload is safe, stored reads are not duplicated", err), rep)
		return
	}
	logger(c).Info("ingest", "lines", rep.Lines, "inserted", rep.Inserted, "duplicates", rep.Duplicates, "rejected", rep.Rejected)
	c.JSON(http.StatusOK, rep)
}

func (s *Server) tooBusy(c *gin.Context, rep any) {
	secs := int(s.deps.Ingest.RetryAfter.Seconds())
	c.Header("Retry-After", strconv.Itoa(secs))
	abortProblem(c, http.StatusTooManyRequests, CodeRateLimited,
		fmt.Sprintf("the ingest writer is saturated; retry after %d s (re-sending is safe)", secs), rep)
}
