package config

import (
	"strings"
	"testing"
	"time"
)

func TestElasticsearchFromFileAndEnv(t *testing.T) {
	p := writeFile(t, `backend: elasticsearch
elasticsearch:
  urls: [https://es-0.example:9200]
  ca_file: /etc/anpr/es-ca.crt
  index_prefix: force-
  request_timeout: 10s
`)
	cfg, err := Load(p, append([]string{
		"ANPR_ELASTICSEARCH_URLS=https://es-1.example:9200, https://es-2.example:9200",
		"ANPR_ELASTICSEARCH_API_KEY=aWQ6a2V5",
		"ANPR_ELASTICSEARCH_ROLLOVER_MAX_AGE=12h",
	}, idp...))
	if err != nil {
		t.Fatal(err)
	}
	es := cfg.Elasticsearch
	if cfg.Backend != "elasticsearch" || strings.Join(es.URLs, " ") != "https://es-1.example:9200 https://es-2.example:9200" ||
		es.APIKey != "aWQ6a2V5" || es.CAFile != "/etc/anpr/es-ca.crt" || es.RequestTimeout != 10*time.Second ||
		es.RolloverMaxAge != 12*time.Hour {
		t.Fatalf("file and env not applied: %+v", es)
	}
	// Derived from the prefix, so a second portal on the same cluster does not share them.
	if strings.Join(es.AuditIndices, ",") != "force-audit-*" || strings.Join(es.IdentityIndices, ",") != "force-identity-*" {
		t.Fatalf("derived index patterns: %v %v", es.AuditIndices, es.IdentityIndices)
	}
	if err := cfg.RequireElasticsearch(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.ValidateServe(); err != nil {
		t.Fatal(err)
	}
}

// With backend sqlite the elasticsearch section is not checked: a half-filled section left in a
// file for later must not stop the embedded portal.
func TestElasticsearchIgnoredOnSQLite(t *testing.T) {
	cfg, err := Load(writeFile(t, "elasticsearch:\n  urls: [ftp://nope]\n"), idp)
	if err != nil {
		t.Fatalf("sqlite portal refused over an unused section: %v", err)
	}
	if err := cfg.RequireElasticsearch(); err == nil {
		t.Fatal("es setup would run against a sqlite config")
	}
}

// Every problem in the section is reported in one pass, each naming its field.
func TestElasticsearchValidateReportsEverything(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		want []string
	}{
		{"no urls", nil, []string{"elasticsearch.urls: at least one"}},
		{"everything wrong at once", []string{
			"ANPR_ELASTICSEARCH_URLS=ftp://es:9200,https://,https://elastic:secret@es:9200",
			"ANPR_ELASTICSEARCH_API_KEY=k", "ANPR_ELASTICSEARCH_API_KEY_FILE=/run/k", "ANPR_ELASTICSEARCH_USERNAME=u",
			"ANPR_ELASTICSEARCH_INDEX_PREFIX=Anpr",
			"ANPR_ELASTICSEARCH_REQUEST_TIMEOUT=1ms",
			"ANPR_ELASTICSEARCH_REFRESH=sometimes",
			"ANPR_ELASTICSEARCH_MAX_RETRIES=-1",
			"ANPR_ELASTICSEARCH_AUDIT_INDICES=*",
			"ANPR_ELASTICSEARCH_IDENTITY_INDICES=Bad Name",
			"ANPR_ELASTICSEARCH_ROLLOVER_MAX_AGE=1m",
			"ANPR_ELASTICSEARCH_ROLLOVER_MAX_PRIMARY_SHARD_SIZE=big",
		}, []string{
			`elasticsearch.urls: "ftp://es:9200"`, `elasticsearch.urls: "https://": has no host`,
			"not in the URL", "elasticsearch.api_key_file: give api_key or api_key_file, not both", "elasticsearch.api_key: give an API key or username/password, not both",
			"elasticsearch.username: username and password go together", "elasticsearch.index_prefix",
			"elasticsearch.request_timeout", "elasticsearch.refresh", "elasticsearch.max_retries",
			"elasticsearch.audit_indices", "elasticsearch.identity_indices", "elasticsearch.rollover_max_age",
			"elasticsearch.rollover_max_primary_shard_size",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := append([]string{"ANPR_BACKEND=elasticsearch"}, tc.env...)
			_, err := Load("", append(env, idp...))
			if err == nil {
				t.Fatal("invalid elasticsearch config accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("missing %q in:\n%v", w, err)
				}
			}
			// A password in a URL must not be echoed back into logs.
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error repeats the URL's password:\n%v", err)
			}
		})
	}
}

func TestElasticsearchEnvNames(t *testing.T) {
	names := strings.Join(EnvNames(), " ")
	for _, want := range []string{"ANPR_ELASTICSEARCH_URLS", "ANPR_ELASTICSEARCH_API_KEY", "ANPR_ELASTICSEARCH_PASSWORD",
		"ANPR_ELASTICSEARCH_CA_FILE", "ANPR_ELASTICSEARCH_AUDIT_INDICES"} {
		if !strings.Contains(names, want) {
			t.Errorf("EnvNames lacks %s", want)
		}
	}
}
