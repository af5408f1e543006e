package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// HTTPServer is an http.Server whose shutdown answers every request: those that finish within
// the drain time answer as usual; those still running then are cancelled with ErrShuttingDown
// and answer 503 with Retry-After before their connections close, instead of losing the
// connection with no response at all.
type HTTPServer struct {
	srv    *http.Server
	cancel context.CancelCauseFunc
}

// NewHTTPServer takes over srv (its Handler and timeouts as the caller set them); every request's
// context derives from one that Shutdown can cancel.
func NewHTTPServer(srv *http.Server) *HTTPServer {
	base, cancel := context.WithCancelCause(context.Background())
	srv.BaseContext = func(net.Listener) context.Context { return base }
	return &HTTPServer{srv: srv, cancel: cancel}
}

// Serve serves on ln until Shutdown; it then returns http.ErrServerClosed.
func (s *HTTPServer) Serve(ln net.Listener) error { return s.srv.Serve(ln) }

// Shutdown stops accepting connections and lets requests in flight finish until drain ends.
// Requests still running then are cancelled with ErrShuttingDown, and get up to answerWait to
// write their 503 before the remaining connections are closed. cut reports whether any request
// had to be cut short; err is set only if some did not answer even then.
func (s *HTTPServer) Shutdown(drain context.Context, answerWait time.Duration) (cut bool, err error) {
	err = s.srv.Shutdown(drain)
	if err == nil || drain.Err() == nil {
		s.cancel(nil)
		return false, err
	}
	s.cancel(ErrShuttingDown)
	actx, cancel := context.WithTimeout(context.Background(), answerWait)
	defer cancel()
	if err := s.srv.Shutdown(actx); err != nil {
		cerr := s.srv.Close()
		return true, errors.Join(fmt.Errorf("requests still running %s after they were cut short; connections closed: %w", answerWait, err), cerr)
	}
	return true, nil
}
