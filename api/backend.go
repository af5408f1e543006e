package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/httpapi"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/elastic"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

// The one place each store is chosen, by cfg.Backend: openReadStore, openAuditStore and
// openIdentityStore.

// auditBackend is what the portal needs of an audit log.
type auditBackend interface {
	httpapi.AuditLog // append, read, scan, latest checkpoint
	Close() error
}

// identityBackend is what the portal needs of the identity store.
type identityBackend interface {
	identity.Store
	Close() error
}

// openReadStore opens the reads store the config selects.
func openReadStore(ctx context.Context, cfg config.Config, log *slog.Logger) (reads.Store, error) {
	switch cfg.Backend {
	case "elasticsearch":
		ec, err := elasticConfig(cfg, log)
		if err != nil {
			return nil, err
		}
		// The portal's role may not manage templates: `anpr es setup` made them. Say so plainly
		// if it has not run, rather than failing the first search.
		ec.SkipSetup = true
		s, err := elastic.Open(ctx, ec)
		if err != nil {
			return nil, err
		}
		if err := s.CheckSetup(ctx); err != nil {
			s.Close()
			return nil, err
		}
		return s, nil
	default:
		if err := os.MkdirAll(filepath.Dir(cfg.SQLite.Path), 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		s, err := sqlite.Open(ctx, cfg.SQLite.Path, readsOptions(cfg))
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// openAuditStore opens the audit log writer on the configured backend. On Elasticsearch the log
// lives in the cluster (create-only documents, a writer lease); the signing keys and the external
// anchor stay where the config names them, outside the cluster the log is kept in.
func openAuditStore(ctx context.Context, cfg config.Config, log *slog.Logger, clock func() time.Time) (auditBackend, audit.Keyring, error) {
	signer, err := audit.LoadSigner(cfg.Audit.KeyDir)
	if err != nil {
		return nil, audit.Keyring{}, fmt.Errorf("audit signing key: %w (create one with: anpr audit keys init)", err)
	}
	keys, err := audit.LoadKeyring(cfg.Audit.KeyDir)
	if err != nil {
		return nil, audit.Keyring{}, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, audit.Keyring{}, err
	}
	seq := audit.SequencerOptions{
		Chain: cfg.Audit.Chain, Signer: signer, Anchor: auditAnchor(cfg),
		CheckpointEvery: cfg.Audit.CheckpointEvery, CheckpointInterval: cfg.Audit.CheckpointInterval,
		Clock: clock,
	}
	if cfg.Backend == "elasticsearch" {
		ec, err := elasticConfig(cfg, log)
		if err != nil {
			return nil, audit.Keyring{}, err
		}
		l, err := elastic.OpenAuditLog(ctx, ec, elastic.AuditOptions{SequencerOptions: seq})
		if err != nil {
			return nil, audit.Keyring{}, fmt.Errorf("audit log: %w", err)
		}
		return l, keys, nil
	}
	l, err := sqlite.OpenAuditLog(ctx, cfg.Audit.Path, sqlite.AuditOptions{
		Chain: seq.Chain, Signer: seq.Signer, Anchor: seq.Anchor,
		CheckpointEvery: seq.CheckpointEvery, CheckpointInterval: seq.CheckpointInterval, Clock: seq.Clock,
	})
	if err != nil {
		// Not l itself: a nil *AuditLog in the interface would not compare equal to nil.
		return nil, audit.Keyring{}, err
	}
	return l, keys, nil
}

// auditSource is the stored log as verification reads it, read-only.
type auditSource interface {
	audit.VerifySource
	Close() error
}

// openAuditSource opens the stored audit log of the configured backend for verification.
func openAuditSource(ctx context.Context, cfg config.Config, log *slog.Logger) (auditSource, error) {
	if cfg.Backend == "elasticsearch" {
		ec, err := elasticConfig(cfg, log)
		if err != nil {
			return nil, err
		}
		r, err := elastic.OpenAuditReader(ctx, ec, cfg.Audit.Chain)
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	r, err := sqlite.OpenAuditReader(ctx, cfg.Audit.Path)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// openIdentityStore opens sessions, API keys and grants on the configured backend, so that every
// portal instance in front of one cluster sees the same sessions and revocations.
func openIdentityStore(ctx context.Context, cfg config.Config, log *slog.Logger) (identityBackend, error) {
	if cfg.Backend == "elasticsearch" {
		ec, err := elasticConfig(cfg, log)
		if err != nil {
			return nil, err
		}
		st, err := elastic.OpenIdentityStore(ctx, ec)
		if err != nil {
			return nil, fmt.Errorf("identity store: %w", err)
		}
		return st, nil
	}
	st, err := sqlite.OpenIdentityStore(ctx, cfg.Identity.Path, sqlite.IdentityOptions{})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// elasticConfig is the elastic store's config from the portal's: addresses, credentials, the
// CA that signed the cluster's certificate, and the response timeout.
func elasticConfig(cfg config.Config, log *slog.Logger) (elastic.Config, error) {
	e := cfg.Elasticsearch
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = e.RequestTimeout
	if e.CAFile != "" {
		pem, err := os.ReadFile(e.CAFile)
		if err != nil {
			return elastic.Config{}, fmt.Errorf("elasticsearch.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return elastic.Config{}, fmt.Errorf("elasticsearch.ca_file %s: no PEM certificate in it", e.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if e.APIKeyFile != "" {
		raw, err := os.ReadFile(e.APIKeyFile)
		if err != nil {
			return elastic.Config{}, fmt.Errorf("elasticsearch.api_key_file: %w", err)
		}
		e.APIKey = strings.TrimSpace(string(raw))
	}
	return elastic.Config{
		Addresses:  e.URLs,
		Username:   e.Username,
		Password:   e.Password,
		APIKey:     e.APIKey,
		Prefix:     e.IndexPrefix,
		Refresh:    e.Refresh,
		MaxRetries: e.MaxRetries,
		Transport:  tr,
		Logger:     log,
	}, nil
}

// readyChecks are the backend's own readiness checks beyond the store's ping: on Elasticsearch,
// a red cluster is not ready (some reads are unreachable), green and yellow are.
func readyChecks(store reads.Store) []httpapi.ReadyCheck {
	if h, ok := store.(interface{ ClusterHealth(context.Context) error }); ok {
		return []httpapi.ReadyCheck{{Name: "cluster", Check: h.ClusterHealth}}
	}
	return nil
}

// readsOptions are the SQLite reads store's options from the config.
func readsOptions(cfg config.Config) sqlite.Options {
	return sqlite.Options{MaxConns: cfg.SQLite.MaxConns,
		Memory: sqlite.Memory{CacheBytes: int64(cfg.SQLite.CacheMiB) << 20, MmapBytes: int64(cfg.SQLite.MmapMiB) << 20}}
}

// storeLocation says where the reads are, for the start-up log line.
func storeLocation(cfg config.Config) string {
	if cfg.Backend == "elasticsearch" {
		return fmt.Sprintf("%v (prefix %s)", cfg.Elasticsearch.URLs, cfg.Elasticsearch.IndexPrefix)
	}
	return cfg.SQLite.Path
}
