package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/audit/auditbench"
	"github.com/anpr-portal/anpr/internal/bench"
	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/identity"
	"github.com/anpr-portal/anpr/internal/proc"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/seed"
	"github.com/anpr-portal/anpr/internal/store/elastic"
	"github.com/anpr-portal/anpr/internal/store/elastic/esnode"
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
		soak        time.Duration
		es          esBenchOptions
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure the portal end to end beside the raw backend, on SQLite and Elasticsearch, and print the table",
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
			now := time.Now().UTC()
			// Refuse a bad Elasticsearch size now, not after the SQLite phases have run.
			if es.reads != 0 {
				sc := seed.Config{Seed: 1, Reads: es.reads, Now: now}
				if err := sc.CheckAndSetDefaults(); err != nil {
					return fmt.Errorf("--es-reads: %w", err)
				}
			}
			rep := bench.Report{Started: time.Now(), Machine: bench.ThisMachine()}
			openStore := func(ctx context.Context, path string) (reads.Store, error) {
				return sqlite.Open(ctx, path, readsOptions(cfg))
			}
			sqlDir := filepath.Join(dir, "sqlite")
			if err := os.MkdirAll(sqlDir, 0o700); err != nil {
				return err
			}
			startServer := func(ctx context.Context, store reads.Store) (string, string, func() error, error) {
				return benchServer(ctx, cfg, log, sqlDir, store)
			}
			rows, sqlFig, err := bench.RunReads(ctx, bench.ReadOptions{
				Dir: sqlDir, Reads: n, Seed: 1, Now: now, Queries: queries, Uploaders: 2, ChunkLines: 20000,
				OpenStore: openStore, StartServer: startServer, Progress: cmd.ErrOrStderr(),
			})
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, rows...)
			srows, err := benchSearch(ctx, cfg, log, sqlDir, n, now, queries, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, srows...)
			if soak > 0 {
				sk, err := benchSoak(ctx, cfg, log, sqlDir, n, now, soak, cmd.ErrOrStderr())
				if err != nil {
					return fmt.Errorf("soak: %w", err)
				}
				rep.Rows = append(rep.Rows, sk.Rows()...)
				rep.Soak = &sk
			}
			sqlAudit, err := runAuditBench(ctx, filepath.Join(dir, "audit"), auditEvents, true, sqliteAuditOpener)
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, auditRows("Audit log (SQLite, synchronous=FULL: every append durable before it returns)", sqlAudit)...)

			// Elasticsearch after SQLite, so that the SQLite figures are taken without a JVM
			// beside them.
			es.queries, es.auditEvents, es.now = queries, auditEvents, now
			esRes, err := benchElastic(ctx, cfg, log, filepath.Join(dir, "elasticsearch"), es, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			rep.Rows = append(rep.Rows, esRes.rows...)
			rep.Params = fmt.Sprintf("%d synthetic reads (seed 1) on SQLite; %s on Elasticsearch; %d lookups per query type; %d audit events per audit phase",
				n, esRes.size(), queries, auditEvents)
			rep.Backends = compareBackends(n, sqlFig, &sqlAudit, esRes)
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
	cmd.Flags().Int64Var(&n, "reads", 10_000_000, "reads to load into SQLite")
	cmd.Flags().IntVar(&queries, "queries", 2000, "lookups per query type")
	cmd.Flags().IntVar(&auditEvents, "audit-events", 20000, "audit events per audit phase")
	cmd.Flags().StringVar(&dir, "dir", "", "scratch directory (default: a temporary one, removed after)")
	cmd.Flags().StringVar(&jsonOut, "json", "", "also write the report as JSON to this file")
	cmd.Flags().DurationVar(&soak, "soak", 0, "run a soak phase of mixed load (searches, uploads, audit queries) for this long, sampling memory (make bench: 10m); 0 skips it")
	cmd.Flags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	cmd.Flags().StringVar(&markdown, "markdown", "", "also write the report as a Markdown page (docs/benchmarks.md)")
	cmd.Flags().Int64Var(&es.reads, "es-reads", 200_000, "reads to load into Elasticsearch (0: leave the Elasticsearch column unmeasured)")
	cmd.Flags().StringVar(&es.url, "es-url", "", "measure this Elasticsearch node (default: start a single node from the checkout's cached test distribution, and stop it after)")
	cmd.Flags().StringVar(&es.heap, "es-heap", "1g", "JVM heap of the node the benchmark starts")
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
in the first table are the raw store's; the search table times
each search type end to end over HTTP (API key, policy decision, durable audit intent and outcome,
JSON) beside the raw store call for the same query. The raw append figure times
only the store calls, while the data is being generated; the HTTP path overlaps parsing on one
core with writing on the other, which is why it can come out ahead. Figures are from one run on a
shared 2-core machine: read them as orders of magnitude and ratios.

The Elasticsearch figures come from a single node that the same run starts after the SQLite
phases (the test distribution `+"`make test`"+` uses, on the same 2 cores, heap set by `+"`--es-heap`"+`),
loaded with fewer reads (`+"`--es-reads`"+`): the sizes are in the column headings, so compare
the two columns as orders of magnitude, not as a race at equal size. Reads are bulk-written by
the Elasticsearch reads store with refresh off and the node refreshed once before the lookups,
which run the same query mix, warm-up included, as the SQLite rows. In its HTTP ingest row the
portal stores reads in Elasticsearch while its own audit log and identity store stay on SQLite.
The targets are set for SQLite; the Elasticsearch rows carry none. RSS is the portal process's
only, never the node's JVM. A figure that was not measured says so and why, never a number.

The soak phase (`+"`--soak`"+`, 10 minutes in `+"`make bench`"+`) runs the portal over the loaded SQLite
store, at the default memory settings (`+"`sqlite.cache_mib`"+` 16, `+"`sqlite.mmap_mib`"+` 0), under mixed
load: 32 clients searching (exact, partial, misread), one uploading batches of new reads, two
auditors querying the audit log. It samples the process's RSS, the Go heap live after each
collection and the goroutines; the first third of the run is warm-up. Flat means the median of
the last third is within 10 % of the median of the middle third. The process also holds the load
clients (a few MiB); what earlier phases left on the heap is returned to the OS before it starts.

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
	p, err := startBenchPortal(ctx, cfg, log, dataDir, store, scope, opts...)
	if err != nil {
		return "", "", nil, err
	}
	return p.url, p.key, p.stop, nil
}

