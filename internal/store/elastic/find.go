package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/count"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/sortorder"

	"github.com/anpr-portal/anpr/internal/reads"
)

// FindReads returns one page of q, in (seen_at, id) order.
//
// Paging is search_after on (seen_at, id) with the position in a sealed cursor, not a point in
// time (PIT). The reads.Finder contract, which the conformance suite checks, is keyset paging:
// a read that arrives ahead of the cursor while someone pages must still be found, and a PIT is a
// frozen view that would hide it. Keyset paging also keeps no state on the cluster between pages
// (a PIT pins segments until it expires), which matters when thousands of searches are open at
// once. The PIT is used where a frozen view is the point: the retention sweep (and the export
// path that comes later).
func (s *Store) FindReads(ctx context.Context, q reads.Query) (reads.Page, error) {
	rq, err := checkQuery(q)
	if err != nil {
		return reads.Page{}, err
	}
	order := sortorder.Desc
	if rq.order == reads.OldestFirst {
		order = sortorder.Asc
	}
	req := &search.Request{
		Query: s.filter(rq),
		Sort: []types.SortCombinations{
			types.SortOptions{SortOptions: map[string]types.FieldSort{"@timestamp": {Order: &order}}},
			types.SortOptions{SortOptions: map[string]types.FieldSort{"id": {Order: &order}}},
		},
		Size:           ptr(rq.limit + 1), // one more tells whether a next page exists
		TrackTotalHits: false,
	}
	if rq.after != nil {
		req.SearchAfter = []types.FieldValue{rq.after.seenAt, rq.after.idString()}
	}
	res, err := s.es.Search().Index(s.stream).Request(req).IgnoreUnavailable(true).AllowNoIndices(true).Do(ctx)
	if err != nil {
		return reads.Page{}, fmt.Errorf("find reads: %w", unavailable(err))
	}
	page := reads.Page{Reads: make([]reads.Read, 0, min(len(res.Hits.Hits), rq.limit))}
	for i, h := range res.Hits.Hits {
		if i == rq.limit {
			last := page.Reads[len(page.Reads)-1]
			id, err := parseID(last.ID)
			if err != nil {
				return reads.Page{}, fmt.Errorf("find reads: stored read has a bad id: %w", err)
			}
			page.Next = rq.next(cursor{seenAt: last.SeenAt.UnixMilli(), id: id})
			break
		}
		var d readDoc
		if err := json.Unmarshal(h.Source_, &d); err != nil {
			return reads.Page{}, fmt.Errorf("find reads: decode %s: %w", h.Index_, err)
		}
		page.Reads = append(page.Reads, d.read())
	}
	return page, nil
}

// CountReads counts the reads q selects, ignoring its page size and cursor position.
func (s *Store) CountReads(ctx context.Context, q reads.Query) (int64, error) {
	q.Cursor = "" // a count is of the whole query, wherever a client is in its pages
	rq, err := checkQuery(q)
	if err != nil {
		return 0, err
	}
	res, err := s.es.Count().Index(s.stream).Request(&count.Request{Query: s.filter(rq)}).
		IgnoreUnavailable(true).AllowNoIndices(true).Do(ctx)
	if err != nil {
		return 0, fmt.Errorf("count reads: %w", unavailable(err))
	}
	return res.Count, nil
}

// GetRead returns the read with the given id. A data stream spreads reads over backing indices
// and a GET by _id needs the concrete index, so this is a search on _id: one term lookup per
// backing index.
func (s *Store) GetRead(ctx context.Context, id string) (reads.Read, error) {
	if _, err := parseID(id); err != nil {
		return reads.Read{}, fmt.Errorf("get read: %w", err)
	}
	res, err := s.es.Search().Index(s.stream).Request(&search.Request{
		Query: &types.Query{Ids: &types.IdsQuery{Values: []string{id}}},
		Size:  ptr(1),
	}).IgnoreUnavailable(true).AllowNoIndices(true).Do(ctx)
	if err != nil {
		return reads.Read{}, fmt.Errorf("get read %s: %w", id, unavailable(err))
	}
	if len(res.Hits.Hits) == 0 {
		return reads.Read{}, fmt.Errorf("get read %s: %w", id, reads.ErrNotFound)
	}
	var d readDoc
	if err := json.Unmarshal(res.Hits.Hits[0].Source_, &d); err != nil {
		return reads.Read{}, fmt.Errorf("get read %s: decode: %w", id, err)
	}
	return d.read(), nil
}

// filter is the query for rq in filter context: no scoring, and cacheable per segment.
func (s *Store) filter(rq query) *types.Query {
	var plateQ *types.Query
	switch rq.match {
	case reads.MatchExact:
		plateQ = &types.Query{Term: map[string]types.TermQuery{"vrm": {Value: rq.value}}}
	case reads.MatchSkeleton:
		plateQ = &types.Query{Term: map[string]types.TermQuery{"skeleton": {Value: rq.value}}}
	case reads.MatchPattern:
		// The canonical pattern has only A-Z 0-9 ? *, which mean the same in an Elasticsearch
		// wildcard query, so it needs no escaping.
		field := "vrm"
		if s.features.WildcardType {
			field = "vrm.wildcard"
		}
		plateQ = &types.Query{Wildcard: map[string]types.WildcardQuery{field: {Value: &rq.value}}}
	case reads.MatchAny:
		// No plate filter: every read at the cameras (reads.Query.Check insists on some).
	}
	filters := []types.Query{timeRange(rq.from, rq.to)}
	if plateQ != nil {
		filters = append(filters, *plateQ)
	}
	if len(rq.cameras) > 0 {
		filters = append(filters, termsQuery("camera_id", rq.cameras))
	}
	return &types.Query{Bool: &types.BoolQuery{Filter: filters}}
}

// timeRange selects from <= seen_at < to, both in epoch milliseconds.
func timeRange(from, to int64) types.Query {
	r := types.DateRangeQuery{Format: ptr("epoch_millis")}
	if from != minMillis {
		r.Gte = ptr(strconv.FormatInt(from, 10))
	}
	if to != maxMillis {
		r.Lt = ptr(strconv.FormatInt(to, 10))
	}
	return types.Query{Range: map[string]types.RangeQuery{"@timestamp": r}}
}

func termsQuery(field string, values []string) types.Query {
	vs := make([]types.FieldValue, len(values))
	for i, v := range values {
		vs[i] = v
	}
	return types.Query{Terms: &types.TermsQuery{TermsQuery: map[string]types.TermsQueryField{field: vs}}}
}

func ptr[T any](v T) *T { return &v }
