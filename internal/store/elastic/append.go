package elastic

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/operationtype"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// bulkChunk is how many documents one bulk request carries: a few hundred kilobytes of reads,
// well inside the default 100 MB request limit and small enough that a rejected request costs
// little to resend.
const bulkChunk = 2000

// lookupChunk bounds one ids lookup (a search, so it must fit the result window).
const lookupChunk = 5000

// toDoc checks one read and converts it to its stored form. The checks are those of the SQLite
// backend: the store trusts ingest for policy but not for the identity of a read, because a wrong
// id or a non-normalised plate would break idempotency and search for good.
func toDoc(r reads.Read) (readDoc, error) {
	vrm, err := plate.Normalize(r.VRM)
	if err != nil {
		return readDoc{}, fmt.Errorf("vrm: %w", err)
	}
	if vrm != r.VRM {
		return readDoc{}, fmt.Errorf("vrm %q is not normalised (want %q)", r.VRM, vrm)
	}
	skel := plate.Skeleton(vrm)
	if r.Skeleton != "" && r.Skeleton != skel {
		return readDoc{}, fmt.Errorf("skeleton %q does not match vrm %q (want %q)", r.Skeleton, vrm, skel)
	}
	if r.CameraID == "" {
		return readDoc{}, errors.New("camera id is empty")
	}
	if r.SeenAt.IsZero() {
		return readDoc{}, errors.New("seen_at is not set")
	}
	if y := r.SeenAt.UTC().Year(); y < 1 || y > 9999 {
		// Elasticsearch dates reach further, but the SQLite backend cannot, and the two must
		// accept the same reads.
		return readDoc{}, fmt.Errorf("seen_at %s is outside the years 1-9999", r.SeenAt.UTC().Format("2006-01-02"))
	}
	if math.IsNaN(r.Confidence) || r.Confidence < 0 || r.Confidence > 1 {
		return readDoc{}, fmt.Errorf("confidence %v is outside 0..1", r.Confidence)
	}
	if r.Lane < math.MinInt16 || r.Lane > math.MaxInt16 {
		return readDoc{}, fmt.Errorf("lane %d is out of range", r.Lane)
	}
	id := reads.ReadID(r.CameraID, r.SeenAt, vrm)
	if r.ID != "" && r.ID != id {
		return readDoc{}, fmt.Errorf("id %q does not match camera, time and vrm (want %q)", r.ID, id)
	}
	patch, err := checkSHA(r.PatchSHA)
	if err != nil {
		return readDoc{}, fmt.Errorf("patch_sha256: %w", err)
	}
	overview, err := checkSHA(r.OverviewSHA)
	if err != nil {
		return readDoc{}, fmt.Errorf("overview_sha256: %w", err)
	}
	return readDoc{
		Timestamp:   r.SeenAt.UnixMilli(),
		ID:          id,
		VRM:         vrm,
		Skeleton:    skel,
		CameraID:    r.CameraID,
		Confidence:  r.Confidence,
		Lane:        r.Lane,
		PatchSHA:    patch,
		OverviewSHA: overview,
	}, nil
}

// checkSHA accepts "" or a hex SHA-256 digest in either case and returns it in lower case, as
// the SQLite backend (which stores the bytes) gives it back.
func checkSHA(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if b, err := hex.DecodeString(s); err != nil || len(b) != 32 {
		return "", fmt.Errorf("%q is not a hex SHA-256 digest", s)
	}
	return strings.ToLower(s), nil
}