// benchRunning is a portal the benchmark started: its address, the API key it issued (and the
// key's principal), the app behind it, and how to stop it.
type benchRunning struct {
	url, key, subject string
	app               *app
	stop              func() error
}

func startBenchPortal(ctx context.Context, cfg config.Config, log *slog.Logger, dataDir string, store reads.Store, scope string, opts ...appOption) (benchRunning, error) {
	cfg.DataDir = dataDir
	cfg.Audit = config.Default().Audit
	cfg.Audit.Path = filepath.Join(cfg.DataDir, "audit.db")
	cfg.Audit.AnchorFile = filepath.Join(cfg.DataDir, "audit-anchor.log")
	cfg.Audit.KeyDir = filepath.Join(cfg.DataDir, "audit-keys")
	cfg.Audit.Chain = "main"
	cfg.Identity.Path = filepath.Join(cfg.DataDir, "identity.db")
	cfg.Identity.SessionKeyFile = filepath.Join(cfg.DataDir, "session.key")
	// The portal's own stores too, never the configured data directory's.
	cfg.Authority.Path = filepath.Join(cfg.DataDir, "authority.db")
	cfg.Retention.Path = filepath.Join(cfg.DataDir, "holds.db")
	// The search defaults: the raw calls beside each row ask for what they ask for (pages of 50).
	cfg.Search = config.Search{CursorKeyFile: filepath.Join(cfg.DataDir, "cursor.key")}
	// Machine clients never talk to the IdP, so the bench needs none; discovery is lazy.
	cfg.Identity.Issuer, cfg.Identity.ClientID = "http://127.0.0.1:9/bench-has-no-idp", "anpr-portal"
	cfg.Identity.RedirectURL = "http://127.0.0.1:8080/auth/callback"
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return benchRunning{}, err
	}
	if _, err := audit.InitKeys(cfg.Audit.KeyDir, "anpr-bench", rand.Reader); err != nil {
		return benchRunning{}, err
	}
	a, err := openApp(ctx, cfg, log, store, opts...)
	if err != nil {
		return benchRunning{}, err
	}
	key, apiKey, err := a.ident.CreateAPIKeyAsOperator(ctx, "bench", identity.APIKeyRequest{Name: "bench", Scopes: []string{scope}})
	if err != nil {
		a.close(context.Background())
		return benchRunning{}, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.close(context.Background())
		return benchRunning{}, err
	}
	hs := &http.Server{Handler: a.server.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// The store belongs to the caller, and a.close leaves it open.
		return errors.Join(hs.Shutdown(sctx), a.close(sctx))
	}
	return benchRunning{url: "http://" + ln.Addr().String(), key: key, subject: "apikey:" + apiKey.ID, app: a, stop: stop}, nil
}

