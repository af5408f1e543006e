// Package config is the portal's one typed configuration: loaded from a YAML file, overridden by
// ANPR_* environment variables, and validated once at start with every problem reported together.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole configuration. Field names in YAML are the yaml tags; the environment
// variable for a field is ANPR_ followed by its YAML path in upper case joined by '_', for example
// ANPR_INGEST_MAX_LINE_BYTES.
type Config struct {
	Listen   string `yaml:"listen"`
	DataDir  string `yaml:"data_dir"`
	Backend  string `yaml:"backend"` // "sqlite" (embedded default) or "elasticsearch"
	LogLevel string `yaml:"log_level"`
	// PublicURL is where users reach the portal; printed at start and used for links.
	PublicURL string `yaml:"public_url"`

	SQLite   SQLite   `yaml:"sqlite"`
	Identity Identity `yaml:"identity"`
	Ingest   Ingest   `yaml:"ingest"`
	Audit    Audit    `yaml:"audit"`
	Data     Data     `yaml:"data"`
	// Retention configures the retention job and where holds live.
	Retention Retention `yaml:"retention"`
	// Authority configures prior authorities (docs/architecture.md, section 8).
	Authority Authority `yaml:"authority"`
	// Search tunes the search service; see search.go.
	Search Search `yaml:"search"`

	// Readiness tunes /readyz and the identity provider check at start; see readiness.go.
	Readiness Readiness `yaml:"readiness"`

	// Elasticsearch is read only when backend is "elasticsearch"; see elasticsearch.go.
	Elasticsearch Elasticsearch `yaml:"elasticsearch"`

	// ShutdownTimeout bounds graceful shutdown: in-flight requests and ingest batches get this long.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// SQLite configures the embedded backend.
type SQLite struct {
	Path     string `yaml:"path"` // reads database; default <data_dir>/reads.db
	MaxConns int    `yaml:"max_conns"`
	// CacheMiB is the reads database's page cache per connection, in MiB (default 16: with the
	// default 8 connections at most 128 MiB, whatever the size of the data).
	CacheMiB int `yaml:"cache_mib"`
	// MmapMiB is how much of the reads database each connection memory-maps, in MiB (default 0,
	// off). Mapping saves a copy per page read but adds up to its size per connection to RSS.
	MmapMiB int `yaml:"mmap_mib"`
}

// Ingest configures the read ingest path.
type Ingest struct {
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	MaxLineBytes int   `yaml:"max_line_bytes"`
	BatchSize    int   `yaml:"batch_size"`
	// QueueBatches is how many batches may wait for the writer before new uploads get 429.
	QueueBatches int `yaml:"queue_batches"`
	// MaxErrors caps the per-line errors listed in one response; the count is always complete.
	MaxErrors int `yaml:"max_errors"`
	// ClockSkew is how far in the future a read's time may be before it is rejected.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// RetryAfter is what a saturated writer tells clients to wait.
	RetryAfter time.Duration `yaml:"retry_after"`
}

// Audit configures the audit log.
type Audit struct {
	Path       string `yaml:"path"`        // default <data_dir>/audit.db
	AnchorFile string `yaml:"anchor_file"` // default <data_dir>/audit-anchor.log
	WitnessURL string `yaml:"witness_url"`
	// KeyDir holds the checkpoint signing key and the trusted verifier keys (anpr audit keys).
	KeyDir             string        `yaml:"key_dir"` // default <data_dir>/audit-keys
	Chain              string        `yaml:"chain"`   // default "main"
	CheckpointEvery    int           `yaml:"checkpoint_every"`
	CheckpointInterval time.Duration `yaml:"checkpoint_interval"`
}

// Data holds the domain rules about data age (docs/architecture.md, section 8).
type Data struct {
	// Band1 is how old data may be and still be searched without prior authority (default 90 days).
	Band1 time.Duration `yaml:"band1"`
	// Retention is how long reads are kept unless preserved (default 365 days).
	Retention time.Duration `yaml:"retention"`
}

// Retention configures scheduled retention runs (inside serve) and the holds store.
type Retention struct {
	// Enabled runs retention on a schedule inside serve (default true). anpr retention run and
	// the API work either way.
	Enabled bool `yaml:"enabled"`
	// Interval and Offset place the runs at fixed times: Offset past every multiple of Interval,
	// UTC (default every 24h at 02:00).
	Interval time.Duration `yaml:"interval"`
	Offset   time.Duration `yaml:"offset"`
	// Path is the holds and retention-run database (default <data_dir>/holds.db).
	Path string `yaml:"path"`
}

// Authority configures the prior-authority workflow. Zero values take the service's defaults
// (inspector; 50 uses; 30 days), which internal/authz and internal/authority validate at start.
type Authority struct {
	Path            string        `yaml:"path"`              // SQLite backend: default <data_dir>/authority.db
	MinApproverRank string        `yaml:"min_approver_rank"` // lowest rank that may approve, e.g. inspector
	MaxUses         int           `yaml:"max_uses"`          // most uses one authority may be given
	MaxExpiry       time.Duration `yaml:"max_expiry"`        // longest an authority may stay valid
}

// Default returns the configuration used when nothing is set: the embedded SQLite backend in
// ./data, listening on localhost.
func Default() Config {
	return Config{
		Listen:   "127.0.0.1:8080",
		DataDir:  "data",
		Backend:  "sqlite",
		LogLevel: "info",
		Ingest: Ingest{
			MaxBodyBytes: 1 << 30,
			MaxLineBytes: 4096,
			BatchSize:    5000,
			QueueBatches: 8,
			MaxErrors:    1000,
			ClockSkew:    5 * time.Minute,
			RetryAfter:   2 * time.Second,
		},
		Audit: Audit{
			CheckpointEvery:    256,
			CheckpointInterval: 5 * time.Second,
		},
		Data: Data{
			Band1:     90 * 24 * time.Hour,
			Retention: 365 * 24 * time.Hour,
		},
		Retention:       Retention{Enabled: true, Interval: 24 * time.Hour, Offset: 2 * time.Hour},
		SQLite:          SQLite{MaxConns: 8, CacheMiB: 16},
		Elasticsearch:   defaultElasticsearch(),
		Readiness:       Readiness{MinFreeBytes: DefaultMinFreeBytes},
		ShutdownTimeout: 30 * time.Second,
	}
}

// Load reads the YAML file at path (if path is not empty) over the defaults, applies ANPR_*
// environment overrides from environ, fills derived defaults and validates. Unknown YAML keys are
// errors, so a misspelt setting is never silently ignored.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return Config{}, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		dec.KnownFields(true)
		// An empty file decodes as io.EOF: that is "no overrides", not an error.
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("parse config %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return Config{}, err
	}
	cfg.setDerived()
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func (c *Config) setDerived() {
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Listen
	}
	if c.SQLite.Path == "" {
		c.SQLite.Path = filepath.Join(c.DataDir, "reads.db")
	}
	if c.Audit.Path == "" {
		c.Audit.Path = filepath.Join(c.DataDir, "audit.db")
	}
	if c.Audit.AnchorFile == "" {
		c.Audit.AnchorFile = filepath.Join(c.DataDir, "audit-anchor.log")
	}
	c.setIdentityDerived()
	if c.Retention.Path == "" {
		c.Retention.Path = filepath.Join(c.DataDir, "holds.db")
	}
	if c.Authority.Path == "" {
		c.Authority.Path = filepath.Join(c.DataDir, "authority.db")
	}
	if c.Audit.KeyDir == "" {
		c.Audit.KeyDir = filepath.Join(c.DataDir, "audit-keys")
	}
	if c.Audit.Chain == "" {
		c.Audit.Chain = "main"
	}
	c.Search.setDerived(c.DataDir)
	c.Elasticsearch.setDerived()
}

