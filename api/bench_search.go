package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/bench"
	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

// benchSearchScope is the API key scope the search benchmark's client holds. The benchmark's
// portal maps it to the investigator role, so every search it sends is authenticated by the
// identity service, decided by the policy and audited like an investigator's; nothing is bypassed.
const benchSearchScope = "bench:search"

// benchSearch measures every search type end to end over HTTP against the store the read
// benchmark loaded (raw.db in dir, n reads generated with seed 1 at now), beside the raw store.
func benchSearch(ctx context.Context, cfg config.Config, log *slog.Logger, dir string, n int64, now time.Time, queries int, progress io.Writer) ([]bench.Row, error) {
	store, err := sqlite.Open(ctx, filepath.Join(dir, "raw.db"), readsOptions(cfg))
	if err != nil {
		return nil, err
	}
	defer store.Close()
	asInvestigator := func(ic *identity.Config) {
		ic.APIKeyScopes = map[string]string{identity.ScopeReadsIngest: identity.RoleIngest, benchSearchScope: identity.RoleInvestigator}
	}
	// One authority per sensitive type covers all of that type's searches (warm-up included).
	cfg.Authority.MaxUses = max(cfg.Authority.MaxUses, queries+queries/2)
	p, err := startBenchPortal(ctx, cfg, log, filepath.Join(dir, "portal-search"), store, benchSearchScope, asInvestigator)
	if err != nil {
		return nil, err
	}
	rows, err := bench.RunSearch(ctx, bench.SearchOptions{
		URL: p.url, Key: p.key, Store: store, Seed: 1, Reads: n, Now: now,
		Queries: queries, Clients: 64, Exports: 5, Progress: progress,
		Authorize: benchAuthorizer(p.app.authority, p.subject),
	})
	return rows, errors.Join(err, p.stop())
}

// benchAuthorityReason is the reason the benchmark's authorities give: the one its searches give
// (bench's benchReason), as an authority's purpose must match its searches'.
var benchAuthorityReason = authz.Reason{
	Purpose: "stolen_vehicle", CaseRef: "MPS/12345/26", OffenceCode: "TH68010",
	Justification: "benchmark of the audited search path: vehicle reported stolen from a driveway overnight, route wanted",
}

// benchAuthorizer gets authorities for the benchmark's API key through the real authority
// service, as a person would through the API: the key's principal requests, and a second bench
// principal, an authorising officer of inspector rank, approves (nobody approves their own).
func benchAuthorizer(svc *authority.Service, subject string) func(context.Context, bench.AuthorityScope) (string, error) {
	requester := search.Caller{Subject: subject, Name: "bench", Roles: []string{identity.RoleInvestigator}, RequestID: "bench-authority-request"}
	approver := search.Caller{Subject: "bench:inspector", Name: "bench inspector", Roles: []string{identity.RoleAuthorisingOfficer},
		Rank: string(authz.Inspector), RequestID: "bench-authority-approve"}
	return func(ctx context.Context, s bench.AuthorityScope) (string, error) {
		sc := authority.Scope{VRMs: s.VRMs, Cameras: s.Cameras, From: s.From, To: s.To, SearchTypes: []string{s.Type}}
		sc.Area = s.Area
		v, err := svc.Request(ctx, requester, authority.Request{Reason: benchAuthorityReason, Scope: sc, ExpiresAt: time.Now().Add(24 * time.Hour), MaxUses: s.Uses})
		if err != nil {
			return "", fmt.Errorf("request: %w", err)
		}
		if _, err := svc.Approve(ctx, approver, v.ID, authority.Decision{Reason: "benchmark: approved to measure the authorised search path"}); err != nil {
			return "", fmt.Errorf("approve %s: %w", v.ID, err)
		}
		return v.ID, nil
	}
}
