package seed

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/anpr-portal/anpr/internal/images"
	"github.com/anpr-portal/anpr/internal/reads"
)

// DefaultImageEvery is how many ordinary reads share one with images when the seeder is asked for
// images: rendering and storing two pictures costs far more than generating a read, so only a
// sample gets them (plus every read of a planted plate, which the demos open).
const DefaultImageEvery = 1000

// ImageSink stores a rendered image and returns its digest; *images.Store is one.
type ImageSink interface {
	Put(ctx context.Context, data []byte) (string, error)
}

// ImageOptions says which reads get synthetic images and where they go.
type ImageOptions struct {
	Sink ImageSink
	// Every gives images to one ordinary read in Every (chosen by the read's id, so the same reads
	// get them in every run); 0 gives them to planted plates only.
	Every int
}

// WithImages wraps emit so that the chosen reads of each batch get a rendered plate patch and
// overview, stored in o.Sink, with their digests set on the read (PatchSHA, OverviewSHA) before
// the batch goes on to emit. Which reads are chosen depends only on the read, so the data stays
// deterministic; rear or front plate depends on the read id too.
func WithImages(o ImageOptions, emit func(context.Context, []reads.Read) error) (func(context.Context, []reads.Read) error, error) {
	if o.Sink == nil {
		return nil, fmt.Errorf("seed: images: %w: no image store", reads.ErrInvalid)
	}
	if o.Every < 0 {
		return nil, fmt.Errorf("seed: images: %w: every %d must not be negative", reads.ErrInvalid, o.Every)
	}
	// A plate patch depends only on the plate and its colour, so each is rendered once.
	patches := map[string]string{}
	return func(ctx context.Context, batch []reads.Read) error {
		for i := range batch {
			r := &batch[i]
			bits, ok := idBits(r.ID)
			if !ok || !(slices.Contains(reservedVRMs, r.VRM) || r.VRM == MisreadZeroVRM || r.VRM == MisreadEightVRM ||
				o.Every > 0 && bits%uint64(o.Every) == 0) {
				continue
			}
			rear := bits>>32&1 == 1
			key := r.VRM + strconv.FormatBool(rear)
			patch, ok := patches[key]
			if !ok {
				var err error
				if patch, err = o.Sink.Put(ctx, images.Patch(r.VRM, rear)); err != nil {
					return fmt.Errorf("seed: store plate patch: %w", err)
				}
				if len(patches) < 1<<16 {
					patches[key] = patch
				}
			}
			overview, err := o.Sink.Put(ctx, images.Overview(images.Scene{VRM: r.VRM, CameraID: r.CameraID, SeenAt: r.SeenAt, Lane: r.Lane}))
			if err != nil {
				return fmt.Errorf("seed: store overview: %w", err)
			}
			r.PatchSHA, r.OverviewSHA = patch, overview
		}
		return emit(ctx, batch)
	}, nil
}

// idBits is the leading 64 bits of a read id (16 hex digits), a uniform hash of the read.
func idBits(id string) (uint64, bool) {
	v, err := strconv.ParseUint(id, 16, 64)
	return v, err == nil
}
