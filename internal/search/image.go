package search

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/images"
	"github.com/anpr-portal/anpr/internal/reads"
)

// ImageKind names one of a read's two pictures.
type ImageKind string

// The image kinds a read can name.
const (
	// ImagePatch is the plate patch: the crop of the plate the camera read.
	ImagePatch ImageKind = "patch"
	// ImageOverview is the overview: the wider scene with the vehicle in it.
	ImageOverview ImageKind = "overview"
)

// ImageStore returns an image by its SHA-256 digest (lower-case hex), checking the bytes still
// have it; *images.Store is one. A missing image wraps images.ErrNotFound.
type ImageStore interface {
	Get(ctx context.Context, digest string) ([]byte, error)
}

// Image is one picture of a read, as shown.
type Image struct {
	ReadID string
	Kind   ImageKind
	// SHA256 is the digest of PNG: the image's name in the store, and what the audit outcome of
	// the view records.
	SHA256 string
	PNG    []byte
}

// Image returns the plate patch or overview of one read for a caller with a reason. It is
// decided (action read.image, band of the read's time) and audited like the record view: an
// intent, then an outcome with the image's digest. A read that does not exist is judged as band 1
// (see Read), and a read without that image is "not found" after the view is recorded.
func (s *Service) Image(ctx context.Context, c Caller, id string, kind ImageKind, r authz.Reason) (Image, error) {
	if kind != ImagePatch && kind != ImageOverview {
		return Image{}, invalid("image kind %q is not patch or overview", clip(string(kind), 40))
	}
	if !validReadID(id) {
		return Image{}, invalid("read id %q is not 16 hexadecimal digits", clip(id, 40))
	}
	rd, err := s.st.GetRead(ctx, id)
	found := err == nil
	if err != nil && !errors.Is(err, reads.ErrNotFound) {
		return Image{}, fmt.Errorf("read %s: %w", id, err)
	}
	band := authz.Band1
	if found {
		band = s.az.BandOf(rd.SeenAt)
	}
	reason := s.az.ReasonRules().Normalize(r)
	base := c.event(audit.ActionImageView)
	base.Band = bandNumber(band)
	base.Reason = audit.Reason{Purpose: clip(reason.Purpose, audit.MaxFieldLen), CaseRef: clip(reason.CaseRef, audit.MaxFieldLen), OffenceCode: clip(reason.OffenceCode, audit.MaxFieldLen)}
	payload := audit.Payload{Query: "image " + string(kind) + " of read " + id, Justification: clip(reason.Justification, audit.MaxJustificationLen)}
	if found {
		payload.VRMs = []string{rd.VRM}
	}
	d, err := s.decide(ctx, base, payload, authz.Request{Subject: c.subject(), Action: authz.ReadImage, Band: band, Reason: reason})
	if err != nil {
		return Image{}, err
	}
	base.Decision, base.Rule = audit.EffectAllow, d.Rule
	return audit.Run(ctx, s.log, base, payload, func(ctx context.Context) (Image, audit.Outcome, error) {
		digest := rd.PatchSHA
		if kind == ImageOverview {
			digest = rd.OverviewSHA
		}
		if !found || digest == "" || s.img == nil {
			return Image{}, audit.Outcome{ErrorClass: "not_found"}, fmt.Errorf("%s image of read %s: %w", kind, id, reads.ErrNotFound)
		}
		png, err := s.img.Get(ctx, digest)
		switch {
		case errors.Is(err, images.ErrNotFound):
			// The read names an image the store does not hold: not shown, and the outcome says so.
			return Image{}, audit.Outcome{ErrorClass: "image_missing"}, fmt.Errorf("%s image of read %s: %w", kind, id, reads.ErrNotFound)
		case errors.Is(err, images.ErrCorrupt):
			return Image{}, audit.Outcome{ErrorClass: "image_corrupt"}, fmt.Errorf("%s image of read %s: %w", kind, id, err)
		case err != nil:
			return Image{}, audit.Outcome{ErrorClass: "unavailable"}, fmt.Errorf("%s image of read %s: %w: %w", kind, id, reads.ErrUnavailable, err)
		}
		// The digest recorded is computed from the bytes about to be sent, not taken from the read.
		sum := sha256.Sum256(png)
		return Image{ReadID: id, Kind: kind, SHA256: digest, PNG: png}, audit.Outcome{Count: 1, Digest: audit.Digest(sum)}, nil
	})
}
