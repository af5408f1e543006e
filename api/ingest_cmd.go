package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/anpr-portal/anpr/internal/ingest"
)

func ingestCmd(g *globals) *cobra.Command {
	var server string
	var chunk int
	cmd := &cobra.Command{
		Use:   "ingest FILE|-",
		Short: "Load NDJSON reads from a file (or - for stdin), into the local store or a server",
		Long: `Loads reads, one JSON object per line:
  {"camera_id":"CAM0001","vrm":"AB12 CDE","seen_at":"2026-11-20T08:15:02.120Z","confidence":0.97,"lane":1}
Bad lines are reported by line number and skipped; good lines are stored. Loading the same
file twice adds nothing. With --server the file goes to a running portal over HTTP using the
API key in ANPR_INGEST_API_KEY; without it, straight into the configured local store.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			in, size, err := openInput(args[0])
			if err != nil {
				return err
			}
			defer in.Close()
			bar := progressbar.NewOptions64(size,
				progressbar.OptionSetDescription("ingest"), progressbar.OptionShowBytes(true),
				progressbar.OptionSetWriter(os.Stderr), progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
			progress := func(n int64) { _ = bar.Set64(n) }
			ctx := cmd.Context()
			var rep ingest.Report
			if server != "" {
				key := os.Getenv("ANPR_INGEST_API_KEY")
				if key == "" {
					return fmt.Errorf("--server needs the API key in ANPR_INGEST_API_KEY")
				}
				c := &ingest.Client{URL: server, APIKey: key, HTTP: &http.Client{Timeout: 10 * time.Minute},
					ChunkLines: chunk, MaxRetries: 20, Progress: progress}
				rep, err = c.Upload(ctx, in)
			} else {
				var stack *readStack
				stack, err = openReadStack(ctx, cfg, log)
				if err != nil {
					return err
				}
				p := stack.pipeline()
				p.Progress = progress
				rep, err = p.Run(ctx, in)
				if cerr := stack.close(context.Background()); err == nil {
					err = cerr
				}
			}
			_ = bar.Finish()
			printReport(cmd.OutOrStdout(), rep)
			if err != nil {
				return err
			}
			if rep.Rejected > 0 {
				return fmt.Errorf("%d line(s) rejected; the other lines were stored", rep.Rejected)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "portal base URL to upload to (default: write the local store directly)")
	cmd.Flags().IntVar(&chunk, "chunk-lines", 50000, "lines per HTTP request with --server")
	return cmd
}

func openInput(name string) (io.ReadCloser, int64, error) {
	if name == "-" {
		return io.NopCloser(os.Stdin), -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, st.Size(), nil
}

func printReport(w io.Writer, rep ingest.Report) {
	fmt.Fprintf(w, "lines %d: stored %d new, %d already present, %d rejected\n",
		rep.Lines, rep.Inserted, rep.Duplicates, rep.Rejected)
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  line %d: %s: %s\n", e.Line, e.Code, e.Message)
	}
	if rep.ErrorsTruncated {
		fmt.Fprintf(w, "  (more rejected lines than listed)\n")
	}
}
