// Package httpapi is the portal's HTTP surface: the gin router, middleware, thin handlers and the
// single mapping from domain errors to RFC 9457 problem+json responses.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/anpr-portal/anpr/internal/ingest"
)

// Pinger is something /readyz checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps is everything the server needs; api/main.go builds it.
type Deps struct {
	Log      *slog.Logger
	Store    Pinger
	Ingest   *IngestService
	Registry *prometheus.Registry
}

// IngestService is the ingest path as the handler sees it.
type IngestService struct {
	Pipeline     func() *ingest.Pipeline // a fresh pipeline per upload
	Writer       *ingest.Writer
	Keys         *APIKeys
	MaxBodyBytes int64
	RetryAfter   time.Duration
}

// Server holds the router.
type Server struct {
	deps   Deps
	engine *gin.Engine
}

// New builds the router. Every route is registered here, in one table, so the permission walk of
// the identity issue can see them all.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	m := newHTTPMetrics(d.Registry)
	d.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "anpr_ingest_queue_batches", Help: "Ingest batches waiting for the writer.",
	}, func() float64 { return float64(d.Ingest.Writer.QueueDepth()) }))
	e.Use(withRequestID(d.Log), recoverProblem(), securityHeaders(), accessLog(m))
	e.NoRoute(func(c *gin.Context) { abortProblem(c, http.StatusNotFound, CodeNotFound, "no such route", nil) })
	e.NoMethod(func(c *gin.Context) {
		abortProblem(c, http.StatusMethodNotAllowed, CodeBadRequest, "method not allowed on this route", nil)
	})

	s := &Server{deps: d, engine: e}
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})))
	v1 := e.Group("/api/v1")
	// "\\:" is gin's escape for a literal colon (the AIP-136 custom-method style "reads:bulk").
	v1.POST("/reads\\:bulk", s.requireAPIKey("reads:ingest"), s.bulkIngest)
	return s
}

// NewRegistry returns a registry with the Go runtime and process collectors.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }

// Routes lists method and path of every route, for tests that walk the route table.
func (s *Server) Routes() gin.RoutesInfo { return s.engine.Routes() }

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{}
	ready := true
	if err := s.deps.Store.Ping(ctx); err != nil {
		checks["store"] = err.Error()
		ready = false
	} else {
		checks["store"] = "ok"
	}
	if s.deps.Ingest.Writer.Alive() {
		checks["ingest_writer"] = "ok"
	} else {
		checks["ingest_writer"] = "closed"
		ready = false
	}
	if !ready {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "checks": checks})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
}
