package main

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"time"

	"github.com/spf13/cobra"

	"github.com/anpr-portal/anpr/internal/identity"
)

// apikeyCmd bootstraps machine clients from the server's own host: the first ingest key exists
// before any ANPR manager has logged in. Later keys are issued through the API by the manager.
// The operator is recorded in the audit log as operator:<OS user>.
func apikeyCmd(g *globals) *cobra.Command {
	var (
		name   string
		scopes []string
		ttl    time.Duration
		out    string
	)
	create := &cobra.Command{
		Use:   "create",
		Short: "Issue an API key (shown once) for a machine client, audited as this operator",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			if err := cfg.ValidateServe(); err != nil {
				return err
			}
			ctx := cmd.Context()
			auditLog, _, err := openAuditStore(ctx, cfg, log, time.Now)
			if err != nil {
				return err
			}
			defer auditLog.Close()
			st, err := openIdentityStore(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer st.Close()
			svc, err := identity.NewService(identityConfig(cfg), identity.Deps{Store: st, Audit: auditLog, Logger: log})
			if err != nil {
				return err
			}
			req := identity.APIKeyRequest{Name: name, Scopes: scopes}
			if ttl > 0 {
				req.ExpiresAt = time.Now().Add(ttl)
			}
			plain, key, err := svc.CreateAPIKeyAsOperator(context.WithoutCancel(ctx), operatorName(), req)
			if err != nil {
				return err
			}
			if out != "" {
				if err := os.WriteFile(out, []byte(plain+"\n"), 0o600); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "API key %s (%s, scopes %v, expires %s) written to %s\n", key.ID, key.Name, key.Scopes, key.ExpiresAt.Format(time.DateOnly), out)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "API key %s (%s, scopes %v, expires %s); shown once:\n%s\n", key.ID, key.Name, key.Scopes, key.ExpiresAt.Format(time.DateOnly), plain)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "what the key is for, e.g. 'camera back-office north'")
	create.Flags().StringSliceVar(&scopes, "scope", []string{identity.ScopeReadsIngest}, "scopes")
	create.Flags().DurationVar(&ttl, "ttl", 0, "lifetime (default: the configured API key lifetime)")
	create.Flags().StringVar(&out, "out", "", "write the key to this file (mode 600) instead of printing it")
	cmd := &cobra.Command{Use: "apikey", Short: "Machine-client API keys"}
	cmd.AddCommand(create)
	return cmd
}

func operatorName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "unknown"
}
