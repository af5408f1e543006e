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

func TestLoadDefaultsAndDerived(t *testing.T) {
	cfg, err := Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SQLite.Path != filepath.Join("data", "reads.db") || cfg.Audit.Path != filepath.Join("data", "audit.db") {
		t.Fatalf("derived paths wrong: %+v", cfg)
	}
	if cfg.Data.Band1 != 90*24*time.Hour || cfg.Data.Retention != 365*24*time.Hour {
		t.Fatalf("data-age defaults wrong: %+v", cfg.Data)
	}
}

func TestFileThenEnvOverride(t *testing.T) {
	p := writeFile(t, "listen: 127.0.0.1:9000\ningest:\n  batch_size: 100\n")
	cfg, err := Load(p, []string{"ANPR_INGEST_BATCH_SIZE=250", "ANPR_DATA_RETENTION=4000h",
		"ANPR_INGEST_API_KEY_SHA256=" + strings.Repeat("a", 64) + "," + strings.Repeat("b", 64), "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9000" || cfg.Ingest.BatchSize != 250 || cfg.Data.Retention != 4000*time.Hour {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
	if len(cfg.Ingest.APIKeySHA256) != 2 {
		t.Fatalf("list override: %v", cfg.Ingest.APIKeySHA256)
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	if _, err := Load(writeFile(t, ""), nil); err != nil {
		t.Fatal(err)
	}
}

// Every problem is reported together, so an operator fixes the file in one pass.
func TestValidateReportsEverything(t *testing.T) {
	p := writeFile(t, "backend: oracle\nlog_level: chatty\ningest:\n  batch_size: 0\n  api_key_sha256: [notahash]\ndata:\n  retention: 1h\n")
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
	for _, want := range []string{"backend", "log_level", "ingest.batch_size", "api_key_sha256[0]", "data.retention"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
}

func TestUnknownYAMLKeyRejected(t *testing.T) {
	_, err := Load(writeFile(t, "lissten: :80\n"), nil)
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
