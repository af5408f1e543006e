// Package httpapi is the portal's HTTP surface: the gin router, middleware, thin handlers and the
// single mapping from domain errors to RFC 9457 problem+json responses.
package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/datarights"
	"github.com/anpr-portal/anpr/internal/holds"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/reasontoken"
	"github.com/anpr-portal/anpr/internal/retention"
	"github.com/anpr-portal/anpr/internal/search"
)

// Pinger is something /readyz checks.
type Pinger interface {
	Ping(ctx context.Context) error
}

// AuditLog is the audit log as the server uses it: append (denials), read and scan (review,
// transparency), and the newest checkpoint.
type AuditLog interface {
	audit.Log
	audit.Scanner
}

// Deps is everything the server needs; api/main.go builds it.
type Deps struct {
	Log          *slog.Logger
	Store        Pinger
	Ingest       *IngestService
	Registry     *prometheus.Registry
	Identity     *identity.Service
	Authz        *authz.Authorizer
	Audit        AuditLog
	Reviewer     audit.Reviewer
	Transparency *audit.Transparency
	AuditKeys    string // the trusted checkpoint verifier keys, published as text
	// Search runs every read search and record view; it authorises and audits them itself.
	Search *search.Service
	// Holds, Retention and DataRights serve the ANPR manager's data routes (holds.go,
	// retention.go, datarights.go); each route answers 503 when its service is nil.
	Holds      *holds.Service
	Retention  *retention.Service
	DataRights *datarights.Service
	// Authority runs the prior-authority workflow; it authorises and audits it itself.
	Authority *authority.Service
	// Ready are extra /readyz checks of the backend (on Elasticsearch: cluster health).
	Ready []ReadyCheck
	// ReasonTokens seals the reasons that GET requests carry as tokens (reasons.go); nil makes a
	// sealer with a random key of this process.
	ReasonTokens *reasontoken.Sealer
}

// ReadyCheck is one named /readyz check; an error makes the portal not ready.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// IngestService is the ingest path as the handler sees it.
type IngestService struct {
	Pipeline     func() *ingest.Pipeline // a fresh pipeline per upload
	Writer       *ingest.Writer
	MaxBodyBytes int64
	RetryAfter   time.Duration
}

// Server holds the router and the permission every route declared.
type Server struct {
	deps    Deps
	engine  *gin.Engine
	perms   map[string]Permission // "METHOD /path" -> permission
	reasons *reasontoken.Sealer
}

// handle registers a route with its permission; it is the only way routes are added.
func (s *Server) handle(method, path string, perm Permission, h gin.HandlerFunc) {
	s.perms[method+" "+strings.ReplaceAll(path, `\:`, ":")] = perm
	s.engine.Handle(method, path, s.gate(perm), h)
}

// PermissionOf returns the permission declared for a route as gin lists it.
func (s *Server) PermissionOf(method, path string) (Permission, bool) {
	p, ok := s.perms[method+" "+strings.ReplaceAll(path, `\:`, ":")]
	return p, ok
}

