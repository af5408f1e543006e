package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/anpr-portal/anpr/internal/bench"
	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

// benchSearchScope is the API key scope the search benchmark's client holds. The benchmark's
// portal maps it to the investigator role, so every search it sends is authenticated by the
// identity service, decided by the policy and audited like an investigator's; nothing is bypassed.
const benchSearchScope = "bench:search"

// benchSearch measures every search type end to end over HTTP against the store the read
// benchmark loaded (raw.db in dir, n reads generated with seed 1 at now), beside the raw store.
func benchSearch(ctx context.Context, cfg config.Config, log *slog.Logger, dir string, n int64, now time.Time, queries int, progress io.Writer) ([]bench.Row, error) {
	store, err := sqlite.Open(ctx, filepath.Join(dir, "raw.db"), sqlite.Options{MaxConns: cfg.SQLite.MaxConns})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	asInvestigator := func(ic *identity.Config) {
		ic.APIKeyScopes = map[string]string{identity.ScopeReadsIngest: identity.RoleIngest, benchSearchScope: identity.RoleInvestigator}
	}
	url, key, stop, err := benchPortal(ctx, cfg, log, filepath.Join(dir, "portal-search"), store, benchSearchScope, asInvestigator)
	if err != nil {
		return nil, err
	}
	rows, err := bench.RunSearch(ctx, bench.SearchOptions{
		URL: url, Key: key, Store: store, Seed: 1, Reads: n, Now: now,
		Queries: queries, Clients: 64, Exports: 5, Progress: progress,
	})
	return rows, errors.Join(err, stop())
}
