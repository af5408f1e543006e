package ingest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// CameraCache is the camera registry held in memory, because every ingested line asks whether
// its camera is known and every journey, export and area search needs camera positions; reading
// the registry from the store each time cost more than some searches themselves. Cameras change
// rarely, so the cache is refreshed when it is older than the refresh interval (a change made by
// another process is seen within that interval) and at once when PutCameras goes through it. A
// miss reloads the registry at most once per refresh interval, so a newly registered camera is
// accepted soon after without letting a flood of bad ids hammer the store.
//
// CameraCache implements reads.CameraRegistry, so it can stand in front of the store for any
// reader of cameras.
type CameraCache struct {
	reg     reads.CameraRegistry
	now     func() time.Time
	every   time.Duration
	log     *slog.Logger
	mu      sync.RWMutex
	snap    cameraSnapshot
	loaded  time.Time
	loading sync.Mutex
}

// cameraSnapshot is one load of the registry. It is never modified after it is built, so readers
// may keep it without a lock.
type cameraSnapshot struct {
	list []reads.Camera // in the store's order (by id)
	byID map[string]reads.Camera
}

// NewCameraCache loads the registry once.
func NewCameraCache(ctx context.Context, reg reads.CameraRegistry, now func() time.Time, every time.Duration, log *slog.Logger) (*CameraCache, error) {
	c := &CameraCache{reg: reg, now: now, every: every, log: log}
	if err := c.reload(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CameraCache) reload(ctx context.Context) error {
	cams, err := c.reg.Cameras(ctx)
	if err != nil {
		return err
	}
	m := make(map[string]reads.Camera, len(cams))
	for _, cam := range cams {
		m[cam.ID] = cam
	}
	c.mu.Lock()
	c.snap, c.loaded = cameraSnapshot{list: cams, byID: m}, c.now()
	c.mu.Unlock()
	return nil
}

func (c *CameraCache) current() (cameraSnapshot, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.snap, c.now().Sub(c.loaded) >= c.every
}

// refresh reloads a stale registry unless another caller is already doing so (that caller's
// result is then as fresh as ours would be). A failed reload keeps the old snapshot: cameras are
// public infrastructure, and a briefly stale list is better than failing every search.
func (c *CameraCache) refresh(ctx context.Context) cameraSnapshot {
	if c.loading.TryLock() {
		defer c.loading.Unlock()
		if _, stale := c.current(); stale { // another caller may have just reloaded
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := c.reload(ctx); err != nil {
				c.log.Warn("camera registry reload failed", "err", err)
			}
		}
	}
	snap, _ := c.current()
	return snap
}

// Known reports whether id is a registered camera.
func (c *CameraCache) Known(id string) bool {
	_, err := c.Camera(context.Background(), id)
	return err == nil
}

// Camera returns one camera, or reads.ErrNotFound. A miss on a stale cache reloads it first.
func (c *CameraCache) Camera(ctx context.Context, id string) (reads.Camera, error) {
	snap, stale := c.current()
	cam, ok := snap.byID[id]
	if !ok && stale {
		cam, ok = c.refresh(ctx).byID[id]
	}
	if !ok {
		return reads.Camera{}, fmt.Errorf("camera %q: %w", id, reads.ErrNotFound)
	}
	return cam, nil
}

// Cameras returns every camera, in the store's order. The slice is the caller's to change.
func (c *CameraCache) Cameras(ctx context.Context) ([]reads.Camera, error) {
	return slices.Clone(c.fresh(ctx).list), nil
}

// CamerasByID returns every camera by id. The map is shared by every caller and must not be
// changed; it saves a search building its own on each request.
func (c *CameraCache) CamerasByID(ctx context.Context) (map[string]reads.Camera, error) {
	return c.fresh(ctx).byID, nil
}

func (c *CameraCache) fresh(ctx context.Context) cameraSnapshot {
	snap, stale := c.current()
	if stale {
		snap = c.refresh(ctx)
	}
	return snap
}

// PutCameras stores cameras and reloads the cache, so this process sees the change at once.
func (c *CameraCache) PutCameras(ctx context.Context, cams []reads.Camera) error {
	if err := c.reg.PutCameras(ctx, cams); err != nil {
		return err
	}
	c.loading.Lock()
	defer c.loading.Unlock()
	if err := c.reload(ctx); err != nil {
		// The store has the change; make the next read reload instead of serving the old list.
		c.mu.Lock()
		c.loaded = time.Time{}
		c.mu.Unlock()
		return fmt.Errorf("reload camera registry: %w", err)
	}
	return nil
}
