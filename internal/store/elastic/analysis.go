package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/msearch"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/sortorder"

	"github.com/anpr-portal/anpr/internal/reads"
)

// The analysis queries (reads.Analyst): convoy windows through msearch, one sub-search per target
// read; multi-location places through a composite aggregation over plates with the first read of
// each as a top_hits; histograms through a date_histogram. All run in filter context.

// convoyBatch is how many target reads one msearch carries: enough to amortise the round trip,
// few enough that one response stays a few megabytes at the nearby bound.
const convoyBatch = 100

// placePage is the composite aggregation page size of a multi-location place.
const placePage = 1000

// Convoy implements reads.Analyst.
func (s *Store) Convoy(ctx context.Context, q reads.ConvoyQuery) (reads.ConvoyResult, error) {
	return reads.RunConvoy(ctx, s, q, s.convoyNearby)
}

func timeOrder() []types.SortCombinations {
	asc := sortorder.Asc
	return []types.SortCombinations{
		types.SortOptions{SortOptions: map[string]types.FieldSort{"@timestamp": {Order: &asc}}},
		types.SortOptions{SortOptions: map[string]types.FieldSort{"id": {Order: &asc}}},
	}
}

func (s *Store) convoyNearby(ctx context.Context, q reads.ConvoyChecked, targets []reads.Read) ([][]reads.Read, error) {
	out := make([][]reads.Read, len(targets))
	for start := 0; start < len(targets); start += convoyBatch {
		batch := targets[start:min(start+convoyBatch, len(targets))]
		req := make(msearch.Request, 0, 2*len(batch))
		for _, t := range batch {
			at := t.SeenAt.UnixMilli()
			from, to := max(at-q.WithinMs, q.From), min(at+q.WithinMs+1, q.To) // [at-W, at+W] within [From, To)
			req = append(req, types.MultisearchHeader{}, types.MultisearchBody{
				Query: &types.Query{Bool: &types.BoolQuery{
					Filter:  []types.Query{{Term: map[string]types.TermQuery{"camera_id": {Value: t.CameraID}}}, timeRange(from, to)},
					MustNot: []types.Query{{Term: map[string]types.TermQuery{"vrm": {Value: q.VRM}}}},
				}},
				Sort:           timeOrder(),
				Size:           ptr(q.MaxNear + 1),
				TrackTotalHits: false,
			})
		}
		res, err := s.es.Msearch().Index(s.readTargets()).Request(&req).IgnoreUnavailable(true).AllowNoIndices(true).Do(ctx)
		if err != nil {
			return nil, fmt.Errorf("msearch: %w", unavailable(err))
		}
		if len(res.Responses) != len(batch) {
			return nil, fmt.Errorf("msearch: %d responses for %d searches: %w", len(res.Responses), len(batch), reads.ErrUnavailable)
		}
		for i, item := range res.Responses {
			switch r := item.(type) {
			case *types.MultiSearchItem:
				for _, h := range r.Hits.Hits {
					var d readDoc
					if err := json.Unmarshal(h.Source_, &d); err != nil {
						return nil, fmt.Errorf("msearch: decode %s: %w", h.Index_, err)
					}
					out[start+i] = append(out[start+i], d.read())
				}
			case *types.ErrorResponseBase:
				return nil, fmt.Errorf("msearch item %d: %s: %w", i, r.Error.Type, reads.ErrUnavailable)
			default:
				return nil, fmt.Errorf("msearch item %d: unexpected %T: %w", i, item, reads.ErrUnavailable)
			}
		}
	}
	return out, nil
}

// MultiLocation implements reads.Analyst.
func (s *Store) MultiLocation(ctx context.Context, q reads.MultiLocationQuery) (reads.MultiLocationResult, error) {
	return reads.RunMultiLocation(ctx, s, q, s.placeVehicles)
}

