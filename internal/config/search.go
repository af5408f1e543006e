package config

import (
	"fmt"
	"path/filepath"
)

// Search tunes the search service (internal/search). Zero values take the service's defaults
// (200 km/h, 3 fixed characters, pages of 50 and at most 500, 100 cameras), which the service
// checks again at start.
type Search struct {
	// MaxSpeedKPH: two reads of one plate implying a faster speed are flagged as impossible travel
	// (a likely cloned plate).
	MaxSpeedKPH int `yaml:"max_speed_kph"`
	// MinPatternFixed is how many literal characters a partial-VRM pattern needs.
	MinPatternFixed int `yaml:"min_pattern_fixed"`
	DefaultPageSize int `yaml:"default_page_size"`
	MaxPageSize     int `yaml:"max_page_size"`
	// MaxCameras bounds the camera filter of one request.
	MaxCameras int `yaml:"max_cameras"`
	// CursorKeyFile holds the key that signs page cursors (default <data_dir>/cursor.key). It is
	// created with mode 0600 on first start if absent, like the session key. Instances that share
	// the file accept each other's cursors, and cursors survive a restart; replacing it only
	// costs clients a fresh first page.
	CursorKeyFile string `yaml:"cursor_key_file"`
}

func (s *Search) setDerived(dataDir string) {
	if s.CursorKeyFile == "" {
		s.CursorKeyFile = filepath.Join(dataDir, "cursor.key")
	}
}

func (s Search) validate() []error {
	var errs []error
	for _, f := range []struct {
		name string
		v    int
	}{
		{"search.max_speed_kph", s.MaxSpeedKPH}, {"search.min_pattern_fixed", s.MinPatternFixed},
		{"search.default_page_size", s.DefaultPageSize}, {"search.max_page_size", s.MaxPageSize}, {"search.max_cameras", s.MaxCameras},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s: must not be negative (0 takes the default)", f.name))
		}
	}
	if s.DefaultPageSize > 0 && s.MaxPageSize > 0 && s.DefaultPageSize > s.MaxPageSize {
		errs = append(errs, fmt.Errorf("search.default_page_size: %d is larger than search.max_page_size %d", s.DefaultPageSize, s.MaxPageSize))
	}
	return errs
}
