package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/config"
	"github.com/anpr-portal/anpr/internal/store/elastic"
)

func esTestConfig(t *testing.T, env ...string) config.Config {
	t.Helper()
	cfg, err := config.Load("", append([]string{"ANPR_BACKEND=elasticsearch", "ANPR_ELASTICSEARCH_URLS=https://es.example:9200"}, env...))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The portal's settings reach the store: the key from its file, the CA as the only extra root,
// the response timeout on the transport.
func TestElasticConfigFromPortalConfig(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "portal.key")
	os.WriteFile(keyFile, []byte("aWQ6c2VjcmV0\n"), 0o600)
	notPEM := filepath.Join(dir, "ca.crt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)

	cfg := esTestConfig(t, "ANPR_ELASTICSEARCH_API_KEY_FILE="+keyFile, "ANPR_ELASTICSEARCH_REQUEST_TIMEOUT=7s", "ANPR_ELASTICSEARCH_INDEX_PREFIX=force-")
	ec, err := elasticConfig(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if ec.APIKey != "aWQ6c2VjcmV0" || ec.Prefix != "force-" || ec.Transport.(*http.Transport).ResponseHeaderTimeout != 7*time.Second {
		t.Fatalf("elastic config: key %q prefix %q", ec.APIKey, ec.Prefix)
	}
	for _, tc := range []struct{ env, want string }{
		{"ANPR_ELASTICSEARCH_API_KEY_FILE=" + filepath.Join(dir, "missing.key"), "elasticsearch.api_key_file"},
		{"ANPR_ELASTICSEARCH_CA_FILE=" + filepath.Join(dir, "missing.crt"), "elasticsearch.ca_file"},
		{"ANPR_ELASTICSEARCH_CA_FILE=" + notPEM, "no PEM certificate"},
	} {
		if _, err := elasticConfig(esTestConfig(t, tc.env), slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.env, err, tc.want)
		}
	}
}

// New keys are written once, private to the owner; an existing file (a key possibly in use) is
// never overwritten, and keys that already existed in the cluster (no secret) write nothing.
func TestESSetupWritesNewKeysOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "es-keys")
	rep := elastic.SetupReport{Items: []elastic.SetupItem{
		{Kind: "API key", Name: "anpr-portal", Status: elastic.StatusCreated, Secret: "cG9ydGFsOmtleQ=="},
		{Kind: "API key", Name: "anpr-ingest", Status: elastic.StatusExists},
	}}
	var out bytes.Buffer
	if err := writeKeys(&out, dir, rep); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "anpr-portal.key")
	b, err := os.ReadFile(p)
	if err != nil || strings.TrimSpace(string(b)) != "cG9ydGFsOmtleQ==" {
		t.Fatalf("key file: %q %v", b, err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", st.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, "anpr-ingest.key")); err == nil {
		t.Error("wrote a file for a key whose secret was not shown")
	}
	if err := writeKeys(&out, dir, rep); err == nil {
		t.Error("overwrote an existing key file")
	}
	if b2, _ := os.ReadFile(p); !bytes.Equal(b, b2) {
		t.Error("existing key file changed")
	}
}
