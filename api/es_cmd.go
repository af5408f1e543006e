package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/anpr-portal/anpr/internal/store/elastic"
)

func esCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "es", Short: "Elasticsearch backend administration"}
	cmd.AddCommand(esSetupCmd(g))
	return cmd
}

// writeKeys saves newly created API keys for a deployment that hands them to the portal as a
// file (compose's init step). An existing file is not overwritten: it may hold a key that is
// still in use.
func writeKeys(w io.Writer, dir string, rep elastic.SetupReport) error {
	if dir == "" {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("es setup: key dir: %w", err)
	}
	for _, it := range rep.Items {
		if it.Secret == "" {
			continue
		}
		p := filepath.Join(dir, it.Name+".key")
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("es setup: save API key %s: %w", it.Name, err)
		}
		_, werr := fmt.Fprintln(f, it.Secret)
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("es setup: save API key %s: %w", it.Name, err)
		}
		fmt.Fprintf(w, "wrote %s\n", p)
	}
	return nil
}

func esSetupCmd(g *globals) *cobra.Command {
	var (
		apiKeys       []string
		auditIndices  []string
		identityIdx   []string
		noDeletePhase bool
		keyDir        string
	)
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Create the templates, ILM policy, data stream, roles and API keys the portal needs (idempotent)",
		Long: `Prepares an Elasticsearch cluster for the portal. Run it with an administrator's credentials
(for example ANPR_ELASTICSEARCH_USERNAME=elastic ANPR_ELASTICSEARCH_PASSWORD=...), then run the
portal with the API key it prints for the portal role.

It makes, each only if missing or different from this version's definition:
  ILM policy <prefix>reads            rollover (rollover_max_age / shard size), delete at data.retention
  component templates                 <prefix>reads-mappings (the strict reads mapping), <prefix>reads-lifecycle
  index template <prefix>reads        the reads data stream, composed of the above
  data stream <prefix>reads, index <prefix>cameras
  roles <prefix>portal, search, ingest, audit-writer (create_doc only on the audit indices)
  API keys for the roles named by --api-keys (a key's secret is printed once, when created)
and prints what it created, what already existed and what the cluster lacks (ILM, security, the
wildcard field type, ...). A second run changes nothing.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			if err := cfg.RequireElasticsearch(); err != nil {
				return err
			}
			ec, err := elasticConfig(cfg, log)
			if err != nil {
				return err
			}
			e := cfg.Elasticsearch
			opts := elastic.SetupOptions{
				Retention:                   cfg.Data.Retention,
				NoDeletePhase:               noDeletePhase,
				RolloverMaxAge:              e.RolloverMaxAge,
				RolloverMaxPrimaryShardSize: e.RolloverMaxPrimaryShardSize,
				AuditIndices:                e.AuditIndices,
				IdentityIndices:             e.IdentityIndices,
				APIKeys:                     apiKeys,
			}
			if cmd.Flags().Changed("audit-indices") {
				opts.AuditIndices = auditIndices
			}
			if cmd.Flags().Changed("identity-indices") {
				opts.IdentityIndices = identityIdx
			}
			rep, err := elastic.Setup(cmd.Context(), ec, opts)
			rep.Print(cmd.OutOrStdout())
			if err != nil {
				return fmt.Errorf("es setup: %w", err)
			}
			return writeKeys(cmd.OutOrStdout(), keyDir, rep)
		},
	}
	cmd.Flags().StringSliceVar(&apiKeys, "api-keys", []string{elastic.RolePortal, elastic.RoleIngest, elastic.RoleAuditWriter},
		"roles to issue one API key each for ("+strings.Join(elastic.Roles(), ", ")+"); empty for none")
	cmd.Flags().StringSliceVar(&auditIndices, "audit-indices", nil,
		"index patterns of the audit log (default elasticsearch.audit_indices, <prefix>audit-*)")
	cmd.Flags().StringSliceVar(&identityIdx, "identity-indices", nil,
		"index patterns of sessions, API keys and grants (default elasticsearch.identity_indices, <prefix>identity-*)")
	cmd.Flags().BoolVar(&noDeletePhase, "no-ilm-delete", false,
		"leave the ILM delete phase out (preservation holds: then only `anpr retention run` deletes reads)")
	cmd.Flags().StringVar(&keyDir, "key-dir", "",
		"also write each new API key to DIR/<name>.key (mode 0600), for elasticsearch.api_key_file")
	return cmd
}