// AppendReads stores a batch with op_type=create and _id = the deterministic read id, so a read
// sent twice is stored once: its second create is refused with 409 and counted as a duplicate.
//
// Two things Elasticsearch does not give for free:
//
//   - Uniqueness across backing indices. A create is refused only if the _id exists in the
//     stream's current write index; after a rollover an old read would be stored again. So the
//     batch's ids are first looked up in the whole stream, and only the missing ones are sent.
//     Two clients racing to send the same read across a rollover could still store it twice;
//     the window is one refresh interval at a rollover.
//   - Atomicity. A bulk request is not a transaction. Every read is checked before anything is
//     sent, so bad input never gets half stored; if the cluster fails items even after retries,
//     the reads this call created are deleted again before the error is returned. That undo is
//     best effort: if the cluster is down for it too, the partial batch stays, and resending the
//     batch (which the error asks for) completes it without duplicates.
//
// Items refused with 429 or a 5xx are resent, with backoff, up to Config.MaxRetries times.
func (s *Store) AppendReads(ctx context.Context, batch []reads.Read) (reads.AppendResult, error) {
	var res reads.AppendResult
	docs := make([]readDoc, 0, len(batch))
	seen := make(map[string]bool, len(batch))
	for i, r := range batch {
		d, err := toDoc(r)
		if err != nil {
			return reads.AppendResult{}, fmt.Errorf("append reads: read %d: %w: %w", i, reads.ErrInvalid, err)
		}
		if seen[d.ID] {
			res.Duplicates++ // the same sighting twice in one batch: the first copy wins
			continue
		}
		seen[d.ID] = true
		docs = append(docs, d)
	}
	if len(docs) == 0 {
		return res, nil
	}
	existing, err := s.existingIDs(ctx, docs)
	if err != nil {
		return reads.AppendResult{}, fmt.Errorf("append reads: %w", err)
	}
	fresh := docs[:0]
	for _, d := range docs {
		if existing[d.ID] {
			res.Duplicates++
		} else {
			fresh = append(fresh, d)
		}
	}
	if err := s.locate(ctx, fresh); err != nil {
		return reads.AppendResult{}, fmt.Errorf("append reads: %w", err)
	}

	var created []types.DeleteOperation // what to undo if the batch fails
	for start := 0; start < len(fresh); start += bulkChunk {
		chunk := fresh[start:min(start+bulkChunk, len(fresh))]
		ins, dup, made, err := s.createAll(ctx, chunk)
		created = append(created, made...)
		if err != nil {
			if undoErr := s.deleteOps(ctx, created); undoErr != nil {
				err = errors.Join(err, fmt.Errorf("undo %d stored reads: %w", len(created), undoErr))
			}
			return reads.AppendResult{}, fmt.Errorf("append reads: %w", unavailable(err))
		}
		res.Inserted += ins
		res.Duplicates += dup
	}
	return res, nil
}

// existingIDs returns which of docs' ids the store already holds, in the stream or preserved.
func (s *Store) existingIDs(ctx context.Context, docs []readDoc) (map[string]bool, error) {
	found := map[string]bool{}
	for start := 0; start < len(docs); start += lookupChunk {
		chunk := docs[start:min(start+lookupChunk, len(docs))]
		ids := make([]string, len(chunk))
		for i, d := range chunk {
			ids[i] = d.ID
		}
		res, err := s.es.Search().Index(s.readTargets()).Request(&search.Request{
			Query:   &types.Query{Ids: &types.IdsQuery{Values: ids}},
			Size:    ptr(len(ids)),
			Source_: false,
		}).IgnoreUnavailable(true).AllowNoIndices(true).Do(ctx)
		if err != nil {
			return nil, fmt.Errorf("look up existing ids: %w", unavailable(err))
		}
		for _, h := range res.Hits.Hits {
			if h.Id_ != nil {
				found[*h.Id_] = true
			}
		}
	}
	return found, nil
}

// locate fills in each read's location from the camera registry. A camera the registry does not
// know leaves the read without a location; ingest decides whether such reads are accepted.
func (s *Store) locate(ctx context.Context, docs []readDoc) error {
	ids := map[string]bool{}
	for _, d := range docs {
		ids[d.CameraID] = true
	}
	if len(ids) == 0 {
		return nil
	}
	cams, err := s.camerasByID(ctx, ids)
	if err != nil {
		return err
	}
	for i := range docs {
		if c, ok := cams[docs[i].CameraID]; ok {
			docs[i].Location = &geoPoint{Lat: c.Lat, Lon: c.Lon}
		}
	}
	return nil
}

