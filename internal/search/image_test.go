package search_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/images"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/internal/store/storetest"
	"github.com/anpr-portal/anpr/policies"
)

// imageEnv is newEnv's data with an image store, and reads that name images in it: one recent
// with both pictures, one recent with none, one in band 2 with both.
type imageEnv struct {
	*env
	svc                  *search.Service
	imgs                 *images.Store
	withImgs, bare, aged reads.Read
}

func newImageEnv(t *testing.T) *imageEnv {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	imgs, err := images.Open(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return now }
	az, err := authz.New(authz.Config{}, authz.Policy{Model: policies.Model(), Rules: policies.Rules(), Name: "policy.csv"}, clock)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := search.New(search.Deps{Reads: e.store, Audit: e.log, Authz: az, Images: imgs, Now: clock}, search.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ie := &imageEnv{env: e, svc: svc, imgs: imgs}
	mk := func(vrm string, ago time.Duration, pictures bool) reads.Read {
		r := storetest.Read("CAM-A", vrm, now.Add(-ago))
		r.ID = reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
		if pictures {
			if r.PatchSHA, err = imgs.Put(ctx, images.Patch(vrm, true)); err != nil {
				t.Fatal(err)
			}
			if r.OverviewSHA, err = imgs.Put(ctx, images.Overview(images.Scene{VRM: vrm, CameraID: r.CameraID, SeenAt: r.SeenAt, Lane: 1})); err != nil {
				t.Fatal(err)
			}
		}
		return r
	}
	ie.withImgs, ie.bare, ie.aged = mk("PX12IMG", time.Hour, true), mk("NO12IMG", time.Hour, false), mk("OL12IMG", 200*24*time.Hour, true)
	if _, err := e.store.AppendReads(ctx, []reads.Read{ie.withImgs, ie.bare, ie.aged}); err != nil {
		t.Fatal(err)
	}
	return ie
}

// Each picture is decided and audited like the record view; the outcome carries the digest of the
// bytes returned, which is the read's recorded digest.
func TestImageViewAuditedWithDigest(t *testing.T) {
	e := newImageEnv(t)
	ctx := context.Background()
	for _, kind := range []search.ImageKind{search.ImagePatch, search.ImageOverview} {
		n := len(e.events(t))
		img, err := e.svc.Image(ctx, investigator, e.withImgs.ID, kind, goodReason())
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		want := e.withImgs.PatchSHA
		if kind == search.ImageOverview {
			want = e.withImgs.OverviewSHA
		}
		if img.SHA256 != want || images.Digest(img.PNG) != want {
			t.Errorf("%s: got digest %s, read names %s", kind, img.SHA256, want)
		}
		if _, err := png.Decode(bytes.NewReader(img.PNG)); err != nil {
			t.Errorf("%s is not a PNG: %v", kind, err)
		}
		recs := e.since(t, n)
		if len(recs) != 2 {
			t.Fatalf("%s: want intent + outcome, got %+v", kind, recs)
		}
		in, out := recs[0].Event, recs[1].Event
		if in.Action != audit.ActionImageView || in.Decision != audit.EffectAllow || in.Band != 1 || recs[0].Payload == nil ||
			recs[0].Payload.Query != "image "+string(kind)+" of read "+e.withImgs.ID || recs[0].Payload.VRMs[0] != "PX12IMG" {
			t.Errorf("%s intent %+v payload %+v", kind, in, recs[0].Payload)
		}
		if out.Stage != audit.StageOutcome || out.Status != audit.StatusOK || out.ResultCount != 1 || out.ResultDigest != audit.Digest(sha256.Sum256(img.PNG)) {
			t.Errorf("%s outcome %+v", kind, out)
		}
	}
}

func TestImageViewRefusalsAndMissing(t *testing.T) {
	e := newImageEnv(t)
	ctx := context.Background()

	// Band 2 is refused to an investigator, and an auditor is refused every image; both audited.
	for _, tc := range []struct {
		c  search.Caller
		id string
	}{{investigator, e.aged.ID}, {auditor, e.withImgs.ID}} {
		n := len(e.events(t))
		if _, err := e.svc.Image(ctx, tc.c, tc.id, search.ImagePatch, goodReason()); !errors.Is(err, search.ErrForbidden) {
			t.Errorf("%s: %v, want forbidden", tc.c.Subject, err)
		}
		checkDenied(t, e.since(t, n), tc.c, authz.RuleDefaultDeny)
	}

	// A read without pictures, a read that does not exist, and a picture the store lost are "not
	// found", after the attempt is recorded.
	if err := os.Remove(filepath.Join(e.imgs.Dir(), e.withImgs.OverviewSHA[:2], e.withImgs.OverviewSHA[2:4], e.withImgs.OverviewSHA+".png")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id string
		kind     search.ImageKind
		class    string
	}{
		{"read without images", e.bare.ID, search.ImagePatch, "not_found"},
		{"no such read", "0123456789abcdef", search.ImageOverview, "not_found"},
		{"image missing from the store", e.withImgs.ID, search.ImageOverview, "image_missing"},
	} {
		n := len(e.events(t))
		if _, err := e.svc.Image(ctx, investigator, tc.id, tc.kind, goodReason()); !errors.Is(err, reads.ErrNotFound) {
			t.Errorf("%s: %v, want not found", tc.name, err)
		}
		recs := e.since(t, n)
		if len(recs) != 2 || recs[1].Event.Status != audit.StatusError || recs[1].Event.Error != tc.class {
			t.Errorf("%s: events %+v", tc.name, recs)
		}
	}

	// A picture whose bytes no longer match its digest is never served.
	p := filepath.Join(e.imgs.Dir(), e.withImgs.PatchSHA[:2], e.withImgs.PatchSHA[2:4], e.withImgs.PatchSHA+".png")
	if err := os.WriteFile(p, []byte("not the image that was recorded"), 0o640); err != nil {
		t.Fatal(err)
	}
	if img, err := e.svc.Image(ctx, investigator, e.withImgs.ID, search.ImagePatch, goodReason()); !errors.Is(err, images.ErrCorrupt) || img.PNG != nil {
		t.Errorf("tampered image: %v (%d bytes)", err, len(img.PNG))
	}

	// Bad input is refused before anything is recorded.
	n := len(e.events(t))
	if _, err := e.svc.Image(ctx, investigator, e.withImgs.ID, "thumbnail", goodReason()); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := e.svc.Image(ctx, investigator, "../../etc/passwd", search.ImagePatch, goodReason()); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("bad id: %v", err)
	}
	if got := e.since(t, n); len(got) != 0 {
		t.Errorf("bad input left %d events", len(got))
	}
}
