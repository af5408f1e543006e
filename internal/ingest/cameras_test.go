package ingest_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/ingest"
	"github.com/anpr-portal/anpr/internal/reads"
)

// The cache answers from memory, sees its own writes at once and another writer's within the
// refresh interval, and never answers a camera it does not have.
func TestCameraCacheFreshness(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	clock := now
	cache, err := ingest.NewCameraCache(ctx, store, func() time.Time { return clock }, 10*time.Second, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Camera(ctx, "CAM9"); !errors.Is(err, reads.ErrNotFound) {
		t.Fatalf("unknown camera: err %v, want not found", err)
	}
	if cam, err := cache.Camera(ctx, "CAM1"); err != nil || cam.Lat != 51.57 {
		t.Fatalf("CAM1: %+v %v", cam, err)
	}

	// Through the cache: seen at once, although the interval has not passed.
	if err := cache.PutCameras(ctx, []reads.Camera{{ID: "CAM3", Name: "A1 / Mill Hill", Lat: 51.61, Lon: -0.24}}); err != nil {
		t.Fatal(err)
	}
	if !cache.Known("CAM3") {
		t.Fatal("camera put through the cache is not known at once")
	}

	// Behind the cache's back (another process): a changed position shows only after the interval.
	if err := store.PutCameras(ctx, []reads.Camera{{ID: "CAM1", Name: "A406 / Brent Cross NB", Lat: 51.58, Lon: -0.22}}); err != nil {
		t.Fatal(err)
	}
	byID, _ := cache.CamerasByID(ctx)
	if byID["CAM1"].Lat != 51.57 {
		t.Fatalf("cache reloaded before the interval: %+v", byID["CAM1"])
	}
	clock = clock.Add(10 * time.Second)
	byID, _ = cache.CamerasByID(ctx)
	if byID["CAM1"].Lat != 51.58 {
		t.Fatalf("cache not reloaded after the interval: %+v", byID["CAM1"])
	}
	list, _ := cache.Cameras(ctx)
	if len(list) != 3 {
		t.Fatalf("cameras: %d, want 3", len(list))
	}
	list[0].ID = "changed" // the caller's copy; the cache must not see it
	if _, err := cache.Camera(ctx, list[0].ID); err == nil {
		t.Fatal("a caller's change to the listed cameras reached the cache")
	}
}
