package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/httpapi"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/images"
	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/reasontoken"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/internal/store/elastic"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
	"github.com/anpr-portal/anpr/policies"
)

// readStack is the read store with the ingest path in front of it, shared by serve and ingest.
type readStack struct {
	store  reads.Store
	cams   *ingest.CameraCache // the camera registry in memory, for ingest and search
	writer *ingest.Writer
	valid  *ingest.Validator
	cfg    config.Config
}

func openReadStack(ctx context.Context, cfg config.Config, log *slog.Logger) (*readStack, error) {
	store, err := openReadStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	st, err := newReadStack(ctx, cfg, log, store)
	if err != nil {
		store.Close()
	}
	return st, err
}

// newReadStack puts the ingest path in front of an open store.
func newReadStack(ctx context.Context, cfg config.Config, log *slog.Logger, store reads.Store) (*readStack, error) {
	cams, err := ingest.NewCameraCache(ctx, store, time.Now, 10*time.Second, log)
	if err != nil {
		return nil, fmt.Errorf("load camera registry: %w", err)
	}
	return &readStack{
		store:  store,
		cams:   cams,
		writer: ingest.NewWriter(store, cfg.Ingest.QueueBatches),
		valid:  &ingest.Validator{Cameras: cams, Now: time.Now, ClockSkew: cfg.Ingest.ClockSkew},
		cfg:    cfg,
	}, nil
}

func (s *readStack) pipeline() *ingest.Pipeline {
	return &ingest.Pipeline{
		Validator:    s.valid,
		Writer:       s.writer,
		BatchSize:    s.cfg.Ingest.BatchSize,
		MaxLineBytes: s.cfg.Ingest.MaxLineBytes,
		MaxErrors:    s.cfg.Ingest.MaxErrors,
		SubmitWait:   30 * time.Second,
	}
}

// close drains the writer (every queued batch is stored) and then closes the store.
func (s *readStack) close(ctx context.Context) error {
	werr := s.writer.Close(ctx)
	return errors.Join(werr, s.store.Close())
}

// app is the whole portal: reads, audit, identity, policy and the HTTP API over them.
type app struct {
	reads    *readStack
	auditLog auditBackend
	idStore  identityBackend
	ident    *identity.Service
	server   *httpapi.Server
	data     *dataServices // holds, retention, data rights (retention_cmd.go)
	// authStore is closed with the app when the app opened it (SQLite); authority ends the
	// approvers' event streams at shutdown.
	authStore io.Closer
	authority *authority.Service
}

// appOption adjusts the identity configuration openApp wires, for callers other than serve: the
// benchmark maps an API key scope to the investigator role so that its load is authorised by
// the real identity service and policy.
type appOption func(*identity.Config)

