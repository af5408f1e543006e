// Package elastic is the Elasticsearch backend: reads.Store on a data stream with a strict
// mapping, and the camera registry in a plain index, through the typed go-elasticsearch client. It
// passes the same storetest conformance suite as the embedded SQLite backend.
package elastic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/refresh"

	"github.com/anpr-portal/anpr/internal/reads"
)

// Config says where the cluster is and how the store names and writes its indices.
type Config struct {
	Addresses []string // e.g. http://127.0.0.1:9200
	Username  string
	Password  string
	APIKey    string // base64 "id:key", as Elasticsearch issues it
	// Prefix starts every name the store owns: data stream and index template <Prefix>reads,
	// camera index <Prefix>cameras. Tests give each store its own prefix. Default "anpr-".
	Prefix string
	// Refresh is what writes wait for before returning. "wait_for" (default) returns once the
	// write is searchable at the next scheduled refresh; "true" forces a refresh, which makes
	// read-your-writes immediate at the cost of small segments (tests use it); "false" returns at
	// once and the write shows up in searches within the refresh interval.
	Refresh string
	// MaxRetries bounds retries of a request, or of bulk items, refused with 429 or a 5xx. The
	// wait doubles from RetryBase up to RetryCap. Defaults 5, 100ms, 5s.
	MaxRetries int
	RetryBase  time.Duration
	RetryCap   time.Duration
	Transport  http.RoundTripper // optional, e.g. for TLS settings
	Logger     *slog.Logger
	// SkipSetup leaves templates, data stream and camera index alone: `anpr es setup` made them
	// (with ILM and component templates this store's own setup does not know), and the portal's
	// role may not manage templates. Open then only connects and detects features.
	SkipSetup bool
}

var prefixRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,60}$`)

// CheckAndSetDefaults validates the config, reporting every problem at once, and fills defaults.
func (c *Config) CheckAndSetDefaults() error {
	var errs []error
	if len(c.Addresses) == 0 {
		errs = append(errs, errors.New("no Elasticsearch address"))
	}
	if c.Prefix == "" {
		c.Prefix = "anpr-"
	}
	if !prefixRE.MatchString(c.Prefix) {
		errs = append(errs, fmt.Errorf("prefix %q: want lower-case letters, digits, '.', '_', '-', starting with a letter or digit", c.Prefix))
	}
	switch c.Refresh {
	case "":
		c.Refresh = "wait_for"
	case "wait_for", "true", "false":
	default:
		errs = append(errs, fmt.Errorf("refresh %q: want wait_for, true or false", c.Refresh))
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 5
	}
	if c.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("max retries %d is negative", c.MaxRetries))
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 100 * time.Millisecond
	}
	if c.RetryCap <= 0 {
		c.RetryCap = 5 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(errs) > 0 {
		return fmt.Errorf("elastic config: %w: %w", reads.ErrInvalid, errors.Join(errs...))
	}
	return nil
}

// Features is what the store found the cluster able to do, and so which paths it uses.
type Features struct {
	Version string
	// WildcardType: the x-pack wildcard field type exists, so plates get a vrm.wildcard subfield
	// and pattern queries run on it. Without it, patterns run as wildcard queries on the keyword
	// field: same answers, slower on leading '*' over many distinct plates.
	WildcardType bool
	// UppercaseNormalizer: analysis-common is loaded, so the vrm field upper-cases at index and
	// query time as a second line behind plate.Normalize.
	UppercaseNormalizer bool
	ILM                 bool // x-pack-ilm: rollover and delete phases (set up by `anpr es setup`)
	Security            bool // x-pack-security is loaded (it may still be disabled)
	DataStreamAPI       bool // the _data_stream REST API; without it streams appear on first write
	// PointInTime: the cluster opens points in time (_pit), so snapshot paging (reads.Query
	// Snapshot) searches inside one; without it such paging is keyset only. Probed at Open.
	PointInTime bool
}

// Store is the Elasticsearch reads.Store.
type Store struct {
	es       *elasticsearch.TypedClient
	cfg      Config
	features Features
	stream   string // data stream of reads, also the index template's name
	cameras  string // plain index of cameras
	refresh  refresh.Refresh
	log      *slog.Logger
}

var _ reads.Store = (*Store)(nil)

// Open connects, detects the cluster's features and creates the index template, the data stream
// (where the API exists) and the camera index if they are missing. It is idempotent.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.CheckAndSetDefaults(); err != nil {
		return nil, err
	}
	es, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("elastic: %w", err)
	}
	s := &Store{
		es:      es,
		cfg:     cfg,
		stream:  cfg.Prefix + "reads",
		cameras: cfg.Prefix + "cameras",
		refresh: refresh.Refresh{Name: cfg.Refresh},
		log:     cfg.Logger,
	}
	if err := s.detect(ctx); err != nil {
		return nil, err
	}
	if cfg.SkipSetup {
		return s, nil
	}
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	s.features.PointInTime = s.probePIT(ctx)
	return s, nil
}

// Features reports what Open detected.
func (s *Store) Features() Features { return s.features }

// newClient is the client every store of this package uses: cfg's addresses and credentials,
// with whole requests that were refused for overload retried (backoff). Resending is safe for
// every store: refused bulk items are retried by AppendReads, which alone knows which items to
// resend, and a conditional write resent after an overload answer either lands or meets its own
// first attempt as a conflict, which the caller re-reads and decides again.
func newClient(cfg Config) (*elasticsearch.TypedClient, error) {
	es, err := elasticsearch.NewTypedClient(elasticsearch.Config{
		Addresses:     cfg.Addresses,
		Username:      cfg.Username,
		Password:      cfg.Password,
		APIKey:        cfg.APIKey,
		Transport:     cfg.Transport,
		RetryOnStatus: []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout},
		MaxRetries:    cfg.MaxRetries,
		RetryBackoff:  func(attempt int) time.Duration { return backoff(cfg, attempt) },
	})
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return es, nil
}

// backoff is the wait before retry attempt (1-based): exponential with full jitter, so clients
// refused together do not come back together.
func backoff(cfg Config, attempt int) time.Duration {
	d := cfg.RetryBase << min(attempt-1, 20)
	if d > cfg.RetryCap || d <= 0 {
		d = cfg.RetryCap
	}
	return d/2 + rand.N(d/2+1)
}

func (s *Store) detect(ctx context.Context) error {
	// Not GET /: the test distribution has no handler for it (405). Nodes info answers on every
	// distribution and carries each node's version.
	nodes, err := s.es.Nodes.Info().Metric("plugins").Do(ctx)
	if err != nil {
		return fmt.Errorf("elastic: connect and list modules: %w", unavailable(err))
	}
	// A feature counts only if every node has it: a mapping or query that one node cannot parse
	// fails on that node's shards.
	count := map[string]int{}
	for _, n := range nodes.Nodes {
		for _, m := range slices.Concat(n.Modules, n.Plugins) {
			count[m.Name]++
		}
	}
	all := func(name string) bool { return len(nodes.Nodes) > 0 && count[name] == len(nodes.Nodes) }
	versions := map[string]bool{}
	for _, n := range nodes.Nodes {
		versions[n.Version] = true
	}
	s.features = Features{
		Version:             strings.Join(slices.Sorted(maps.Keys(versions)), ","),
		WildcardType:        all("wildcard"),
		UppercaseNormalizer: all("analysis-common"),
		ILM:                 all("x-pack-ilm"),
		Security:            all("x-pack-security"),
		DataStreamAPI:       all("data-streams"),
	}
	plates := "keyword field with wildcard queries (no wildcard field type on this cluster)"
	if s.features.WildcardType {
		plates = "wildcard subfield vrm.wildcard"
	}
	s.log.Info("elasticsearch features", "version", s.features.Version, "plate_patterns", plates,
		"uppercase_normalizer", s.features.UppercaseNormalizer, "ilm", s.features.ILM,
		"security_module", s.features.Security, "data_stream_api", s.features.DataStreamAPI)
	return nil
}

func (s *Store) setup(ctx context.Context) error {
	tmpl, err := readsTemplate(s.stream, s.features)
	if err != nil {
		return err
	}
	if _, err := s.es.Indices.PutIndexTemplate(s.stream).Raw(bytes.NewReader(tmpl)).Do(ctx); err != nil {
		return fmt.Errorf("elastic: put index template %s: %w", s.stream, unavailable(err))
	}
	if s.features.DataStreamAPI {
		// Creating the stream up front gives searches a target before the first read arrives.
		_, err := s.es.Indices.CreateDataStream(s.stream).Do(ctx)
		if err != nil && !isType(err, "resource_already_exists_exception") {
			return fmt.Errorf("elastic: create data stream %s: %w", s.stream, unavailable(err))
		}
	}
	_, err = s.es.Indices.Create(s.cameras).Raw(bytes.NewReader(camerasIndex())).Do(ctx)
	if err != nil && !isType(err, "resource_already_exists_exception") {
		return fmt.Errorf("elastic: create index %s: %w", s.cameras, unavailable(err))
	}
	return nil
}

// Ping checks that the cluster answers.
func (s *Store) Ping(ctx context.Context) error {
	// Cluster health rather than HEAD /, which the test distribution does not serve. A red
	// cluster answers too: some reads may still be served, and Ping is about reachability.
	if _, err := s.es.Cluster.Health().Do(ctx); err != nil {
		return fmt.Errorf("elastic: ping: %w", unavailable(err))
	}
	return nil
}

// Close releases nothing: the client holds only pooled HTTP connections, which idle out.
func (s *Store) Close() error { return nil }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// unavailable marks errors of the cluster or the network as reads.ErrUnavailable, so the HTTP
// layer answers 503 rather than 500. Errors that are already domain kinds pass through.
func unavailable(err error) error {
	if errors.Is(err, reads.ErrInvalid) || errors.Is(err, reads.ErrNotFound) || errors.Is(err, reads.ErrUnavailable) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", reads.ErrUnavailable, err)
}

// isType reports whether err is an Elasticsearch error of the given type.
func isType(err error, typ string) bool {
	var ee *types.ElasticsearchError
	return errors.As(err, &ee) && ee.ErrorCause.Type == typ
}

// status returns the HTTP status of an Elasticsearch error, 0 for other errors.
func status(err error) int {
	var ee *types.ElasticsearchError
	if errors.As(err, &ee) {
		return ee.Status
	}
	return 0
}
