package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anpr-portal/anpr/internal/audit"
)

// auditGetChunk bounds one multi-get; auditSearchPage one page of a paged search.
const (
	auditGetChunk   = 1000
	auditSearchPage = 1000
	auditMaxHashes  = 1 << 20 // one ReadStoredHashes call, as the SQLite backend
)

// mget fetches documents by id (real time: no refresh needed) and returns the _source of each
// one found, by id.
func (r *AuditReader) mget(ctx context.Context, ops []types.MgetOperation, includes ...string) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(ops))
	for start := 0; start < len(ops); start += auditGetChunk {
		req := r.es.Mget().Docs(ops[start:min(start+auditGetChunk, len(ops))]...)
		if len(includes) > 0 {
			req = req.SourceIncludes_(includes...)
		}
		res, err := req.Do(ctx)
		if err != nil {
			return nil, auditUnavailable("read audit documents", err)
		}
		for _, d := range res.Docs {
			switch g := d.(type) {
			case *types.GetResult:
				if g.Found {
					out[g.Index_+"/"+g.Id_] = g.Source_
				}
			case *types.MultiGetError:
				return nil, fmt.Errorf("read audit document %s: %w: %s", g.Id_, audit.ErrUnavailable, causeText(&g.Error))
			}
		}
	}
	return out, nil
}

func mgetOp(index, id string) types.MgetOperation {
	return types.MgetOperation{Index_: ptr(index), Id_: id}
}

// events fetches the event documents of seqs by id. A document whose JSON does not fit is
// returned with Encoding -1, so that the record reports a bad record rather than vanishing.
func (r *AuditReader) events(ctx context.Context, seqs []int64, includes ...string) (map[int64]auditEventDoc, error) {
	ops := make([]types.MgetOperation, len(seqs))
	for i, s := range seqs {
		ops[i] = mgetOp(r.ix.events, auditEventID(r.chain, s))
	}
	got, err := r.mget(ctx, ops, includes...)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]auditEventDoc, len(got))
	for _, s := range seqs {
		src, ok := got[r.ix.events+"/"+auditEventID(r.chain, s)]
		if !ok {
			continue
		}
		var d auditEventDoc
		if err := json.Unmarshal(src, &d); err != nil {
			d = auditEventDoc{Encoding: -1}
		}
		if d.Chain != r.chain || d.Seq != s {
			d.Encoding = -1 // filed under another id than its own
		}
		d.Seq = s
		out[s] = d
	}
	return out, nil
}

// records turns event documents into records: each with its payload (by the id its committed
// hash gives) and erasure record, fetched in one multi-get.
func (r *AuditReader) records(ctx context.Context, docs []auditEventDoc) ([]audit.Record, error) {
	ops := make([]types.MgetOperation, 0, 2*len(docs))
	evs := make([]audit.Event, len(docs))
	oks := make([]bool, len(docs))
	for i, d := range docs {
		evs[i], oks[i] = d.event()
		ops = append(ops, mgetOp(r.ix.payloads, auditPayloadID(r.chain, d.Seq, evs[i].PayloadHash)),
			mgetOp(r.ix.erasures, auditEventID(r.chain, d.Seq)))
	}
	got, err := r.mget(ctx, ops)
	if err != nil {
		return nil, err
	}
	out := make([]audit.Record, len(docs))
	for i, d := range docs {
		rec := audit.Record{Event: evs[i], Encoding: d.Encoding}
		if src, ok := got[r.ix.payloads+"/"+auditPayloadID(r.chain, d.Seq, evs[i].PayloadHash)]; ok {
			var pd auditPayloadDoc
			p, ok := audit.Payload{}, json.Unmarshal(src, &pd) == nil
			if ok {
				p, ok = pd.payload()
			}
			oks[i] = oks[i] && ok
			rec.Payload = &p
		}
		if src, ok := got[r.ix.erasures+"/"+auditEventID(r.chain, d.Seq)]; ok {
			var ed auditErasureDoc
			oks[i] = oks[i] && json.Unmarshal(src, &ed) == nil
			rec.ErasedBy = ed.ErasedBy
		}
		if !oks[i] || rec.Encoding < 0 {
			rec.Encoding = 0
		}
		out[i] = rec
	}
	return out, nil
}