// ValidateServe reports what serving needs beyond Validate: an identity provider. Commands that
// only load or check data (seed, ingest, audit verify) run without one.
func (c *Config) ValidateServe() error {
	var errs []error
	if c.Identity.Issuer == "" {
		errs = append(errs, errors.New("identity.issuer: is required to serve: the OIDC issuer URL of the identity provider (make run uses the bundled Dex)"))
	}
	if c.Identity.ClientID == "" {
		errs = append(errs, errors.New("identity.client_id: is required to serve"))
	}
	return errors.Join(errs...)
}

// Validate reports every problem at once, joined, so an operator fixes a config in one pass.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Listen == "" {
		bad("listen", "must be host:port")
	}
	switch c.Backend {
	case "sqlite":
	case "elasticsearch":
		errs = append(errs, c.Elasticsearch.validate()...)
	default:
		bad("backend", "%q is not a supported backend (sqlite, elasticsearch)", c.Backend)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.SQLite.MaxConns < 1 {
		bad("sqlite.max_conns", "must be at least 1")
	}
	if c.SQLite.CacheMiB < 1 {
		bad("sqlite.cache_mib", "must be at least 1")
	}
	if c.SQLite.MmapMiB < 0 {
		bad("sqlite.mmap_mib", "must not be negative")
	}
	if c.Ingest.MaxBodyBytes < 1024 {
		bad("ingest.max_body_bytes", "must be at least 1024")
	}
	if c.Ingest.MaxLineBytes < 128 || c.Ingest.MaxLineBytes > 1<<20 {
		bad("ingest.max_line_bytes", "must be between 128 and 1048576")
	}
	if c.Ingest.BatchSize < 1 || c.Ingest.BatchSize > 100000 {
		bad("ingest.batch_size", "must be between 1 and 100000")
	}
	if c.Ingest.QueueBatches < 1 {
		bad("ingest.queue_batches", "must be at least 1")
	}
	if c.Ingest.MaxErrors < 1 {
		bad("ingest.max_errors", "must be at least 1")
	}
	if c.Ingest.ClockSkew < 0 {
		bad("ingest.clock_skew", "must not be negative")
	}
	if c.Ingest.RetryAfter < time.Second {
		bad("ingest.retry_after", "must be at least 1s")
	}
	if c.Audit.CheckpointEvery < 1 {
		bad("audit.checkpoint_every", "must be at least 1")
	}
	if c.Audit.CheckpointInterval < time.Second {
		bad("audit.checkpoint_interval", "must be at least 1s")
	}
	if c.Data.Band1 <= 0 {
		bad("data.band1", "must be positive")
	}
	if c.Data.Retention <= c.Data.Band1 {
		bad("data.retention", "must be longer than data.band1 (%s)", c.Data.Band1)
	}
	if c.Retention.Interval < time.Minute {
		bad("retention.interval", "must be at least 1m")
	}
	if c.Retention.Offset < 0 || c.Retention.Offset >= c.Retention.Interval {
		bad("retention.offset", "must be at least 0 and less than retention.interval (%s)", c.Retention.Interval)
	}
	if c.ShutdownTimeout <= 0 {
		bad("shutdown_timeout", "must be positive")
	}
	errs = append(errs, c.Search.validate()...)
	errs = append(errs, c.Identity.validate(c.Authority.MinApproverRank)...)
	errs = append(errs, c.Readiness.validate()...)
	return errors.Join(errs...)
}
