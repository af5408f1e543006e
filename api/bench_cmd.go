package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/audit/auditbench"
	"github.com/anpr-portal/anpr/internal/bench"
	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

func benchCmd(g *globals) *cobra.Command {
	var (
		n           int64
		queries     int
		dir         string
		jsonOut     string
		markdown    string
		auditEvents int
		cpuProfile  string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the portal end to end beside the raw backend and print the table",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			// Per-request logs would flood the terminal and cost time that no deployment spends on
			// a terminal; warnings and errors still show.
			log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			if dir == "" {
				if dir, err = os.MkdirTemp("", "anpr-bench-"); err != nil {
					return err
				}
				defer os.RemoveAll(dir)
			} else if err := os.MkdirAll(dir, 0o700); err != nil {
				return err
			}
			if cpuProfile != "" {
				// The whole process: the load generators and the portal they load run in it.
				f, err := os.Create(cpuProfile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
				defer pprof.StopCPUProfile()
			}
			ctx := cmd.Context()
			rep := bench.Report{Started: time.Now(), Machine: bench.ThisMachine(),
				Params: fmt.Sprintf("%d synthetic reads (seed 1), %d lookups per query type, SQLite backend", n, queries)}
			openStore := func(ctx context.Context, path string) (reads.Store, error) {
				return sqlite.Open(ctx, path, sqlite.Options{MaxConns: cfg.SQLite.MaxConns})
			}
			startServer := func(ctx context.Context, store reads.Store) (string, string, func() error, error) {
				return benchServer(ctx, cfg, log, dir, store)
			}
			now := time.Now().UTC()
			rows, err := bench.RunReads(ctx, bench.ReadOptions{
				Dir: dir, Reads: n, Seed: 1, Now: now, Queries: queries, Uploaders: 2, ChunkLines: 20000,
				OpenStore: openStore, StartServer: startServer, Progress: cmd.ErrOrStderr(),
			})
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, rows...)
			srows, err := benchSearch(ctx, cfg, log, dir, n, now, queries, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, srows...)
			arows, err := benchAudit(ctx, dir, auditEvents)
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, arows...)
			rep.Duration = time.Since(rep.Started).Round(time.Second).String()
			rep.Markdown(cmd.OutOrStdout())
			if jsonOut != "" {
				b, _ := json.MarshalIndent(rep, "", "  ")
				if err := os.WriteFile(jsonOut, b, 0o644); err != nil {
					return err
				}
			}
			if markdown != "" {
				if err := writeBenchDoc(markdown, rep); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&n, "reads", 10_000_000, "reads to load")
	cmd.Flags().IntVar(&queries, "queries", 2000, "lookups per query type")
	cmd.Flags().IntVar(&auditEvents, "audit-events", 20000, "audit events per audit phase")
	cmd.Flags().StringVar(&dir, "dir", "", "scratch directory (default: a temporary one, removed after)")
	cmd.Flags().StringVar(&jsonOut, "json", "", "also write the report as JSON to this file")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	cmd.Flags().StringVar(&markdown, "markdown", "", "also write the report as a Markdown page (docs/benchmarks.md)")
	return cmd
}

func writeBenchDoc(path string, rep bench.Report) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprint(f, `# Benchmarks

Written by `+"`make bench`"+` (`+"`anpr bench --markdown docs/benchmarks.md`"+`). Each row puts the portal's
end-to-end figure beside the raw backend's for the same work, measured in the same run. Lookups
in the first table are the raw store's (the walking skeleton's targets); the search table times
each search type end to end over HTTP (API key, policy decision, durable audit intent and outcome,
JSON) beside the raw store call for the same query. The raw append figure times
only the store calls, while the data is being generated; the HTTP path overlaps parsing on one
core with writing on the other, which is why it can come out ahead. Figures are from one run on a
shared 2-core machine: read them as orders of magnitude and ratios.

`)
	rep.Markdown(f)
	return f.Close()
}

// benchServer runs the real portal (identity, policy, audit, ingest) over store on loopback and
// issues it an ingest API key, exactly as a camera back-office would be given one.
func benchServer(ctx context.Context, cfg config.Config, log *slog.Logger, dir string, store reads.Store) (string, string, func() error, error) {
	return benchPortal(ctx, cfg, log, filepath.Join(dir, "portal"), store, identity.ScopeReadsIngest)
}

