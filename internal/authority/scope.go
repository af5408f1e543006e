package authority

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/geo"
)

// Scope is what an authority covers. VRMs, Cameras and Area each restrict it; at least one must be
// given, so that no authority covers every vehicle everywhere. A search is covered when its
// window lies inside From..To, its type is listed, every VRM it names is listed (when VRMs are
// given) and every camera it searches is in the camera set (when cameras or an area are given).
type Scope struct {
	VRMs    []string  `json:"vrms,omitempty"`
	Cameras []string  `json:"cameras,omitempty"`
	Area    *geo.Area `json:"area,omitempty"`
	// AreaCameras is the camera set the area resolved to when it was requested (or narrowed):
	// the authority covers those cameras, whatever is installed later.
	AreaCameras []string  `json:"area_cameras,omitempty"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	SearchTypes []string  `json:"search_types"`
}

// CameraSet is every camera the scope covers (Cameras and AreaCameras), sorted; nil when the
// scope does not restrict cameras.
func (s Scope) CameraSet() []string {
	if len(s.Cameras) == 0 && s.Area == nil {
		return nil
	}
	return sortedUnique(slices.Concat(s.Cameras, s.AreaCameras))
}

// restricted reports whether the scope has a camera restriction (an area that resolved to no
// camera still restricts: to nothing).
func (s Scope) restricted() bool { return len(s.Cameras) > 0 || s.Area != nil }

// covers returns "" when the scope covers a search of type typ over from..to naming vrms (nil
// for none) and cameras (nil for every camera), else why not, for the refusal message.
func (s Scope) covers(typ string, vrms, cameras []string, from, to time.Time) string {
	if !slices.Contains(s.SearchTypes, typ) {
		return fmt.Sprintf("it covers %s searches, not %s", strings.Join(s.SearchTypes, ", "), typ)
	}
	if from.Before(s.From) || to.After(s.To) {
		return fmt.Sprintf("the search window %s..%s is outside the authorised window %s..%s",
			stamp(from), stamp(to), stamp(s.From), stamp(s.To))
	}
	if len(s.VRMs) > 0 {
		if len(vrms) == 0 {
			return fmt.Sprintf("it covers only the VRMs %s, and this search names none", strings.Join(s.VRMs, ", "))
		}
		var out []string
		for _, v := range vrms {
			if !slices.Contains(s.VRMs, v) {
				out = append(out, v)
			}
		}
		if len(out) > 0 {
			return fmt.Sprintf("it does not cover the VRM(s) %s", strings.Join(out, ", "))
		}
	}
	if s.restricted() {
		set := s.CameraSet()
		if cameras == nil {
			return fmt.Sprintf("it covers only %d camera(s), and this search is of every camera", len(set))
		}
		var out []string
		for _, c := range cameras {
			if _, ok := slices.BinarySearch(set, c); !ok {
				out = append(out, c)
			}
		}
		if len(out) > 0 {
			return fmt.Sprintf("it does not cover the camera(s) %s", strings.Join(clipList(out, 10), ", "))
		}
	}
	return ""
}

// widens lists every way next is wider than s (nil when next is within s), for the message that
// refuses a widening approval.
func (s Scope) widens(next Scope) []string {
	var out []string
	if next.From.Before(s.From) {
		out = append(out, fmt.Sprintf("the window starts at %s, before the requested %s", stamp(next.From), stamp(s.From)))
	}
	if next.To.After(s.To) {
		out = append(out, fmt.Sprintf("the window ends at %s, after the requested %s", stamp(next.To), stamp(s.To)))
	}
	if extra := missing(next.SearchTypes, s.SearchTypes); len(extra) > 0 {
		out = append(out, "search types not requested: "+strings.Join(extra, ", "))
	}
	if len(s.VRMs) > 0 {
		if len(next.VRMs) == 0 {
			out = append(out, "the request named VRMs; the approval would cover every VRM")
		} else if extra := missing(next.VRMs, s.VRMs); len(extra) > 0 {
			out = append(out, "VRMs not requested: "+strings.Join(extra, ", "))
		}
	}
	if s.restricted() {
		if !next.restricted() {
			out = append(out, "the request named cameras or an area; the approval would cover every camera")
		} else if extra := missing(next.CameraSet(), s.CameraSet()); len(extra) > 0 {
			out = append(out, "cameras not requested: "+strings.Join(clipList(extra, 10), ", "))
		}
	}
	return out
}

// missing returns the members of got that are not in allowed.
func missing(got, allowed []string) []string {
	var out []string
	for _, g := range got {
		if !slices.Contains(allowed, g) {
			out = append(out, g)
		}
	}
	return out
}

func clipList(ss []string, n int) []string {
	if len(ss) <= n {
		return ss
	}
	return append(slices.Clone(ss[:n]), fmt.Sprintf("and %d more", len(ss)-n))
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// text is the scope in canonical form for audit payloads.
func (s Scope) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "types=%s from=%s to=%s", strings.Join(s.SearchTypes, ","), s.From.UTC().Format(time.RFC3339), s.To.UTC().Format(time.RFC3339))
	if len(s.VRMs) > 0 {
		b.WriteString(" vrms=" + strings.Join(s.VRMs, ","))
	}
	if s.restricted() {
		b.WriteString(" cameras=" + strings.Join(s.CameraSet(), ","))
	}
	if s.Area != nil {
		b.WriteString(" area=" + areaText(*s.Area))
	}
	return b.String()
}

func areaText(a geo.Area) string {
	if a.Centre != nil {
		return fmt.Sprintf("within %.0f m of %.5f,%.5f", a.RadiusM, a.Centre[0], a.Centre[1])
	}
	return fmt.Sprintf("a polygon of %d points", len(a.Polygon))
}

// Searchable says in plain words what an authority makes searchable, for the approver's queue:
// which vehicles, where, over which window, by which search types, how often and until when.
func Searchable(a Authority, band string) string {
	s := a.Scope
	var b strings.Builder
	switch len(s.VRMs) {
	case 0:
		b.WriteString("Reads of every vehicle")
	default:
		b.WriteString("Reads of " + strings.Join(s.VRMs, ", "))
	}
	switch {
	case s.restricted() && s.Area != nil:
		fmt.Fprintf(&b, " at %d camera(s) (%s", len(s.CameraSet()), strings.Join(clipList(s.CameraSet(), 10), ", "))
		fmt.Fprintf(&b, "; the area is %s)", areaText(*s.Area))
	case s.restricted():
		fmt.Fprintf(&b, " at %d camera(s) (%s)", len(s.CameraSet()), strings.Join(clipList(s.CameraSet(), 10), ", "))
	default:
		b.WriteString(" at every camera")
	}
	fmt.Fprintf(&b, " from %s to %s", stamp(s.From), stamp(s.To))
	switch band {
	case "band1":
		b.WriteString(" (band 1 data)")
	case "band2":
		b.WriteString(" (band 2 aged data: prior authority required)")
	case "expired":
		b.WriteString(" (data past retention: only what a preservation hold keeps)")
	}
	fmt.Fprintf(&b, ", by %s search, at most %d time(s), until %s", strings.Join(s.SearchTypes, ", "), a.MaxUses, stamp(a.ExpiresAt))
	if a.HoldID != "" {
		fmt.Fprintf(&b, "; names preservation hold %s", a.HoldID)
	}
	b.WriteString(".")
	return b.String()
}
