package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/operationtype"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

var _ reads.Rectifier = (*Store)(nil)

// located is a stored read with the concrete index that holds it.
type located struct {
	doc   readDoc
	index string
}

// locateRead finds every stored copy of read id, in the stream's backing indices and the
// preserved index (a read being preserved can briefly be in both).
func (s *Store) locateRead(ctx context.Context, id string) ([]located, error) {
	if _, err := parseID(id); err != nil {
		return nil, err
	}
	res, err := s.es.Search().Index(s.readTargets()).Request(&search.Request{
		Query: &types.Query{Ids: &types.IdsQuery{Values: []string{id}}},
		Size:  ptr(10),
	}).IgnoreUnavailable(true).AllowNoIndices(true).Do(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	var out []located
	for _, h := range res.Hits.Hits {
		var d readDoc
		if err := json.Unmarshal(h.Source_, &d); err != nil {
			return nil, fmt.Errorf("decode %s: %w", h.Index_, err)
		}
		out = append(out, located{doc: d, index: h.Index_})
	}
	if len(out) == 0 {
		return nil, reads.ErrNotFound
	}
	return out, nil
}

// CorrectRead writes the corrected read first and deletes the misread after, so a failure in
// between leaves both (and an error), never neither: Elasticsearch has no transaction across
// documents. The corrected read goes where the old one was: the preserved index if it was held
// there, otherwise the stream's write index.
func (s *Store) CorrectRead(ctx context.Context, id, vrm string) (reads.Read, reads.Read, error) {
	fail := func(err error) (reads.Read, reads.Read, error) {
		return reads.Read{}, reads.Read{}, fmt.Errorf("correct read %s: %w", id, err)
	}
	norm, err := plate.Normalize(vrm)
	if err != nil {
		return fail(fmt.Errorf("%w: %w", reads.ErrInvalid, err))
	}
	copies, err := s.locateRead(ctx, id)
	if err != nil {
		return fail(err)
	}
	old := copies[0]
	before := old.doc.read()
	if before.VRM == norm {
		return fail(fmt.Errorf("%w: the read already has plate %s", reads.ErrInvalid, norm))
	}
	after := reads.Corrected(before, norm, plate.Skeleton(norm))
	if _, err := s.locateRead(ctx, after.ID); err == nil {
		return fail(fmt.Errorf("%w: a read of %s at the same camera and instant already exists (%s); erase this one instead",
			reads.ErrConflict, norm, after.ID))
	} else if err != reads.ErrNotFound {
		return fail(err)
	}
	doc := old.doc
	doc.ID, doc.VRM, doc.Skeleton = after.ID, after.VRM, after.Skeleton
	target := s.stream
	for _, c := range copies {
		if c.index == s.PreservedIndex() {
			target = c.index
		}
	}
	req := s.es.Bulk().Index(target).Refresh(s.refresh)
	if err := req.CreateOp(types.CreateOperation{Id_: ptr(doc.ID)}, doc); err != nil {
		return fail(fmt.Errorf("encode: %w", err))
	}
	res, err := req.Do(ctx)
	if err != nil {
		return fail(unavailable(err))
	}
	if len(res.Items) != 1 {
		return fail(fmt.Errorf("bulk create: %d items answered for 1: %w", len(res.Items), reads.ErrUnavailable))
	}
	switch it := res.Items[0][operationtype.Create]; it.Status {
	case http.StatusCreated:
	case http.StatusConflict:
		return fail(fmt.Errorf("%w: read %s was created meanwhile", reads.ErrConflict, after.ID))
	default:
		return fail(fmt.Errorf("create corrected read: %d %s: %w", it.Status, causeText(it.Error), reads.ErrUnavailable))
	}
	if err := s.deleteCopies(ctx, copies, id); err != nil {
		return fail(fmt.Errorf("the corrected read %s is stored but the misread was not deleted: %w", after.ID, err))
	}
	return before, after, nil
}

// EraseRead deletes every stored copy of read id.
func (s *Store) EraseRead(ctx context.Context, id string) (reads.Read, error) {
	copies, err := s.locateRead(ctx, id)
	if err != nil {
		return reads.Read{}, fmt.Errorf("erase read %s: %w", id, err)
	}
	if err := s.deleteCopies(ctx, copies, id); err != nil {
		return reads.Read{}, fmt.Errorf("erase read %s: %w", id, err)
	}
	return copies[0].doc.read(), nil
}

func (s *Store) deleteCopies(ctx context.Context, copies []located, id string) error {
	ops := make([]types.DeleteOperation, len(copies))
	for i, c := range copies {
		ops[i] = types.DeleteOperation{Index_: ptr(c.index), Id_: ptr(id)}
	}
	_, err := s.deleteByID(ctx, ops)
	return err
}
