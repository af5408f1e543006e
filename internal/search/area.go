package search

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/reads"
)

// checkPlace resolves the place filter of a request to a camera set. Cameras are fixed points,
// so an area is the set of cameras inside it (the store is asked with that set and needs no geo
// query); with both an area and a camera list the cameras searched are those in both. An area
// that is malformed, too large or holds no camera is refused, never searched as "everywhere".
func (s *Service) checkPlace(ctx context.Context, cameras []string, area *geo.Area) ([]string, error) {
	named, err := s.checkCameras(ctx, cameras)
	if err != nil || area == nil {
		return named, err
	}
	inside, err := s.camerasIn(ctx, *area)
	if err != nil {
		return nil, err
	}
	if len(named) == 0 {
		return inside, nil
	}
	var both []string
	for _, id := range named {
		if _, ok := slices.BinarySearch(inside, id); ok {
			both = append(both, id)
		}
	}
	if len(both) == 0 {
		return nil, invalid("none of the cameras named (%s) lies inside the area", strings.Join(named, ", "))
	}
	return both, nil
}

// camerasIn checks an area and returns the ids of the cameras inside it, sorted.
func (s *Service) camerasIn(ctx context.Context, a geo.Area) ([]string, error) {
	shape, err := a.Check(s.cfg.Area)
	if err != nil {
		return nil, invalid("area: %s", strings.TrimPrefix(err.Error(), geo.ErrInvalid.Error()+": "))
	}
	cams, err := s.cams.Cameras(ctx)
	if err != nil {
		return nil, fmt.Errorf("list cameras: %w", err)
	}
	var ids []string
	for _, c := range cams {
		if shape.Contains(c.Lat, c.Lon) {
			ids = append(ids, c.ID)
		}
	}
	if len(ids) == 0 {
		return nil, invalid("area: no camera lies inside it (%.2f km²); draw it around the cameras to search", shape.AreaKM2())
	}
	slices.Sort(ids)
	return ids, nil
}

// Cameras lists the camera registry for pickers and maps. Camera ids, names and positions are
// public infrastructure, not personal data, so listing them is neither decided by the search
// policy nor audited (the route still needs a signed-in user).
func (s *Service) Cameras(ctx context.Context) ([]reads.Camera, error) {
	cams, err := s.cams.Cameras(ctx)
	if err != nil {
		return nil, fmt.Errorf("list cameras: %w", err)
	}
	if cams == nil {
		cams = []reads.Camera{}
	}
	return cams, nil
}
