package elastic

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/optype"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types/enums/refresh"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/audit/audittest"
	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
)

// esAuditFixture is an Elasticsearch audit log with its own indices, keys and file anchor.
type esAuditFixture struct {
	store  *auditSuiteStore
	ring   audit.Keyring
	anchor *audit.FileAnchor
	opts   audit.SequencerOptions
}

func newESAuditFixture(t *testing.T) *esAuditFixture {
	t.Helper()
	node := estest.Node(t)
	dir := t.TempDir()
	if _, err := audit.InitKeys(filepath.Join(dir, "keys"), audit.DefaultKeyName, rand.Reader); err != nil {
		t.Fatal(err)
	}
	signer, err := audit.LoadSigner(filepath.Join(dir, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	f := &esAuditFixture{store: newAuditSuiteStore(t, node.URL), anchor: audit.NewFileAnchor(filepath.Join(dir, "anchor"))}
	if f.ring, err = audit.LoadKeyring(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	f.opts = audit.SequencerOptions{Signer: signer, Anchor: f.anchor, CheckpointEvery: 4}
	return f
}

func (f *esAuditFixture) open(t *testing.T, cfg Config, chain string) *AuditLog {
	t.Helper()
	o := f.opts
	o.Chain = chain
	l, err := OpenAuditLog(context.Background(), cfg, AuditOptions{SequencerOptions: o})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func (f *esAuditFixture) verify(t *testing.T, chain string) audit.Report {
	t.Helper()
	src, err := OpenAuditReader(context.Background(), f.store.config(nil), chain)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(context.Background(), src, nil, f.ring.Verifiers())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func appendEvents(t *testing.T, l *AuditLog, n int) {
	t.Helper()
	for i := range n {
		e, p := audittest.Event(i)
		if _, err := l.Append(context.Background(), e, p); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

// Events are created with op_type=create and _id <chain>-<seq>: writing a stored seq again, by a
// replayed request or a second writer, is a conflict that changes nothing, never an overwrite.
func TestAuditReplayIsConflictNeverOverwrite(t *testing.T) {
	ctx := context.Background()
	f := newESAuditFixture(t)
	l := f.open(t, f.store.config(nil), "main")
	appendEvents(t, l, 6)
	st := &auditStore{AuditReader: l.AuditReader, lease: l.lease, log: l.cfg.Logger}

	// A raw create of an existing event, as a client with only create_doc could send.
	forged := newAuditEventDoc(audit.Event{Seq: 3, Chain: "main", Actor: audit.Actor{Subject: "mallory"}, Action: "search"}, nil)
	_, err := l.es.Index(l.ix.events).Id(auditEventID("main", 3)).OpType(optype.Create).Document(forged).Refresh(refresh.True).Do(ctx)
	if status(err) != 409 {
		t.Fatalf("raw create of a stored seq: %v, want 409 conflict", err)
	}
	// The store itself, asked to write a batch whose base is behind what is stored.
	replay := audit.Batch{Base: 2, Records: []audit.SealedRecord{{Event: audit.Event{Seq: 3, Chain: "main", Actor: audit.Actor{Subject: "mallory"}, Action: "search"}}}}
	if err := st.WriteBatch(ctx, replay); !errors.Is(err, audit.ErrUnavailable) {
		t.Fatalf("replayed batch: %v, want ErrUnavailable", err)
	}
	// Past the base check (a writer racing between check and write): the create conflicts, the
	// stored event differs, and the write fails without touching it.
	op := bulkOp{l.ix.events, auditEventID("main", 3), forged}
	if err := st.createAll(ctx, []bulkOp{op}, refresh.True, st.sameEvent); !errors.Is(err, audit.ErrUnavailable) || !strings.Contains(err.Error(), "nothing overwritten") {
		t.Fatalf("conflicting create: %v", err)
	}
	// The same document again (a request the transport resent after it was applied) is accepted.
	got, err := l.events(ctx, []int64{3})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.createAll(ctx, []bulkOp{{l.ix.events, auditEventID("main", 3), got[3]}}, refresh.True, st.sameEvent); err != nil {
		t.Fatalf("identical create: %v", err)
	}
	l.Close()
	if rep := f.verify(t, "main"); !rep.OK() || rep.Size != 6 {
		t.Fatalf("report %+v", rep)
	}
}

// A writer whose lease was taken over (it paused past the TTL and another process took the chain)
// fails closed at its next append instead of writing beside the new writer.
func TestAuditLeaseLostFailsClosed(t *testing.T) {
	ctx := context.Background()
	f := newESAuditFixture(t)
	l := f.open(t, f.store.config(nil), "main")
	appendEvents(t, l, 2)
	thief := auditLeaseDoc{Chain: "main", Owner: "another-process", Host: "elsewhere", PID: 1, ExpiresUS: time.Now().Add(time.Hour).UnixMicro()}
	if _, err := l.es.Index(l.ix.writers).Id("main").Document(thief).Refresh(refresh.True).Do(ctx); err != nil {
		t.Fatal(err)
	}
	e, p := audittest.Event(0)
	if _, err := l.Append(ctx, e, p); !errors.Is(err, audit.ErrUnavailable) || !strings.Contains(err.Error(), "lease") {
		t.Fatalf("append after losing the lease: %v, want ErrUnavailable naming the lease", err)
	}
	if err := l.Ping(ctx); err == nil {
		t.Fatal("readiness still reports a writer without its lease")
	}
	if n, _ := l.Size(ctx); n != 2 {
		t.Fatalf("store holds %d events, want 2", n)
	}
}

// The SQLite suite's "open refuses another chain" has no Elasticsearch form: one SQLite file
// holds one chain, but the audit indices hold many, each keyed by its chain id (in _id and a
// field), so each portal instance can sequence its own. Opening another chain opens another,
// independent log; both verify.
func TestAuditChainsShareIndices(t *testing.T) {
	f := newESAuditFixture(t)
	main := f.open(t, f.store.config(nil), "main")
	appendEvents(t, main, 5)
	f.opts.Anchor = audit.NewFileAnchor(filepath.Join(t.TempDir(), "other.anchor")) // one anchor per chain
	other := f.open(t, f.store.config(nil), "other")
	if n, _ := other.Size(context.Background()); n != 0 {
		t.Fatalf("chain other starts at size %d", n)
	}
	appendEvents(t, other, 3)
	main.Close()
	other.Close()
	for chain, size := range map[string]int64{"main": 5, "other": 3} {
		if rep := f.verify(t, chain); !rep.OK() || rep.Size != size || rep.Latest != size {
			t.Fatalf("chain %s: %+v", chain, rep)
		}
	}
}

// The mappings are strict: a document with a field the code does not write is refused.
func TestAuditStrictMapping(t *testing.T) {
	f := newESAuditFixture(t)
	l := f.open(t, f.store.config(nil), "main")
	for _, idx := range l.ix.all() {
		_, err := l.es.Index(idx).Id("stray").Raw(strings.NewReader(`{"chain":"main","stray":1}`)).Do(context.Background())
		if status(err) != 400 || !strings.Contains(err.Error(), "strict") {
			t.Errorf("%s accepted an unmapped field: %v", idx, err)
		}
	}
}

// A batch the cluster stores only part of (the first events of the bulk go in, the rest are
// refused): its callers are told it failed, and the sequencer then resumes after the part that was
// stored, which it recognises as its own, so the log stays contiguous and verifies.
func TestAuditPartialBatchResumes(t *testing.T) {
	ctx := context.Background()
	f := newESAuditFixture(t)
	var armed sync.Once
	cut := 0
	net := &faultyNetwork{damage: func(_ int, body []byte) ([]byte, func(map[string]any)) {
		if !bytes.Contains(body, []byte(f.store.prefix+"audit-events")) {
			return body, nil
		}
		lines := bytes.Split(bytes.TrimRight(body, "\n"), []byte("\n"))
		if len(lines) < 4 {
			return body, nil
		}
		var splice func(map[string]any)
		armed.Do(func() {
			keep := len(lines) / 4 * 2 // the first half of the events, rounded down, at least one
			cut = (len(lines) - keep) / 2
			dropped := lines[keep:]
			body = append(bytes.Join(lines[:keep], []byte("\n")), '\n')
			splice = func(resp map[string]any) {
				resp["errors"] = true
				items, _ := resp["items"].([]any)
				for i := 0; i < len(dropped); i += 2 {
					var action map[string]map[string]any
					json.Unmarshal(dropped[i], &action)
					items = append(items, map[string]any{"create": map[string]any{"_index": action["create"]["_index"],
						"_id": action["create"]["_id"], "status": 400,
						"error": map[string]any{"type": "mapper_parsing_exception", "reason": "injected"}}})
				}
				resp["items"] = items
			}
		})
		return body, splice
	}}
	cfg := f.store.config(net)
	f.opts.CheckpointEvery = 1000
	l := f.open(t, cfg, "main")
	var mu sync.Mutex
	ok, failed := 0, 0
	// Concurrent appends queue behind the first and go out as one batch; the rounds repeat only in
	// case a slow machine sent every one alone.
	for round := 0; round < 5 && cut == 0; round++ {
		var wg sync.WaitGroup
		for i := range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e, p := audittest.Event(i)
				_, err := l.Append(ctx, e, p)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, audit.ErrUnavailable):
					failed++
				default:
					t.Errorf("append: %v", err)
				}
			}()
		}
		wg.Wait()
	}
	if cut == 0 || failed == 0 {
		t.Fatalf("no batch was cut (cut %d, failed %d): the test did not test anything", cut, failed)
	}
	// The next append runs the recovery: it resumes after the stored part of the cut batch.
	appendEvents(t, l, 1)
	ok++
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep := f.verify(t, "main")
	stored := int64(ok + failed - cut)
	if !rep.OK() || rep.Size != stored || rep.Unsigned != 0 {
		t.Fatalf("report %+v; want %d events (%d acknowledged, %d failed of which %d never stored)", rep, stored, ok, failed, cut)
	}
	t.Logf("%d appends acknowledged, %d failed; %d of the failed batch were stored and kept", ok, failed, failed-cut)
}

// The benchmark hook runs end to end on the node with a handful of events (its speed is for
// `anpr bench` to report, never asserted here) and cleans up its indices.
func TestAuditBenchRuns(t *testing.T) {
	f := newESAuditFixture(t)
	cluster := f.store.config(nil)
	cluster.Refresh = "" // what production uses: no forced refresh per batch
	res, err := AuditBench(context.Background(), AuditBenchConfig{Cluster: cluster, Signer: f.opts.Signer,
		Verifiers: f.ring.Verifiers(), AnchorDir: t.TempDir(), Events: 200, Concurrency: 16})
	if err != nil {
		t.Fatal(err)
	}
	if res.Single.Events != 200 || res.Concurrent.Events != 200 || res.Verify.Events != 200 {
		t.Fatalf("result %+v", res)
	}
	t.Logf("audit appends/s on this node: %.0f with 1 writer, %.0f with 16; verify %.0f events/s",
		res.Single.PerSecond, res.Concurrent.PerSecond, res.Verify.PerSecond)
}
