package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/reads"
)

// MultiLimits bound one multi-location search. Defaults: 6 places, each window at most 7 days,
// at most 50,000 distinct vehicles at the smallest place (a busier place is refused as too broad),
// 500 vehicles returned.
type MultiLimits struct {
	MaxPlaces      int
	MaxPlaceWindow time.Duration
	MaxCandidates  int
	MaxResults     int
}

// Defaults of MultiLimits.
const (
	DefaultMultiMaxPlaces      = 6
	DefaultMultiMaxPlaceWindow = 7 * 24 * time.Hour
	DefaultMultiMaxCandidates  = reads.DefaultMultiCandidates
	DefaultMultiMaxResults     = 500
)

func (l MultiLimits) withDefaults() MultiLimits {
	if l.MaxPlaces == 0 {
		l.MaxPlaces = DefaultMultiMaxPlaces
	}
	if l.MaxPlaceWindow == 0 {
		l.MaxPlaceWindow = DefaultMultiMaxPlaceWindow
	}
	if l.MaxCandidates == 0 {
		l.MaxCandidates = DefaultMultiMaxCandidates
	}
	if l.MaxResults == 0 {
		l.MaxResults = DefaultMultiMaxResults
	}
	return l
}

func (l MultiLimits) check() []error {
	if l.MaxPlaces < 2 || l.MaxPlaces > reads.MaxPlaces || l.MaxPlaceWindow < 0 || l.MaxCandidates < 1 || l.MaxResults < 1 {
		return []error{fmt.Errorf("search config: multi-location bounds %+v: want 2..%d places and positive bounds", l, reads.MaxPlaces)}
	}
	return nil
}

// PlaceRequest is one (place, window) of a multi-location search: a camera list, an area, or
// both (the cameras in both).
type PlaceRequest struct {
	Cameras  []string
	Area     *geo.Area
	From, To time.Time
}

// MultiLocationRequest asks for the vehicles seen at every one of Places.
type MultiLocationRequest struct {
	Places      []PlaceRequest
	Limit       int // vehicles returned, by plate (0: MultiLimits.MaxResults)
	Reason      authz.Reason
	AuthorityID string
}

// PlaceSearched is a place as searched: its cameras after resolving any area, and its window.
type PlaceSearched struct {
	Cameras []string  `json:"cameras"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
}

// MultiLocationResult is the vehicles seen at every place, by plate, each with its count and
// first read at every place (in request order).
type MultiLocationResult struct {
	Band   authz.Band      `json:"band"`
	Places []PlaceSearched `json:"places"`
	reads.MultiLocationResult
	// Digest is of the read ids shown: each vehicle's first read at each place, in order.
	Digest audit.Digest `json:"digest"`
}

type multiSpec struct {
	places   []PlaceSearched
	from, to time.Time // the span of all windows: the band and the authority judge it
	cameras  []string  // union of every place's cameras
	limit    int
}

func (q multiSpec) text() string {
	var b strings.Builder
	b.WriteString("multi_location")
	for i, p := range q.places {
		fmt.Fprintf(&b, " place%d=[from=%s to=%s cameras=%s]", i+1, p.From.Format(time.RFC3339Nano), p.To.Format(time.RFC3339Nano), strings.Join(p.Cameras, ","))
	}
	return b.String()
}

func (s *Service) checkMulti(ctx context.Context, r MultiLocationRequest) (multiSpec, error) {
	l := s.cfg.MultiLocation
	if len(r.Places) < 2 || len(r.Places) > l.MaxPlaces {
		return multiSpec{}, invalid("%d places given; a multi-location search needs 2 to %d", len(r.Places), l.MaxPlaces)
	}
	q := multiSpec{limit: r.Limit}
	switch {
	case r.Limit == 0:
		q.limit = l.MaxResults
	case r.Limit < 1 || r.Limit > l.MaxResults:
		return multiSpec{}, invalid("limit %d is out of range; 1 to %d vehicles", r.Limit, l.MaxResults)
	}
	var errs []error
	for i, p := range r.Places {
		from, to, err := s.checkWindow(p.From, p.To)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: place %d: %s", ErrInvalid, i+1, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")))
			continue
		}
		if to.Sub(from) > l.MaxPlaceWindow {
			errs = append(errs, invalid("place %d: its window may be at most %s wide; this one is %s", i+1, l.MaxPlaceWindow, to.Sub(from)))
			continue
		}
		if len(p.Cameras) == 0 && p.Area == nil {
			errs = append(errs, invalid("place %d: give cameras or an area", i+1))
			continue
		}
		cams, err := s.checkPlace(ctx, p.Cameras, p.Area)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: place %d: %s", ErrInvalid, i+1, strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")))
			continue
		}
		q.places = append(q.places, PlaceSearched{Cameras: cams, From: from, To: to})
		if q.from.IsZero() || from.Before(q.from) {
			q.from = from
		}
		if to.After(q.to) {
			q.to = to
		}
		q.cameras = append(q.cameras, cams...)
	}
	if len(errs) > 0 {
		return multiSpec{}, joinInvalid(errs)
	}
	slices.Sort(q.cameras)
	q.cameras = slices.Compact(q.cameras)
	return q, nil
}

func (q multiSpec) store(l MultiLimits) reads.MultiLocationQuery {
	out := reads.MultiLocationQuery{MaxCandidates: l.MaxCandidates, Limit: q.limit}
	for _, p := range q.places {
		out.Places = append(out.Places, reads.Place{Cameras: p.Cameras, From: p.From, To: p.To})
	}
	return out
}

func (q multiSpec) decided(r MultiLocationRequest, c Caller, auditType string, action authz.Action) decided {
	return decided{auditType: auditType, action: action, from: q.from, reason: r.Reason, query: q.text(),
		use: AuthorityUse{ID: r.AuthorityID, Subject: c.Subject, Type: TypeMultiLocation, Cameras: q.cameras, From: q.from, To: q.to}}
}

// MultiLocation returns the vehicles seen at every place of r, by plate. It is a sensitive type:
// the policy wants an authority in every band, and the band is judged by the oldest window.
func (s *Service) MultiLocation(ctx context.Context, c Caller, r MultiLocationRequest) (MultiLocationResult, error) {
	q, err := s.checkMulti(ctx, r)
	if err != nil {
		return MultiLocationResult{}, err
	}
	return execute(ctx, s, c, q.decided(r, c, string(TypeMultiLocation), authz.SearchMultiLocation),
		func(ctx context.Context, band authz.Band) (MultiLocationResult, []string, error) {
			res, err := s.st.MultiLocation(ctx, q.store(s.cfg.MultiLocation))
			if err != nil {
				return MultiLocationResult{}, nil, fmt.Errorf("multi-location search: %w", err)
			}
			var ids []string
			for _, v := range res.Vehicles {
				for _, p := range v.Places {
					ids = append(ids, p.First.ID)
				}
			}
			return MultiLocationResult{Band: band, Places: q.places, MultiLocationResult: res}, ids, nil
		}, func(res *MultiLocationResult, d audit.Digest) { res.Digest = d })
}