// createAll sends one bulk of creates, resending items refused for overload until they succeed,
// fail for good, or the retries run out. It returns the counts and the delete operations that
// would undo what it created.
func (s *Store) createAll(ctx context.Context, docs []readDoc) (inserted, duplicates int, made []types.DeleteOperation, err error) {
	pending := docs
	for attempt := 0; ; attempt++ {
		req := s.es.Bulk().Index(s.stream).Refresh(s.refresh)
		for _, d := range pending {
			if err := req.CreateOp(types.CreateOperation{Id_: ptr(d.ID)}, d); err != nil {
				return inserted, duplicates, made, fmt.Errorf("encode read %s: %w", d.ID, err)
			}
		}
		res, err := req.Do(ctx)
		if err != nil {
			return inserted, duplicates, made, fmt.Errorf("bulk create: %w", err)
		}
		if len(res.Items) != len(pending) {
			return inserted, duplicates, made, fmt.Errorf("bulk create: %d items answered for %d sent", len(res.Items), len(pending))
		}
		var retry []readDoc
		var failures []string
		for i, item := range res.Items {
			it := item[operationtype.Create]
			switch {
			case it.Status == http.StatusCreated:
				inserted++
				made = append(made, types.DeleteOperation{Index_: ptr(it.Index_), Id_: ptr(pending[i].ID)})
			case it.Status == http.StatusConflict:
				duplicates++ // created by an earlier or concurrent append since the lookup
			case it.Status == http.StatusTooManyRequests || it.Status >= 500:
				retry = append(retry, pending[i])
			default:
				failures = append(failures, fmt.Sprintf("read %s: %d %s", pending[i].ID, it.Status, causeText(it.Error)))
			}
		}
		if len(failures) > 0 {
			return inserted, duplicates, made, fmt.Errorf("bulk create refused %d reads: %s", len(failures), strings.Join(failures[:min(3, len(failures))], "; "))
		}
		if len(retry) == 0 {
			return inserted, duplicates, made, nil
		}
		if attempt >= s.cfg.MaxRetries {
			return inserted, duplicates, made, fmt.Errorf("bulk create: %d reads still refused after %d retries: %w", len(retry), attempt, reads.ErrUnavailable)
		}
		s.log.Warn("bulk create: resending refused reads", "reads", len(retry), "attempt", attempt+1)
		if err := sleep(ctx, backoff(s.cfg, attempt+1)); err != nil {
			return inserted, duplicates, made, err
		}
		pending = retry
	}
}

// deleteOps undoes creates; see deleteByID.
func (s *Store) deleteOps(ctx context.Context, ops []types.DeleteOperation) error {
	_, err := s.deleteByID(ctx, ops)
	return err
}

// deleteByID deletes documents by concrete index and id (data streams take deletes only on their
// backing indices), resending items refused for overload. It returns how many it deleted; ids
// already gone are not counted.
func (s *Store) deleteByID(ctx context.Context, ops []types.DeleteOperation) (int64, error) {
	var deleted int64
	for start := 0; start < len(ops); start += bulkChunk {
		chunk := ops[start:min(start+bulkChunk, len(ops))]
		pending := chunk
		for attempt := 0; ; attempt++ {
			req := s.es.Bulk().Refresh(s.refresh)
			for _, op := range pending {
				if err := req.DeleteOp(op); err != nil {
					return deleted, fmt.Errorf("encode delete: %w", err)
				}
			}
			res, err := req.Do(ctx)
			if err != nil {
				return deleted, fmt.Errorf("bulk delete: %w", unavailable(err))
			}
			var retry []types.DeleteOperation
			for i, item := range res.Items {
				it := item[operationtype.Delete]
				switch {
				case it.Status == http.StatusOK:
					deleted++
				case it.Status == http.StatusNotFound: // already gone
				case it.Status == http.StatusTooManyRequests || it.Status >= 500:
					retry = append(retry, pending[i])
				default:
					return deleted, fmt.Errorf("bulk delete %s: %d %s", *pending[i].Id_, it.Status, causeText(it.Error))
				}
			}
			if len(retry) == 0 {
				break
			}
			if attempt >= s.cfg.MaxRetries {
				return deleted, fmt.Errorf("bulk delete: %d still refused after %d retries: %w", len(retry), attempt, reads.ErrUnavailable)
			}
			if err := sleep(ctx, backoff(s.cfg, attempt+1)); err != nil {
				return deleted, err
			}
			pending = retry
		}
	}
	return deleted, nil
}

func causeText(c *types.ErrorCause) string {
	if c == nil {
		return ""
	}
	b, _ := json.Marshal(struct {
		Type   string  `json:"type"`
		Reason *string `json:"reason,omitempty"`
	}{c.Type, c.Reason})
	return string(b)
}
