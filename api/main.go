// Command anpr is the ANPR search portal: one binary with subcommands. This package is the
// composition root: it reads config and wires concrete types together; logic lives in internal/.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/anpr-portal/anpr/internal/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := rootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "anpr:", err)
		os.Exit(1)
	}
}

// globals are the flags every subcommand shares.
type globals struct {
	configPath string
}

func rootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "anpr",
		Short:         "Audited ANPR search portal",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.configPath, "config", os.Getenv("ANPR_CONFIG"),
		"YAML config file (env ANPR_CONFIG); every setting can also be set as ANPR_<PATH>, e.g. ANPR_LISTEN")
	root.AddCommand(serveCmd(g), ingestCmd(g), seedCmd(g), benchCmd(g), auditCmd(g), apikeyCmd(g), configCmd(g), retentionCmd(g))
	root.AddCommand(esCmd(g))
	return root
}

// load reads and validates the config, and builds the logger it asks for.
func (g *globals) load() (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(g.configPath, os.Environ())
	if err != nil {
		return config.Config{}, nil, fmt.Errorf("configuration:\n%w", err)
	}
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	return cfg, log, nil
}

func configCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "config",
		Short: "Validate the configuration and list the environment variables it reads",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, _, err := g.load(); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "configuration is valid; environment overrides:")
			for _, n := range config.EnvNames() {
				fmt.Fprintln(cmd.OutOrStdout(), " ", n)
			}
			return nil
		},
	}
}