// auditOpener opens one fresh, empty audit log per benchmark phase, signing with signer and
// verifying with keys, in dir.
type auditOpener func(dir string, signer note.Signer, keys audit.Keyring) func(ctx context.Context, phase string) (auditbench.Log, error)

func sqliteAuditOpener(dir string, signer note.Signer, keys audit.Keyring) func(ctx context.Context, phase string) (auditbench.Log, error) {
	return func(ctx context.Context, phase string) (auditbench.Log, error) {
		anchor := audit.NewFileAnchor(filepath.Join(dir, phase+".anchor"))
		l, err := sqlite.OpenAuditLog(ctx, filepath.Join(dir, phase+".db"), sqlite.AuditOptions{Signer: signer, Anchor: anchor})
		if err != nil {
			return auditbench.Log{}, err
		}
		return auditbench.Log{Appender: l, Source: l, Anchor: anchor, Verifiers: keys.Verifiers(), Close: l.Close}, nil
	}
}

// runAuditBench measures an audit log: one writer waiting for each durable append, 64
// concurrent appenders sharing commits, and verification; with rawFsync, beside the raw
// write+fsync rate of the disk under dir, which bounds a writer that waits for every commit.
func runAuditBench(ctx context.Context, dir string, events int, rawFsync bool, open auditOpener) (auditbench.Result, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return auditbench.Result{}, err
	}
	if _, err := audit.InitKeys(filepath.Join(dir, "keys"), "anpr-bench", rand.Reader); err != nil {
		return auditbench.Result{}, err
	}
	signer, err := audit.LoadSigner(filepath.Join(dir, "keys"))
	if err != nil {
		return auditbench.Result{}, err
	}
	keys, err := audit.LoadKeyring(filepath.Join(dir, "keys"))
	if err != nil {
		return auditbench.Result{}, err
	}
	fsyncDir := ""
	if rawFsync {
		fsyncDir = dir
	}
	return auditbench.Run(ctx, auditbench.Config{Events: events, Concurrency: 64, Dir: fsyncDir, Open: open(dir, signer, keys)})
}

func auditRows(sec string, res auditbench.Result) []bench.Row {
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
	}
}

// esBenchOptions are the settings of the Elasticsearch column.
type esBenchOptions struct {
	reads       int64
	url         string // an existing node; "" starts one
	heap        string
	queries     int
	auditEvents int
	now         time.Time
}

