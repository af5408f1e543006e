package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/closepointintime"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/operationtype"

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

// PreserveLead is how far ahead of the cutoff a retention run moves held reads to the preserved
// index. ILM deletes a backing index at a fixed age after its rollover, independently of our runs;
// moving held reads a week early means a run that is late by less than that still saves them
// before their backing index can go. ILM's delete phase is therefore safe with holds as long as
// retention runs at least once per PreserveLead (serve runs it daily by default) and the phase's
// min_age is at least data.retention.
const PreserveLead = 7 * 24 * time.Hour

// PreservedIndex is the plain index that keeps reads under a preservation hold once they near
// the end of retention: <prefix>reads-preserved. It has the reads mapping and is searched with
// the data stream (readTargets), so a held read is found wherever it lives.
func (s *Store) PreservedIndex() string { return s.cfg.Prefix + "reads-preserved" }

// readTargets is what read searches name: the data stream and the preserved index. A missing
// preserved index is ignored (searches pass IgnoreUnavailable).
func (s *Store) readTargets() string { return s.stream + "," + s.PreservedIndex() }

// ensurePreserved creates the preserved index, with the mapping and settings of the reads
// template, if it does not exist.
func (s *Store) ensurePreserved(ctx context.Context) error {
	raw, err := readsTemplate(s.stream, s.features)
	if err != nil {
		return err
	}
	var t struct {
		Template json.RawMessage `json:"template"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return fmt.Errorf("elastic: preserved index body: %w", err)
	}
	_, err = s.es.Indices.Create(s.PreservedIndex()).Raw(bytes.NewReader(t.Template)).Do(ctx)
	if err != nil && !isType(err, "resource_already_exists_exception") {
		return fmt.Errorf("elastic: create index %s: %w", s.PreservedIndex(), unavailable(err))
	}
	return nil
}

// DeleteReadsBefore deletes reads with seen_at < cutoff that no hold covers.
//
// Held reads older than cutoff + PreserveLead are first moved from the data stream to the
// preserved index (copied, the copy confirmed, then deleted from the stream), because ILM's
// delete phase drops whole backing indices, held reads included: once moved, ILM can delete every
// backing index past retention and the held reads survive. Then the expired, unheld reads are
// deleted from the stream and from the preserved index (where a released hold leaves them).
//
// It does not use delete_by_query: that lives in the reindex module, which not every cluster
// loads (the test distribution does not), and data streams accept deletes only on their backing
// indices. Instead it sweeps under a point in time (so its own deletes do not shift the pages it
// has yet to read), sorted by _shard_doc, and deletes each page by index and _id in one bulk
// request. The count is what Elasticsearch confirmed deleted.
//
// Between the copy and the delete of one page a held read exists twice; searches may show it
// twice for that moment. The other order would risk losing it, which is worse.
func (s *Store) DeleteReadsBefore(ctx context.Context, cutoff time.Time, holds []reads.HoldScope) (int64, error) {
	held, err := holdQuery(holds)
	if err != nil {
		return 0, fmt.Errorf("delete reads: %w", err)
	}
	if cutoff.IsZero() {
		return 0, fmt.Errorf("delete reads: cutoff is not set: %w", reads.ErrInvalid)
	}
	if err := s.ensurePreserved(ctx); err != nil {
		return 0, fmt.Errorf("delete reads: %w", err)
	}
	cut := reads.CeilMilli(cutoff)
	if len(held) > 0 {
		moving := &types.Query{Bool: &types.BoolQuery{
			Filter:             []types.Query{timeRange(minMillis, cut+PreserveLead.Milliseconds())},
			Should:             held,
			MinimumShouldMatch: 1,
		}}
		if err := s.sweep(ctx, s.stream, moving, true, s.preserve); err != nil {
			return 0, fmt.Errorf("delete reads: preserve held reads: %w", err)
		}
	}
	expired := &types.Query{Bool: &types.BoolQuery{
		Filter:  []types.Query{timeRange(minMillis, cut)},
		MustNot: held,
	}}
	var deleted int64
	for _, index := range []string{s.stream, s.PreservedIndex()} {
		err := s.sweep(ctx, index, expired, false, func(ctx context.Context, hits []types.Hit) error {
			ops, err := deleteOpsOf(hits)
			if err != nil {
				return err
			}
			n, err := s.deleteByID(ctx, ops)
			deleted += n
			return err
		})
		if err != nil {
			return deleted, fmt.Errorf("delete reads from %s: %w", index, err)
		}
	}
	return deleted, nil
}

// preserve copies one page of held reads into the preserved index (by _id, so a repeated run
// overwrites with the same document) and, once every copy is confirmed, deletes them from the
// stream.
func (s *Store) preserve(ctx context.Context, hits []types.Hit) error {
	req := s.es.Bulk().Index(s.PreservedIndex()).Refresh(s.refresh)
	for _, h := range hits {
		if h.Id_ == nil {
			return errors.New("a hit came back without an _id")
		}
		if err := req.IndexOp(types.IndexOperation{Id_: h.Id_}, h.Source_); err != nil {
			return fmt.Errorf("encode read %s: %w", *h.Id_, err)
		}
	}
	res, err := req.Do(ctx)
	if err != nil {
		return fmt.Errorf("bulk copy: %w", unavailable(err))
	}
	if len(res.Items) != len(hits) {
		return fmt.Errorf("bulk copy: %d items answered for %d sent", len(res.Items), len(hits))
	}
	for i, item := range res.Items {
		if it := item[operationtype.Index]; it.Status != http.StatusOK && it.Status != http.StatusCreated {
			// Nothing is deleted from the stream: the read stays where it was, held, and the next
			// run tries again.
			return fmt.Errorf("copy read %s: %d %s: %w", *hits[i].Id_, it.Status, causeText(it.Error), reads.ErrUnavailable)
		}
	}
	ops, err := deleteOpsOf(hits)
	if err != nil {
		return err
	}
	_, err = s.deleteByID(ctx, ops)
	return err
}

func deleteOpsOf(hits []types.Hit) ([]types.DeleteOperation, error) {
	ops := make([]types.DeleteOperation, 0, len(hits))
	for _, h := range hits {
		if h.Id_ == nil {
			return nil, errors.New("a hit came back without an _id")
		}
		ops = append(ops, types.DeleteOperation{Index_: ptr(h.Index_), Id_: h.Id_})
	}
	return ops, nil
}

// sweep calls fn with successive pages of the documents of index that q selects, under a point
// in time, so that fn may delete what it is given without shifting later pages.
func (s *Store) sweep(ctx context.Context, index string, q *types.Query, source bool,
	fn func(ctx context.Context, hits []types.Hit) error) error {
	pit, err := s.es.OpenPointInTime(index).KeepAlive("2m").IgnoreUnavailable(true).Do(ctx)
	if err != nil {
		if status(err) == 404 {
			return nil // nothing was ever stored there
		}
		return fmt.Errorf("open point in time: %w", unavailable(err))
	}
	pitID := pit.Id
	defer func() {
		// Closing early frees the segments the PIT pins; if it fails the PIT expires anyway.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := s.es.ClosePointInTime().Request(&closepointintime.Request{Id: pitID}).Do(cctx); err != nil {
			s.log.Warn("retention: close point in time", "err", err)
		}
	}()
	var after []types.FieldValue
	for {
		res, err := s.es.Search().Request(&search.Request{
			Query:       q,
			Pit:         &types.PointInTimeReference{Id: pitID, KeepAlive: "2m"},
			Sort:        []types.SortCombinations{"_shard_doc"},
			Size:        ptr(retentionPage),
			SearchAfter: after,
			Source_:     source,
		}).Do(ctx)
		if err != nil {
			return fmt.Errorf("sweep: %w", unavailable(err))
		}
		if res.PitId != nil {
			pitID = *res.PitId // the id may change between pages; the newest one must be used
		}
		hits := res.Hits.Hits
		if len(hits) == 0 {
			return nil
		}
		if err := fn(ctx, hits); err != nil {
			return err
		}
		if len(hits) < retentionPage {
			return nil
		}
		after = hits[len(hits)-1].Sort
	}
}
