package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Retention runs by default every day at 02:00 UTC, with its holds beside the other data; a
// schedule that cannot work is refused with the setting named.
func TestRetentionDefaultsAndChecks(t *testing.T) {
	cfg, err := Load("", []string{"ANPR_DATA_DIR=/srv/anpr"})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Retention
	if !r.Enabled || r.Interval != 24*time.Hour || r.Offset != 2*time.Hour || r.Path != filepath.Join("/srv/anpr", "holds.db") {
		t.Fatalf("defaults = %+v", r)
	}
	if cfg, err := Load("", []string{"ANPR_RETENTION_ENABLED=false"}); err != nil || cfg.Retention.Enabled {
		t.Fatalf("disable: %+v, %v", cfg.Retention, err)
	}
	for env, want := range map[string]string{
		"ANPR_RETENTION_INTERVAL=10s": "retention.interval",
		"ANPR_RETENTION_OFFSET=25h":   "retention.offset",
		"ANPR_RETENTION_OFFSET=-1h":   "retention.offset",
	} {
		if _, err := Load("", []string{env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v; want an error naming %s", env, err, want)
		}
	}
}
