package search

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/authz"
	"github.com/anpr-portal/anpr/internal/reads"
)

// Histogram is the counts over time of one search: every bucket from the one holding the start
// of the window to the one holding its end, empty ones included, oldest first.
type Histogram struct {
	Type     Type           `json:"type"`
	Interval reads.Interval `json:"interval"`
	Band     authz.Band     `json:"band"`
	Buckets  []reads.Bucket `json:"buckets"`
	Total    int64          `json:"total"`
	// Digest is of the bucket list ("start=count" per bucket), as the audit outcome records it;
	// the outcome's count is the number of buckets.
	Digest audit.Digest `json:"digest"`
}

// What a histogram counts, per type: exact, partial, misread, journey and area count the reads
// the search selects; convoy counts the companions' co-sightings it would show; multi-location
// counts the reads of the vehicles found, at the places and in the windows searched.
//
// The policy decides a histogram of a sensitive type (area, convoy, multi-location) as that type,
// so it needs the same authority; aggregate counts of those searches still say who passed where
// and when. Histograms of the other types are decided as search.histogram.
func histogramAction(t Type) authz.Action {
	switch t {
	case TypeArea, TypeConvoy, TypeMultiLocation:
		return t.action()
	}
	return authz.SearchHistogram
}

func checkInterval(i reads.Interval, from, to time.Time) error {
	w := i.Millis()
	if w == 0 {
		return invalid("interval %q: want hour or day", i)
	}
	if n := (reads.FloorMilli(reads.CeilMilli(to)-1, w)-reads.FloorMilli(reads.CeilMilli(from), w))/w + 1; n > reads.MaxBuckets {
		return invalid("%d %s buckets; at most %d: use a wider interval or a narrower window", n, i, reads.MaxBuckets)
	}
	return nil
}

// dense fills the empty buckets between from and to and totals the counts.
func dense(bs []reads.Bucket, i reads.Interval, from, to time.Time) ([]reads.Bucket, int64, []string) {
	w := i.Millis()
	count := map[int64]int64{}
	for _, b := range bs {
		count[b.Start.UnixMilli()] += b.Count
	}
	var out []reads.Bucket
	var ids []string
	var total int64
	for ms := reads.FloorMilli(reads.CeilMilli(from), w); ms < reads.CeilMilli(to); ms += w {
		b := reads.Bucket{Start: time.UnixMilli(ms).UTC(), Count: count[ms]}
		out = append(out, b)
		total += b.Count
		ids = append(ids, b.Start.Format(time.RFC3339)+"="+strconv.FormatInt(b.Count, 10))
	}
	if out == nil {
		out = []reads.Bucket{}
	}
	return out, total, ids
}

func histogramOf(t Type, i reads.Interval, band authz.Band, bs []reads.Bucket, from, to time.Time) (Histogram, []string) {
	out, total, ids := dense(bs, i, from, to)
	return Histogram{Type: t, Interval: i, Band: band, Buckets: out, Total: total}, ids
}

func setHistogramDigest(h *Histogram, d audit.Digest) { h.Digest = d }

// Histogram counts the reads an exact, partial, misread, journey or area search selects, per
// hour or day. The request is that of the search (its cursor and limit are ignored).
func (s *Service) Histogram(ctx context.Context, c Caller, t Type, r Request, interval reads.Interval) (Histogram, error) {
	switch t {
	case TypeExact, TypePartial, TypeMisread, TypeJourney, TypeArea:
	default:
		return Histogram{}, invalid("%q histograms take their own request; use ConvoyHistogram or MultiLocationHistogram", t)
	}
	q, err := s.check(ctx, t, r.VRM, r.Pattern, r.From, r.To, r.Cameras, r.Area, 0)
	if err != nil {
		return Histogram{}, err
	}
	if err := checkInterval(interval, q.from, q.to); err != nil {
		return Histogram{}, err
	}
	d := decided{auditType: string(t) + ".histogram", action: histogramAction(t), from: q.from, reason: r.Reason,
		query: q.text() + " interval=" + string(interval),
		use:   AuthorityUse{ID: r.AuthorityID, Subject: c.Subject, Type: t, Cameras: q.cameras, From: q.from, To: q.to}}
	if q.value != "" && t != TypePartial {
		d.vrms = []string{q.value}
		d.use.VRMs = d.vrms
	}
	return execute(ctx, s, c, d, func(ctx context.Context, band authz.Band) (Histogram, []string, error) {
		bs, err := s.st.Histogram(ctx, reads.HistogramQuery{Query: q.query(reads.NewestFirst, 0, ""), Interval: interval})
		if err != nil {
			return Histogram{}, nil, fmt.Errorf("%s histogram: %w", t, err)
		}
		h, ids := histogramOf(t, interval, band, bs, q.from, q.to)
		return h, ids, nil
	}, setHistogramDigest)
}

