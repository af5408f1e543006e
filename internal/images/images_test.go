package images_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/images"
)

func TestStoreRoundTripAndContentAddressing(t *testing.T) {
	ctx := context.Background()
	s, err := images.Open(filepath.Join(t.TempDir(), "img"))
	if err != nil {
		t.Fatal(err)
	}
	data := images.Patch("AB12CDE", true)
	d, err := s.Put(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if d != images.Digest(data) || len(d) != 64 || strings.ToLower(d) != d {
		t.Fatalf("digest %q", d)
	}
	want := filepath.Join(s.Dir(), d[:2], d[2:4], d+".png")
	if _, err := os.Stat(want); err != nil {
		t.Fatalf("not stored at its sharded path: %v", err)
	}
	got, err := s.Get(ctx, d)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("get: %v", err)
	}
	// The same bytes stored again, concurrently too, are one file with the same name.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d2, err := s.Put(ctx, data); err != nil || d2 != d {
				t.Errorf("put again: %q %v", d2, err)
			}
		}()
	}
	wg.Wait()
	entries, _ := os.ReadDir(filepath.Dir(want))
	if len(entries) != 1 {
		t.Errorf("%d entries in the shard, want 1 (no temporary files left): %v", len(entries), entries)
	}
}

func TestStoreRefusesBadDigestsAndServesNoCorruptImage(t *testing.T) {
	ctx := context.Background()
	s, err := images.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "../../../etc/passwd", strings.Repeat("A", 64), strings.Repeat("g", 64), strings.Repeat("a", 63), strings.Repeat("a", 62) + "/."} {
		if _, err := s.Get(ctx, bad); !errors.Is(err, images.ErrInvalid) {
			t.Errorf("Get(%q): %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := s.Get(ctx, strings.Repeat("ab", 32)); !errors.Is(err, images.ErrNotFound) {
		t.Errorf("absent image: %v", err)
	}
	d, err := s.Put(ctx, images.Patch("XY34ZZZ", false))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(s.Dir(), d[:2], d[2:4], d+".png")
	if err := os.WriteFile(p, images.Patch("XY34ZZY", false), 0o640); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Get(ctx, d); !errors.Is(err, images.ErrCorrupt) || b != nil {
		t.Errorf("edited image: %v (%d bytes)", err, len(b))
	}
}

// Rendering is deterministic (the digest names the picture, so the same read must give the same
// picture every run), gives valid PNGs, and every plate character has a glyph of its own.
func TestRenderDeterministicPNG(t *testing.T) {
	scene := images.Scene{VRM: "LK19XRT", CameraID: "A406-01-NB", SeenAt: time.Date(2026, 11, 20, 8, 15, 2, 0, time.UTC), Lane: 2}
	for name, render := range map[string]func() []byte{
		"patch rear":  func() []byte { return images.Patch("LK19XRT", true) },
		"patch front": func() []byte { return images.Patch("LK19XRT", false) },
		"overview":    func() []byte { return images.Overview(scene) },
	} {
		a, b := render(), render()
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two renders differ", name)
		}
		img, err := png.Decode(bytes.NewReader(a))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r := img.Bounds(); r.Dx() < 100 || r.Dy() < 20 || len(a) > 16<<10 {
			t.Errorf("%s: %v, %d bytes", name, r, len(a))
		}
	}
	if bytes.Equal(images.Patch("LK19XRT", true), images.Patch("LK19XRT", false)) {
		t.Error("rear and front plates render the same")
	}
	other := scene
	other.SeenAt = other.SeenAt.Add(time.Second)
	if bytes.Equal(images.Overview(scene), images.Overview(other)) {
		t.Error("the overview's caption does not show the time")
	}
	// Each plate character draws differently: a missing glyph would fall back to '?'.
	seen := map[string]rune{}
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" {
		d := images.Digest(images.Patch(string(c), true))
		if prev, dup := seen[d]; dup {
			t.Errorf("%c renders like %c", c, prev)
		}
		seen[d] = c
	}
	if images.PlateText("AB12CDE") != "AB12 CDE" || images.PlateText("A123BCD") != "A123BCD" {
		t.Errorf("plate text %q %q", images.PlateText("AB12CDE"), images.PlateText("A123BCD"))
	}
}

// Whatever a client puts where a digest goes, the store only ever opens <dir>/xx/yy/<64 hex>.png:
// anything else is ErrInvalid before the filesystem is touched.
func FuzzStoreGetDigest(f *testing.F) {
	s, err := images.Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{"", "../x", strings.Repeat("a", 64), strings.Repeat("a", 62) + "/.", "..%2f..%2fetc%2fpasswd"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, d string) {
		_, err := s.Get(context.Background(), d)
		valid := len(d) == 64 && strings.Trim(d, "0123456789abcdef") == ""
		if valid != !errors.Is(err, images.ErrInvalid) {
			t.Fatalf("Get(%q): %v (valid digest: %v)", d, err, valid)
		}
		if valid && !errors.Is(err, images.ErrNotFound) {
			t.Fatalf("Get(%q) on an empty store: %v", d, err)
		}
	})
}