// esBench is what the Elasticsearch phase measured, or why it measured nothing.
type esBench struct {
	opts     esBenchOptions
	info     esnode.Info
	why      string // non-empty: nothing was measured, and this says why
	rows     []bench.Row
	reads    bench.ReadFigures
	audit    *auditbench.Result
	auditWhy string // non-empty when the audit log was not measured
}

func (r esBench) size() string {
	if r.why != "" {
		return "nothing (not measured: " + r.why + ")"
	}
	return fmt.Sprintf("%d reads (node %s)", r.opts.reads, r.info.Version)
}

// benchElasticAuditOpener opens one Elasticsearch audit log per benchmark phase on the node at
// url, on throwaway indices under prefix that are dropped when the phase ends.
func benchElasticAuditOpener(url, prefix string, log *slog.Logger) auditOpener {
	return func(dir string, signer note.Signer, keys audit.Keyring) func(ctx context.Context, phase string) (auditbench.Log, error) {
		open, err := elastic.AuditBenchOpener(elastic.AuditBenchConfig{
			Cluster: elastic.Config{Addresses: []string{url}, Prefix: prefix, Logger: log},
			Signer:  signer, Verifiers: keys.Verifiers(), AnchorDir: dir,
		})
		if err != nil {
			return func(context.Context, string) (auditbench.Log, error) { return auditbench.Log{}, err }
		}
		return open
	}
}

// benchElastic measures the Elasticsearch column: the same read phases as SQLite (raw bulk
// append through the Elasticsearch reads store, HTTP ingest into it, lookups) and the audit log
// through the hook. A node is started from the checkout's cached test distribution unless
// o.url names one; if none can be had (no java, not run from a checkout), the column says why.
func benchElastic(ctx context.Context, cfg config.Config, log *slog.Logger, dir string, o esBenchOptions, progress io.Writer) (esBench, error) {
	res := esBench{opts: o}
	if o.reads <= 0 {
		res.why = "--es-reads is 0"
		return res, nil
	}
	url := strings.TrimRight(o.url, "/")
	if url == "" {
		wd, err := os.Getwd()
		if err != nil {
			return res, err
		}
		root, err := proc.Root(wd)
		if err != nil {
			res.why = err.Error() + ", or pass --es-url"
			return res, nil
		}
		if missing := esnode.Missing(root); len(missing) > 0 {
			res.why = strings.Join(missing, " and ") + " not found, so no node could be started (or pass --es-url)"
			return res, nil
		}
		fmt.Fprintf(progress, "starting Elasticsearch %s (heap %s)...\n", esnode.Version, o.heap)
		node, err := esnode.Start(ctx, esnode.Options{Root: root, Heap: o.heap})
		if err != nil {
			return res, fmt.Errorf("bench: %w", err)
		}
		defer func() {
			if err := node.Stop(); err != nil {
				log.Warn("bench: stopping Elasticsearch", "err", err)
			}
		}()
		url = node.Info().URL
	}
	info, err := esnode.Describe(ctx, url)
	if err != nil {
		return res, fmt.Errorf("bench: Elasticsearch at %s: %w", url, err)
	}
	res.info = info
	fmt.Fprintf(progress, "Elasticsearch %s at %s\n", info.Version, url)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, err
	}
	// Names of this run's own, so a run against a shared node (--es-url) touches nothing else.
	var id [4]byte
	rand.Read(id[:])
	prefix := "anpr-bench-" + hex.EncodeToString(id[:]) + "-"
	openStore := func(ctx context.Context, path string) (reads.Store, error) {
		s, err := elastic.Open(ctx, elastic.Config{Addresses: []string{url}, Refresh: "false", Logger: log,
			Prefix: prefix + strings.TrimSuffix(filepath.Base(path), ".db") + "-"})
		if err != nil {
			return nil, err
		}
		// Loaded with refresh off (bulk loading does not wait for searchability); the store is
		// reopened before the lookups, so this makes everything loaded searchable first.
		if err := esnode.Refresh(ctx, url); err != nil {
			return nil, err
		}
		return s, nil
	}
	startServer := func(ctx context.Context, store reads.Store) (string, string, func() error, error) {
		// The portal loads the camera registry by a search when it starts.
		if err := esnode.Refresh(ctx, url); err != nil {
			return "", "", nil, err
		}
		return benchServer(ctx, cfg, log, dir, store)
	}
	rows, fig, err := bench.RunReads(ctx, bench.ReadOptions{
		Dir: dir, Reads: o.reads, Seed: 1, Now: o.now, Queries: o.queries, Uploaders: 2, ChunkLines: 20000,
		OpenStore: openStore, StartServer: startServer, Progress: progress,
		Backend: "Elasticsearch " + info.Version, NoTargets: true,
	})
	if err != nil {
		return res, err
	}
	res.rows, res.reads = rows, fig
	open := benchElasticAuditOpener(url, prefix+"audit-", log)
	ar, err := runAuditBench(ctx, filepath.Join(dir, "audit"), o.auditEvents, false, open)
	if err != nil {
		return res, fmt.Errorf("bench: Elasticsearch audit log: %w", err)
	}
	res.audit = &ar
	for _, r := range auditRows("Audit log (Elasticsearch "+info.Version+")", ar) {
		r.Target, r.Met = "", nil
		res.rows = append(res.rows, r)
	}
	return res, nil
}

