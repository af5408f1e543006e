package seed

import (
	"bytes"
	"context"
	"image/png"
	"path/filepath"
	"slices"
	"testing"

	"github.com/anpr-portal/anpr/internal/images"
	"github.com/anpr-portal/anpr/internal/reads"
)

// The seeder gives images to every read of a planted plate and to 1 in Every other reads, chosen
// by the read's id alone (so every run chooses the same reads; Generate's own tests show the ids
// are deterministic, and package images that rendering is); the digests it sets name real PNGs in
// the store, and nothing else about the reads changes.
func TestWithImagesSubsetAndStored(t *testing.T) {
	ctx := context.Background()
	cfg := Config{Seed: 3, Reads: MinReads, Now: testNow}
	durable, err := images.Open(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	st := durable.WithoutSync() // as anpr seed uses it
	const every = 50
	var with []reads.Read
	emit, err := WithImages(ImageOptions{Sink: st, Every: every}, func(_ context.Context, b []reads.Read) error {
		with = append(with, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(ctx, cfg, 1000, emit, nil); err != nil {
		t.Fatal(err)
	}
	without, _ := generate(t, cfg, 1000)
	if len(with) != len(without) {
		t.Fatalf("%d reads with images, %d without", len(with), len(without))
	}
	planted, ordinary, ordinaryWith, checked := 0, 0, 0, 0
	for i, r := range with {
		if (r.PatchSHA == "") != (r.OverviewSHA == "") {
			t.Fatalf("read %s has one image of two", r.ID)
		}
		bare := r
		bare.PatchSHA, bare.OverviewSHA = "", ""
		if bare != without[i] {
			t.Fatalf("images changed the read itself: %+v vs %+v", r, without[i])
		}
		has := r.PatchSHA != ""
		bits, _ := idBits(r.ID)
		isPlanted := slices.Contains(reservedVRMs, r.VRM) || r.VRM == MisreadZeroVRM || r.VRM == MisreadEightVRM
		if want := isPlanted || bits%every == 0; has != want {
			t.Errorf("read %s (%s): images %v, want %v", r.ID, r.VRM, has, want)
		}
		if isPlanted {
			planted++
		} else {
			ordinary++
			if has {
				ordinaryWith++
			}
		}
		if has && checked < 20 {
			checked++
			for _, d := range []string{r.PatchSHA, r.OverviewSHA} {
				b, err := st.Get(ctx, d)
				if err != nil {
					t.Fatalf("read %s names %s: %v", r.ID, d, err)
				}
				if _, err := png.Decode(bytes.NewReader(b)); err != nil {
					t.Fatalf("image %s: %v", d, err)
				}
			}
		}
	}
	// 1 in 50 of about 10,000 ordinary reads: a binomial count, so allow a wide margin.
	if planted == 0 || ordinaryWith < ordinary/every/2 || ordinaryWith > ordinary/every*2 {
		t.Errorf("%d planted reads, %d of %d ordinary reads with images; want about 1 in %d", planted, ordinaryWith, ordinary, every)
	}
	if _, err := WithImages(ImageOptions{}, nil); err == nil {
		t.Error("no image store accepted")
	}
	if _, err := WithImages(ImageOptions{Sink: st, Every: -1}, nil); err == nil {
		t.Error("negative every accepted")
	}
}
