package audittest

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/anpr-portal/anpr/internal/audit"
)

// tamperCase is one way a stored log can lie, and what verify must say first.
type tamperCase struct {
	name       string
	tamper     func(*testing.T, *Raw)
	seq        int64
	kind       audit.ProblemKind
	checkpoint int64
}

func editEvent(seq int64, fn func(*audit.Event)) func(*testing.T, *Raw) {
	return func(t *testing.T, r *Raw) {
		rec, ok := r.Records[seq]
		if !ok {
			t.Fatalf("no record at seq %d to edit", seq)
		}
		fn(&rec.Event)
		r.Records[seq] = rec
	}
}

func editRecord(seq int64, fn func(*audit.Record)) func(*testing.T, *Raw) {
	return func(t *testing.T, r *Raw) {
		rec, ok := r.Records[seq]
		if !ok {
			t.Fatalf("no record at seq %d to edit", seq)
		}
		fn(&rec)
		r.Records[seq] = rec
	}
}

func deleteAbove(seq int64) func(*testing.T, *Raw) {
	return func(_ *testing.T, r *Raw) {
		for s := range r.Records {
			if s > seq {
				delete(r.Records, s)
			}
		}
	}
}

// rebuildHashes replaces the stored tree hashes with the tree of the events as they now are:
// what a careful attacker would do so that stored hashes agree with an edit. Only signatures stop
// them.
func rebuildHashes(t *testing.T, r *Raw) {
	var tree audit.Frontier
	r.Hashes = map[int64]tlog.Hash{}
	for s := int64(1); ; s++ {
		rec, ok := r.Records[s]
		if !ok {
			break
		}
		leaf, err := audit.EventLeaf(rec.Event)
		if err != nil {
			t.Fatal(err)
		}
		base := tlog.StoredHashIndex(0, s-1)
		for i, h := range tree.Add(leaf) {
			r.Hashes[base+int64(i)] = h
		}
	}
}

func tamperCases(t *testing.T) []tamperCase {
	otherSkey, _, err := audit.GenerateKey(rand.Reader, audit.DefaultKeyName)
	if err != nil {
		t.Fatal(err)
	}
	impostor, _ := note.NewSigner(otherSkey)
	return []tamperCase{
		{name: "untouched", tamper: func(*testing.T, *Raw) {}},
		{name: "edited field", tamper: editEvent(13, func(e *audit.Event) { e.Reason.Purpose = "test" }),
			seq: 13, kind: audit.ProblemModified},
		{name: "edited time", tamper: editEvent(30, func(e *audit.Event) { e.Time = e.Time.Add(-time.Hour) }),
			seq: 30, kind: audit.ProblemModified},
		{name: "edited result count", tamper: editEvent(2, func(e *audit.Event) { e.ResultCount = 999 }),
			seq: 2, kind: audit.ProblemModified},
		{name: "deleted event", tamper: func(_ *testing.T, r *Raw) { delete(r.Records, 13) },
			seq: 13, kind: audit.ProblemMissing},
		{name: "deleted event, later ones renumbered", tamper: func(_ *testing.T, r *Raw) {
			delete(r.Records, 13)
			r.Shift(14, -1)
		}, seq: 13, kind: audit.ProblemMissing},
		{name: "two events swapped", tamper: func(_ *testing.T, r *Raw) {
			a, b := r.Records[13], r.Records[14]
			a.Event.Seq, b.Event.Seq = 14, 13
			r.Records[13], r.Records[14] = b, a
		}, seq: 13, kind: audit.ProblemReordered},
		{name: "inserted event", tamper: func(_ *testing.T, r *Raw) {
			r.Shift(13, 1)
			forged := r.Records[12]
			forged.Event.Seq, forged.Event.Actor.Subject, forged.Event.PayloadHash = 13, "someone-else", audit.Digest{}
			forged.Payload, forged.ErasedBy = nil, 0
			r.Records[13] = forged
		}, seq: 13, kind: audit.ProblemInserted},
		{name: "tail cut, checkpoints too", tamper: func(t *testing.T, r *Raw) {
			deleteAbove(24)(t, r)
			for n := range r.Checkpoints {
				if n > 24 {
					delete(r.Checkpoints, n)
				}
			}
			for i := range r.Hashes {
				if i >= tlog.StoredHashCount(24) {
					delete(r.Hashes, i)
				}
			}
		}, seq: 25, kind: audit.ProblemTruncated, checkpoint: 40},
		{name: "tail cut inside a checkpoint", tamper: deleteAbove(35),
			seq: 36, kind: audit.ProblemTruncated, checkpoint: 40},
		{name: "checkpoint signed with another key", tamper: func(t *testing.T, r *Raw) {
			c, err := audit.ParseCheckpointUnverified(r.Checkpoints[16])
			if err != nil {
				t.Fatal(err)
			}
			forged, err := audit.SignCheckpoint("main", c.Tree(), c.Time, impostor)
			if err != nil {
				t.Fatal(err)
			}
			r.Checkpoints[16] = forged.Note
		}, kind: audit.ProblemBadSignature, checkpoint: 16},
		{name: "payload edited", tamper: editRecord(5, func(rec *audit.Record) {
			p := *rec.Payload
			p.Query = "exact vrm=ZZ99ZZZ"
			rec.Payload = &p
		}), seq: 5, kind: audit.ProblemPayloadModified},
		{name: "payload deleted without erasure", tamper: editRecord(5, func(rec *audit.Record) { rec.Payload = nil }),
			seq: 5, kind: audit.ProblemPayloadMissing},
		{name: "payload deleted under a forged erasure record", tamper: editRecord(5, func(rec *audit.Record) {
			rec.Payload, rec.ErasedBy = nil, 9
		}), seq: 5, kind: audit.ProblemPayloadMissing},
		{name: "stored leaf hash rewritten", tamper: func(_ *testing.T, r *Raw) {
			var h tlog.Hash
			rand.Read(h[:])
			r.Hashes[tlog.StoredHashIndex(0, 12)] = h
		}, seq: 13, kind: audit.ProblemStoredHash},
		{name: "event edited and every stored hash rebuilt to match", tamper: func(t *testing.T, r *Raw) {
			editEvent(13, func(e *audit.Event) { e.Actor.Subject = "nobody" })(t, r)
			rebuildHashes(t, r)
		}, seq: 9, kind: audit.ProblemRootMismatch, checkpoint: 16},
	}
}

