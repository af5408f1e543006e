package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/mget"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/operationtype"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/sortorder"

	"github.com/anpr-portal/anpr/internal/reads"
)

// PutCameras inserts or replaces cameras by id. Every camera is checked before any is written,
// so a bad one changes nothing; the write itself is one bulk request, whose items either all
// succeed or are reported (a partial failure leaves the earlier cameras written, and resending
// the same batch is harmless because each camera replaces itself).
func (s *Store) PutCameras(ctx context.Context, cams []reads.Camera) error {
	for i, c := range cams {
		if err := checkCamera(c); err != nil {
			return fmt.Errorf("put cameras: camera %d (%q): %w: %w", i, c.ID, reads.ErrInvalid, err)
		}
	}
	if len(cams) == 0 {
		return nil
	}
	req := s.es.Bulk().Index(s.cameras).Refresh(s.refresh)
	for _, c := range cams {
		doc := cameraDoc{ID: c.ID, Name: c.Name, Road: c.Road, Direction: c.Direction, Area: c.Area,
			Lat: c.Lat, Lon: c.Lon, Location: geoPoint{Lat: c.Lat, Lon: c.Lon}}
		if err := req.IndexOp(types.IndexOperation{Id_: ptr(c.ID)}, doc); err != nil {
			return fmt.Errorf("put cameras: encode %s: %w", c.ID, err)
		}
	}
	res, err := req.Do(ctx)
	if err != nil {
		return fmt.Errorf("put cameras: %w", unavailable(err))
	}
	var failures []string
	for i, item := range res.Items {
		if it := item[operationtype.Index]; it.Status != http.StatusOK && it.Status != http.StatusCreated {
			failures = append(failures, fmt.Sprintf("%s: %d %s", cams[i].ID, it.Status, causeText(it.Error)))
		}
	}
	if len(failures) > 0 {
		return fmt.Errorf("put cameras: %d refused: %s: %w", len(failures), strings.Join(failures[:min(3, len(failures))], "; "), reads.ErrUnavailable)
	}
	return nil
}

func checkCamera(c reads.Camera) error {
	if len(c.ID) > 512 {
		return errors.New("id is longer than 512 bytes, the most an Elasticsearch _id can hold")
	}
	return c.Check()
}

// Cameras lists every camera, ordered by id, paging with search_after so any number fits.
func (s *Store) Cameras(ctx context.Context) ([]reads.Camera, error) {
	out := []reads.Camera{}
	asc := sortorder.Asc
	var after []types.FieldValue
	for {
		res, err := s.es.Search().Index(s.cameras).Request(&search.Request{
			Query:       &types.Query{MatchAll: &types.MatchAllQuery{}},
			Sort:        []types.SortCombinations{types.SortOptions{SortOptions: map[string]types.FieldSort{"id": {Order: &asc}}}},
			Size:        ptr(1000),
			SearchAfter: after,
		}).Do(ctx)
		if err != nil {
			return nil, fmt.Errorf("list cameras: %w", unavailable(err))
		}
		for _, h := range res.Hits.Hits {
			var d cameraDoc
			if err := json.Unmarshal(h.Source_, &d); err != nil {
				return nil, fmt.Errorf("list cameras: decode: %w", err)
			}
			out = append(out, d.camera())
		}
		if len(res.Hits.Hits) < 1000 {
			return out, nil
		}
		after = res.Hits.Hits[len(res.Hits.Hits)-1].Sort
	}
}

// Camera returns one camera by id.
func (s *Store) Camera(ctx context.Context, id string) (reads.Camera, error) {
	cams, err := s.camerasByID(ctx, map[string]bool{id: true})
	if err != nil {
		return reads.Camera{}, fmt.Errorf("camera %q: %w", id, err)
	}
	c, ok := cams[id]
	if !ok {
		return reads.Camera{}, fmt.Errorf("camera %q: %w", id, reads.ErrNotFound)
	}
	return c, nil
}

// camerasByID fetches cameras by id with a real-time multi-get (no refresh needed); ids that
// the registry does not hold are absent from the result.
func (s *Store) camerasByID(ctx context.Context, ids map[string]bool) (map[string]reads.Camera, error) {
	out := make(map[string]reads.Camera, len(ids))
	keys := slices.Sorted(maps.Keys(ids))
	keys = slices.DeleteFunc(keys, func(k string) bool { return k == "" || len(k) > 512 })
	if len(keys) == 0 {
		return out, nil
	}
	res, err := s.es.Mget().Index(s.cameras).Request(&mget.Request{Ids: keys}).Do(ctx)
	if err != nil {
		return nil, fmt.Errorf("get cameras: %w", unavailable(err))
	}
	for _, d := range res.Docs {
		if e, ok := d.(*types.MultiGetError); ok {
			return nil, fmt.Errorf("get cameras: %s: %w", causeText(&e.Error), reads.ErrUnavailable)
		}
		r, ok := d.(*types.GetResult)
		if !ok || !r.Found {
			continue // an id the registry does not hold
		}
		var c cameraDoc
		if err := json.Unmarshal(r.Source_, &c); err != nil {
			return nil, fmt.Errorf("get cameras: decode %s: %w", r.Id_, err)
		}
		out[c.ID] = c.camera()
	}
	return out, nil
}

func (d cameraDoc) camera() reads.Camera {
	return reads.Camera{ID: d.ID, Name: d.Name, Road: d.Road, Direction: d.Direction, Area: d.Area, Lat: d.Lat, Lon: d.Lon}
}
