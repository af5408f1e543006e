package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/anpr-portal/anpr/internal/bench"
	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

// benchAuditScope is the API key scope of the soak's auditors, mapped to the auditor role: their
// audit log queries are decided by the policy and audited like an auditor's.
const benchAuditScope = "bench:audit"

// soakBudget is the RSS the portal should stay within under the soak at the default settings.
const soakBudget = 512 << 20

// benchSoak runs the soak phase: the real portal over the store the read benchmark loaded
// (raw.db in dir, n reads generated with seed 1 at now), under mixed load for d, with the
// process's memory sampled. The portal's settings are cfg's, so the figures are those of the
// configured (by default, the documented default) memory settings.
func benchSoak(ctx context.Context, cfg config.Config, log *slog.Logger, dir string, n int64, now time.Time, d time.Duration, progress io.Writer) (bench.Soak, error) {
	store, err := sqlite.Open(ctx, filepath.Join(dir, "raw.db"), readsOptions(cfg))
	if err != nil {
		return bench.Soak{}, err
	}
	defer store.Close()
	roles := func(ic *identity.Config) {
		ic.APIKeyScopes = map[string]string{identity.ScopeReadsIngest: identity.RoleIngest,
			benchSearchScope: identity.RoleInvestigator, benchAuditScope: identity.RoleAuditor}
	}
	p, err := startBenchPortal(ctx, cfg, log, filepath.Join(dir, "portal-soak"), store, benchSearchScope, roles)
	if err != nil {
		return bench.Soak{}, err
	}
	defer p.stop()
	keys := map[string]string{}
	for _, scope := range []string{identity.ScopeReadsIngest, benchAuditScope} {
		k, _, err := p.app.ident.CreateAPIKeyAsOperator(ctx, "bench", identity.APIKeyRequest{Name: "soak " + scope, Scopes: []string{scope}})
		if err != nil {
			return bench.Soak{}, fmt.Errorf("soak key %s: %w", scope, err)
		}
		keys[scope] = k
	}
	cams, err := store.Cameras(ctx)
	if err != nil {
		return bench.Soak{}, err
	}
	// The earlier phases ran in this process: return what they left to the OS, so the soak's
	// RSS is the portal's (and the load clients', a few MiB).
	debug.FreeOSMemory()
	return bench.RunSoak(ctx, bench.SoakOptions{
		URL: p.url, SearchKey: p.key, IngestKey: keys[identity.ScopeReadsIngest], AuditKey: keys[benchAuditScope],
		Seed: 1, Reads: n, Now: now, Cameras: cams, Duration: d, Budget: soakBudget, Progress: progress,
	})
}
