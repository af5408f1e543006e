package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/anpr-portal/anpr/internal/images"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/seed"
)

func seedCmd(g *globals) *cobra.Command {
	var (
		n        int64
		seedVal  int64
		ndjson   string
		nowFlag  string
		imgEvery int
		noImages bool
	)
	cmd := &cobra.Command{
		Use:   "seed",
		Short: "Generate the synthetic London camera network and reads (deterministic)",
		Long: `Registers ~300 synthetic cameras inside the M25 in the configured store and generates
reads for commuters, taxis and vans, with planted cases for demos and tests (a convoy pair,
a cloned plate, typical misreads, data in every age band). The same --seed and --now give
the same data. Reads go straight into the store, or with --ndjson to a file (or - for
stdout) in the format 'anpr ingest' takes.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			now := time.Now().UTC()
			if nowFlag != "" {
				if now, err = time.Parse(time.RFC3339, nowFlag); err != nil {
					return fmt.Errorf("--now: %w", err)
				}
			}
			sc := seed.Config{Seed: seedVal, Reads: n, Now: now}
			if err := sc.CheckAndSetDefaults(); err != nil {
				return err
			}
			ctx := cmd.Context()
			stack, err := openReadStack(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer stack.close(context.Background())
			if err := stack.store.PutCameras(ctx, seed.Cameras(seedVal)); err != nil {
				return fmt.Errorf("register cameras: %w", err)
			}
			bar := progressbar.NewOptions64(n, progressbar.OptionSetDescription("seed"),
				progressbar.OptionSetWriter(os.Stderr), progressbar.OptionShowCount(),
				progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowIts(), progressbar.OptionSetItsString("reads"),
				progressbar.OptionClearOnFinish())
			progress := func(done int64) { _ = bar.Set64(done) }

			var emit func(context.Context, []reads.Read) error
			var flush func() error
			if ndjson != "" {
				out, closeOut, err := openOutput(ndjson)
				if err != nil {
					return err
				}
				defer closeOut()
				bw := bufio.NewWriterSize(out, 1<<20)
				emit = func(_ context.Context, batch []reads.Read) error {
					for _, r := range batch {
						if err := seed.WriteNDJSON(bw, r); err != nil {
							return err
						}
					}
					return nil
				}
				flush = bw.Flush
			} else {
				emit = func(ctx context.Context, batch []reads.Read) error {
					_, err := stack.store.AppendReads(ctx, batch)
					return err
				}
				flush = func() error { return nil }
				// NDJSON carries no images (ingest takes none), so only reads stored directly get them.
				if !noImages {
					imgs, err := images.Open(imageDir(cfg))
					if err != nil {
						return err
					}
					// Synthetic pictures can be rendered again, so they are not synced one by one.
					if emit, err = seed.WithImages(seed.ImageOptions{Sink: imgs.WithoutSync(), Every: imgEvery}, emit); err != nil {
						return err
					}
				}
			}
			start := time.Now()
			sum, err := seed.Generate(ctx, sc, 10000, emit, progress)
			if err != nil {
				return err
			}
			if err := flush(); err != nil {
				return err
			}
			_ = bar.Finish()
			info := cmd.ErrOrStderr()
			if ndjson == "" {
				info = cmd.OutOrStdout()
			}
			fmt.Fprintf(info, "seeded %d reads in %s (%.0f reads/s)\n", sum.Reads, time.Since(start).Round(time.Millisecond),
				float64(sum.Reads)/time.Since(start).Seconds())
			sum.Describe(info)
			return nil
		},
	}
	cmd.Flags().Int64Var(&n, "reads", 100000, "number of reads to generate (10000 to 100000000)")
	cmd.Flags().Int64Var(&seedVal, "seed", 1, "random seed; the same seed and --now give the same data")
	cmd.Flags().StringVar(&ndjson, "ndjson", "", "write reads as NDJSON to this file (- for stdout) instead of the store")
	cmd.Flags().IntVar(&imgEvery, "images-every", seed.DefaultImageEvery, "render plate-patch and overview images for every read of a planted plate and 1 in N other reads (0: planted plates only)")
	cmd.Flags().BoolVar(&noImages, "no-images", false, "render no images")
	cmd.Flags().StringVar(&nowFlag, "now", "", "RFC 3339 time the newest data is just before (default: now)")
	return cmd
}

func openOutput(name string) (io.Writer, func() error, error) {
	if name == "-" {
		return os.Stdout, func() error { return nil }, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}
