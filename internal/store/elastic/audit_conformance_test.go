package elastic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/refresh"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/audit/audittest"
	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
)

// TestAuditConformance runs the shared audit suite, tamper detection included, on the real node.
// Two SQLite cases have no Elasticsearch form and are replaced by tests of their own here:
// "open refuses another chain" (a SQLite file holds one chain; the Elasticsearch indices hold
// many, keyed by chain: TestAuditChainsShareIndices) and the triggers that refuse UPDATE (an
// index cannot refuse its owner; on a real cluster the writer's role has only create_doc, which
// `anpr es setup` creates and the test node, without security, cannot enforce).
func TestAuditConformance(t *testing.T) {
	node := estest.Node(t)
	audittest.Run(t, func(t *testing.T) audittest.Store { return newAuditSuiteStore(t, node.URL) })
}

// auditSuiteStore is one set of audit indices under a prefix of its own.
type auditSuiteStore struct {
	url    string
	prefix string
	cut    atomic.Bool // set by Break: the writers' transport fails every request
}

func newAuditSuiteStore(t testing.TB, url string) *auditSuiteStore {
	t.Helper()
	var b [4]byte
	rand.Read(b[:])
	s := &auditSuiteStore{url: url, prefix: "anpr-test-" + hex.EncodeToString(b[:]) + "-"}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		r := s.reader(t)
		if _, err := r.es.Indices.Delete(strings.Join(r.ix.all(), ",")).IgnoreUnavailable(true).Do(ctx); err != nil {
			t.Logf("cleanup: delete audit indices %s*: %v", s.prefix, err)
		}
	})
	return s
}

func (s *auditSuiteStore) config(transport http.RoundTripper) Config {
	return Config{Addresses: []string{s.url}, Prefix: s.prefix, Refresh: "true", Transport: transport,
		MaxRetries: 2, RetryBase: time.Millisecond, RetryCap: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
}

// reader is a plain reader on the store's indices, whether or not they exist yet.
func (s *auditSuiteStore) reader(t testing.TB) *AuditReader {
	t.Helper()
	cfg := s.config(nil)
	if err := cfg.CheckAndSetDefaults(); err != nil {
		t.Fatal(err)
	}
	r, err := newAuditReader(cfg, "main")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// cuttable fails every request once the store is broken: the network or the cluster gone.
type cuttable struct{ s *auditSuiteStore }

func (c cuttable) RoundTrip(req *http.Request) (*http.Response, error) {
	if c.s.cut.Load() {
		return nil, errors.New("injected: cluster unreachable")
	}
	return http.DefaultTransport.RoundTrip(req)
}

func (s *auditSuiteStore) Open(ctx context.Context, o audit.SequencerOptions) (audittest.Log, error) {
	l, err := OpenAuditLog(ctx, s.config(cuttable{s}), AuditOptions{SequencerOptions: o})
	if err != nil {
		return nil, err
	}
	return l, nil
}

func (s *auditSuiteStore) Source(t testing.TB) audit.VerifySource {
	t.Helper()
	r, err := OpenAuditReader(context.Background(), s.config(nil), "main")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Copy copies every document into indices of a new prefix, as a snapshot restored elsewhere.
func (s *auditSuiteStore) Copy(t testing.TB) audittest.Store {
	t.Helper()
	cp := newAuditSuiteStore(t, s.url)
	cp.WriteRaw(t, audittest.LoadRaw(t, s.Source(t)))
	return cp
}

func (s *auditSuiteStore) Break(testing.TB) { s.cut.Store(true) }

// WriteRaw deletes every document (the writer lease aside) and stores raw instead: what someone
// holding the cluster's superuser can do. Event documents carry their own stored hashes, so
// hashes of seqs without an event are dropped.
func (s *auditSuiteStore) WriteRaw(t testing.TB, raw *audittest.Raw) {
	t.Helper()
	ctx := context.Background()
	r := s.reader(t)
	if err := r.createIndices(ctx); err != nil {
		t.Fatal(err)
	}
	st := &auditStore{AuditReader: r, log: slog.New(slog.DiscardHandler)}
	var old []bulkOp
	for _, idx := range []string{r.ix.events, r.ix.payloads, r.ix.erasures, r.ix.checkpoints} {
		hits, err := r.search(ctx, idx, map[string]any{"size": 10000, "_source": false})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			old = append(old, bulkOp{index: idx, id: *h.Id_})
		}
	}
	if len(old) > 0 {
		if err := st.createAll(ctx, old, refresh.True, nil); err != nil {
			t.Fatal(err)
		}
	}
	var ops []bulkOp
	for _, seq := range slices.Sorted(maps.Keys(raw.Records)) {
		rec := raw.Records[seq]
		rec.Event.Seq = seq
		base, end := tlog.StoredHashIndex(0, seq-1), tlog.StoredHashCount(seq)
		var hashes []tlog.Hash
		for i := base; i < end; i++ {
			hashes = append(hashes, raw.Hashes[i]) // the zero hash reads back as missing
		}
		ops = append(ops, bulkOp{r.ix.events, auditEventID("main", seq), newAuditEventDoc(rec.Event, hashes)})
		if rec.Payload != nil {
			ops = append(ops, bulkOp{r.ix.payloads, auditPayloadID("main", seq, rec.Event.PayloadHash), newAuditPayloadDoc("main", seq, *rec.Payload)})
		}
		if rec.ErasedBy != 0 {
			ops = append(ops, bulkOp{r.ix.erasures, auditEventID("main", seq), auditErasureDoc{Chain: "main", Seq: seq, ErasedBy: rec.ErasedBy}})
		}
	}
	for size, n := range raw.Checkpoints {
		c, _ := audit.ParseCheckpointUnverified(n)
		ops = append(ops, bulkOp{r.ix.checkpoints, auditCheckpointID("main", size),
			auditCheckpointDoc{Chain: "main", Size: size, TimeUS: c.Time.UnixMicro(), Note: string(n)}})
	}
	if err := st.createAll(ctx, ops, refresh.True, nil); err != nil {
		t.Fatal(err)
	}
}
