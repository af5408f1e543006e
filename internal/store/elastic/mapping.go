package elastic

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// maxResultWindow is one more than the largest page, because FindReads asks for one read beyond
// the page to learn whether another page follows. Paging is by search_after, so this is the size
// of one response, never a depth.
const maxResultWindow = reads.MaxPageSize + 1

// readsTemplate is the index template behind the reads data stream. The mapping is strict: a
// field the code does not know about is a bug, and refusing the document finds it at once.
//
//   - @timestamp is the sighting time (a data stream needs the field under that name); seen_at is
//     an alias of it so that queries and people can use the domain name.
//   - id is the deterministic read id, as a keyword, because _id cannot be sorted on and paging
//     needs the total order (seen_at, id).
//   - vrm is the normalised plate; skeleton its misread skeleton; vrm.wildcard the pattern field
//     where the cluster has the wildcard type.
//   - location is the camera's position at append time, for geographic search.
func readsTemplate(stream string, f Features) ([]byte, error) {
	vrm := map[string]any{"type": "keyword"}
	settings := map[string]any{"index.max_result_window": maxResultWindow}
	if f.UppercaseNormalizer {
		vrm["normalizer"] = "plate"
		settings["analysis"] = map[string]any{"normalizer": map[string]any{
			"plate": map[string]any{"type": "custom", "filter": []string{"uppercase"}},
		}}
	}
	if f.WildcardType {
		vrm["fields"] = map[string]any{"wildcard": map[string]any{"type": "wildcard"}}
	}
	keyword := map[string]any{"type": "keyword"}
	t := map[string]any{
		"index_patterns": []string{stream},
		"data_stream":    map[string]any{},
		// Above the built-in templates (priority 100 and below), so no stack template claims it.
		"priority": 200,
		"_meta":    map[string]any{"managed_by": "anpr", "schema": 1},
		"template": map[string]any{
			"settings": settings,
			"mappings": map[string]any{
				"dynamic": "strict",
				"properties": map[string]any{
					"@timestamp":      map[string]any{"type": "date", "format": "strict_date_optional_time||epoch_millis"},
					"seen_at":         map[string]any{"type": "alias", "path": "@timestamp"},
					"id":              keyword,
					"vrm":             vrm,
					"skeleton":        keyword,
					"camera_id":       keyword,
					"location":        map[string]any{"type": "geo_point"},
					"confidence":      map[string]any{"type": "float"},
					"lane":            map[string]any{"type": "short"},
					"patch_sha256":    keyword,
					"overview_sha256": keyword,
				},
			},
		},
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("elastic: reads template: %w", err)
	}
	return b, nil
}

// camerasIndex is the body that creates the camera index: a small plain index, one document per
// camera, _id = camera id, so a camera is replaced in place.
func camerasIndex() []byte {
	return []byte(`{
  "settings": {"number_of_shards": 1},
  "mappings": {
    "dynamic": "strict",
    "properties": {
      "id":        {"type": "keyword"},
      "name":      {"type": "keyword"},
      "road":      {"type": "keyword"},
      "direction": {"type": "keyword"},
      "area":      {"type": "keyword"},
      "lat":       {"type": "double"},
      "lon":       {"type": "double"},
      "location":  {"type": "geo_point"}
    }
  }
}`)
}

// readDoc is a read as stored in Elasticsearch. Times are epoch milliseconds, the store's
// precision, so no time zone or fraction formatting can change an id or an order.
type readDoc struct {
	Timestamp   int64     `json:"@timestamp"`
	ID          string    `json:"id"`
	VRM         string    `json:"vrm"`
	Skeleton    string    `json:"skeleton"`
	CameraID    string    `json:"camera_id"`
	Location    *geoPoint `json:"location,omitempty"`
	Confidence  float64   `json:"confidence,omitempty"`
	Lane        int       `json:"lane,omitempty"`
	PatchSHA    string    `json:"patch_sha256,omitempty"`
	OverviewSHA string    `json:"overview_sha256,omitempty"`
}

type geoPoint struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

func (d readDoc) read() reads.Read {
	return reads.Read{
		ID:          d.ID,
		VRM:         d.VRM,
		Skeleton:    d.Skeleton,
		CameraID:    d.CameraID,
		SeenAt:      time.UnixMilli(d.Timestamp).UTC(),
		Confidence:  d.Confidence,
		Lane:        d.Lane,
		PatchSHA:    d.PatchSHA,
		OverviewSHA: d.OverviewSHA,
	}
}

type cameraDoc struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Road      string   `json:"road"`
	Direction string   `json:"direction"`
	Area      string   `json:"area"`
	Lat       float64  `json:"lat"`
	Lon       float64  `json:"lon"`
	Location  geoPoint `json:"location"`
}
