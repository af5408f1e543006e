package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "anpr.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// idp is the minimum every valid config needs: where people log in.
var idp = []string{"ANPR_IDENTITY_ISSUER=http://127.0.0.1:5556/dex", "ANPR_IDENTITY_CLIENT_ID=anpr-portal"}

func TestLoadDefaultsAndDerived(t *testing.T) {
	cfg, err := Load("", idp)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SQLite.Path != filepath.Join("data", "reads.db") || cfg.Audit.Path != filepath.Join("data", "audit.db") {
		t.Fatalf("derived paths wrong: %+v", cfg)
	}
	if cfg.Identity.RedirectURL != "http://127.0.0.1:8080/auth/callback" {
		t.Fatalf("redirect URL not derived from public URL: %q", cfg.Identity.RedirectURL)
	}
	if cfg.Data.Band1 != 90*24*time.Hour || cfg.Data.Retention != 365*24*time.Hour {
		t.Fatalf("data-age defaults wrong: %+v", cfg.Data)
	}
}

func TestFileThenEnvOverride(t *testing.T) {
	p := writeFile(t, "listen: 127.0.0.1:9000\ningest:\n  batch_size: 100\n")
	cfg, err := Load(p, append([]string{"ANPR_INGEST_BATCH_SIZE=250", "ANPR_DATA_RETENTION=4000h", "PATH=/bin", "ANPR_TEST_ES_REQUIRE=1"}, idp...))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9000" || cfg.Ingest.BatchSize != 250 || cfg.Data.Retention != 4000*time.Hour {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	if _, err := Load(writeFile(t, ""), idp); err != nil {
		t.Fatal(err)
	}
}

// Every problem is reported together, so an operator fixes the file in one pass.
func TestValidateReportsEverything(t *testing.T) {
	p := writeFile(t, "backend: oracle\nlog_level: chatty\ningest:\n  batch_size: 0\ndata:\n  retention: 1h\n")
	_, err := Load(p, []string{"ANPR_INGEST_MAX_LINE_BYTES=lots", "ANPR_NO_SUCH=1"})
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	// env errors are reported before validation; fix them and the validation errors all show.
	for _, want := range []string{"ANPR_INGEST_MAX_LINE_BYTES", "ANPR_NO_SUCH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	_, err = Load(p, nil)
	for _, want := range []string{"backend", "log_level", "ingest.batch_size", "data.retention"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

func TestServeNeedsAnIdentityProvider(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.ValidateServe()
	for _, want := range []string{"identity.issuer", "identity.client_id"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	cfg, _ = Load("", idp)
	if err := cfg.ValidateServe(); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownYAMLKeyRejected(t *testing.T) {
	_, err := Load(writeFile(t, "lissten: :80\n"), idp)
	if err == nil || !strings.Contains(err.Error(), "lissten") {
		t.Fatalf("misspelt key not reported: %v", err)
	}
}

func TestEnvNamesCoverNestedFields(t *testing.T) {
	names := strings.Join(EnvNames(), " ")
	for _, want := range []string{"ANPR_LISTEN", "ANPR_SQLITE_PATH", "ANPR_INGEST_MAX_BODY_BYTES", "ANPR_DATA_BAND1"} {
		if !strings.Contains(names, want) {
			t.Errorf("EnvNames lacks %s", want)
		}
	}
}
