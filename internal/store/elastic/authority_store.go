package elastic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/optype"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/sortorder"

	"github.com/anpr-portal/anpr/internal/authority"
)

// AuthorityStore is authority.Store on Elasticsearch, in a plain index <Prefix>authorities that
// shares the read store's client. Every change is a read-modify-write guarded by the document's
// sequence number and primary term (if_seq_no / if_primary_term): a write based on a stale read
// is refused with 409 and retried from a fresh read, so concurrent spends never double-count and
// two officers never both decide one request.
type AuthorityStore struct {
	s     *Store
	index string
}

var _ authority.Store = (*AuthorityStore)(nil)

// maxCASAttempts bounds the retries of one conditional write. Each failed attempt means another
// writer's change landed, and an authority takes at most MaxUses + a few state changes in its
// life, so a caller that keeps losing is losing to a flood, not to fair contention.
const maxCASAttempts = 64

// Authorities opens the authority store beside the reads, creating its index if missing.
func (s *Store) Authorities(ctx context.Context) (*AuthorityStore, error) {
	a := &AuthorityStore{s: s, index: s.cfg.Prefix + "authorities"}
	_, err := s.es.Indices.Create(a.index).Raw(bytes.NewReader(authorityIndex())).Do(ctx)
	if err != nil && !isType(err, "resource_already_exists_exception") {
		return nil, fmt.Errorf("elastic: create index %s: %w", a.index, authorityUnavailable(err))
	}
	return a, nil
}

// authorityIndex maps the fields that are queried (requester, state, creation time for the
// orders); the authority itself is kept whole and unindexed in doc, since it is only ever read
// back by id or in a listing. created_at is date_nanos so that microsecond order survives.
func authorityIndex() []byte {
	return []byte(`{
  "settings": {"number_of_shards": 1},
  "mappings": {
    "dynamic": "strict",
    "properties": {
      "id":         {"type": "keyword"},
      "requester":  {"type": "keyword"},
      "state":      {"type": "keyword"},
      "created_at": {"type": "date_nanos"},
      "doc":        {"type": "object", "enabled": false}
    }
  }
}`)
}

type authorityDoc struct {
	ID        string              `json:"id"`
	Requester string              `json:"requester"`
	State     authority.State     `json:"state"`
	CreatedAt string              `json:"created_at"`
	Doc       authority.Authority `json:"doc"`
}

func docOf(a authority.Authority) authorityDoc {
	return authorityDoc{ID: a.ID, Requester: a.Requester, State: a.State, CreatedAt: a.CreatedAt.UTC().Format(time.RFC3339Nano), Doc: a}
}

func authorityUnavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", authority.ErrUnavailable, err)
}

func isVersionConflict(err error) bool {
	return status(err) == http.StatusConflict || isType(err, "version_conflict_engine_exception")
}

