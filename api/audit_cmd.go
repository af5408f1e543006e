package main

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/config"
)

func auditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Audit log: verify it, prove an event, manage signing keys"}
	cmd.AddCommand(auditVerifyCmd(g), auditKeysCmd(g))
	return cmd
}

// auditAnchor is the external anchor the config names: the witness URL when set, else the file.
func auditAnchor(cfg config.Config) audit.Anchor {
	if cfg.Audit.WitnessURL != "" {
		return audit.HTTPWitness{URL: cfg.Audit.WitnessURL, Client: &http.Client{Timeout: 10 * time.Second}}
	}
	return audit.NewFileAnchor(cfg.Audit.AnchorFile)
}

// errVerifyFailed makes the command exit non-zero after the report has been printed.
var errVerifyFailed = fmt.Errorf("audit log verification FAILED")

func auditVerifyCmd(g *globals) *cobra.Command {
	var proof int64
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the Merkle tree, check every checkpoint signature and the external anchor",
		Long: `Reads the audit database directly (read-only), recomputes every leaf and the tree, checks
each signed checkpoint against the trusted keys, consistency between checkpoints, and that the
external anchor's newest checkpoint is covered by the log (so a cut tail is caught). Exits
non-zero naming the first bad event. With --proof SEQ it prints the inclusion proof of one event
against the newest checkpoint instead: a document a court can check on its own.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			keys, err := audit.LoadKeyring(cfg.Audit.KeyDir)
			if err != nil {
				return fmt.Errorf("load trusted audit keys: %w", err)
			}
			src, err := openAuditSource(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer src.Close()
			if proof > 0 {
				_, err := audit.RunProof(ctx, cmd.OutOrStdout(), src, proof, keys.Verifiers())
				return err
			}
			rep, err := audit.RunVerify(ctx, cmd.OutOrStdout(), src, auditAnchor(cfg), keys.Verifiers())
			if err != nil {
				return err
			}
			if !rep.OK() {
				return errVerifyFailed
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&proof, "proof", 0, "print the inclusion proof of event SEQ instead of verifying the whole log")
	return cmd
}

func auditKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Create or rotate the checkpoint signing key"}
	var name string
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create the first signing key (refuses to overwrite one)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			vkey, err := audit.InitKeys(cfg.Audit.KeyDir, name, rand.Reader)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created audit signing key in %s\npublic verifier key (publish it):\n%s\n", cfg.Audit.KeyDir, vkey)
			return nil
		},
	}
	initCmd.Flags().StringVar(&name, "name", "anpr-audit", "key name, shown in signed checkpoints")
	rotateCmd := &cobra.Command{
		Use:   "rotate",
		Short: "Replace the signing key; the old verifier key stays trusted so old checkpoints verify",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := g.load()
			if err != nil {
				return err
			}
			vkey, err := audit.RotateKey(cfg.Audit.KeyDir, rand.Reader)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rotated; new public verifier key:\n%s\nrestart the server to sign with it\n", vkey)
			return nil
		},
	}
	cmd.AddCommand(initCmd, rotateCmd)
	return cmd
}
