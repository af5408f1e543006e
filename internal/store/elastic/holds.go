package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/optype"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/sortorder"

	"github.com/anpr-portal/anpr/internal/holds"
	"github.com/anpr-portal/anpr/internal/retention"
)

// HoldStore is holds.Store and retention.RunStore on Elasticsearch: one small index of holds,
// <prefix>holds, and one of retention run reports, <prefix>retention-runs. A release is a
// compare-and-set on the hold's sequence number and primary term, so of two concurrent releases
// one wins and the other gets a conflict.
type HoldStore struct {
	s     *Store
	holds string
	runs  string
}

var (
	_ holds.Store        = (*HoldStore)(nil)
	_ retention.RunStore = (*HoldStore)(nil)
)

// maxHolds bounds ListHolds: one search page. A force holds tens of cases at once, not thousands.
const maxHolds = 10000

// HoldStore returns the hold store on the same cluster and prefix, creating its indices if they
// are missing.
func (s *Store) HoldStore(ctx context.Context) (*HoldStore, error) {
	h := &HoldStore{s: s, holds: s.cfg.Prefix + "holds", runs: s.cfg.Prefix + "retention-runs"}
	// dynamic false: the documents are the Go structs as JSON, stored whole in _source; only the
	// fields that lists sort on are indexed.
	for _, idx := range []struct{ name, sortField string }{{h.holds, "created_at"}, {h.runs, "started_at"}} {
		body := fmt.Sprintf(`{"settings":{"number_of_shards":1},"mappings":{"dynamic":false,"properties":{
			"id":{"type":"keyword"},%q:{"type":"date"}}}}`, idx.sortField)
		_, err := s.es.Indices.Create(idx.name).Raw(bytes.NewReader([]byte(body))).Do(ctx)
		if err != nil && !isType(err, "resource_already_exists_exception") {
			return nil, fmt.Errorf("elastic: create index %s: %w", idx.name, unavailable(err))
		}
	}
	return h, nil
}

// CreateHold stores a new hold with op_type create, so an existing id is a conflict.
func (h *HoldStore) CreateHold(ctx context.Context, hold holds.Hold) error {
	_, err := h.s.es.Index(h.holds).Id(hold.ID).OpType(optype.Create).Document(hold).Refresh(h.s.refresh).Do(ctx)
	if err != nil {
		if status(err) == 409 {
			return fmt.Errorf("create hold %s: %w", hold.ID, holds.ErrConflict)
		}
		return fmt.Errorf("create hold: %w", unavailable(err))
	}
	return nil
}

func (h *HoldStore) get(ctx context.Context, id string) (holds.Hold, int64, int64, error) {
	res, err := h.s.es.Get(h.holds, id).Do(ctx)
	if err != nil && status(err) != 404 {
		return holds.Hold{}, 0, 0, fmt.Errorf("get hold %q: %w", id, unavailable(err))
	}
	if err != nil || !res.Found {
		return holds.Hold{}, 0, 0, fmt.Errorf("hold %q: %w", id, holds.ErrNotFound)
	}
	var hold holds.Hold
	if err := json.Unmarshal(res.Source_, &hold); err != nil {
		return holds.Hold{}, 0, 0, fmt.Errorf("hold %q: decode: %w", id, err)
	}
	if res.SeqNo_ == nil || res.PrimaryTerm_ == nil {
		return holds.Hold{}, 0, 0, fmt.Errorf("hold %q: no sequence number in the answer", id)
	}
	return hold, *res.SeqNo_, *res.PrimaryTerm_, nil
}

// GetHold returns one hold.
func (h *HoldStore) GetHold(ctx context.Context, id string) (holds.Hold, error) {
	hold, _, _, err := h.get(ctx, id)
	return hold, err
}

// ListHolds returns every hold, newest first.
func (h *HoldStore) ListHolds(ctx context.Context) ([]holds.Hold, error) {
	out := []holds.Hold{}
	err := h.list(ctx, h.holds, "created_at", maxHolds, func(raw json.RawMessage) error {
		var hold holds.Hold
		if err := json.Unmarshal(raw, &hold); err != nil {
			return err
		}
		out = append(out, hold)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	return out, nil
}

func (h *HoldStore) list(ctx context.Context, index, sortField string, limit int, each func(json.RawMessage) error) error {
	desc := sortorder.Desc
	res, err := h.s.es.Search().Index(index).Request(&search.Request{
		Query: &types.Query{MatchAll: &types.MatchAllQuery{}},
		Sort: []types.SortCombinations{
			types.SortOptions{SortOptions: map[string]types.FieldSort{sortField: {Order: &desc}}},
			types.SortOptions{SortOptions: map[string]types.FieldSort{"id": {Order: &desc}}},
		},
		Size: ptr(limit),
	}).Do(ctx)
	if err != nil {
		return unavailable(err)
	}
	for _, hit := range res.Hits.Hits {
		if err := each(hit.Source_); err != nil {
			return fmt.Errorf("decode %s: %w", index, err)
		}
	}
	return nil
}

// ReleaseHold releases an active hold: read it with its sequence number, then write the released
// hold only if nobody wrote it in between (if_seq_no / if_primary_term).
func (h *HoldStore) ReleaseHold(ctx context.Context, id, by, reason string, at time.Time) (holds.Hold, error) {
	hold, seq, term, err := h.get(ctx, id)
	if err != nil {
		return holds.Hold{}, err
	}
	if !hold.Active() {
		return holds.Hold{}, fmt.Errorf("release hold %q: %w: already released", id, holds.ErrConflict)
	}
	hold.ReleasedBy, hold.ReleasedAt, hold.ReleaseReason = by, at.UTC(), reason
	_, err = h.s.es.Index(h.holds).Id(id).Document(hold).
		IfSeqNo(strconv.FormatInt(seq, 10)).IfPrimaryTerm(strconv.FormatInt(term, 10)).
		Refresh(h.s.refresh).Do(ctx)
	if err != nil {
		if status(err) == 409 {
			return holds.Hold{}, fmt.Errorf("release hold %q: %w: released concurrently", id, holds.ErrConflict)
		}
		return holds.Hold{}, fmt.Errorf("release hold %q: %w", id, unavailable(err))
	}
	return hold, nil
}

// RecordRun stores a run report under its id (again with the same id replaces it).
func (h *HoldStore) RecordRun(ctx context.Context, r retention.Run) error {
	if _, err := h.s.es.Index(h.runs).Id(r.ID).Document(r).Refresh(h.s.refresh).Do(ctx); err != nil {
		return fmt.Errorf("record retention run: %w", unavailable(err))
	}
	return nil
}

// ListRuns returns up to limit runs, newest first.
func (h *HoldStore) ListRuns(ctx context.Context, limit int) ([]retention.Run, error) {
	if limit <= 0 || limit > maxHolds {
		return nil, fmt.Errorf("list retention runs: limit %d: %w", limit, holds.ErrInvalid)
	}
	out := []retention.Run{}
	err := h.list(ctx, h.runs, "started_at", limit, func(raw json.RawMessage) error {
		var r retention.Run
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list retention runs: %w", err)
	}
	return out, nil
}
