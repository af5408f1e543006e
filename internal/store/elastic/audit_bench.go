package elastic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/audit/auditbench"
)

// AuditBenchConfig says what `anpr bench` measures of the Elasticsearch audit log.
type AuditBenchConfig struct {
	Cluster     Config // the node to measure; Prefix is the root of the throwaway index names
	Signer      note.Signer
	Verifiers   note.Verifiers
	AnchorDir   string // where each phase's file anchor goes
	Events      int    // appends per phase; default as auditbench
	Concurrency int    // appenders in the concurrent phase; default as auditbench
}

// AuditBench runs the auditbench phases (one writer, many concurrent appenders, verification)
// against the real cluster, each phase on fresh indices of its own (<Prefix>bench-<random>-…),
// deleted afterwards. Durability is what production gets: each batch is acknowledged after the
// translog fsync; only batches that carry a checkpoint wait for a refresh. There is no raw
// baseline here (auditbench's fsync baseline is a local disk's); put the reads bulk rate beside it.
func AuditBench(ctx context.Context, cfg AuditBenchConfig) (auditbench.Result, error) {
	open, err := AuditBenchOpener(cfg)
	if err != nil {
		return auditbench.Result{}, err
	}
	return auditbench.Run(ctx, auditbench.Config{Events: cfg.Events, Concurrency: cfg.Concurrency, Open: open})
}

// AuditBenchOpener returns the auditbench opener AuditBench uses: one audit log per phase on
// fresh indices of its own, dropped when the phase closes it. anpr bench runs it beside SQLite's.
func AuditBenchOpener(cfg AuditBenchConfig) (func(ctx context.Context, phase string) (auditbench.Log, error), error) {
	if err := cfg.Cluster.CheckAndSetDefaults(); err != nil {
		return nil, err
	}
	root := cfg.Cluster.Prefix
	return func(ctx context.Context, phase string) (auditbench.Log, error) {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return auditbench.Log{}, err
		}
		c := cfg.Cluster
		c.Prefix = root + "bench-" + hex.EncodeToString(b[:]) + "-"
		anchor := audit.NewFileAnchor(filepath.Join(cfg.AnchorDir, phase+".es.anchor"))
		l, err := OpenAuditLog(ctx, c, AuditOptions{SequencerOptions: audit.SequencerOptions{Signer: cfg.Signer, Anchor: anchor}})
		if err != nil {
			return auditbench.Log{}, fmt.Errorf("open elasticsearch audit log: %w", err)
		}
		closeAll := func() error {
			err := l.Close()
			dctx, cancel := context.WithTimeout(context.Background(), defaultDropTimeout)
			defer cancel()
			if _, derr := l.es.Indices.Delete(strings.Join(l.ix.all(), ",")).IgnoreUnavailable(true).Do(dctx); derr != nil {
				err = errors.Join(err, fmt.Errorf("delete benchmark audit indices: %w", derr))
			}
			return err
		}
		return auditbench.Log{Appender: l, Source: l, Anchor: anchor, Verifiers: cfg.Verifiers, Close: closeAll}, nil
	}, nil
}

const defaultDropTimeout = 30 * time.Second // deleting a few small indices