// New builds the router. Every route is registered here, in one table, each with the permission
// it needs; TestEveryRouteDeclaresAPermission walks the table.
func New(d Deps) *Server {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	m := newHTTPMetrics(d.Registry)
	d.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "anpr_ingest_queue_batches", Help: "Ingest batches waiting for the writer.",
	}, func() float64 { return float64(d.Ingest.Writer.QueueDepth()) }))
	s := &Server{deps: d, engine: e, perms: map[string]Permission{}, reasons: d.ReasonTokens}
	if s.reasons == nil {
		s.reasons = newReasonSealer()
	}
	e.Use(withRequestID(d.Log), recoverProblem(), securityHeaders(), accessLog(m), s.answerShutdown(), s.authenticate)
	e.NoRoute(func(c *gin.Context) { abortProblem(c, http.StatusNotFound, CodeNotFound, "no such route", nil) })
	e.NoMethod(func(c *gin.Context) {
		abortProblem(c, http.StatusMethodNotAllowed, CodeBadRequest, "method not allowed on this route", nil)
	})
	s.serveWeb() // the embedded front end answers GET/HEAD for paths outside the API (web.go)

	get, post, del := http.MethodGet, http.MethodPost, http.MethodDelete
	s.handle(get, "/healthz", Public, s.healthz)
	s.handle(get, "/readyz", Public, s.readyz)
	s.handle(get, "/metrics", Public, gin.WrapH(promhttp.HandlerFor(d.Registry, promhttp.HandlerOpts{})))

	s.handle(get, "/auth/login", Public, s.login)
	s.handle(get, "/auth/callback", Public, s.callback)
	s.handle(post, "/auth/logout", Authenticated, s.logout)
	s.handle(get, "/api/v1/me", Authenticated, s.me)
	s.handle(post, "/api/v1/reason-tokens", Authenticated, s.mintReasonToken)

	// "\\:" is gin's escape for a literal colon (the AIP-136 custom-method style "reads:bulk").
	s.handle(post, "/api/v1/reads\\:bulk", Requires(authz.ReadsIngest), s.bulkIngest)

	// Searches decide inside the search service (the band comes from the window in the body), so
	// the gate only authenticates and checks CSRF here; see search.go.
	s.handle(post, "/api/v1/searches/exact", DecidedBy(authz.SearchExact), s.searchHandler(search.TypeExact))
	s.handle(post, "/api/v1/searches/partial", DecidedBy(authz.SearchPartial), s.searchHandler(search.TypePartial))
	s.handle(post, "/api/v1/searches/misread", DecidedBy(authz.SearchMisread), s.searchHandler(search.TypeMisread))
	s.handle(post, "/api/v1/searches/journey", DecidedBy(authz.SearchJourney), s.searchJourney)
	s.handle(get, "/api/v1/reads/:id", DecidedBy(authz.ReadView), s.readRecord)
	s.handle(get, "/api/v1/reads/:id/images/patch", DecidedBy(authz.ReadImage), s.readImage(search.ImagePatch))
	s.handle(get, "/api/v1/reads/:id/images/overview", DecidedBy(authz.ReadImage), s.readImage(search.ImageOverview))
	s.handle(post, "/api/v1/exports", DecidedBy(authz.Export), s.exportReads)

	s.handle(post, "/api/v1/authorities", DecidedBy(authz.AuthorityRequest), s.requestAuthority)
	s.handle(get, "/api/v1/authorities", DecidedBy(authz.AuthorityRequest), s.myAuthorities)
	s.handle(get, "/api/v1/authorities/queue", DecidedBy(authz.AuthorityApprove), s.authorityQueue)
	s.handle(get, "/api/v1/authorities/queue/events", DecidedBy(authz.AuthorityApprove), s.authorityQueueEvents)
	s.handle(get, "/api/v1/authorities/:id", DecidedBy(authz.AuthorityRequest), s.getAuthority)
	s.handle(post, "/api/v1/authorities/:id/approve", DecidedBy(authz.AuthorityApprove), s.decideAuthority("approve"))
	s.handle(post, "/api/v1/authorities/:id/reject", DecidedBy(authz.AuthorityApprove), s.decideAuthority("reject"))
	s.handle(post, "/api/v1/authorities/:id/revoke", DecidedBy(authz.AuthorityRevoke), s.decideAuthority("revoke"))

	s.handle(post, "/api/v1/searches/area", DecidedBy(authz.SearchArea), s.searchHandler(search.TypeArea))
	s.handle(post, "/api/v1/searches/convoy", DecidedBy(authz.SearchConvoy), s.searchConvoy)
	s.handle(post, "/api/v1/searches/multi-location", DecidedBy(authz.SearchMultiLocation), s.searchMultiLocation)
	s.handle(post, "/api/v1/searches/:type/histogram", DecidedBy(authz.SearchHistogram), s.searchHistogram)
	s.handle(get, "/api/v1/cameras", Authenticated, s.listCameras)

	s.handle(get, "/api/v1/transparency", Public, s.transparency)
	s.handle(get, "/api/v1/audit/public-keys", Public, s.publicKeys)
	read := Requires(authz.AuditRead).About(actorTarget).WithReason(s.tokenReason)
	s.handle(get, "/api/v1/audit/events", read, s.auditEvents)
	s.handle(get, "/api/v1/audit/users/:subject/timeline", read, s.auditTimeline)
	s.handle(get, "/api/v1/audit/sample", read, s.auditSample)
	s.handle(get, "/api/v1/audit/anomalies", read, s.auditAnomalies)
	s.handle(get, "/api/v1/audit/checkpoint", Requires(authz.AuditRead), s.auditCheckpoint)
	s.handle(get, "/api/v1/audit/export", Requires(authz.AuditExport).About(actorTarget).WithReason(s.tokenReason), s.auditExport)

	s.handle(get, "/api/v1/admin/api-keys", Requires(authz.AdminAPIKeys), s.listAPIKeys)
	s.handle(post, "/api/v1/admin/api-keys", Requires(authz.AdminAPIKeys), s.createAPIKey)
	s.handle(del, "/api/v1/admin/api-keys/:id", Requires(authz.AdminAPIKeys), s.revokeAPIKey)
	s.handle(get, "/api/v1/admin/grants", Requires(authz.AdminGrants).About(func(c *gin.Context) (string, error) { return "grants", nil }), s.listGrants)
	s.handle(post, "/api/v1/admin/grants", Requires(authz.AdminGrants).About(grantTarget), s.createGrant)
	s.handle(del, "/api/v1/admin/grants/:id", Requires(authz.AdminGrants).About(func(c *gin.Context) (string, error) { return "grant:" + c.Param("id"), nil }), s.revokeGrant)
	s.handle(get, "/api/v1/admin/subject-links", Requires(authz.AdminGrants).About(func(c *gin.Context) (string, error) { return "subject-links", nil }), s.listSubjectLinks)
	s.handle(post, "/api/v1/admin/subject-links", Requires(authz.AdminGrants).About(linkTarget), s.createSubjectLink)
	s.handle(del, "/api/v1/admin/subject-links/:id", Requires(authz.AdminGrants).About(func(c *gin.Context) (string, error) { return "subject-link:" + c.Param("id"), nil }), s.revokeSubjectLink)
	s.handle(get, "/api/v1/admin/users", Requires(authz.AdminGrants).About(func(c *gin.Context) (string, error) { return "users", nil }), s.listUsers)

	s.handle(get, "/api/v1/holds", Requires(authz.AdminHolds), s.listHolds)
	s.handle(post, "/api/v1/holds", Requires(authz.AdminHolds), s.createHold)
	s.handle(post, "/api/v1/holds/:id/release", Requires(authz.AdminHolds), s.releaseHold)
	s.handle(get, "/api/v1/retention/runs", Requires(authz.AdminRetention), s.listRetentionRuns)
	s.handle(post, "/api/v1/retention/runs", Requires(authz.AdminRetention), s.runRetention)
	s.handle(post, "/api/v1/reads/:id/correct", dataPermission[correctBody](authz.DataCorrect), s.correctRead)
	s.handle(post, "/api/v1/reads/:id/erase", dataPermission[eraseBody](authz.DataErase), s.eraseRead)
	s.handle(post, "/api/v1/subject-access", dataPermission[subjectAccessBody](authz.SARReport), s.subjectAccess)
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
	if err := s.auditReady(ctx); err != nil {
		checks["audit"] = err.Error()
		ready = false
	} else {
		checks["audit"] = "ok"
	}
	for _, rc := range s.deps.Ready {
		if err := rc.Check(ctx); err != nil {
			checks[rc.Name] = err.Error()
			ready = false
		} else {
			checks[rc.Name] = "ok"
		}
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

// auditReady checks the audit log: its writer where the log can say whether that runs (a log
// with Ready), else that its newest checkpoint can be read. Without a working writer every
// search would answer 503, so the portal is not ready.
func (s *Server) auditReady(ctx context.Context) error {
	if w, ok := s.deps.Audit.(interface{ Ping(context.Context) error }); ok {
		return w.Ping(ctx)
	}
	if _, err := s.deps.Audit.LatestCheckpoint(ctx); err != nil && !errors.Is(err, audit.ErrNotFound) {
		return err
	}
	return nil
}