// openApp wires every part over an already opened read store, which the caller keeps and closes.
//
// On an error, what it had opened is closed again, and the error returned is the one that stopped
// the start (a data directory another process is serving, say), never one from the clean-up.
func openApp(ctx context.Context, cfg config.Config, log *slog.Logger, store reads.Store, opts ...appOption) (_ *app, err error) {
	// a is not the named result: "return nil, err" sets that to nil before deferred calls run, and
	// the clean-up must still see what was opened.
	a := &app{}
	defer func() {
		if err != nil {
			if cerr := a.close(context.Background()); cerr != nil {
				log.Warn("closing what a failed start had opened", "err", cerr)
			}
		}
	}()
	if a.reads, err = newReadStack(ctx, cfg, log, store); err != nil {
		return nil, err
	}
	var keys audit.Keyring
	if a.auditLog, keys, err = openAuditStore(ctx, cfg, log, time.Now); err != nil {
		return nil, err
	}
	if a.idStore, err = openIdentityStore(ctx, cfg, log); err != nil {
		return nil, err
	}
	ic := identityConfig(cfg)
	for _, o := range opts {
		o(&ic)
	}
	// The services record their own refusals through tracked; the HTTP layer then knows not to
	// record a request's refusal twice (httpapi.TrackDenials).
	tracked := httpapi.TrackDenials(a.auditLog)
	if a.ident, err = identity.NewService(ic, identity.Deps{Store: a.idStore, Audit: tracked, Logger: log}); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	// The policy compares ranks in the order the identity service maps them into.
	var ranks []authz.Rank
	for _, r := range a.ident.Config().Ranks {
		ranks = append(ranks, authz.Rank(r))
	}
	az, err := authz.New(authz.Config{Bands: authz.Bands{Band1: cfg.Data.Band1, Retention: cfg.Data.Retention},
		MinApproverRank: authz.Rank(cfg.Authority.MinApproverRank), Ranks: ranks},
		authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, time.Now)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	// The search service shares the authorizer's clock, so a window's band and its "not in the
	// future" check are judged at the same instant.
	if a.data, err = openDataServices(ctx, cfg, log, store, tracked, az); err != nil {
		return nil, err
	}
	if err := a.openAuthority(ctx, cfg, store, tracked, az); err != nil {
		return nil, err
	}
	// Images live beside the databases, in one content-addressed directory whatever the read
	// backend (see package images).
	imgs, err := images.Open(imageDir(cfg))
	if err != nil {
		return nil, err
	}
	scfg, err := searchConfig(cfg)
	if err != nil {
		return nil, err
	}
	reasons, err := reasonSealer(scfg.CursorKey)
	if err != nil {
		return nil, err
	}
	svc, err := search.New(search.Deps{Reads: store, Cameras: a.reads.cams, Audit: tracked, Authz: az, Authorities: a.authority, Images: imgs, Now: time.Now}, scfg)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	a.server = httpapi.New(httpapi.Deps{
		Log:      log,
		Store:    store,
		Registry: httpapi.NewRegistry(),
		Ingest: &httpapi.IngestService{
			Pipeline:     a.reads.pipeline,
			Writer:       a.reads.writer,
			MaxBodyBytes: cfg.Ingest.MaxBodyBytes,
			RetryAfter:   cfg.Ingest.RetryAfter,
		},
		Identity:     a.ident,
		Authz:        az,
		Audit:        a.auditLog,
		Reviewer:     audit.Reviewer{Log: a.auditLog},
		Transparency: audit.NewTransparency(nil),
		AuditKeys:    keys.Text(),
		Search:       svc,
		Holds:        a.data.holds,
		Retention:    a.data.retention,
		DataRights:   a.data.rights,
		Authority:    a.authority,
		Ready:        append(readyChecks(store), portalReadyChecks(cfg, a.ident)...),
		ReasonTokens: reasons,
	})
	return a, nil
}

// openAuthority builds the prior-authority service on the backend of the read store: the
// Elasticsearch store keeps authorities in an index beside the reads; otherwise they live in
// SQLite. Approvers' event streams end when ctx does (serve cancels it as shutdown begins), so
// that the HTTP server's graceful shutdown does not wait for them.
func (a *app) openAuthority(ctx context.Context, cfg config.Config, store reads.Store, al audit.Appender, az *authz.Authorizer) error {
	var st authority.Store
	if es, ok := store.(*elastic.Store); ok {
		as, err := es.Authorities(ctx)
		if err != nil {
			return fmt.Errorf("authority store: %w", err)
		}
		st = as
	} else {
		as, err := sqlite.OpenAuthorityStore(ctx, cfg.Authority.Path, sqlite.AuthorityOptions{})
		if err != nil {
			return err
		}
		a.authStore, st = as, as
	}
	svc, err := authority.New(authority.Deps{Store: st, Audit: al, Authz: az, Cameras: store, Holds: a.data.holds, Now: time.Now},
		authority.Config{MaxUses: cfg.Authority.MaxUses, MaxExpiry: cfg.Authority.MaxExpiry})
	if err != nil {
		return fmt.Errorf("authority: %w", err)
	}
	a.authority = svc
	context.AfterFunc(ctx, svc.Close)
	return nil
}

