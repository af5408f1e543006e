package ingest

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// CameraCache answers Known from memory, because every ingested line asks it. A miss reloads the
// registry at most once per refresh interval, so a newly registered camera is accepted soon after
// without letting a flood of bad ids hammer the store.
type CameraCache struct {
	reg     reads.CameraRegistry
	now     func() time.Time
	every   time.Duration
	log     *slog.Logger
	mu      sync.RWMutex
	known   map[string]struct{}
	loaded  time.Time
	loading sync.Mutex
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
	m := make(map[string]struct{}, len(cams))
	for _, cam := range cams {
		m[cam.ID] = struct{}{}
	}
	c.mu.Lock()
	c.known, c.loaded = m, c.now()
	c.mu.Unlock()
	return nil
}

// Known reports whether id is a registered camera.
func (c *CameraCache) Known(id string) bool {
	c.mu.RLock()
	_, ok := c.known[id]
	stale := c.now().Sub(c.loaded) >= c.every
	c.mu.RUnlock()
	if ok || !stale {
		return ok
	}
	if !c.loading.TryLock() {
		return false
	}
	defer c.loading.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.reload(ctx); err != nil {
		c.log.Warn("camera registry reload failed", "err", err)
		return false
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok = c.known[id]
	return ok
}
