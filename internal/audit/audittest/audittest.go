// Package audittest is the conformance suite every audit backend must pass, tamper detection
// included: appends, reads, group commit, checkpoints, anchors, erasure, proofs, the fail-closed
// rule, and every way a stored log can lie, each built from a real log. Backends plug in through
// Store, which also gives the suite raw write access (WriteRaw) to play the attacker.
package audittest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anpr-portal/anpr/internal/audit"
)

// Log is a running audit log as the portal uses it, whatever the backend.
type Log interface {
	audit.Log
	audit.VerifySource
	Erase(ctx context.Context, e audit.Event, seqs []int64) (audit.Event, error)
	Checkpoint(ctx context.Context) (audit.Checkpoint, error)
	Close() error
}

// Store is one backend store under test. NewStore gives an empty one per test.
type Store interface {
	// Open starts the chain's writer on the store. The suite sets every option it cares about.
	Open(ctx context.Context, opts audit.SequencerOptions) (Log, error)
	// Source opens a read-only view of the store as `anpr audit verify` would, with nothing the
	// writer holds in memory; the backend closes it at the end of the test.
	Source(t testing.TB) audit.VerifySource
	// Copy returns an independent copy of the store as it is now (as a backup would be). No
	// writer is open.
	Copy(t testing.TB) Store
	// WriteRaw replaces everything stored with raw, as someone with write access to the storage
	// (not through the log) would: nothing may refuse it. No writer is open.
	WriteRaw(t testing.TB, raw *Raw)
	// Break makes the store fail every read and write of the writer opened last, from now on: a
	// dead disk or cluster. Source must still work afterwards where the data survived.
	Break(t testing.TB)
}

// NewStore returns an empty store for one test.
type NewStore func(t *testing.T) Store

// Raw is a stored log as an attacker with storage access sees it: records by stored seq (the key
// wins over Record.Event.Seq when written), tree hashes by tlog stored-hash index, checkpoint
// notes by tree size. A backend that keeps hashes inside event records drops the hashes of seqs
// that have no event; no case below depends on them.
type Raw struct {
	Records     map[int64]audit.Record
	Hashes      map[int64]tlog.Hash
	Checkpoints map[int64][]byte
}