// imageDir is where the plate-patch and overview images are kept: <data_dir>/images.
func imageDir(cfg config.Config) string { return filepath.Join(cfg.DataDir, "images") }

// searchConfig maps the search section onto the service's config (zero fields take its defaults)
// and loads the cursor key, creating the file on first start, so that cursors survive restarts
// and instances sharing the file accept each other's. No file configured: a random key per start.
func searchConfig(cfg config.Config) (search.Config, error) {
	sc := search.Config{
		MaxSpeedKPH:     float64(cfg.Search.MaxSpeedKPH),
		MinPatternFixed: cfg.Search.MinPatternFixed,
		DefaultPageSize: cfg.Search.DefaultPageSize,
		MaxPageSize:     cfg.Search.MaxPageSize,
		MaxCameras:      cfg.Search.MaxCameras,
	}
	if cfg.Search.CursorKeyFile != "" {
		key, err := search.LoadOrCreateCursorKey(cfg.Search.CursorKeyFile)
		if err != nil {
			return search.Config{}, err
		}
		sc.CursorKey = key
	}
	return sc, nil
}

// reasonSealer seals reason tokens under a key derived from the cursor key, so that instances
// sharing the cursor key file accept each other's tokens; without a key file, a key of this
// process (httpapi's default).
func reasonSealer(cursorKey []byte) (*reasontoken.Sealer, error) {
	if cursorKey == nil {
		return nil, nil
	}
	return reasontoken.New(cursorKey, 0, time.Now)
}

func identityConfig(cfg config.Config) identity.Config {
	ic := identity.Config{
		Issuer:               cfg.Identity.Issuer,
		ClientID:             cfg.Identity.ClientID,
		ClientSecret:         cfg.Identity.ClientSecret,
		RedirectURL:          cfg.Identity.RedirectURL,
		PostLogoutURL:        cfg.Identity.PostLogoutURL,
		Scopes:               cfg.Identity.Scopes,
		AccessContact:        cfg.Identity.AccessContact,
		RoleMapping:          identity.RoleMapping{Claim: cfg.Identity.Roles.Claim, Prefix: cfg.Identity.Roles.Prefix, Map: cfg.Identity.Roles.Map},
		RankMapping:          identity.RankMapping{Claim: cfg.Identity.Rank.Claim, Prefix: cfg.Identity.Rank.Prefix, Map: cfg.Identity.Rank.Map},
		Ranks:                cfg.Identity.Rank.Order,
		AllowInsecureCookies: cfg.Identity.AllowInsecureCookies,
		SigningKeyFile:       cfg.Identity.SessionKeyFile,
		SessionTTL:           cfg.Identity.SessionTTL,
		SessionIdleTTL:       cfg.Identity.SessionIdleTTL,
	}
	ic.AccessTokens.Audience = cfg.Identity.AccessTokenAudience
	// Verified API keys are trusted from memory for 2s: revocation through this portal is still
	// immediate, by another instance sharing the store within 2s (see identity.APIKeyCacheTTL).
	ic.APIKeyCacheTTL = identity.DefaultAPIKeyCacheTTL
	return ic
}

// close stops what openApp started, in order: drain ingest, then the identity store and the
// audit log (last, so everything before it could still be recorded). The read store belongs to
// whoever opened it and passed it in, and stays open.
func (a *app) close(ctx context.Context) error {
	var errs []error
	if a.reads != nil {
		errs = append(errs, a.reads.writer.Close(ctx))
	}
	if a.data != nil { // before the audit log: a retention run in progress records its outcome
		errs = append(errs, a.data.close())
	}
	if a.authority != nil {
		a.authority.Close()
	}
	if a.authStore != nil {
		errs = append(errs, a.authStore.Close())
	}
	if a.idStore != nil {
		errs = append(errs, a.idStore.Close())
	}
	if a.auditLog != nil {
		errs = append(errs, a.auditLog.Close())
	}
	return errors.Join(errs...)
}
