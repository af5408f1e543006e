package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/httpapi"
	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

func serveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the portal API",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			return serve(cmd.Context(), cfg, log)
		},
	}
}

// readStack is the read store with the ingest path in front of it, shared by serve and ingest.
type readStack struct {
	store  reads.Store
	writer *ingest.Writer
	valid  *ingest.Validator
	cfg    config.Config
}

func openReadStack(ctx context.Context, cfg config.Config, log *slog.Logger) (*readStack, error) {
	if err := os.MkdirAll(filepath.Dir(cfg.SQLite.Path), 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	store, err := sqlite.Open(ctx, cfg.SQLite.Path, sqlite.Options{MaxConns: cfg.SQLite.MaxConns})
	if err != nil {
		return nil, err
	}
	return newReadStack(ctx, cfg, log, store)
}

// newReadStack puts the ingest path in front of an open store.
func newReadStack(ctx context.Context, cfg config.Config, log *slog.Logger, store reads.Store) (*readStack, error) {
	cams, err := ingest.NewCameraCache(ctx, store, time.Now, 10*time.Second, log)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("load camera registry: %w", err)
	}
	return &readStack{
		store:  store,
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

// server builds the HTTP API over the stack.
func (s *readStack) server(log *slog.Logger) *httpapi.Server {
	return httpapi.New(httpapi.Deps{
		Log:      log,
		Store:    s.store,
		Registry: httpapi.NewRegistry(),
		Ingest: &httpapi.IngestService{
			Pipeline:     s.pipeline,
			Writer:       s.writer,
			Keys:         httpapi.NewAPIKeys(s.cfg.Ingest.APIKeySHA256),
			MaxBodyBytes: s.cfg.Ingest.MaxBodyBytes,
			RetryAfter:   s.cfg.Ingest.RetryAfter,
		},
	})
}

// close drains the writer (every queued batch is stored) and then closes the store.
func (s *readStack) close(ctx context.Context) error {
	werr := s.writer.Close(ctx)
	return errors.Join(werr, s.store.Close())
}

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	stack, err := openReadStack(ctx, cfg, log)
	if err != nil {
		return err
	}
	if len(cfg.Ingest.APIKeySHA256) == 0 {
		log.Warn("no ingest API key configured: POST /api/v1/reads:bulk will refuse every request")
	}
	srv := stack.server(log)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		stack.close(context.Background())
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("serving", "url", "http://"+ln.Addr().String(), "backend", cfg.Backend, "db", cfg.SQLite.Path)
	fmt.Fprintf(os.Stderr, "\nANPR portal listening on http://%s  (health: /healthz, ready: /readyz, metrics: /metrics)\n\n", ln.Addr())

	select {
	case err := <-errc:
		stack.close(context.Background())
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// Graceful shutdown: stop accepting, let in-flight uploads finish (their batches are waited
	// for inside the handler), then drain the writer and close the store.
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	herr := hs.Shutdown(sctx)
	cerr := stack.close(sctx)
	if err := errors.Join(herr, cerr); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped cleanly")
	return nil
}
