package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// Type names a search type, as the audit event records it.
type Type string

// The search types of this package.
const (
	TypeExact   Type = "exact"
	TypePartial Type = "partial"
	TypeMisread Type = "misread"
	TypeJourney Type = "journey"
	// The sensitive types: the policy wants an authority for them in every band.
	TypeArea          Type = "area"
	TypeConvoy        Type = "convoy"
	TypeMultiLocation Type = "multi_location"
)

func (t Type) action() authz.Action {
	switch t {
	case TypeExact:
		return authz.SearchExact
	case TypePartial:
		return authz.SearchPartial
	case TypeMisread:
		return authz.SearchMisread
	case TypeJourney:
		return authz.SearchJourney
	case TypeArea:
		return authz.SearchArea
	case TypeConvoy:
		return authz.SearchConvoy
	case TypeMultiLocation:
		return authz.SearchMultiLocation
	}
	return ""
}

func (t Type) match() reads.MatchKind {
	switch t {
	case TypePartial:
		return reads.MatchPattern
	case TypeMisread:
		return reads.MatchSkeleton
	case TypeArea:
		return reads.MatchAny
	}
	return reads.MatchExact
}

// Request is one page of an exact, partial or misread search. The window is half-open:
// From <= seen_at < To.
type Request struct {
	// VRM is the plate for exact and misread searches; Pattern the wildcard pattern ('?' one
	// character, '*' any run) for partial searches. Exactly one is set, as the type needs.
	VRM     string
	Pattern string
	From    time.Time
	To      time.Time
	// Cameras limits the search to these cameras; empty is every camera.
	Cameras []string
	// Area limits the search to the cameras inside it (intersected with Cameras when both are
	// given). An area search needs Area or Cameras.
	Area *geo.Area
	// Limit is the page size (0: Config.DefaultPageSize).
	Limit int
	// Cursor continues a search from the previous page's Result.Next. It is bound to the caller
	// and to the query, so it cannot be edited or handed to someone else.
	Cursor string
	Reason authz.Reason
	// AuthorityID presents a prior authority (needed for aged data and sensitive search types).
	AuthorityID string
}

// spec is a validated query in canonical form: what is authorised, audited, bound into cursors
// and sent to the store.
type spec struct {
	typ     Type
	value   string // normalised VRM, canonical pattern, or the VRM whose skeleton is searched
	storeV  string // the value as the store is asked (the skeleton for misread searches)
	from    time.Time
	to      time.Time
	cameras []string // sorted, unique
	limit   int
}

// text is the canonical query as the audit payload records it and cursors bind. The page size is
// left out: a client may change it between pages.
func (q spec) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", q.typ)
	if q.value != "" {
		b.WriteString(" " + q.value)
	}
	fmt.Fprintf(&b, " from=%s to=%s", q.from.Format(time.RFC3339Nano), q.to.Format(time.RFC3339Nano))
	if len(q.cameras) > 0 {
		b.WriteString(" cameras=" + strings.Join(q.cameras, ","))
	}
	return b.String()
}