// search runs one search with a raw body and returns its hits.
func (r *AuditReader) search(ctx context.Context, index string, body map[string]any) ([]types.Hit, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode audit search: %w", err)
	}
	res, err := r.es.Search().Index(index).Raw(bytes.NewReader(b)).Do(ctx)
	if err != nil {
		return nil, auditUnavailable("search audit log", err)
	}
	return res.Hits.Hits, nil
}

func termQ(field string, v any) map[string]any {
	return map[string]any{"term": map[string]any{field: v}}
}

func hitSeq(h types.Hit) (int64, error) {
	var d struct {
		Seq int64 `json:"seq"`
	}
	if err := json.Unmarshal(h.Source_, &d); err != nil {
		return 0, fmt.Errorf("read audit search hit: %w", err)
	}
	return d.Seq, nil
}

// Size is the highest stored seq: the highest a search finds, then real-time gets past it for
// events written since the last refresh.
func (r *AuditReader) Size(ctx context.Context) (int64, error) {
	hits, err := r.search(ctx, r.ix.events, map[string]any{"size": 1, "_source": []string{"seq"},
		"query": termQ("chain", r.chain), "sort": []any{map[string]any{"seq": "desc"}}})
	if err != nil {
		return 0, err
	}
	var n int64
	if len(hits) > 0 {
		if n, err = hitSeq(hits[0]); err != nil {
			return 0, err
		}
	}
	const probe = 64
	for {
		seqs := make([]int64, probe)
		for i := range seqs {
			seqs[i] = n + 1 + int64(i)
		}
		got, err := r.events(ctx, seqs, "seq")
		if err != nil {
			return 0, err
		}
		for _, s := range seqs {
			if _, ok := got[s]; !ok {
				return n, nil
			}
			n = s
		}
	}
}

