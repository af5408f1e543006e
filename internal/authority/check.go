package authority

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/geo"
)

// checkHold refuses a hold the registry does not hold active, since such an authority could
// never reach held data.
func (s *Service) checkHold(ctx context.Context, id string) error {
	if s.holds == nil {
		return fmt.Errorf("hold_id: preservation holds are not configured on this server")
	}
	_, active, err := s.holds.Hold(ctx, id)
	if err != nil {
		return fmt.Errorf("hold_id: look up hold %q: %w", id, err)
	}
	if !active {
		return fmt.Errorf("hold_id: %q is not an active preservation hold", id)
	}
	return nil
}

// checkScope validates and canonicalises a requested scope: plates normalised, cameras known,
// the area resolved to the cameras inside it, types known, the window sane.
// When keep is set, its camera restriction (cameras, area and the cameras the area resolved to)
// is kept as it is instead of resolving in's: an approval that does not touch the cameras must not
// re-resolve an area against a registry that has changed since the request.
func (s *Service) checkScope(ctx context.Context, in Scope, now time.Time, keep *Scope) (Scope, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	out := Scope{From: in.From.UTC().Truncate(time.Microsecond), To: in.To.UTC().Truncate(time.Microsecond)}
	switch {
	case in.From.IsZero() || in.To.IsZero():
		bad("scope: the window needs both from and to")
	case !out.From.Before(out.To):
		bad("scope: the window is reversed or empty (from %s, to %s)", stamp(out.From), stamp(out.To))
	case !out.From.Before(now):
		bad("scope: the window starts in the future (%s)", stamp(out.From))
	case out.To.After(now.Add(s.cfg.ClockSkew)):
		bad("scope: the window ends in the future (%s); an authority covers data already held", stamp(out.To))
	}
	if len(in.SearchTypes) == 0 {
		bad("scope: search_types is required (any of %s)", strings.Join(SearchTypes(), ", "))
	}
	for _, t := range sortedUnique(in.SearchTypes) {
		if !slices.Contains(SearchTypes(), t) {
			bad("scope: %q is not a search type (known: %s)", t, strings.Join(SearchTypes(), ", "))
			continue
		}
		out.SearchTypes = append(out.SearchTypes, t)
	}
	if len(in.VRMs) > s.cfg.MaxVRMs {
		bad("scope: %d VRMs named; at most %d", len(in.VRMs), s.cfg.MaxVRMs)
	}
	for _, v := range in.VRMs {
		n, err := plateNormalize(v)
		if err != nil {
			bad("scope: vrm %q: %v", clipText(v, 20), err)
			continue
		}
		out.VRMs = append(out.VRMs, n)
	}
	out.VRMs = sortedUnique(out.VRMs)
	if keep != nil {
		in.Cameras, in.Area = nil, nil
		out.Cameras, out.Area, out.AreaCameras = keep.Cameras, keep.Area, keep.AreaCameras
	}
	if len(in.VRMs) == 0 && len(in.Cameras) == 0 && in.Area == nil && !out.restricted() {
		bad("scope: name the VRMs, the cameras or the area the authority is for; an authority never covers every vehicle everywhere")
	}
	if len(in.Cameras) > 0 || in.Area != nil {
		cams, areaCams, err := s.resolveCameras(ctx, in.Cameras, in.Area)
		if err != nil {
			errs = append(errs, err)
		}
		out.Cameras, out.AreaCameras = cams, areaCams
		if in.Area != nil {
			ar := *in.Area
			out.Area = &ar
		}
	}
	if len(errs) > 0 {
		return Scope{}, errors.Join(errs...)
	}
	return out, nil
}

// resolveCameras checks named cameras against the registry and finds the cameras inside area.
func (s *Service) resolveCameras(ctx context.Context, named []string, area *geo.Area) (cams, inArea []string, err error) {
	var sh geo.Shape
	if area != nil {
		if sh, err = area.Check(s.cfg.Area); err != nil {
			return nil, nil, fmt.Errorf("scope: area: %w", err)
		}
	}
	all, err := s.cams.Cameras(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("scope: list cameras: %w", err)
	}
	known := make(map[string]bool, len(all))
	for _, c := range all {
		known[c.ID] = true
		if area != nil && sh.Contains(c.Lat, c.Lon) {
			inArea = append(inArea, c.ID)
		}
	}
	var unknown []string
	for _, id := range named {
		id = strings.TrimSpace(id)
		if !known[id] {
			unknown = append(unknown, clipText(id, 40))
			continue
		}
		cams = append(cams, id)
	}
	if len(unknown) > 0 {
		return nil, nil, fmt.Errorf("scope: unknown camera(s): %s", strings.Join(clipList(unknown, 10), ", "))
	}
	if area != nil && len(inArea) == 0 {
		return nil, nil, fmt.Errorf("scope: the area contains no camera")
	}
	cams, inArea = sortedUnique(cams), sortedUnique(inArea)
	if n := len(sortedUnique(slices.Concat(cams, inArea))); n > s.cfg.MaxCameras {
		return nil, nil, fmt.Errorf("scope: %d cameras covered; at most %d", n, s.cfg.MaxCameras)
	}
	return cams, inArea, nil
}