func (q spec) query(order reads.Order, limit int, cursor string) reads.Query {
	return reads.Query{
		Match: q.typ.match(), Value: q.storeV, From: q.from, To: q.to, Cameras: q.cameras,
		Order: order, Limit: limit, Cursor: cursor,
		// Pages of one search come from one view where the backend holds one (Elasticsearch:
		// PIT + search_after); the cursor carries it.
		Snapshot: true,
	}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// checkPlate validates the plate or pattern of a request for type t.
func (s *Service) checkPlate(t Type, vrm, pattern string) (value, storeV string, err error) {
	switch t {
	case TypeExact, TypeMisread, TypeJourney:
		if pattern != "" {
			return "", "", invalid("a %s search takes a vrm, not a pattern; use the partial search for wildcards", t)
		}
		if vrm == "" {
			return "", "", invalid("vrm is required")
		}
		v, err := plate.Normalize(vrm)
		if err != nil {
			return "", "", fmt.Errorf("%w: vrm: %w", ErrInvalid, err)
		}
		if t == TypeMisread {
			return v, plate.Skeleton(v), nil
		}
		return v, v, nil
	case TypePartial:
		if vrm != "" {
			return "", "", invalid("a partial search takes a pattern, not a vrm")
		}
		if pattern == "" {
			return "", "", invalid("pattern is required (letters, digits, ? for one character, * for any run)")
		}
		p, err := plate.ParsePattern(pattern)
		if err != nil {
			return "", "", fmt.Errorf("%w: pattern: %w", ErrInvalid, err)
		}
		if n := p.FixedCount(); n < s.cfg.MinPatternFixed {
			return "", "", invalid("pattern %q has %d fixed character(s); at least %d are needed, or it would match too many unrelated vehicles to be a search for one",
				p.String(), n, s.cfg.MinPatternFixed)
		}
		return p.String(), p.String(), nil
	case TypeArea:
		if vrm != "" || pattern != "" {
			return "", "", invalid("an area search names no vrm or pattern: it finds every vehicle at the cameras")
		}
		return "", "", nil
	}
	return "", "", invalid("unknown search type %q", t)
}

// checkWindow refuses windows that are missing, reversed, in the future or wider than allowed.
// Windows reaching past retention are not refused here: they are in the expired band, and the
// policy (which wants a hold authority) refuses them, so the refusal is audited with its rule.
func (s *Service) checkWindow(from, to time.Time) (time.Time, time.Time, error) {
	if from.IsZero() || to.IsZero() {
		return from, to, invalid("the window needs both from and to")
	}
	from, to = from.UTC(), to.UTC()
	now := s.now()
	var errs []string
	if !from.Before(to) {
		errs = append(errs, fmt.Sprintf("the window is reversed or empty: from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339)))
	}
	if !from.Before(now) {
		errs = append(errs, fmt.Sprintf("the window starts in the future (from %s; now %s)", from.Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	} else if to.After(now.Add(s.cfg.ClockSkew)) {
		errs = append(errs, fmt.Sprintf("the window ends in the future (to %s; now %s); end it at the current time at the latest", to.Format(time.RFC3339), now.UTC().Format(time.RFC3339)))
	}
	if s.cfg.MaxWindow > 0 && to.Sub(from) > s.cfg.MaxWindow {
		errs = append(errs, fmt.Sprintf("the window is %s wide; at most %s is allowed", to.Sub(from), s.cfg.MaxWindow))
	}
	if len(errs) > 0 {
		return from, to, invalid("%s", strings.Join(errs, "; "))
	}
	return from, to, nil
}

// checkCameras canonicalises the camera filter and refuses cameras the registry does not know,
// naming every one of them: a mistyped camera id would otherwise quietly find nothing.
func (s *Service) checkCameras(ctx context.Context, ids []string) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	if len(ids) > s.cfg.MaxCameras {
		return nil, invalid("%d cameras named; at most %d are allowed in one search", len(ids), s.cfg.MaxCameras)
	}
	out := slices.Clone(ids)
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	slices.Sort(out)
	out = slices.Compact(out)
	var unknown []string
	for _, id := range out {
		if id == "" {
			return nil, invalid("a camera id is empty")
		}
		if _, err := s.cams.Camera(ctx, id); err != nil {
			if errors.Is(err, reads.ErrNotFound) {
				unknown = append(unknown, id)
				continue
			}
			return nil, fmt.Errorf("look up camera: %w", err)
		}
	}
	if len(unknown) > 0 {
		return nil, invalid("unknown camera(s): %s", strings.Join(unknown, ", "))
	}
	return out, nil
}

func (s *Service) checkLimit(n int) (int, error) {
	switch {
	case n == 0:
		return s.cfg.DefaultPageSize, nil
	case n < 1 || n > s.cfg.MaxPageSize:
		return 0, invalid("limit %d is out of range; a page holds 1 to %d reads", n, s.cfg.MaxPageSize)
	}
	return n, nil
}

// check validates a request of type t and returns its canonical form, reporting every problem
// with the query at once.
func (s *Service) check(ctx context.Context, t Type, vrm, pattern string, from, to time.Time, cameras []string, area *geo.Area, limit int) (spec, error) {
	q := spec{typ: t}
	var errs []error
	var err error
	if q.value, q.storeV, err = s.checkPlate(t, vrm, pattern); err != nil {
		errs = append(errs, err)
	}
	if q.from, q.to, err = s.checkWindow(from, to); err != nil {
		errs = append(errs, err)
	}
	if q.limit, err = s.checkLimit(limit); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		// Only now ask the registry, so malformed requests cost no I/O.
		if q.cameras, err = s.checkPlace(ctx, cameras, area); err != nil {
			errs = append(errs, err)
		} else if t == TypeArea && len(q.cameras) == 0 {
			errs = append(errs, invalid("an area search needs an area or a camera list"))
		}
	}
	if len(errs) > 0 {
		return spec{}, joinInvalid(errs)
	}
	return q, nil
}

// joinInvalid joins problems into one error that still wraps ErrInvalid (and only once in text).
func joinInvalid(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	parts := make([]string, 0, len(errs))
	for _, e := range errs {
		if !errors.Is(e, ErrInvalid) {
			return e // an I/O failure, not bad input
		}
		parts = append(parts, strings.TrimPrefix(e.Error(), ErrInvalid.Error()+": "))
	}
	return invalid("%s", strings.Join(parts, "; "))
}