// Create stores a new authority (op_type create: an existing id is a conflict, never overwritten).
func (a *AuthorityStore) Create(ctx context.Context, au authority.Authority) error {
	_, err := a.s.es.Index(a.index).Id(au.ID).OpType(optype.Create).Document(docOf(au)).Refresh(a.s.refresh).Do(ctx)
	if isVersionConflict(err) {
		return fmt.Errorf("create authority %q: %w", au.ID, authority.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create authority: %w", authorityUnavailable(err))
	}
	return nil
}

// Get returns one authority (a real-time get: no refresh needed).
func (a *AuthorityStore) Get(ctx context.Context, id string) (authority.Authority, error) {
	au, _, _, err := a.get(ctx, id)
	return au, err
}

func (a *AuthorityStore) get(ctx context.Context, id string) (authority.Authority, int64, int64, error) {
	res, err := a.s.es.Get(a.index, id).Do(ctx)
	if err != nil {
		return authority.Authority{}, 0, 0, fmt.Errorf("get authority: %w", authorityUnavailable(err))
	}
	if !res.Found || res.SeqNo_ == nil || res.PrimaryTerm_ == nil {
		return authority.Authority{}, 0, 0, fmt.Errorf("authority %q: %w", id, authority.ErrNotFound)
	}
	var d authorityDoc
	if err := json.Unmarshal(res.Source_, &d); err != nil {
		return authority.Authority{}, 0, 0, fmt.Errorf("decode authority %s: %w", id, err)
	}
	return d.Doc, *res.SeqNo_, *res.PrimaryTerm_, nil
}

// ListByRequester returns the requester's authorities, newest first.
func (a *AuthorityStore) ListByRequester(ctx context.Context, requester string, limit int) ([]authority.Authority, error) {
	return a.list(ctx, "requester", requester, sortorder.Desc, limit)
}

// ListPending returns pending authorities, oldest first.
func (a *AuthorityStore) ListPending(ctx context.Context, limit int) ([]authority.Authority, error) {
	return a.list(ctx, "state", string(authority.Pending), sortorder.Asc, limit)
}

func (a *AuthorityStore) list(ctx context.Context, field, value string, order sortorder.SortOrder, limit int) ([]authority.Authority, error) {
	limit = min(max(limit, 1), authority.MaxList)
	res, err := a.s.es.Search().Index(a.index).Request(&search.Request{
		Query: &types.Query{Bool: &types.BoolQuery{Filter: []types.Query{{Term: map[string]types.TermQuery{field: {Value: value}}}}}},
		Sort: []types.SortCombinations{
			types.SortOptions{SortOptions: map[string]types.FieldSort{"created_at": {Order: &order}}},
			types.SortOptions{SortOptions: map[string]types.FieldSort{"id": {Order: &order}}},
		},
		Size: ptr(limit),
	}).Do(ctx)
	if err != nil {
		return nil, fmt.Errorf("list authorities: %w", authorityUnavailable(err))
	}
	out := []authority.Authority{}
	for _, h := range res.Hits.Hits {
		var d authorityDoc
		if err := json.Unmarshal(h.Source_, &d); err != nil {
			return nil, fmt.Errorf("list authorities: decode: %w", err)
		}
		out = append(out, d.Doc)
	}
	return out, nil
}

// update reads the authority, lets change decide and modify it (an error stops), and writes it
// back only if nobody wrote it since the read; a lost race starts again from a fresh read.
func (a *AuthorityStore) update(ctx context.Context, id string, change func(*authority.Authority) error) (authority.Authority, error) {
	for attempt := 1; ; attempt++ {
		au, seq, term, err := a.get(ctx, id)
		if err != nil {
			return authority.Authority{}, err
		}
		if err := change(&au); err != nil {
			return authority.Authority{}, err
		}
		_, err = a.s.es.Index(a.index).Id(id).Document(docOf(au)).
			IfSeqNo(strconv.FormatInt(seq, 10)).IfPrimaryTerm(strconv.FormatInt(term, 10)).
			Refresh(a.s.refresh).Do(ctx)
		if err == nil {
			return au, nil
		}
		if !isVersionConflict(err) {
			return authority.Authority{}, fmt.Errorf("write authority %s: %w", id, authorityUnavailable(err))
		}
		if attempt >= maxCASAttempts {
			return authority.Authority{}, fmt.Errorf("write authority %s: still contended after %d attempts: %w", id, attempt, authority.ErrUnavailable)
		}
		// A short jittered pause, so racers that lost together do not collide again in step.
		if err := sleep(ctx, time.Duration(rand.N(int64(attempt)*int64(time.Millisecond)+1))); err != nil {
			return authority.Authority{}, err
		}
	}
}

// Transition applies t if the authority is in t.From.
func (a *AuthorityStore) Transition(ctx context.Context, id string, t authority.Transition) (authority.Authority, error) {
	return a.update(ctx, id, func(au *authority.Authority) error {
		if au.State != t.From {
			return fmt.Errorf("authority %s is %s, not %s: %w", id, au.State, t.From, authority.ErrConflict)
		}
		au.State = t.To
		if t.To != authority.Expired { // expiry is not a decision: who decided stays on record
			au.DecidedBy, au.DecidedByName, au.DecidedAt, au.DecisionReason = t.By, t.ByName, t.At.UTC(), t.Reason
		}
		if t.Scope != nil {
			au.Scope, au.ExpiresAt, au.MaxUses = *t.Scope, t.ExpiresAt.UTC(), t.MaxUses
		}
		return nil
	})
}

// Spend counts one use if the authority is approved, the subject's, unexpired and not used up.
func (a *AuthorityStore) Spend(ctx context.Context, id, subject string, now time.Time) (authority.Authority, error) {
	return a.update(ctx, id, func(au *authority.Authority) error {
		if au.State != authority.Approved || au.Requester != subject || !now.Before(au.ExpiresAt) || au.Uses >= au.MaxUses {
			return fmt.Errorf("authority %s cannot be spent (%s, %d of %d used): %w", id, au.State, au.Uses, au.MaxUses, authority.ErrConflict)
		}
		au.Uses++
		if au.Uses >= au.MaxUses {
			au.State = authority.Exhausted
		}
		return nil
	})
}
