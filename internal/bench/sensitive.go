package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/search"
	"github.com/anpr-portal/anpr/internal/seed"
)

// Fixture is what the sensitive search types search, found in the loaded store before they run:
// the planted convoy target (the seeder plants it at every size), an area around a few of the
// cameras it passed, and two of its sightings as the places of a multi-location search (so each
// search has at least one answer).
type Fixture struct {
	// Now ends the sensitive cases' windows; their authority covers exactly those windows.
	Now    time.Time
	Target string
	// Area is a circle around the target's first camera, just big enough for a few cameras;
	// AreaCameras are the cameras inside it, sorted, as the service resolves them.
	Area        geo.Area
	AreaCameras []string
	// Places are two sightings of the target at different cameras, an hour around each.
	Places []reads.Place
}

// AuthorityScope is what a sensitive case needs an authority for (see SearchOptions.Authorize).
type AuthorityScope struct {
	Type     string // the search type as authorities name it: area, convoy, multi_location
	VRMs     []string
	Cameras  []string
	Area     *geo.Area
	From, To time.Time
	Uses     int // every search the case sends (warm-up included)
}

// areaCamerasWanted is how many cameras the area of the area search should hold: "a few".
const areaCamerasWanted = 3

func newFixture(ctx context.Context, st reads.Store) (*Fixture, error) {
	now := time.Now().UTC().Truncate(time.Second)
	f := &Fixture{Now: now, Target: seed.ConvoyTargetVRM}
	page, err := st.FindReads(ctx, reads.Query{Match: reads.MatchExact, Value: f.Target, From: now.Add(-30 * day), To: now,
		Order: reads.OldestFirst, Limit: reads.MaxPageSize})
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	if len(page.Reads) == 0 {
		return nil, fmt.Errorf("fixture: the planted target %s has no reads in the last 30 days; was the store seeded?", f.Target)
	}
	first := page.Reads[0]
	for _, rd := range page.Reads[1:] {
		if rd.CameraID != first.CameraID && rd.SeenAt.Sub(first.SeenAt) > 12*time.Hour {
			for _, p := range []reads.Read{first, rd} {
				f.Places = append(f.Places, reads.Place{Cameras: []string{p.CameraID}, From: p.SeenAt.Add(-30 * time.Minute), To: p.SeenAt.Add(30 * time.Minute)})
			}
			break
		}
	}
	if len(f.Places) < 2 {
		return nil, fmt.Errorf("fixture: the planted target %s has no two sightings on different days", f.Target)
	}
	cams, err := st.Cameras(ctx)
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	centre := slices.IndexFunc(cams, func(c reads.Camera) bool { return c.ID == first.CameraID })
	if centre < 0 {
		return nil, fmt.Errorf("fixture: camera %s of the target's read is not registered", first.CameraID)
	}
	limits := geo.Limits{}.WithDefaults()
	for r := 250.0; r <= limits.MaxRadiusM; r += 250 {
		a := geo.Area{Centre: &[2]float64{cams[centre].Lat, cams[centre].Lon}, RadiusM: r}
		shape, err := a.Check(limits)
		if err != nil {
			return nil, fmt.Errorf("fixture: area: %w", err)
		}
		var in []string
		for _, c := range cams {
			if shape.Contains(c.Lat, c.Lon) {
				in = append(in, c.ID)
			}
		}
		f.Area, f.AreaCameras = a, in
		if len(in) >= areaCamerasWanted {
			break
		}
	}
	slices.Sort(f.AreaCameras)
	return f, nil
}

func areaBody(q CaseQuery) map[string]any { return map[string]any{"area": q.F.Area} }

// rawArea is the page the area search asks the store for: every read at the area's cameras.
func rawArea(ctx context.Context, st reads.Store, q CaseQuery) error {
	_, err := st.FindReads(ctx, reads.Query{Match: reads.MatchAny, Cameras: q.F.AreaCameras, From: q.From, To: q.To, Order: reads.NewestFirst, Limit: servicePage})
	return err
}

func areaScope(f *Fixture, from, to time.Time) AuthorityScope {
	return AuthorityScope{Type: string(search.TypeArea), Area: &f.Area, From: from, To: to}
}

// The convoy asked of the planted target: its follower keeps 30-90 s behind past every camera
// of a main road.
const (
	convoyWithin = 120 * time.Second
	convoyK      = 3
)

func convoyBody(q CaseQuery) map[string]any {
	return map[string]any{"vrm": q.F.Target, "within_seconds": int(convoyWithin / time.Second), "min_cameras": convoyK}
}

// rawConvoy is the store's convoy with the service's default bounds.
func rawConvoy(ctx context.Context, st reads.Store, q CaseQuery) error {
	_, err := st.Convoy(ctx, reads.ConvoyQuery{VRM: q.F.Target, From: q.From, To: q.To, Within: convoyWithin, MinCameras: convoyK,
		MaxTargetReads: search.DefaultConvoyMaxTargetReads, MaxNearby: search.DefaultConvoyMaxNearby, Limit: search.DefaultConvoyMaxResults})
	return err
}

func convoyScope(f *Fixture, from, to time.Time) AuthorityScope {
	return AuthorityScope{Type: string(search.TypeConvoy), VRMs: []string{f.Target}, From: from, To: to}
}

func multiBody(q CaseQuery) map[string]any {
	places := make([]map[string]any, len(q.F.Places))
	for i, p := range q.F.Places {
		places[i] = map[string]any{"cameras": p.Cameras, "from": p.From, "to": p.To}
	}
	return map[string]any{"places": places}
}

// rawMulti is the store's multi-location with the service's default bounds.
func rawMulti(ctx context.Context, st reads.Store, q CaseQuery) error {
	_, err := st.MultiLocation(ctx, reads.MultiLocationQuery{Places: q.F.Places, MaxCandidates: search.DefaultMultiMaxCandidates, Limit: search.DefaultMultiMaxResults})
	return err
}

// multiScope covers every place: their cameras, from the earliest start to the latest end.
func multiScope(f *Fixture, _, _ time.Time) AuthorityScope {
	s := AuthorityScope{Type: string(search.TypeMultiLocation), From: f.Places[0].From, To: f.Places[0].To}
	for _, p := range f.Places {
		s.Cameras = append(s.Cameras, p.Cameras...)
		s.From, s.To = minTime(s.From, p.From), maxTime(s.To, p.To)
	}
	slices.Sort(s.Cameras)
	s.Cameras = slices.Compact(s.Cameras)
	return s
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
