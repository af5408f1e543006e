package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/httpapi"
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

func serve(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	if err := cfg.ValidateServe(); err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	store, err := openReadStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, log, store)
	if err != nil {
		store.Close()
		return err
	}
	a.data.startJob(cfg, log) // the scheduled retention job; app.close stops it
	// Stop the portal, then the store it served.
	closeAll := func(ctx context.Context) error { return errors.Join(a.close(ctx), store.Close()) }
	if err := checkIdentityProvider(ctx, cfg, log, a.ident); err != nil {
		closeAll(context.Background())
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		closeAll(context.Background())
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	hs := httpapi.NewHTTPServer(&http.Server{
		Handler:           a.server.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	})
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("serving", "url", "http://"+ln.Addr().String(), "backend", cfg.Backend, "store", storeLocation(cfg), "issuer", cfg.Identity.Issuer)
	fmt.Fprintf(os.Stderr, "\nANPR portal listening on http://%s  (health: /healthz, ready: /readyz, metrics: /metrics)\n\n", ln.Addr())

	select {
	case err := <-errc:
		closeAll(context.Background())
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	// Graceful shutdown: stop accepting, let in-flight requests finish (uploads wait for their
	// batches inside the handler) for shutdown_timeout; requests still running then are cut short
	// and answer 503 with Retry-After before their connections close. Then drain the writer and
	// close the stores, audit log last, with a fresh shutdown_timeout of their own.
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	drain, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	cut, herr := hs.Shutdown(drain, shutdownAnswerWait)
	if cut {
		log.Warn("shutdown timeout reached with requests in flight: they were answered 503 with Retry-After", "timeout", cfg.ShutdownTimeout)
	}
	cctx, ccancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer ccancel()
	if err := errors.Join(herr, closeAll(cctx)); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped cleanly")
	return nil
}

// shutdownAnswerWait is how long requests cut short at shutdown get to write their 503: they
// only have to notice their cancelled context and answer.
const shutdownAnswerWait = 5 * time.Second
