package elastic

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/closepointintime"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// Unbounded ends of a hold window.
const (
	minMillis = math.MinInt64
	maxMillis = math.MaxInt64
)

// retentionPage is how many expired reads one search of the sweep returns (and one bulk deletes).
const retentionPage = 1000

// holdQuery turns hold scopes into one query matching every held read, checking them first: a
// scope that cannot be honoured exactly must stop the run, because a deletion is irreversible.
// Empty fields match anything, so a scope with no fields holds every read.
func holdQuery(scopes []reads.HoldScope) ([]types.Query, error) {
	out := make([]types.Query, 0, len(scopes))
	for i, sc := range scopes {
		var must []types.Query
		if len(sc.VRMs) > 0 {
			vrms := make([]string, len(sc.VRMs))
			for j, raw := range sc.VRMs {
				// A hold written "AB12 CDE" must still protect AB12CDE.
				vrm, err := plate.Normalize(raw)
				if err != nil {
					return nil, fmt.Errorf("hold %d: %w: %w", i, reads.ErrInvalid, err)
				}
				vrms[j] = vrm
			}
			must = append(must, termsQuery("vrm", vrms))
		}
		if len(sc.Cameras) > 0 {
			must = append(must, termsQuery("camera_id", sc.Cameras))
		}
		if !sc.From.IsZero() && !sc.To.IsZero() && !sc.From.Before(sc.To) {
			return nil, fmt.Errorf("hold %d: window from %s is not before to %s: %w", i,
				sc.From.UTC().Format(time.RFC3339Nano), sc.To.UTC().Format(time.RFC3339Nano), reads.ErrInvalid)
		}
		if !sc.From.IsZero() || !sc.To.IsZero() {
			from, to := int64(minMillis), int64(maxMillis)
			if !sc.From.IsZero() {
				from = reads.CeilMilli(sc.From)
			}
			if !sc.To.IsZero() {
				to = reads.CeilMilli(sc.To)
			}
			must = append(must, timeRange(from, to))
		}
		if len(must) == 0 {
			must = append(must, types.Query{MatchAll: &types.MatchAllQuery{}})
		}
		out = append(out, types.Query{Bool: &types.BoolQuery{Filter: must}})
	}
	return out, nil
}

// DeleteReadsBefore deletes reads with seen_at < cutoff that no hold covers.
//
// It does not use delete_by_query: that lives in the reindex module, which not every cluster
// loads (the test distribution does not), and data streams accept deletes only on their backing
// indices. Instead it sweeps the expired, unheld reads under a point in time (so its own deletes
// do not shift the pages it has yet to read), sorted by _shard_doc, and deletes each page by
// backing index and _id in one bulk request. The count is what Elasticsearch confirmed deleted.
//
// ILM's delete phase cannot replace this while holds exist: it drops whole backing indices,
// held reads included. `anpr es setup` must leave the delete phase out when holds are in use.
func (s *Store) DeleteReadsBefore(ctx context.Context, cutoff time.Time, holds []reads.HoldScope) (int64, error) {
	held, err := holdQuery(holds)
	if err != nil {
		return 0, fmt.Errorf("delete reads: %w", err)
	}
	if cutoff.IsZero() {
		return 0, fmt.Errorf("delete reads: cutoff is not set: %w", reads.ErrInvalid)
	}
	q := &types.Query{Bool: &types.BoolQuery{
		Filter:  []types.Query{timeRange(minMillis, reads.CeilMilli(cutoff))},
		MustNot: held,
	}}
	pit, err := s.es.OpenPointInTime(s.stream).KeepAlive("2m").IgnoreUnavailable(true).Do(ctx)
	if err != nil {
		if status(err) == 404 {
			return 0, nil // no reads were ever stored
		}
		return 0, fmt.Errorf("delete reads: open point in time: %w", unavailable(err))
	}
	pitID := pit.Id
	defer func() {
		// Closing early frees the segments the PIT pins; if it fails the PIT expires anyway.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := s.es.ClosePointInTime().Request(&closepointintime.Request{Id: pitID}).Do(cctx); err != nil {
			s.log.Warn("delete reads: close point in time", "err", err)
		}
	}()

	var deleted int64
	var after []types.FieldValue
	for {
		res, err := s.es.Search().Request(&search.Request{
			Query:       q,
			Pit:         &types.PointInTimeReference{Id: pitID, KeepAlive: "2m"},
			Sort:        []types.SortCombinations{"_shard_doc"},
			Size:        ptr(retentionPage),
			SearchAfter: after,
			Source_:     false,
		}).Do(ctx)
		if err != nil {
			return deleted, fmt.Errorf("delete reads: sweep: %w", unavailable(err))
		}
		if res.PitId != nil {
			pitID = *res.PitId // the id may change between pages; the newest one must be used
		}
		hits := res.Hits.Hits
		if len(hits) == 0 {
			return deleted, nil
		}
		ops := make([]types.DeleteOperation, 0, len(hits))
		for _, h := range hits {
			if h.Id_ == nil {
				return deleted, errors.New("delete reads: a hit came back without an _id")
			}
			ops = append(ops, types.DeleteOperation{Index_: ptr(h.Index_), Id_: h.Id_})
		}
		n, err := s.deleteByID(ctx, ops)
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("delete reads: %w", err)
		}
		if len(hits) < retentionPage {
			return deleted, nil
		}
		after = hits[len(hits)-1].Sort
	}
}
