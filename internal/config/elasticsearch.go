package config

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Elasticsearch configures the production backend: where the cluster is, how the portal proves
// who it is, and the names and lifecycle `anpr es setup` gives the indices. Secrets (api_key,
// password) are best given as ANPR_ELASTICSEARCH_API_KEY / ANPR_ELASTICSEARCH_PASSWORD from a
// secret store rather than written into the file.
type Elasticsearch struct {
	URLs []string `yaml:"urls"` // e.g. https://es.example:9200; ANPR_ELASTICSEARCH_URLS=a,b
	// APIKey is the base64 "id:key" Elasticsearch issues (anpr es setup prints one per role).
	// Use it or username/password, not both.
	APIKey string `yaml:"api_key"`
	// APIKeyFile holds the API key instead (a mounted secret, or the file `anpr es setup
	// --key-dir` wrote); read when the store opens.
	APIKeyFile string `yaml:"api_key_file"`
	Username   string `yaml:"username"`
	Password   string `yaml:"password"`
	// CAFile is a PEM file of the CA that signed the cluster's certificate, for clusters with a
	// private CA (ECK and the compose file make one). Empty: the system roots.
	CAFile string `yaml:"ca_file"`
	// IndexPrefix starts every index, data stream, template, policy, role and key name the portal
	// owns, so several portals (or test runs) can share a cluster.
	IndexPrefix string `yaml:"index_prefix"`
	// RequestTimeout bounds the wait for a response's headers from the cluster.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// Refresh is what writes wait for: wait_for (searchable at the next refresh), true (forced
	// refresh: tests) or false (return at once).
	Refresh    string `yaml:"refresh"`
	MaxRetries int    `yaml:"max_retries"` // of requests refused with 429 or 5xx
	// AuditIndices are the index patterns of the audit log, which the audit writer's role may only
	// append to (create_doc). Default <index_prefix>audit-*.
	AuditIndices []string `yaml:"audit_indices"`
	// IdentityIndices are the index patterns of sessions, API keys and grants, which the portal's
	// role may read and write. Default <index_prefix>identity-*.
	IdentityIndices []string `yaml:"identity_indices"`
	// Rollover of the reads data stream's backing indices (ILM hot phase); whichever comes first.
	RolloverMaxAge              time.Duration `yaml:"rollover_max_age"`
	RolloverMaxPrimaryShardSize string        `yaml:"rollover_max_primary_shard_size"`
}

func defaultElasticsearch() Elasticsearch {
	return Elasticsearch{
		IndexPrefix:                 "anpr-",
		RequestTimeout:              30 * time.Second,
		Refresh:                     "wait_for",
		MaxRetries:                  5,
		RolloverMaxAge:              24 * time.Hour,
		RolloverMaxPrimaryShardSize: "50gb",
	}
}

func (e *Elasticsearch) setDerived() {
	if len(e.AuditIndices) == 0 {
		e.AuditIndices = []string{e.IndexPrefix + "audit-*"}
	}
	if len(e.IdentityIndices) == 0 {
		e.IdentityIndices = []string{e.IndexPrefix + "identity-*"}
	}
}

// The same rule as the elastic store's own check (internal/store/elastic); repeated here so a bad
// prefix is reported with every other config problem, before any connection is tried.
var (
	esPrefixRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,60}$`)
	esPatternRE   = regexp.MustCompile(`^[a-z0-9.][a-z0-9._*-]{0,120}$`)
	esByteSizeRE  = regexp.MustCompile(`^[0-9]+(b|kb|mb|gb|tb|pb)$`)
	esRefreshKind = map[string]bool{"wait_for": true, "true": true, "false": true}
)

// validate lists every problem of the section; it runs only when backend is elasticsearch.
func (e *Elasticsearch) validate() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("elasticsearch.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if len(e.URLs) == 0 {
		bad("urls", "at least one cluster URL is required with backend elasticsearch (e.g. https://es.example:9200)")
	}
	for _, raw := range e.URLs {
		u, err := url.Parse(raw)
		switch {
		case err != nil:
			bad("urls", "%q: %v", raw, err)
		case u.Scheme != "http" && u.Scheme != "https":
			bad("urls", "%q: want an http:// or https:// URL", raw)
		case u.Host == "":
			bad("urls", "%q: has no host", raw)
		case u.User != nil:
			// Credentials in a URL end up in logs and error messages.
			bad("urls", "%q: put credentials in api_key or username/password, not in the URL", u.Redacted())
		}
	}
	if e.APIKey != "" && e.APIKeyFile != "" {
		bad("api_key_file", "give api_key or api_key_file, not both")
	}
	if (e.APIKey != "" || e.APIKeyFile != "") && (e.Username != "" || e.Password != "") {
		bad("api_key", "give an API key or username/password, not both")
	}
	if (e.Username == "") != (e.Password == "") {
		bad("username", "username and password go together")
	}
	if !esPrefixRE.MatchString(e.IndexPrefix) {
		bad("index_prefix", "%q: want lower-case letters, digits, '.', '_', '-', starting with a letter or digit", e.IndexPrefix)
	}
	if e.RequestTimeout < time.Second {
		bad("request_timeout", "must be at least 1s")
	}
	if !esRefreshKind[e.Refresh] {
		bad("refresh", "%q: want wait_for, true or false", e.Refresh)
	}
	if e.MaxRetries < 0 {
		bad("max_retries", "must not be negative")
	}
	for _, f := range []struct {
		name string
		pats []string
	}{{"audit_indices", e.AuditIndices}, {"identity_indices", e.IdentityIndices}} {
		for _, p := range f.pats {
			// A leading '*' would also match system and other applications' indices.
			if !esPatternRE.MatchString(p) || strings.HasPrefix(p, "*") {
				bad(f.name, "%q: want a lower-case index name or pattern that does not start with '*'", p)
			}
		}
	}
	if e.RolloverMaxAge < time.Hour {
		bad("rollover_max_age", "must be at least 1h")
	}
	if !esByteSizeRE.MatchString(e.RolloverMaxPrimaryShardSize) {
		bad("rollover_max_primary_shard_size", "%q: want a size such as 50gb", e.RolloverMaxPrimaryShardSize)
	}
	return errs
}

// RequireElasticsearch reports an error unless the config selects the Elasticsearch backend, for
// commands (anpr es setup) that only make sense there.
func (c *Config) RequireElasticsearch() error {
	if c.Backend != "elasticsearch" {
		return errors.New("backend is not elasticsearch: set backend: elasticsearch (ANPR_BACKEND=elasticsearch) and elasticsearch.urls")
	}
	return nil
}
