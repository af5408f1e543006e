package elastic

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/operationtype"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/optype"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/refresh"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/sortorder"

	"github.com/anpr-portal/anpr/internal/identity"
)

// IdentityStore is identity.Store on Elasticsearch: login flows, sessions, users, API keys and
// grants, each in a small plain index with a strict mapping.
//
// Every rule that SQLite gets from a transaction or a single statement is here a single-document
// operation with optimistic concurrency control: creates use op_type=create, changes are
// read-modify-write conditional on the _seq_no and _primary_term that were read
// (if_seq_no/if_primary_term), and a login flow is consumed by a delete conditional on the same.
// Two writers racing on one document cannot both win: the loser gets 409, re-reads and decides
// again. That is why a subject's grants live in one document (the "no two active grants of a
// role" rule needs one document to guard it), with a small id -> subject pointer per grant.
//
// Reads by id are real-time GETs, which see every acknowledged write without a refresh, so the
// per-request paths (session, grants of the caller, API key) never depend on the refresh
// interval. The few searches (lists, revoke-all of a subject, purges) refresh their index first,
// so they too see everything written before them; writes therefore never wait for a refresh.
// Elasticsearch's default translog durability ("request") fsyncs before acknowledging, so a
// revocation survives a node restart as it survives a power cut in the SQLite store.
type IdentityStore struct {
	es       *elasticsearch.TypedClient
	cfg      Config
	flows    string // <prefix>identity-login-flows: _id = sha256(state hash)
	sessions string // <prefix>identity-sessions:    _id = sha256(session id)
	users    string // <prefix>identity-users:       _id = sha256(subject)
	apiKeys  string // <prefix>identity-api-keys:    _id = sha256(key id)
	grants   string // <prefix>identity-grants:      _id = sha256(subject); all of a subject's grants
	grantIDs string // <prefix>identity-grant-ids:   _id = sha256(grant id) -> subject
	links    string // <prefix>identity-links:       _id = sha256(issuer NUL subject); all of an identity's links
	linkIDs  string // <prefix>identity-link-ids:    _id = sha256(link id) -> identity
}

var _ identity.Store = (*IdentityStore)(nil)

// OpenIdentityStore connects with cfg (the same Config as Open; Prefix names the indices
// <Prefix>identity-*) and creates the indices if they are missing, or adds new fields to their
// mappings if they exist. It is idempotent. cfg.Refresh is not used: see IdentityStore for how
// reads see writes. The credentials need, on <Prefix>identity-*: create_index, write, read and
// maintenance (for the refresh before searches).
func OpenIdentityStore(ctx context.Context, cfg Config) (*IdentityStore, error) {
	if err := cfg.CheckAndSetDefaults(); err != nil {
		return nil, fmt.Errorf("open identity store: %w: %w", identity.ErrInvalid, err)
	}
	es, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("open identity store: %w", err)
	}
	p := cfg.Prefix + "identity-"
	s := &IdentityStore{es: es, cfg: cfg, flows: p + "login-flows", sessions: p + "sessions", users: p + "users",
		apiKeys: p + "api-keys", grants: p + "grants", grantIDs: p + "grant-ids", links: p + "links", linkIDs: p + "link-ids"}
	for index, props := range s.mappings() {
		if err := s.ensureIndex(ctx, index, props); err != nil {
			return nil, fmt.Errorf("open identity store: %w", err)
		}
	}
	return s, nil
}

// Close releases nothing: the client holds only pooled HTTP connections, which idle out.
func (s *IdentityStore) Close() error { return nil }

// Times are Unix microseconds in long fields, 0 for the zero time, as in the SQLite store: the
// date type keeps only milliseconds, and the suite (and session idle timeouts) need more.
// Secrets and free text are stored but not indexed.
func (s *IdentityStore) mappings() map[string]map[string]any {
	kw := map[string]any{"type": "keyword"}
	us := map[string]any{"type": "long"}
	stored := map[string]any{"type": "keyword", "index": false, "doc_values": false}
	text := map[string]any{"type": "text", "index": false}
	bin := map[string]any{"type": "binary"}
	return map[string]map[string]any{
		s.flows: {"binding_hash": bin, "nonce": stored, "pkce_verifier": stored, "return_to": stored,
			"created_us": us, "expires_us": us},
		s.sessions: {"id": kw, "subject": kw, "name": stored, "email": stored, "idp_roles": kw, "idp_rank": kw,
			"csrf_secret": bin, "id_token": stored, "client_addr": kw, "created_us": us, "expires_us": us,
			"last_seen_us": us, "revoked_us": us, "revoked_reason": stored},
		s.users: {"subject": kw, "name": kw, "email": kw, "first_login_us": us, "last_login_us": us},
		s.apiKeys: {"id": kw, "name": kw, "hash": bin, "scopes": kw, "created_by": kw, "created_us": us,
			"expires_us": us, "revoked_us": us, "revoked_by": kw, "last_used_us": us},
		s.grants: {"subject": kw, "grants": map[string]any{"type": "object", "dynamic": "strict", "properties": map[string]any{
			"id": kw, "role": kw, "rank": kw, "reason": text, "granted_by": kw, "granted_us": us,
			"expires_us": us, "revoked_us": us, "revoked_by": kw}}},
		s.grantIDs: {"grant_id": kw, "subject": kw},
		s.links: {"issuer": kw, "subject": kw, "links": map[string]any{"type": "object", "dynamic": "strict", "properties": map[string]any{
			"id": kw, "previous_issuer": kw, "previous_subject": kw, "reason": text, "linked_by": kw, "linked_us": us,
			"revoked_us": us, "revoked_by": kw}}},
		s.linkIDs: {"link_id": kw, "issuer": kw, "subject": kw},
	}
}