func (s *Store) placeVehicles(ctx context.Context, p reads.PlaceChecked, only []string, maxVehicles int) (map[string]reads.PlaceEvidence, error) {
	filters := []types.Query{termsQuery("camera_id", p.Cameras), timeRange(p.From, p.To)}
	if only != nil {
		filters = append(filters, termsQuery("vrm", only))
	}
	out := map[string]reads.PlaceEvidence{}
	var after types.CompositeAggregateKey
	for {
		comp := &types.CompositeAggregation{
			Size:    ptr(placePage),
			Sources: []map[string]types.CompositeAggregationSource{{"vrm": {Terms: &types.CompositeTermsAggregation{Field: ptr("vrm")}}}},
			After:   after,
		}
		res, err := s.es.Search().Index(s.readTargets()).Request(&search.Request{
			Query: &types.Query{Bool: &types.BoolQuery{Filter: filters}},
			Size:  ptr(0),
			Aggregations: map[string]types.Aggregations{"plates": {
				Composite: comp,
				Aggregations: map[string]types.Aggregations{
					"first": {TopHits: &types.TopHitsAggregation{Size: ptr(1), Sort: timeOrder()}},
				},
			}},
			TrackTotalHits: false,
		}).IgnoreUnavailable(true).AllowNoIndices(true).Do(ctx)
		if err != nil {
			return nil, fmt.Errorf("place vehicles: %w", unavailable(err))
		}
		agg, ok := res.Aggregations["plates"].(*types.CompositeAggregate)
		if !ok {
			if len(res.Aggregations) == 0 {
				return out, nil // no index yet
			}
			return nil, fmt.Errorf("place vehicles: aggregation is %T", res.Aggregations["plates"])
		}
		buckets, _ := agg.Buckets.([]types.CompositeBucket)
		for _, b := range buckets {
			top, ok := b.Aggregations["first"].(*types.TopHitsAggregate)
			if !ok || len(top.Hits.Hits) == 0 {
				return nil, errors.New("place vehicles: a plate bucket has no first read")
			}
			var d readDoc
			if err := json.Unmarshal(top.Hits.Hits[0].Source_, &d); err != nil {
				return nil, fmt.Errorf("place vehicles: decode: %w", err)
			}
			r := d.read()
			out[r.VRM] = reads.PlaceEvidence{Count: b.DocCount, First: r}
			if len(out) > maxVehicles {
				return nil, reads.ErrTooBroad
			}
		}
		if len(buckets) < placePage || len(agg.AfterKey) == 0 {
			return out, nil
		}
		after = agg.AfterKey
	}
}

// Histogram implements reads.Analyst with a date_histogram. Fixed intervals are aligned to the
// epoch in UTC, which is the hour and day bucketing reads.FloorMilli defines.
func (s *Store) Histogram(ctx context.Context, hq reads.HistogramQuery) ([]reads.Bucket, error) {
	c, err := hq.Check()
	if err != nil {
		return nil, err
	}
	rq, err := checkQuery(hq.Query)
	if err != nil {
		return nil, err
	}
	qq := s.filter(rq)
	if len(c.VRMs) > 0 {
		qq.Bool.Filter = append(qq.Bool.Filter, termsQuery("vrm", c.VRMs))
	}
	interval := "1h"
	if c.Interval == reads.IntervalDay {
		interval = "1d"
	}
	res, err := s.es.Search().Index(s.readTargets()).Request(&search.Request{
		Query: qq,
		Size:  ptr(0),
		Aggregations: map[string]types.Aggregations{"h": {DateHistogram: &types.DateHistogramAggregation{
			Field: ptr("@timestamp"), FixedInterval: interval, MinDocCount: ptr(1),
		}}},
		TrackTotalHits: false,
	}).IgnoreUnavailable(true).AllowNoIndices(true).Do(ctx)
	if err != nil {
		return nil, fmt.Errorf("histogram: %w", unavailable(err))
	}
	out := []reads.Bucket{}
	agg, ok := res.Aggregations["h"].(*types.DateHistogramAggregate)
	if !ok {
		if len(res.Aggregations) == 0 {
			return out, nil
		}
		return nil, fmt.Errorf("histogram: aggregation is %T", res.Aggregations["h"])
	}
	buckets, _ := agg.Buckets.([]types.DateHistogramBucket)
	for _, b := range buckets {
		if b.DocCount > 0 {
			out = append(out, reads.Bucket{Start: time.UnixMilli(b.Key).UTC(), Count: b.DocCount})
		}
	}
	return reads.MergeBuckets(out), nil
}
