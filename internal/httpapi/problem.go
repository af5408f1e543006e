package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
)

// Problem is an RFC 9457 problem detail. Code is stable: clients and tests match on it, never on
// the wording of Detail.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Code     string `json:"code"`
	Instance string `json:"instance,omitempty"` // the request id, to quote when reporting it
	// Extra carries machine-readable context (e.g. the ingest report on a failed upload).
	Extra any `json:"report,omitempty"`
}

// Stable problem codes.
const (
	CodeBadRequest       = "bad_request"
	CodeUnauthenticated  = "unauthenticated"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeConflict         = "conflict"
	CodeTooLarge         = "body_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeRateLimited      = "writer_saturated"
	CodeUnavailable      = "unavailable"
	CodeInternal         = "internal"
)

var problemTitles = map[string]string{
	CodeBadRequest:       "The request is not valid",
	CodeUnauthenticated:  "Authentication required",
	CodeForbidden:        "Not allowed",
	CodeNotFound:         "Not found",
	CodeConflict:         "Conflict",
	CodeTooLarge:         "Request body too large",
	CodeUnsupportedMedia: "Unsupported media type",
	CodeRateLimited:      "Too many requests",
	CodeUnavailable:      "Service unavailable",
	CodeInternal:         "Internal error",
}

// problemFor maps domain error kinds to HTTP status and code: the one place this happens.
func problemFor(err error) (int, string) {
	switch {
	case errors.Is(err, ErrShuttingDown), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// Cut short, whatever else failed with it: by shutdown (503 is the answer), or by the
		// client leaving (accessLog counts that as StatusClientClosed; nobody reads the answer).
		return http.StatusServiceUnavailable, CodeUnavailable
	case errors.Is(err, search.ErrInvalid):
		return http.StatusBadRequest, CodeBadRequest
	case errors.Is(err, search.ErrForbidden):
		return http.StatusForbidden, CodeForbidden
	case errors.Is(err, identity.ErrUnauthenticated):
		return http.StatusUnauthorized, CodeUnauthenticated
	case errors.Is(err, identity.ErrForbidden):
		return http.StatusForbidden, CodeForbidden
	case errors.Is(err, identity.ErrInvalid), errors.Is(err, authz.ErrInvalid), errors.Is(err, audit.ErrInvalid):
		return http.StatusBadRequest, CodeBadRequest
	case errors.Is(err, identity.ErrNotFound), errors.Is(err, audit.ErrNotFound):
		return http.StatusNotFound, CodeNotFound
	case errors.Is(err, identity.ErrConflict):
		return http.StatusConflict, CodeConflict
	case errors.Is(err, audit.ErrUnavailable), errors.Is(err, identity.ErrUnavailable):
		return http.StatusServiceUnavailable, CodeUnavailable
	case errors.Is(err, reads.ErrInvalid), errors.Is(err, errBadBody):
		return http.StatusBadRequest, CodeBadRequest
	case errors.Is(err, reads.ErrNotFound):
		return http.StatusNotFound, CodeNotFound
	case errors.Is(err, reads.ErrConflict):
		return http.StatusConflict, CodeConflict
	case errors.Is(err, ingest.ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge, CodeTooLarge
	case errors.Is(err, ingest.ErrSaturated):
		return http.StatusTooManyRequests, CodeRateLimited
	case errors.Is(err, ingest.ErrClosed), errors.Is(err, reads.ErrUnavailable):
		return http.StatusServiceUnavailable, CodeUnavailable
	default:
		return http.StatusInternalServerError, CodeInternal
	}
}

// abortProblem writes a problem+json response and stops the handler chain. A malformed request
// to an audited route is recorded first (invalid.go).
func abortProblem(c *gin.Context, status int, code, detail string, extra any) {
	if !invalidHook(c, status, code, detail) {
		return // the refusal could not be recorded; a 503 has been sent instead
	}
	if status == http.StatusServiceUnavailable && shuttingDown(c) {
		c.Header("Retry-After", c.GetString(ctxRetryAfter))
	}
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(status, Problem{
		Type:     "urn:anpr:problem:" + code,
		Title:    problemTitles[code],
		Status:   status,
		Detail:   detail,
		Code:     code,
		Instance: requestID(c),
		Extra:    extra,
	})
}

// abortError renders a domain error. Internal errors are logged in full but the client gets only
// the request id, never internals.
func abortError(c *gin.Context, err error, extra any) {
	status, code := problemFor(err)
	detail := err.Error()
	switch {
	case clientClosed(c):
		// Not a server error: the client went away and the handler stopped. accessLog counts it
		// as StatusClientClosed.
		logger(c).Debug("request ended: client closed it", "err", err)
	case status >= 500 && code != CodeUnavailable:
		logger(c).Error("request failed", "err", err)
	case code == CodeUnavailable:
		logger(c).Warn("service unavailable", "err", err)
	}
	if status >= 500 && code != CodeUnavailable {
		detail = "an internal error occurred; quote the request id when reporting it"
	}
	abortProblem(c, status, code, detail, extra)
}
