package search

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/geo"
	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// ConvoyLimits bound one convoy search. The target's reads are examined oldest first up to
// MaxTargetReads, and each window around one of them yields at most MaxNearby reads; past either
// bound the result says Truncated. Defaults: window 31 days, T 1 s to 10 minutes, K at most 50,
// 5,000 target reads, 500 nearby reads, 100 companions.
type ConvoyLimits struct {
	MaxWindow      time.Duration
	MaxWithin      time.Duration
	MaxMinCameras  int
	MaxTargetReads int
	MaxNearby      int
	MaxResults     int
}

// Defaults of ConvoyLimits.
const (
	DefaultConvoyMaxWindow      = 31 * 24 * time.Hour
	DefaultConvoyMaxWithin      = 10 * time.Minute
	DefaultConvoyMaxMinCameras  = 50
	DefaultConvoyMaxTargetReads = reads.DefaultConvoyTargetReads
	DefaultConvoyMaxNearby      = reads.DefaultConvoyNearby
	DefaultConvoyMaxResults     = 100
)

func (l ConvoyLimits) withDefaults() ConvoyLimits {
	set := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if l.MaxWindow == 0 {
		l.MaxWindow = DefaultConvoyMaxWindow
	}
	if l.MaxWithin == 0 {
		l.MaxWithin = DefaultConvoyMaxWithin
	}
	set(&l.MaxMinCameras, DefaultConvoyMaxMinCameras)
	set(&l.MaxTargetReads, DefaultConvoyMaxTargetReads)
	set(&l.MaxNearby, DefaultConvoyMaxNearby)
	set(&l.MaxResults, DefaultConvoyMaxResults)
	return l
}

func (l ConvoyLimits) check() []error {
	var errs []error
	if l.MaxWindow < 0 || l.MaxWithin < time.Second || l.MaxWithin > reads.MaxConvoyWithin {
		errs = append(errs, fmt.Errorf("search config: convoy window %s must be positive and T %s within 1s..%s", l.MaxWindow, l.MaxWithin, reads.MaxConvoyWithin))
	}
	if l.MaxMinCameras < 2 || l.MaxTargetReads < 1 || l.MaxNearby < 1 || l.MaxResults < 1 {
		errs = append(errs, fmt.Errorf("search config: convoy bounds %+v must be positive (K at least 2)", l))
	}
	return errs
}

// ConvoyRequest asks which vehicles travelled with VRM: seen at the same camera within
// WithinSeconds of one of its reads, at MinCameras or more distinct cameras, in the window.
type ConvoyRequest struct {
	VRM           string
	From, To      time.Time
	WithinSeconds int
	MinCameras    int
	// Cameras and Area, if given, limit the co-sightings to those cameras.
	Cameras []string
	Area    *geo.Area
	// Limit is how many companions to return (0: ConvoyLimits.MaxResults).
	Limit       int
	Reason      authz.Reason
	AuthorityID string
}

// ConvoyResult is the companions of a target vehicle, best first, with the evidence.
type ConvoyResult struct {
	VRM           string     `json:"vrm"`
	Band          authz.Band `json:"band"`
	WithinSeconds int        `json:"within_seconds"`
	MinCameras    int        `json:"min_cameras"`
	reads.ConvoyResult
	// Digest is of the read ids shown: each companion's sightings in order, the companion's read
	// then the target's.
	Digest audit.Digest `json:"digest"`
}

type convoySpec struct {
	vrm      string
	from, to time.Time
	within   time.Duration
	k, limit int
	cameras  []string
}

func (q convoySpec) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "convoy %s from=%s to=%s within=%s k=%d", q.vrm, q.from.Format(time.RFC3339Nano), q.to.Format(time.RFC3339Nano), q.within, q.k)
	if len(q.cameras) > 0 {
		b.WriteString(" cameras=" + strings.Join(q.cameras, ","))
	}
	return b.String()
}