// compareBackends builds the side-by-side table from both columns' headline figures.
func compareBackends(sqlReads int64, sql bench.ReadFigures, sqlAudit *auditbench.Result, es esBench) *bench.Comparison {
	c := &bench.Comparison{Columns: [2]string{"SQLite, " + bench.Commas(sqlReads) + " reads", "Elasticsearch"}}
	if es.why == "" {
		c.Columns[1] = fmt.Sprintf("Elasticsearch %s, %s reads (one node, heap %s)", es.info.Version, bench.Commas(es.opts.reads), es.opts.heap)
		if es.opts.url != "" {
			c.Columns[1] = fmt.Sprintf("Elasticsearch %s, %s reads (node at --es-url)", es.info.Version, bench.Commas(es.opts.reads))
		}
	}
	esFig := func(v float64) bench.Figure {
		if es.why != "" {
			return bench.NotMeasured(es.why)
		}
		return bench.Measured(v)
	}
	add := func(name, unit string, sqlV float64, esV bench.Figure) {
		c.Lines = append(c.Lines, bench.Line{Name: name, Unit: unit, Figures: [2]bench.Figure{bench.Measured(sqlV), esV}})
	}
	add("ingest, raw store append (SQLite insert, Elasticsearch bulk)", "reads/s", sql.RawAppend, esFig(es.reads.RawAppend))
	add("ingest over HTTP (the portal's NDJSON endpoint)", "reads/s", sql.HTTP, esFig(es.reads.HTTP))
	for i, l := range sql.Lookups {
		var other bench.Lookup
		for _, e := range es.reads.Lookups {
			if e.Name == l.Name {
				other = e
			}
		}
		if i == 0 { // the exact-VRM lookup: both quantiles
			add(l.Name+" p50", "ms", l.P50, esFig(other.P50))
		}
		add(l.Name+" p99", "ms", l.P99, esFig(other.P99))
	}
	auditFig := func(v func(auditbench.Result) float64) bench.Figure {
		switch {
		case es.why != "":
			return bench.NotMeasured(es.why)
		case es.audit == nil:
			return bench.NotMeasured(es.auditWhy)
		}
		return bench.Measured(v(*es.audit))
	}
	add("audit append rate, 1 writer", "events/s", sqlAudit.Single.PerSecond, auditFig(func(r auditbench.Result) float64 { return r.Single.PerSecond }))
	add("audit append rate, 64 concurrent appenders", "events/s", sqlAudit.Concurrent.PerSecond, auditFig(func(r auditbench.Result) float64 { return r.Concurrent.PerSecond }))
	return c
}
