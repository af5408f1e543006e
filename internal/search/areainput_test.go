package search_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
)

// Bad input to the area filter and the new search types is refused with a message saying what is
// wrong, and changes nothing: no audit event, no authority spent.
func TestSensitiveBadInputRefused(t *testing.T) {
	e, svc, sa := sensitiveEnv(t, allAuthorities())
	ctx := context.Background()
	bowTie := &geo.Area{Polygon: [][2]float64{{51.533, -0.335}, {51.543, -0.318}, {51.533, -0.318}, {51.543, -0.335}}}
	huge := &geo.Area{Polygon: [][2]float64{{51.3, -0.5}, {51.3, 0.2}, {51.7, 0.2}, {51.7, -0.5}}}
	line := &geo.Area{Polygon: [][2]float64{{51.533, -0.335}, {51.543, -0.318}}}
	empty := &geo.Area{Centre: &[2]float64{51.60, -0.10}, RadiusM: 200} // no camera there
	wideCircle := &geo.Area{Centre: &[2]float64{51.5, -0.3}, RadiusM: 10000}
	area := search.Request{Area: westLondon, From: now.Add(-24 * time.Hour), To: now, Reason: goodReason(), AuthorityID: "area-ac"}
	convoy := search.ConvoyRequest{VRM: "TG11AAA", From: now.Add(-24 * time.Hour), To: now, WithinSeconds: 120, MinCameras: 2, Reason: goodReason(), AuthorityID: "convoy-tg"}
	multi := search.MultiLocationRequest{Reason: goodReason(), AuthorityID: "multi-ab", Places: []search.PlaceRequest{
		{Cameras: []string{"CAM-A"}, From: now.Add(-11 * time.Hour), To: now.Add(-5 * time.Hour)},
		{Cameras: []string{"CAM-B"}, From: now.Add(-10 * time.Hour), To: now.Add(-4 * time.Hour)},
	}}
	areaCase := func(edit func(r *search.Request)) func() error {
		return func() error { r := area; edit(&r); _, err := svc.Area(ctx, investigator, r); return err }
	}
	convoyCase := func(edit func(r *search.ConvoyRequest)) func() error {
		return func() error { r := convoy; edit(&r); _, err := svc.Convoy(ctx, investigator, r); return err }
	}
	multiCase := func(edit func(r *search.MultiLocationRequest)) func() error {
		return func() error {
			r := multi
			r.Places = append([]search.PlaceRequest(nil), multi.Places...)
			edit(&r)
			_, err := svc.MultiLocation(ctx, investigator, r)
			return err
		}
	}
	for _, tc := range []struct {
		name string
		run  func() error
		want string
	}{
		{"self-intersecting polygon", areaCase(func(r *search.Request) { r.Area = bowTie }), "crosses itself"},
		{"polygon too large", areaCase(func(r *search.Request) { r.Area = huge }), "at most 30 km²"},
		{"polygon of 2 points", areaCase(func(r *search.Request) { r.Area = line }), "at least 3 points"},
		{"radius out of range", areaCase(func(r *search.Request) { r.Area = wideCircle }), "radius 10000 m is out of range"},
		{"area with no camera", areaCase(func(r *search.Request) { r.Area = empty }), "no camera lies inside it"},
		{"cameras outside the area", areaCase(func(r *search.Request) { r.Cameras = []string{"CAM-B"} }), "none of the cameras named (CAM-B) lies inside the area"},
		{"unknown cameras", areaCase(func(r *search.Request) { r.Area, r.Cameras = nil, []string{"CAM-A", "CAM-X"} }), "unknown camera(s): CAM-X"},
		{"neither area nor cameras", areaCase(func(r *search.Request) { r.Area = nil }), "needs an area or a camera list"},
		{"area search with a vrm", areaCase(func(r *search.Request) { r.VRM = "AB12CDE" }), "names no vrm or pattern"},
		{"area reversed window", areaCase(func(r *search.Request) { r.From, r.To = r.To, r.From }), "reversed"},
		{"area in the future", areaCase(func(r *search.Request) { r.From, r.To = now.Add(time.Hour), now.Add(2*time.Hour) }), "starts in the future"},
		{"exact with a bad area", func() error {
			_, err := svc.Exact(ctx, investigator, search.Request{VRM: "AB12CDE", Area: bowTie, From: now.Add(-time.Hour), To: now, Reason: goodReason()})
			return err
		}, "crosses itself"},
		{"journey with an empty area", func() error {
			_, err := svc.Journey(ctx, investigator, search.JourneyRequest{VRM: "AB12CDE", Area: empty, From: now.Add(-time.Hour), To: now, Reason: goodReason()})
			return err
		}, "no camera lies inside it"},
		{"convoy K below 2", convoyCase(func(r *search.ConvoyRequest) { r.MinCameras = 1 }), "min_cameras 1 is out of range"},
		{"convoy T zero", convoyCase(func(r *search.ConvoyRequest) { r.WithinSeconds = 0 }), "within_seconds 0 is out of range"},
		{"convoy T too long", convoyCase(func(r *search.ConvoyRequest) { r.WithinSeconds = 3600 }), "within_seconds 3600 is out of range; T must be 1 to 600"},
		{"convoy window too wide", convoyCase(func(r *search.ConvoyRequest) { r.From = now.Add(-40 * 24 * time.Hour) }), "at most 744h0m0s wide"},
		{"convoy reversed window", convoyCase(func(r *search.ConvoyRequest) { r.From, r.To = r.To, r.From }), "reversed"},
		{"convoy ending in the future", convoyCase(func(r *search.ConvoyRequest) { r.To = now.Add(time.Hour) }), "ends in the future"},
		{"convoy without a vrm", convoyCase(func(r *search.ConvoyRequest) { r.VRM = "" }), "vrm is required"},
		{"convoy unknown camera", convoyCase(func(r *search.ConvoyRequest) { r.Cameras = []string{"CAM-Q"} }), "unknown camera(s): CAM-Q"},
		{"convoy limit", convoyCase(func(r *search.ConvoyRequest) { r.Limit = 1000 }), "limit 1000 is out of range"},
		{"multi one place", multiCase(func(r *search.MultiLocationRequest) { r.Places = r.Places[:1] }), "needs 2 to 6"},
		{"multi place without cameras", multiCase(func(r *search.MultiLocationRequest) { r.Places[1].Cameras = nil }), "place 2: give cameras or an area"},
		{"multi place reversed", multiCase(func(r *search.MultiLocationRequest) {
			r.Places[1].From, r.Places[1].To = r.Places[1].To, r.Places[1].From
		}), "place 2: the window is reversed"},
		{"multi place too wide", multiCase(func(r *search.MultiLocationRequest) { r.Places[0].From = now.Add(-10 * 24 * time.Hour) }), "place 1: its window may be at most 168h0m0s"},
		{"multi place in the future", multiCase(func(r *search.MultiLocationRequest) { r.Places[0].To = now.Add(time.Hour) }), "place 1: the window ends in the future"},
		{"multi place with a bad area", multiCase(func(r *search.MultiLocationRequest) { r.Places[1].Cameras, r.Places[1].Area = nil, bowTie }), "place 2: area: the polygon crosses itself"},
		{"multi unknown camera", multiCase(func(r *search.MultiLocationRequest) { r.Places[0].Cameras = []string{"NOPE"} }), "place 1: unknown camera(s): NOPE"},
		{"histogram interval", func() error {
			_, err := svc.Histogram(ctx, investigator, search.TypeExact, search.Request{VRM: "AB12CDE", From: now.Add(-time.Hour), To: now, Reason: goodReason()}, "week")
			return err
		}, `interval "week"`},
		{"histogram too many buckets", func() error {
			_, err := svc.Histogram(ctx, investigator, search.TypeExact, search.Request{VRM: "AB12CDE", From: now.AddDate(-2, 0, 0), To: now, Reason: goodReason()}, reads.IntervalHour)
			return err
		}, "at most 10000"},
		{"histogram of an unknown type", func() error {
			_, err := svc.Histogram(ctx, investigator, "everything", search.Request{VRM: "AB12CDE", From: now.Add(-time.Hour), To: now, Reason: goodReason()}, reads.IntervalHour)
			return err
		}, "take their own request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(e.events(t))
			err := tc.run()
			if !errors.Is(err, search.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrInvalid saying %q", err, tc.want)
			}
			if got := e.since(t, n); len(got) != 0 {
				t.Errorf("bad input left %d audit events", len(got))
			}
		})
	}
	for id, au := range sa.byID {
		if au.uses != allAuthorities()[id].uses {
			t.Errorf("authority %s spent by bad input", id)
		}
	}
}