// ConvoyHistogram counts, per hour or day, the co-sightings a convoy search finds.
func (s *Service) ConvoyHistogram(ctx context.Context, c Caller, r ConvoyRequest, interval reads.Interval) (Histogram, error) {
	q, err := s.checkConvoy(ctx, r)
	if err != nil {
		return Histogram{}, err
	}
	if err := checkInterval(interval, q.from, q.to); err != nil {
		return Histogram{}, err
	}
	d := q.decided(r, c, string(TypeConvoy)+".histogram", histogramAction(TypeConvoy))
	d.query += " interval=" + string(interval)
	return execute(ctx, s, c, d, func(ctx context.Context, band authz.Band) (Histogram, []string, error) {
		res, err := s.st.Convoy(ctx, q.store(s.cfg.Convoy))
		if err != nil {
			return Histogram{}, nil, fmt.Errorf("convoy histogram: %w", err)
		}
		w := interval.Millis()
		var bs []reads.Bucket
		for _, comp := range res.Companions {
			for _, sg := range comp.Sightings {
				bs = append(bs, reads.Bucket{Start: time.UnixMilli(reads.FloorMilli(sg.SeenAt.UnixMilli(), w)).UTC(), Count: 1})
			}
		}
		h, ids := histogramOf(TypeConvoy, interval, band, bs, q.from, q.to)
		return h, ids, nil
	}, setHistogramDigest)
}

// MultiLocationHistogram counts, per hour or day, the reads of the vehicles a multi-location
// search finds, at its places and in their windows.
func (s *Service) MultiLocationHistogram(ctx context.Context, c Caller, r MultiLocationRequest, interval reads.Interval) (Histogram, error) {
	q, err := s.checkMulti(ctx, r)
	if err != nil {
		return Histogram{}, err
	}
	if err := checkInterval(interval, q.from, q.to); err != nil {
		return Histogram{}, err
	}
	d := q.decided(r, c, string(TypeMultiLocation)+".histogram", histogramAction(TypeMultiLocation))
	d.query += " interval=" + string(interval)
	return execute(ctx, s, c, d, func(ctx context.Context, band authz.Band) (Histogram, []string, error) {
		res, err := s.st.MultiLocation(ctx, q.store(s.cfg.MultiLocation))
		if err != nil {
			return Histogram{}, nil, fmt.Errorf("multi-location histogram: %w", err)
		}
		var all []reads.Bucket
		if len(res.Vehicles) > 0 {
			vrms := make([]string, len(res.Vehicles))
			for i, v := range res.Vehicles {
				vrms[i] = v.VRM
			}
			for _, p := range q.places {
				bs, err := s.st.Histogram(ctx, reads.HistogramQuery{Query: reads.Query{Match: reads.MatchAny, From: p.From, To: p.To, Cameras: p.Cameras},
					VRMs: vrms, Interval: interval})
				if err != nil {
					return Histogram{}, nil, fmt.Errorf("multi-location histogram: %w", err)
				}
				all = append(all, bs...)
			}
		}
		h, ids := histogramOf(TypeMultiLocation, interval, band, all, q.from, q.to)
		return h, ids, nil
	}, setHistogramDigest)
}
