package search

import (
	"context"
	"fmt"

	"github.com/anpr-portal/anpr/internal/reads"
)

// CameraSource is where the service looks cameras up. A read store is one; an in-memory registry
// in front of it (ingest.CameraCache) is the fast one.
type CameraSource interface {
	Camera(ctx context.Context, id string) (reads.Camera, error)
	Cameras(ctx context.Context) ([]reads.Camera, error)
}

// camerasByID is what a cache offers to spare each request building its own index.
type camerasByID interface {
	CamerasByID(ctx context.Context) (map[string]reads.Camera, error)
}

// cameraIndex returns every camera by id. The map may be shared: callers only read it.
func (s *Service) cameraIndex(ctx context.Context) (map[string]reads.Camera, error) {
	if c, ok := s.cams.(camerasByID); ok {
		return c.CamerasByID(ctx)
	}
	cams, err := s.cams.Cameras(ctx)
	if err != nil {
		return nil, fmt.Errorf("list cameras: %w", err)
	}
	byID := make(map[string]reads.Camera, len(cams))
	for _, c := range cams {
		byID[c.ID] = c
	}
	return byID, nil
}
