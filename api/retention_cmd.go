package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/datarights"
	"github.com/anpr-portal/anpr/internal/holds"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/retention"
	"github.com/anpr-portal/anpr/internal/store/elastic"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
	"github.com/anpr-portal/anpr/policies"
)

// dataServices are the ANPR manager's data services: holds, retention and data rights, over the
// read store and a hold store of their own.
type dataServices struct {
	holdStore io.Closer // the SQLite hold store the services opened; nil on Elasticsearch
	holds     *holds.Service
	retention *retention.Service
	rights    *datarights.Service // nil when the read store cannot correct or erase

	stopJob func() // stops the scheduled retention job; nil when none runs
}

// openDataServices opens the hold store and builds the services. The caller closes it.
func openDataServices(ctx context.Context, cfg config.Config, log *slog.Logger, store reads.Store, al audit.Appender, az *authz.Authorizer) (*dataServices, error) {
	hs, closer, err := openHoldStore(ctx, cfg, store)
	if err != nil {
		return nil, err
	}
	d := &dataServices{holdStore: closer}
	if d.holds, err = holds.New(hs, al, az, time.Now); err != nil {
		d.close()
		return nil, err
	}
	if d.retention, err = retention.New(retention.Deps{Reads: store, Holds: d.holds, Runs: hs, Audit: al,
		Retention: cfg.Data.Retention, Now: time.Now, Logger: log}); err != nil {
		d.close()
		return nil, err
	}
	if rs, ok := store.(datarights.Reads); ok {
		if d.rights, err = datarights.New(rs, al, time.Now); err != nil {
			d.close()
			return nil, err
		}
	}
	return d, nil
}

// startJob starts the scheduled retention job when the configuration enables it. It runs until
// close, which waits for it: a run in progress is cut short and its outcome recorded before the
// audit log closes.
func (d *dataServices) startJob(cfg config.Config, log *slog.Logger) {
	if d == nil || !cfg.Retention.Enabled {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		sched := retention.Schedule{Interval: cfg.Retention.Interval, Offset: cfg.Retention.Offset}
		if err := d.retention.RunScheduled(ctx, sched, retention.RealClock{}); err != nil {
			log.Error("retention job stopped", "err", err)
		}
	})
	d.stopJob = func() { cancel(); wg.Wait() }
}

// close stops the job, then closes the hold store.
func (d *dataServices) close() error {
	if d == nil {
		return nil
	}
	if d.stopJob != nil {
		d.stopJob()
	}
	if d.holdStore == nil {
		return nil
	}
	return d.holdStore.Close()
}

func retentionCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "retention", Short: "Delete reads past retention (except those under a preservation hold)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "run",
		Short: "Run retention now, audited as this operator; with a server running, use POST /api/v1/retention/runs",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			store, err := openReadStore(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer store.Close()
			al, _, err := openAuditStore(ctx, cfg, log, time.Now)
			if err != nil {
				return err
			}
			defer al.Close()
			az, err := authz.New(authz.Config{Bands: authz.Bands{Band1: cfg.Data.Band1, Retention: cfg.Data.Retention}},
				authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, time.Now)
			if err != nil {
				return fmt.Errorf("policy: %w", err)
			}
			d, err := openDataServices(ctx, cfg, log, store, al, az)
			if err != nil {
				return err
			}
			defer d.close()
			caller := retention.Caller{Actor: audit.Actor{Subject: "operator:" + operatorName(), Name: "anpr retention run"}, Rule: retention.RuleConfig}
			r, err := d.retention.Run(ctx, caller, retention.TriggerCLI)
			if r.ID != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "retention run %s: cutoff %s, deleted %d reads, %d held reads kept by %d active holds, status %s\n",
					r.ID, r.Cutoff.Format(time.RFC3339), r.Deleted, r.HeldKept, r.Holds, r.Status)
			}
			if err != nil {
				return errors.Join(errors.New("retention run failed"), err)
			}
			return nil
		},
	})
	return cmd
}

// holdBackend is what the data services need of a hold store: holds and retention-run reports.
type holdBackend interface {
	holds.Store
	retention.RunStore
}

// openHoldStore keeps holds beside the reads: in the cluster when the reads are in
// Elasticsearch (every portal instance sees the same holds), else in SQLite under data_dir, which
// the caller closes through the returned closer.
func openHoldStore(ctx context.Context, cfg config.Config, store reads.Store) (holdBackend, io.Closer, error) {
	if es, ok := store.(*elastic.Store); ok {
		hs, err := es.HoldStore(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("hold store: %w", err)
		}
		return hs, nil, nil
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Retention.Path), 0o750); err != nil {
		return nil, nil, fmt.Errorf("create data directory: %w", err)
	}
	hs, err := sqlite.OpenHoldStore(ctx, cfg.Retention.Path)
	if err != nil {
		return nil, nil, err
	}
	return hs, hs, nil
}