func (s *IdentityStore) ensureIndex(ctx context.Context, index string, props map[string]any) error {
	mapping := map[string]any{"dynamic": "strict", "properties": props}
	body, err := json.Marshal(map[string]any{
		// One shard: these indices stay small, and one shard keeps a search as cheap as a GET.
		// A replica wherever there is a second node, so a credential's revocation is not held
		// by one disk only.
		"settings": map[string]any{"number_of_shards": 1, "auto_expand_replicas": "0-1"},
		"mappings": mapping,
	})
	if err != nil {
		return fmt.Errorf("encode index %s: %w", index, err)
	}
	_, err = s.es.Indices.Create(index).Raw(bytes.NewReader(body)).Do(ctx)
	if err == nil {
		return nil
	}
	if !isType(err, "resource_already_exists_exception") {
		return fmt.Errorf("create index %s: %w", index, idUnavailable(err))
	}
	// It exists: add any field this version knows and the index does not. A change to an existing
	// field's type is refused here, loudly, rather than later on the first write.
	b, _ := json.Marshal(mapping)
	if _, err := s.es.Indices.PutMapping(index).Raw(bytes.NewReader(b)).Do(ctx); err != nil {
		return fmt.Errorf("update mapping of %s: %w", index, idUnavailable(err))
	}
	return nil
}

// docID is the _id of a record keyed by key: a SHA-256, because keys come from outside (IdP
// subjects, ids chosen by callers) and an _id holds at most 512 bytes. The raw key is kept in a
// field of the document for people and sorting.
func docID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:])
}