func (s *Service) checkConvoy(ctx context.Context, r ConvoyRequest) (convoySpec, error) {
	l := s.cfg.Convoy
	var errs []error
	q := convoySpec{within: time.Duration(r.WithinSeconds) * time.Second, k: r.MinCameras, limit: r.Limit}
	vrm, err := plate.Normalize(r.VRM)
	switch {
	case r.VRM == "":
		errs = append(errs, invalid("vrm is required: the target vehicle"))
	case err != nil:
		errs = append(errs, fmt.Errorf("%w: vrm: %w", ErrInvalid, err))
	}
	q.vrm = vrm
	if q.from, q.to, err = s.checkWindow(r.From, r.To); err != nil {
		errs = append(errs, err)
	} else if q.to.Sub(q.from) > l.MaxWindow {
		errs = append(errs, invalid("a convoy window may be at most %s wide; this one is %s", l.MaxWindow, q.to.Sub(q.from)))
	}
	if r.WithinSeconds < 1 || q.within > l.MaxWithin {
		errs = append(errs, invalid("within_seconds %d is out of range; T must be 1 to %d seconds", r.WithinSeconds, int(l.MaxWithin/time.Second)))
	}
	if r.MinCameras < 2 || r.MinCameras > l.MaxMinCameras {
		errs = append(errs, invalid("min_cameras %d is out of range; K must be 2 to %d (one shared camera is not a convoy)", r.MinCameras, l.MaxMinCameras))
	}
	switch {
	case r.Limit == 0:
		q.limit = l.MaxResults
	case r.Limit < 1 || r.Limit > l.MaxResults:
		errs = append(errs, invalid("limit %d is out of range; 1 to %d companions", r.Limit, l.MaxResults))
	}
	if len(errs) == 0 {
		if q.cameras, err = s.checkPlace(ctx, r.Cameras, r.Area); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return convoySpec{}, joinInvalid(errs)
	}
	return q, nil
}

func (q convoySpec) store(l ConvoyLimits) reads.ConvoyQuery {
	return reads.ConvoyQuery{VRM: q.vrm, From: q.from, To: q.to, Within: q.within, MinCameras: q.k, Cameras: q.cameras,
		MaxTargetReads: l.MaxTargetReads, MaxNearby: l.MaxNearby, Limit: q.limit}
}

func (q convoySpec) decided(r ConvoyRequest, c Caller, auditType string, action authz.Action) decided {
	return decided{auditType: auditType, action: action, from: q.from, reason: r.Reason, query: q.text(), vrms: []string{q.vrm},
		use: AuthorityUse{ID: r.AuthorityID, Subject: c.Subject, Type: TypeConvoy, VRMs: []string{q.vrm}, Cameras: q.cameras, From: q.from, To: q.to}}
}

// Convoy returns the vehicles seen with a target, ranked by distinct cameras shared, then by
// sightings, then by closeness, each with its evidence. It is a sensitive type: the policy wants
// an authority in every band.
func (s *Service) Convoy(ctx context.Context, c Caller, r ConvoyRequest) (ConvoyResult, error) {
	q, err := s.checkConvoy(ctx, r)
	if err != nil {
		return ConvoyResult{}, err
	}
	return execute(ctx, s, c, q.decided(r, c, string(TypeConvoy), authz.SearchConvoy),
		func(ctx context.Context, band authz.Band) (ConvoyResult, []string, error) {
			res, err := s.st.Convoy(ctx, q.store(s.cfg.Convoy))
			if err != nil {
				return ConvoyResult{}, nil, fmt.Errorf("convoy search: %w", err)
			}
			var ids []string
			for _, comp := range res.Companions {
				for _, sg := range comp.Sightings {
					ids = append(ids, sg.ReadID, sg.TargetReadID)
				}
			}
			return ConvoyResult{VRM: q.vrm, Band: band, WithinSeconds: r.WithinSeconds, MinCameras: q.k, ConvoyResult: res}, ids, nil
		}, func(res *ConvoyResult, d audit.Digest) { res.Digest = d })
}
