package config

import (
	"path/filepath"
	"strings"
	"testing"
)

// The search section loads from the file and the environment, derives the cursor key file from
// the data directory, and refuses what the search service could never run with.
func TestSearchSection(t *testing.T) {
	cfg, err := Load("", idp)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Search.CursorKeyFile != filepath.Join("data", "cursor.key") || cfg.Search.MaxPageSize != 0 {
		t.Fatalf("search defaults: %+v", cfg.Search)
	}
	p := writeFile(t, "search:\n  max_speed_kph: 250\n  min_pattern_fixed: 4\n  default_page_size: 20\n  max_cameras: 40\n  cursor_key_file: /etc/anpr/cursor.key\n")
	cfg, err = Load(p, append([]string{"ANPR_SEARCH_MAX_PAGE_SIZE=200"}, idp...))
	if err != nil {
		t.Fatal(err)
	}
	want := Search{MaxSpeedKPH: 250, MinPatternFixed: 4, DefaultPageSize: 20, MaxPageSize: 200, MaxCameras: 40, CursorKeyFile: "/etc/anpr/cursor.key"}
	if cfg.Search != want {
		t.Fatalf("search = %+v, want %+v", cfg.Search, want)
	}
	p = writeFile(t, "search:\n  max_speed_kph: -1\n  default_page_size: 300\n  max_page_size: 100\n")
	_, err = Load(p, idp)
	for _, w := range []string{"search.max_speed_kph", "search.default_page_size"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}