// benchPortal runs the real portal over store on loopback, its own audit log, keys and identity
// store under dataDir, and issues an API key with scope, through the identity service. opts
// adjust the identity configuration (the search benchmark maps its scope to a person's role).
func benchPortal(ctx context.Context, cfg config.Config, log *slog.Logger, dataDir string, store reads.Store, scope string, opts ...appOption) (string, string, func() error, error) {
	cfg.DataDir = dataDir
	cfg.Audit = config.Default().Audit
	cfg.Audit.Path = filepath.Join(cfg.DataDir, "audit.db")
	cfg.Audit.AnchorFile = filepath.Join(cfg.DataDir, "audit-anchor.log")
	cfg.Audit.KeyDir = filepath.Join(cfg.DataDir, "audit-keys")
	cfg.Audit.Chain = "main"
	cfg.Identity.Path = filepath.Join(cfg.DataDir, "identity.db")
	cfg.Identity.SessionKeyFile = filepath.Join(cfg.DataDir, "session.key")
	// Machine clients never talk to the IdP, so the bench needs none; discovery is lazy.
	cfg.Identity.Issuer, cfg.Identity.ClientID = "http://127.0.0.1:9/bench-has-no-idp", "anpr-portal"
	cfg.Identity.RedirectURL = "http://127.0.0.1:8080/auth/callback"
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", "", nil, err
	}
	if _, err := audit.InitKeys(cfg.Audit.KeyDir, "anpr-bench", rand.Reader); err != nil {
		return "", "", nil, err
	}
	a, err := openApp(ctx, cfg, log, store, opts...)
	if err != nil {
		return "", "", nil, err
	}
	key, _, err := a.ident.CreateAPIKeyAsOperator(ctx, "bench", identity.APIKeyRequest{Name: "bench", Scopes: []string{scope}})
	if err != nil {
		a.close(context.Background())
		return "", "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.close(context.Background())
		return "", "", nil, err
	}
	hs := &http.Server{Handler: a.server.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// The store belongs to the caller, and a.close leaves it open.
		return errors.Join(hs.Shutdown(sctx), a.close(sctx))
	}
	return "http://" + ln.Addr().String(), key, stop, nil
}

// benchAudit measures the real SQLite audit log: one writer waiting for each durable append,
// 64 concurrent appenders sharing commits, and verification; beside the raw write+fsync rate of
// the same disk, which bounds a writer that waits for every commit.
func benchAudit(ctx context.Context, dir string, events int) ([]bench.Row, error) {
	adir := filepath.Join(dir, "audit")
	if err := os.MkdirAll(adir, 0o700); err != nil {
		return nil, err
	}
	if _, err := audit.InitKeys(filepath.Join(adir, "keys"), "anpr-bench", rand.Reader); err != nil {
		return nil, err
	}
	signer, err := audit.LoadSigner(filepath.Join(adir, "keys"))
	if err != nil {
		return nil, err
	}
	keys, err := audit.LoadKeyring(filepath.Join(adir, "keys"))
	if err != nil {
		return nil, err
	}
	res, err := auditbench.Run(ctx, auditbench.Config{
		Events: events, Concurrency: 64, Dir: adir,
		Open: func(ctx context.Context, phase string) (auditbench.Log, error) {
			anchor := audit.NewFileAnchor(filepath.Join(adir, phase+".anchor"))
			l, err := sqlite.OpenAuditLog(ctx, filepath.Join(adir, phase+".db"), sqlite.AuditOptions{Signer: signer, Anchor: anchor})
			if err != nil {
				return auditbench.Log{}, err
			}
			return auditbench.Log{Appender: l, Source: l, Anchor: anchor, Verifiers: keys.Verifiers(), Close: l.Close}, nil
		},
	})
	if err != nil {
		return nil, err
	}
	sec := "Audit log (SQLite, synchronous=FULL: every append durable before it returns)"
	raw := 0.0
	if res.RawFsync != nil {
		raw = res.RawFsync.PerSecond
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return []bench.Row{
		{Section: sec, Name: "appends/s, 1 writer (raw: 4 KiB write+fsync/s on the same disk)", Unit: "events/s", Ours: res.Single.PerSecond, Raw: raw,
			Note: fmt.Sprintf("p50 %.2f ms, p99 %.2f ms", ms(res.Single.P50), ms(res.Single.P99))},
		{Section: sec, Name: "appends/s, 64 concurrent appenders (group commit)", Unit: "events/s", Ours: res.Concurrent.PerSecond, Raw: raw,
			Note:   fmt.Sprintf("p50 %.2f ms, p99 %.2f ms", ms(res.Concurrent.P50), ms(res.Concurrent.P99)),
			Target: ">= 4,000/s (2,000 audited searches/s x 2 events)", Met: bench.Met(res.Concurrent.PerSecond >= 4000)},
		{Section: sec, Name: "append p99 latency, 64 concurrent", Unit: "ms", Ours: ms(res.Concurrent.P99)},
		{Section: sec, Name: "verify (recompute tree, check signatures and anchor)", Unit: "events/s", Ours: res.Verify.PerSecond},
	}, nil
}