func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// idUnavailable marks errors of the cluster or the network as identity.ErrUnavailable, so the
// HTTP layer answers 503 rather than 500, as the reads store does with its own kind.
func idUnavailable(err error) error {
	if errors.Is(err, identity.ErrUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", identity.ErrUnavailable, err)
}

// errStale is a conditional write that lost: the document changed (or appeared, or went) since
// it was read.
var errStale = errors.New("document changed since it was read")

// versioned is a document as read, with what a conditional write of it needs.
type versioned[T any] struct {
	doc         T
	found       bool
	seqNo, term int64
}

// getDoc reads a document in real time (no refresh needed).
func getDoc[T any](ctx context.Context, s *IdentityStore, index, id string) (versioned[T], error) {
	var v versioned[T]
	res, err := s.es.Get(index, id).Do(ctx)
	if err != nil {
		return v, fmt.Errorf("get %s: %w", index, idUnavailable(err))
	}
	if !res.Found {
		return v, nil
	}
	if res.SeqNo_ == nil || res.PrimaryTerm_ == nil {
		return v, fmt.Errorf("get %s: no sequence number in the answer: %w", index, identity.ErrUnavailable)
	}
	if err := json.Unmarshal(res.Source_, &v.doc); err != nil {
		return v, fmt.Errorf("get %s: decode: %w", index, err)
	}
	v.found, v.seqNo, v.term = true, *res.SeqNo_, *res.PrimaryTerm_
	return v, nil
}

// putDoc writes doc where v was read: a create if v was not found, else a replace conditional on
// v's sequence number and primary term. It returns errStale if another writer got there first.
func putDoc[T any](ctx context.Context, s *IdentityStore, index, id string, v versioned[T], doc T) error {
	req := s.es.Index(index).Id(id).Document(doc).Refresh(refresh.False)
	if v.found {
		req = req.IfSeqNo(strconv.FormatInt(v.seqNo, 10)).IfPrimaryTerm(strconv.FormatInt(v.term, 10))
	} else {
		req = req.OpType(optype.Create)
	}
	if _, err := req.Do(ctx); err != nil {
		if status(err) == http.StatusConflict {
			return errStale
		}
		return fmt.Errorf("write %s: %w", index, idUnavailable(err))
	}
	return nil
}

// maxAttempts bounds the read-modify-write loop. Each retry means another writer changed the
// same document in between, so it takes many writers on one record (a session used by many
// parallel requests) to use them up.
const maxAttempts = 50

// modify runs read-modify-write on one document until a write lands or change decides that
// nothing is to be written (write false) or fails. change sees the current document each time.
func modify[T any](ctx context.Context, s *IdentityStore, index, id string, change func(cur T, found bool) (next T, write bool, err error)) error {
	for attempt := range maxAttempts {
		v, err := getDoc[T](ctx, s, index, id)
		if err != nil {
			return err
		}
		next, write, err := change(v.doc, v.found)
		if err != nil || !write {
			return err
		}
		err = putDoc(ctx, s, index, id, v, next)
		if !errors.Is(err, errStale) {
			return err
		}
		if attempt >= 3 { // spread out writers that keep colliding
			if err := sleep(ctx, time.Duration(rand.N(int64(attempt)))*time.Millisecond); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("%s: still contended after %d attempts: %w", index, maxAttempts, identity.ErrUnavailable)
}

// refreshIndex makes every acknowledged write searchable; the searches that must see them call
// it first (see IdentityStore).
func (s *IdentityStore) refreshIndex(ctx context.Context, index string) error {
	if _, err := s.es.Indices.Refresh().Index(index).Do(ctx); err != nil {
		return fmt.Errorf("refresh %s: %w", index, idUnavailable(err))
	}
	return nil
}

// searchAll refreshes index, then calls each for every hit of q in the order of sort (which must
// end in a unique field), paging with search_after so any number of hits fits.
func (s *IdentityStore) searchAll(ctx context.Context, index string, q *types.Query, sort []types.SortCombinations, each func(id string, src json.RawMessage) error) error {
	if err := s.refreshIndex(ctx, index); err != nil {
		return err
	}
	const page = 1000
	var after []types.FieldValue
	for {
		res, err := s.es.Search().Index(index).Request(&search.Request{Query: q, Sort: sort, Size: ptr(page), SearchAfter: after}).Do(ctx)
		if err != nil {
			return fmt.Errorf("search %s: %w", index, idUnavailable(err))
		}
		for _, h := range res.Hits.Hits {
			if h.Id_ == nil {
				continue
			}
			if err := each(*h.Id_, h.Source_); err != nil {
				return err
			}
		}
		if len(res.Hits.Hits) < page {
			return nil
		}
		after = res.Hits.Hits[len(res.Hits.Hits)-1].Sort
	}
}

// purge deletes every document matching q. It is used only for records in a final state
// (expired or revoked), which no concurrent writer can bring back, so the deletes need no
// condition. Each round refreshes, so the next search no longer sees what the last deleted.
func (s *IdentityStore) purge(ctx context.Context, index string, q *types.Query) error {
	const page = 1000
	for {
		if err := s.refreshIndex(ctx, index); err != nil {
			return err
		}
		res, err := s.es.Search().Index(index).Request(&search.Request{Query: q, Size: ptr(page), Source_: false}).Do(ctx)
		if err != nil {
			return fmt.Errorf("search %s: %w", index, idUnavailable(err))
		}
		if len(res.Hits.Hits) == 0 {
			return nil
		}
		req := s.es.Bulk().Index(index).Refresh(refresh.False)
		for _, h := range res.Hits.Hits {
			if err := req.DeleteOp(types.DeleteOperation{Id_: h.Id_}); err != nil {
				return fmt.Errorf("encode delete: %w", err)
			}
		}
		bres, err := req.Do(ctx)
		if err != nil {
			return fmt.Errorf("delete from %s: %w", index, idUnavailable(err))
		}
		for _, item := range bres.Items {
			if it := item[operationtype.Delete]; it.Status != http.StatusOK && it.Status != http.StatusNotFound {
				return fmt.Errorf("delete from %s: %d %s: %w", index, it.Status, causeText(it.Error), identity.ErrUnavailable)
			}
		}
		if len(res.Hits.Hits) < page {
			return nil
		}
	}
}

// sortBy builds a sort from field names, each ascending unless prefixed with '-'.
func sortBy(fields ...string) []types.SortCombinations {
	out := make([]types.SortCombinations, 0, len(fields))
	for _, f := range fields {
		order := sortorder.Asc
		if f[0] == '-' {
			f, order = f[1:], sortorder.Desc
		}
		out = append(out, types.SortOptions{SortOptions: map[string]types.FieldSort{f: {Order: &order}}})
	}
	return out
}

func rangeLTE(field string, v int64) types.Query {
	return types.Query{Range: map[string]types.RangeQuery{field: types.NumberRangeQuery{Lte: ptr(types.Float64(v))}}}
}

func rangeGT(field string, v int64) types.Query {
	return types.Query{Range: map[string]types.RangeQuery{field: types.NumberRangeQuery{Gt: ptr(types.Float64(v))}}}
}

func term(field string, v any) types.Query {
	return types.Query{Term: map[string]types.TermQuery{field: {Value: v}}}
}
