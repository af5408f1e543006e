package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// The two ways a request ends without the handler finishing on its own terms: the client goes
// away, or the portal shuts down under it.

// StatusClientClosed is the status logged and counted for a request whose client went away
// before the response was complete (nginx's 499). Nothing is sent: there is no one to send it
// to. It keeps client disconnects out of the 5xx counts that alerts watch.
const StatusClientClosed = 499

// ErrShuttingDown is the cause with which HTTPServer.Shutdown cancels the requests still running
// when the drain time is over. Each then answers 503 with Retry-After.
var ErrShuttingDown = errors.New("the portal is shutting down; retry shortly (re-sending an upload is safe: stored reads are not duplicated)")

// clientClosed reports whether the request's client went away before the handler finished: its
// context was cancelled, and not by shutdown. (The server cancels a request's context when its
// connection closes; a handler still running has not returned yet, which is the other cause.)
func clientClosed(c *gin.Context) bool {
	ctx := c.Request.Context()
	return errors.Is(ctx.Err(), context.Canceled) && !shuttingDown(c)
}

// shuttingDown reports whether the request was cancelled by HTTPServer.Shutdown.
func shuttingDown(c *gin.Context) bool {
	return errors.Is(context.Cause(c.Request.Context()), ErrShuttingDown)
}

// answerShutdown makes sure that a request cut short by shutdown gets a 503 problem with
// Retry-After, whatever its handler managed to do: a handler that returned without writing is
// answered here; one that wrote its own 503 got Retry-After from abortProblem.
func (s *Server) answerShutdown() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Set(ctxRetryAfter, s.retryAfter())
		c.Next()
		if shuttingDown(c) && !c.Writer.Written() {
			c.Header("Retry-After", s.retryAfter())
			c.Header("Content-Type", "application/problem+json")
			c.AbortWithStatusJSON(http.StatusServiceUnavailable, Problem{
				Type: "urn:anpr:problem:" + CodeUnavailable, Title: problemTitles[CodeUnavailable],
				Status: http.StatusServiceUnavailable, Detail: ErrShuttingDown.Error(), Code: CodeUnavailable,
				Instance: requestID(c),
			})
		}
	}
}

// ctxRetryAfter holds the Retry-After value for abortProblem's 503s during shutdown.
const ctxRetryAfter = "anpr.retry_after"

// retryAfter is when a client cut short by shutdown should try again, in seconds: the ingest
// back-off, the one retry interval the portal is configured with.
func (s *Server) retryAfter() string {
	return strconv.Itoa(max(1, int(s.deps.Ingest.RetryAfter.Seconds())))
}