// LoadRaw reads everything src stores into a Raw.
func LoadRaw(t testing.TB, src audit.VerifySource) *Raw {
	t.Helper()
	ctx := context.Background()
	raw := &Raw{Records: map[int64]audit.Record{}, Hashes: map[int64]tlog.Hash{}, Checkpoints: map[int64][]byte{}}
	size, err := src.Size(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Scan(ctx, 1, size, func(r audit.Record) error { raw.Records[r.Event.Seq] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	if size > 0 {
		hs, err := src.ReadStoredHashes(ctx, 0, tlog.StoredHashCount(size)-1)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hs {
			if h != (tlog.Hash{}) {
				raw.Hashes[int64(i)] = h
			}
		}
	}
	notes, err := src.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range notes {
		c, err := audit.ParseCheckpointUnverified(n)
		if err != nil {
			t.Fatal(err)
		}
		raw.Checkpoints[c.Size] = n
	}
	return raw
}

// Shift renumbers the records with seq >= from by delta (their payloads and erasure records move
// with them; the stored hashes stay where they are).
func (r *Raw) Shift(from, delta int64) {
	moved := map[int64]audit.Record{}
	for s, rec := range r.Records {
		if s >= from {
			moved[s+delta] = rec
			delete(r.Records, s)
		}
	}
	for s, rec := range moved {
		rec.Event.Seq = s
		r.Records[s] = rec
	}
}

// Clock is an injected clock tests move by hand.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is one test's log: a store, its own key pair, a file anchor and a hand-moved clock.
type fixture struct {
	store  Store
	signer note.Signer
	ring   audit.Keyring
	anchor *audit.FileAnchor
	clock  *Clock
	log    Log
}

func newFixture(t *testing.T, newStore NewStore, mod func(*audit.SequencerOptions)) *fixture {
	t.Helper()
	dir := t.TempDir()
	if _, err := audit.InitKeys(filepath.Join(dir, "keys"), audit.DefaultKeyName, rand.Reader); err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: newStore(t), anchor: audit.NewFileAnchor(filepath.Join(dir, "audit.anchor")),
		clock: &Clock{t: time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)}}
	var err error
	if f.signer, err = audit.LoadSigner(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	if f.ring, err = audit.LoadKeyring(filepath.Join(dir, "keys")); err != nil {
		t.Fatal(err)
	}
	f.open(t, mod)
	t.Cleanup(func() { f.log.Close() })
	return f
}

func (f *fixture) options(mod func(*audit.SequencerOptions)) audit.SequencerOptions {
	o := audit.SequencerOptions{Signer: f.signer, Anchor: f.anchor, Clock: f.clock.Now, CheckpointEvery: 8, CheckpointInterval: time.Hour}
	if mod != nil {
		mod(&o)
	}
	return o
}

func (f *fixture) open(t testing.TB, mod func(*audit.SequencerOptions)) {
	t.Helper()
	l, err := f.store.Open(context.Background(), f.options(mod))
	if err != nil {
		t.Fatal(err)
	}
	f.log = l
}

// Event is the i-th event of a plausible day: searches with payloads, denials, logins.
func Event(i int) (audit.Event, audit.Payload) {
	e := audit.Event{
		Actor:      audit.Actor{Subject: fmt.Sprintf("user-%d", i%3), Name: fmt.Sprintf("Officer %d", i%3), Roles: []string{"investigator"}, Session: "sess"},
		ClientAddr: "10.1.2.3", RequestID: fmt.Sprintf("req-%d", i),
		Action: audit.ActionSearch, Decision: audit.EffectAllow, Rule: "band1",
		Reason:     audit.Reason{Purpose: "serious_crime", CaseRef: fmt.Sprintf("CR/%d/25", i%5)},
		SearchType: "exact", Band: 1,
	}
	p := audit.Payload{VRMs: []string{fmt.Sprintf("AB%02dCDE", i%7)}, Query: fmt.Sprintf("exact vrm=AB%02dCDE", i%7),
		Justification: "vehicle linked to burglary series in Camden"}
	switch i % 4 {
	case 1:
		e.Decision, e.Rule = audit.EffectDeny, "band2.needs_authority"
	case 3:
		e.Action, e.Reason, e.SearchType, e.Band = audit.ActionLogin, audit.Reason{}, "", 0
		p = audit.Payload{}
	}
	return e, p
}

// appendN appends n events of the Event day, one second apart.
func (f *fixture) appendN(t testing.TB, n int) []audit.Event {
	t.Helper()
	var out []audit.Event
	for i := range n {
		e, p := Event(i)
		got, err := f.log.Append(context.Background(), e, p)
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		out = append(out, got)
		f.clock.Advance(time.Second)
	}
	return out
}

// verify verifies the store through a fresh read-only source, against the file anchor.
func (f *fixture) verify(t testing.TB) audit.Report {
	t.Helper()
	rep, err := audit.Verify(context.Background(), f.store.Source(t), f.anchor, f.ring.Verifiers())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// witness is an HTTP witness at a true process boundary: it keeps the last checkpoint it
// accepted and can be switched off.
type witness struct {
	mu     sync.Mutex
	latest []byte
	down   bool
	anchor audit.HTTPWitness
}

func newWitness(t testing.TB) *witness {
	w := &witness{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch {
		case w.down:
			http.Error(rw, "witness down", http.StatusServiceUnavailable)
		case r.Method == http.MethodPost:
			w.latest, _ = io.ReadAll(r.Body)
		case w.latest == nil:
			http.NotFound(rw, r)
		default:
			rw.Write(w.latest)
		}
	}))
	t.Cleanup(srv.Close)
	w.anchor = audit.HTTPWitness{URL: srv.URL, Client: srv.Client()}
	return w
}

func (w *witness) setDown(down bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.down = down
}

// Run runs the whole suite; every subtest gets fresh stores from newStore.
func Run(t *testing.T, newStore NewStore) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"AppendSealsAndReads", testAppendSealsAndReads},
		{"AppendRefusesInvalid", testAppendRefusesInvalid},
		{"ConcurrentAppendsGroupCommit", testConcurrentAppends},
		{"CheckpointCadence", testCheckpointCadence},
		{"OpenRefusesStoreBehindAnchor", testOpenRefusesStoreBehindAnchor},
		{"SecondWriterRefused", testSecondWriterRefused},
		{"HTTPWitnessAnchor", testHTTPWitnessAnchor},
		{"Erasure", testErasure},
		{"InclusionProof", testInclusionProof},
		{"RunFailsClosed", testRunFailsClosed},
		{"ResumeAfterReopen", testResumeAfterReopen},
		{"VerifyDetectsTampering", testVerifyDetectsTampering},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore) })
	}
}
