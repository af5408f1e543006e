package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/diskcheck"
	"github.com/anpr-portal/anpr/internal/httpapi"
	"github.com/anpr-portal/anpr/internal/identity"
)

// portalReadyChecks are the /readyz checks beyond the stores answering: the identity provider
// (logins need its discovery document and signing keys) and every directory the portal writes to.
func portalReadyChecks(cfg config.Config, ident *identity.Service) []httpapi.ReadyCheck {
	dirs := writeDirs(cfg)
	return []httpapi.ReadyCheck{
		{Name: "identity", Check: ident.CheckProvider},
		{Name: "disk", Check: func(context.Context) error { return diskcheck.Dirs(dirs, cfg.Readiness.MinFreeBytes) }},
	}
}

// writeDirs are the directories the portal writes to: the data directory (images, keys), the
// audit anchor's, and on the SQLite backend every database's.
func writeDirs(cfg config.Config) []string {
	dirs := []string{cfg.DataDir, imageDir(cfg)}
	if cfg.Audit.AnchorFile != "" {
		dirs = append(dirs, filepath.Dir(cfg.Audit.AnchorFile))
	}
	if cfg.Backend == "sqlite" {
		for _, p := range []string{cfg.SQLite.Path, cfg.Audit.Path, cfg.Identity.Path, cfg.Authority.Path, cfg.Retention.Path} {
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	return dirs
}

// Backoff between checks of an identity provider that was unreachable at start.
const (
	idpRetryMin = time.Second
	idpRetryMax = time.Minute
)

// checkIdentityProvider runs at start. By default an unreachable identity provider is logged
// once as a warning and retried in the background until it answers (the retries end with ctx);
// with readiness.require_identity_provider it is an error, and serve exits non-zero.
func checkIdentityProvider(ctx context.Context, cfg config.Config, log *slog.Logger, ident *identity.Service) error {
	if !cfg.Readiness.RequireIdentityProvider {
		go func() { _ = ident.AwaitProvider(ctx, idpRetryMin, idpRetryMax) }()
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := ident.CheckProvider(cctx); err != nil {
		return fmt.Errorf("%w (readiness.require_identity_provider is set, so the portal does not start without it)", err)
	}
	log.Info("identity provider reachable", "issuer", cfg.Identity.Issuer)
	return nil
}