// Someone with write access to the storage goes around the log and rewrites history in each way
// a log can lie. Verify must catch every one and name the first bad event and the kind of
// tampering; the untouched copy must pass. Every case works on its own copy of a real log of 40
// events (checkpoints every 8, all anchored).
func testVerifyDetectsTampering(t *testing.T, newStore NewStore) {
	f := newFixture(t, newStore, nil)
	f.appendN(t, 40)
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tamperCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			cp := f.store.Copy(t)
			raw := LoadRaw(t, cp.Source(t))
			if len(raw.Records) != 40 || len(raw.Checkpoints) != 5 || int64(len(raw.Hashes)) != tlog.StoredHashCount(40) {
				t.Fatalf("copy holds %d records, %d checkpoints, %d hashes", len(raw.Records), len(raw.Checkpoints), len(raw.Hashes))
			}
			tc.tamper(t, raw)
			cp.WriteRaw(t, raw)
			var out bytes.Buffer
			rep, err := audit.RunVerify(context.Background(), &out, cp.Source(t), f.anchor, f.ring.Verifiers())
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + out.String())
			if tc.kind == "" {
				if !rep.OK() || rep.Size != 40 || rep.Anchored != 40 || rep.Latest != 40 {
					t.Fatalf("untouched log failed:\n%s", out.String())
				}
				return
			}
			first, ok := rep.FirstBad()
			if !ok {
				t.Fatalf("tampering not detected:\n%s", out.String())
			}
			if first.Seq != tc.seq || first.Kind != tc.kind || first.Checkpoint != tc.checkpoint {
				t.Fatalf("first problem %+v, want seq %d kind %s checkpoint %d\n%s", first, tc.seq, tc.kind, tc.checkpoint, out.String())
			}
			if !strings.Contains(out.String(), "FAILED: first bad: "+first.String()) {
				t.Fatalf("report does not name the first bad record:\n%s", out.String())
			}
		})
	}
}
