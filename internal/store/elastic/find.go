package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/closepointintime"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/count"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/sortorder"

	"github.com/anpr-portal/anpr/internal/reads"
)

// FindReads returns one page of q, in (seen_at, id) order, by search_after on (seen_at, id).
//
// With q.Snapshot, and where the cluster serves points in time (Features.PointInTime), a search
// with more than one page opens a point in time (PIT) and every later page searches inside it,
// the PIT id riding in the cursor: the pages are one frozen view. Without Snapshot the pages are
// plain keyset paging, which the reads.Finder contract (and its conformance test) wants for
// readers that must see reads arriving ahead of the cursor, and which keeps no state on the
// cluster between pages. A PIT that has expired or been closed (a client back after the
// keep-alive), or one the cluster refuses to open (too many open contexts), degrades to keyset
// paging from the same position: the answer stays complete and ordered, only not frozen.
func (s *Store) FindReads(ctx context.Context, q reads.Query) (reads.Page, error) {
	rq, err := checkQuery(q)
	if err != nil {
		return reads.Page{}, err
	}
	usePIT := rq.snapshot && s.features.PointInTime
	pit := ""
	if usePIT {
		pit = rq.pit
	}
	res, err := s.findPage(ctx, rq, pit)
	if err != nil && pit != "" && (status(err) == 404 || isType(err, "search_context_missing_exception")) {
		s.log.Debug("find reads: point in time gone; continuing by keyset", "err", err)
		pit = ""
		res, err = s.findPage(ctx, rq, "")
	}
	if err != nil {
		return reads.Page{}, fmt.Errorf("find reads: %w", unavailable(err))
	}
	if res.PitId != nil && pit != "" {
		pit = *res.PitId // the id may change between pages; the newest one must be used
	}
	if usePIT && pit == "" && rq.after == nil && len(res.Hits.Hits) > rq.limit {
		// The view is opened only once a search has a second page: most searches fit in one,
		// and they then cost no extra round trip and pin nothing. Reads arriving between this
		// page and the PIT could show up on later pages, as with keyset paging: never a repeat.
		pit = s.openPIT(ctx)
	}
	page := reads.Page{Reads: make([]reads.Read, 0, min(len(res.Hits.Hits), rq.limit))}
	for i, h := range res.Hits.Hits {
		if i == rq.limit {
			last := page.Reads[len(page.Reads)-1]
			id, err := parseID(last.ID)
			if err != nil {
				return reads.Page{}, fmt.Errorf("find reads: stored read has a bad id: %w", err)
			}
			page.Next = rq.next(cursor{seenAt: last.SeenAt.UnixMilli(), id: id}, pit)
			break
		}
		var d readDoc
		if err := json.Unmarshal(h.Source_, &d); err != nil {
			return reads.Page{}, fmt.Errorf("find reads: decode %s: %w", h.Index_, err)
		}
		page.Reads = append(page.Reads, d.read())
	}
	if page.Next == "" && pit != "" {
		s.closePIT(ctx, pit) // the last page: free the segments it pins now, not at keep-alive
	}
	return page, nil
}

// pitKeepAlive is how long a point in time survives between pages: long enough for a person to
// read a page, short enough that abandoned searches do not pin segments for long.
const pitKeepAlive = "5m"

func (s *Store) findPage(ctx context.Context, rq query, pit string) (*search.Response, error) {
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
	if pit == "" {
		return s.es.Search().Index(s.readTargets()).Request(req).IgnoreUnavailable(true).AllowNoIndices(true).Do(ctx)
	}
	// Inside a PIT Elasticsearch sorts by an implicit _shard_doc tiebreaker as well; naming it
	// keeps search_after's values in step with the sort. (seen_at, id) is already a total order,
	// so the third value only has to exclude the read the last page ended on: the largest value
	// ascending, the smallest descending.
	req.Sort = append(req.Sort, types.SortOptions{SortOptions: map[string]types.FieldSort{"_shard_doc": {Order: &order}}})
	if rq.after != nil {
		tie := int64(math.MaxInt64)
		if order == sortorder.Desc {
			tie = -1
		}
		req.SearchAfter = append(req.SearchAfter, tie)
	}
	req.Pit = &types.PointInTimeReference{Id: pit, KeepAlive: pitKeepAlive}
	return s.es.Search().Request(req).Do(ctx)
}

// openPIT opens a point in time over the reads, or returns "" (keyset paging) when the cluster
// will not: no reads stored yet, or too many open search contexts.
func (s *Store) openPIT(ctx context.Context) string {
	res, err := s.es.OpenPointInTime(s.readTargets()).KeepAlive(pitKeepAlive).IgnoreUnavailable(true).Do(ctx)
	if err != nil {
		if status(err) != 404 {
			s.log.Warn("find reads: open point in time refused; paging by keyset", "err", err)
		}
		return ""
	}
	return res.Id
}

func (s *Store) closePIT(ctx context.Context, id string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.es.ClosePointInTime().Request(&closepointintime.Request{Id: id}).Do(cctx); err != nil && status(err) != 404 {
		s.log.Debug("find reads: close point in time", "err", err)
	}
}

// CountReads counts the reads q selects, ignoring its page size and cursor position.
func (s *Store) CountReads(ctx context.Context, q reads.Query) (int64, error) {
	q.Cursor = "" // a count is of the whole query, wherever a client is in its pages
	rq, err := checkQuery(q)
	if err != nil {
		return 0, err
	}
	res, err := s.es.Count().Index(s.readTargets()).Request(&count.Request{Query: s.filter(rq)}).
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
	res, err := s.es.Search().Index(s.readTargets()).Request(&search.Request{
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