// Scan calls fn for each stored record with from <= seq <= to, in seq order.
func (r *AuditReader) Scan(ctx context.Context, from, to int64, fn func(audit.Record) error) error {
	size, err := r.Size(ctx)
	if err != nil {
		return err
	}
	from, to = max(from, 1), min(to, size)
	for lo := from; lo <= to; lo += auditGetChunk {
		hi := min(lo+auditGetChunk-1, to)
		seqs := make([]int64, 0, hi-lo+1)
		for s := lo; s <= hi; s++ {
			seqs = append(seqs, s)
		}
		got, err := r.events(ctx, seqs)
		if err != nil {
			return err
		}
		docs := make([]auditEventDoc, 0, len(got))
		for _, s := range seqs {
			if d, ok := got[s]; ok {
				docs = append(docs, d)
			}
		}
		recs, err := r.records(ctx, docs)
		if err != nil {
			return err
		}
		for _, rec := range recs {
			if err := fn(rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReadStoredHashes returns stored tree hashes lo..hi from the event documents that hold them;
// missing ones are zero.
func (r *AuditReader) ReadStoredHashes(ctx context.Context, lo, hi int64) ([]tlog.Hash, error) {
	if lo < 0 || hi < lo || hi-lo >= auditMaxHashes {
		return nil, fmt.Errorf("%w: stored hash range %d..%d", audit.ErrInvalid, lo, hi)
	}
	first, err := storedHashOwner(lo)
	if err != nil {
		return nil, err
	}
	last, err := storedHashOwner(hi)
	if err != nil {
		return nil, err
	}
	var seqs []int64
	for s := first; s <= last; s++ {
		seqs = append(seqs, s)
	}
	got, err := r.events(ctx, seqs, "chain", "seq", "hashes")
	if err != nil {
		return nil, err
	}
	out := make([]tlog.Hash, hi-lo+1)
	for _, s := range seqs {
		d, ok := got[s]
		if !ok || d.Encoding < 0 {
			continue
		}
		base := tlog.StoredHashIndex(0, s-1)
		for i, h := range d.hashes() {
			if idx := base + int64(i); idx >= lo && idx <= hi && idx < tlog.StoredHashCount(s) {
				out[idx-lo] = h
			}
		}
	}
	return out, nil
}

// Checkpoints returns every stored checkpoint note of the chain in ascending size.
func (r *AuditReader) Checkpoints(ctx context.Context) ([][]byte, error) {
	var out [][]byte
	var after []any
	for {
		body := map[string]any{"size": auditSearchPage, "query": termQ("chain", r.chain),
			"sort": []any{map[string]any{"size": "asc"}}}
		if after != nil {
			body["search_after"] = after
		}
		hits, err := r.search(ctx, r.ix.checkpoints, body)
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			var d auditCheckpointDoc
			if err := json.Unmarshal(h.Source_, &d); err != nil {
				return nil, fmt.Errorf("read audit checkpoint: %w", err)
			}
			out = append(out, []byte(d.Note))
			after = []any{d.Size}
		}
		if len(hits) < auditSearchPage {
			return out, nil
		}
	}
}

// LatestCheckpoint returns the newest stored checkpoint, its signature unchecked (as SQLite's).
func (r *AuditReader) LatestCheckpoint(ctx context.Context) (audit.Checkpoint, error) {
	hits, err := r.search(ctx, r.ix.checkpoints, map[string]any{"size": 1, "query": termQ("chain", r.chain),
		"sort": []any{map[string]any{"size": "desc"}}})
	if err != nil {
		return audit.Checkpoint{}, err
	}
	if len(hits) == 0 {
		return audit.Checkpoint{}, fmt.Errorf("%w: no checkpoint yet", audit.ErrNotFound)
	}
	var d auditCheckpointDoc
	if err := json.Unmarshal(hits[0].Source_, &d); err != nil {
		return audit.Checkpoint{}, fmt.Errorf("read audit checkpoint: %w", err)
	}
	return audit.ParseCheckpointUnverified([]byte(d.Note))
}

// CheckpointNote returns the stored checkpoint note of tree size n (a real-time get).
func (r *AuditReader) CheckpointNote(ctx context.Context, n int64) ([]byte, error) {
	got, err := r.mget(ctx, []types.MgetOperation{mgetOp(r.ix.checkpoints, auditCheckpointID(r.chain, n))})
	if err != nil {
		return nil, err
	}
	src, ok := got[r.ix.checkpoints+"/"+auditCheckpointID(r.chain, n)]
	if !ok {
		return nil, fmt.Errorf("%w: no checkpoint of size %d", audit.ErrNotFound, n)
	}
	var d auditCheckpointDoc
	if err := json.Unmarshal(src, &d); err != nil {
		return nil, fmt.Errorf("read audit checkpoint: %w", err)
	}
	return []byte(d.Note), nil
}

// Read returns one page of events matching f, oldest first (newest first with f.Newest).
func (r *AuditReader) Read(ctx context.Context, f audit.Filter) (audit.Page, error) {
	after, err := audit.DecodeCursor(f.Cursor)
	if err != nil {
		return audit.Page{}, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return audit.Page{}, fmt.Errorf("%w: since must be before until", audit.ErrInvalid)
	}
	seqRange := map[string]any{}
	if f.FromSeq > 0 {
		seqRange["gte"] = f.FromSeq
	}
	if f.ToSeq > 0 {
		seqRange["lte"] = f.ToSeq
	}
	if after > 0 && !f.Newest {
		seqRange["gt"] = after
	}
	if after > 0 && f.Newest {
		seqRange["lt"] = after
	}
	filters := []any{termQ("chain", r.chain)}
	if len(seqRange) > 0 {
		filters = append(filters, map[string]any{"range": map[string]any{"seq": seqRange}})
	}
	timeRange := map[string]any{}
	if !f.Since.IsZero() {
		timeRange["gte"] = f.Since.UnixMicro()
	}
	if !f.Until.IsZero() {
		timeRange["lt"] = f.Until.UnixMicro()
	}
	if len(timeRange) > 0 {
		filters = append(filters, map[string]any{"range": map[string]any{"time_us": timeRange}})
	}
	for _, t := range []struct{ field, v string }{
		{"actor_subject", f.Actor}, {"action", string(f.Action)}, {"decision", string(f.Decision)},
		{"purpose", f.Purpose}, {"case_ref", f.CaseRef}, {"authority_id", f.AuthorityID}, {"request_id", f.RequestID},
	} {
		if t.v != "" {
			filters = append(filters, termQ(t.field, t.v))
		}
	}
	if f.Stage != nil {
		filters = append(filters, termQ("stage", string(*f.Stage)))
	}
	order := "asc"
	if f.Newest {
		order = "desc"
	}
	limit := f.PageLimit()
	var docs []auditEventDoc
	if f.VRM == "" {
		docs, err = r.searchEvents(ctx, filters, order, limit+1)
	} else {
		docs, err = r.searchEventsByVRM(ctx, filters, seqRange, f.VRM, order, limit+1)
	}
	if err != nil {
		return audit.Page{}, err
	}
	recs, err := r.records(ctx, docs)
	if err != nil {
		return audit.Page{}, err
	}
	page := audit.Page{Records: recs}
	if len(recs) > limit {
		page.Records = recs[:limit]
		page.Next = audit.EncodeCursor(recs[limit-1].Event.Seq)
	}
	return page, nil
}

func (r *AuditReader) searchEvents(ctx context.Context, filters []any, order string, size int) ([]auditEventDoc, error) {
	hits, err := r.search(ctx, r.ix.events, map[string]any{"size": size,
		"query": map[string]any{"bool": map[string]any{"filter": filters}},
		"sort":  []any{map[string]any{"seq": order}}})
	if err != nil {
		return nil, err
	}
	out := make([]auditEventDoc, 0, len(hits))
	for _, h := range hits {
		var d auditEventDoc
		if err := json.Unmarshal(h.Source_, &d); err != nil {
			return nil, fmt.Errorf("read audit event: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// searchEventsByVRM filters on a VRM, which only payloads hold (so that erasure removes it): it
// pages through the payloads naming the VRM in seq order and keeps the events, matching the
// other filters, whose committed payload is that very document.
func (r *AuditReader) searchEventsByVRM(ctx context.Context, filters []any, seqRange map[string]any, vrm, order string, want int) ([]auditEventDoc, error) {
	pf := []any{termQ("chain", r.chain), termQ("vrms", vrm)}
	if len(seqRange) > 0 {
		pf = append(pf, map[string]any{"range": map[string]any{"seq": seqRange}})
	}
	var out []auditEventDoc
	var after []types.FieldValue
	for len(out) < want {
		body := map[string]any{"size": auditSearchPage, "_source": []string{"seq", "payload_hash"},
			"query": map[string]any{"bool": map[string]any{"filter": pf}},
			"sort":  []any{map[string]any{"seq": order}, map[string]any{"payload_hash": order}}}
		if after != nil {
			body["search_after"] = after
		}
		hits, err := r.search(ctx, r.ix.payloads, body)
		if err != nil {
			return nil, err
		}
		if len(hits) == 0 {
			break
		}
		ids := map[int64][]string{}
		var seqs []int64
		for _, h := range hits {
			s, err := hitSeq(h)
			if err != nil {
				return nil, err
			}
			if h.Id_ != nil {
				ids[s] = append(ids[s], *h.Id_)
			}
			seqs = append(seqs, s)
			after = h.Sort
		}
		evs, err := r.searchEvents(ctx, append(slices.Clone(filters), map[string]any{"terms": map[string]any{"seq": seqs}}), order, len(seqs))
		if err != nil {
			return nil, err
		}
		for _, d := range evs {
			e, _ := d.event()
			if slices.Contains(ids[d.Seq], auditPayloadID(r.chain, d.Seq, e.PayloadHash)) && len(out) < want {
				out = append(out, d)
			}
		}
		if len(hits) < auditSearchPage {
			break
		}
	}
	return out, nil
}
