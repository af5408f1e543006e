package audit

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ProblemKind names what Verify found wrong.
type ProblemKind string

const (
	// ProblemModified: the event differs from what was committed at its seq.
	ProblemModified ProblemKind = "modified"
	// ProblemMissing: the event at this seq was deleted (a gap, or later events renumbered).
	ProblemMissing ProblemKind = "missing"
	// ProblemInserted: an event that was never appended sits at this seq.
	ProblemInserted ProblemKind = "inserted"
	// ProblemReordered: the event at this seq was committed at another seq.
	ProblemReordered ProblemKind = "reordered"
	// ProblemTruncated: a checkpoint (stored or anchored) proves events the store no longer has.
	ProblemTruncated ProblemKind = "truncated"
	// ProblemRootMismatch: events up to a checkpoint do not hash to its signed root, and the
	// stored tree hashes were rewritten too, so the exact event cannot be proven.
	ProblemRootMismatch ProblemKind = "root_mismatch"
	// ProblemBadSignature: a checkpoint is not signed by a trusted key.
	ProblemBadSignature ProblemKind = "bad_signature"
	// ProblemBadCheckpoint: a checkpoint is malformed, names another log, or is out of order.
	ProblemBadCheckpoint ProblemKind = "bad_checkpoint"
	// ProblemCheckpointMissing: the anchor holds a checkpoint the store has lost.
	ProblemCheckpointMissing ProblemKind = "checkpoint_missing"
	// ProblemPayloadModified: a payload does not match the hash its event commits to.
	ProblemPayloadModified ProblemKind = "payload_modified"
	// ProblemPayloadMissing: a payload is gone without a valid recorded erasure.
	ProblemPayloadMissing ProblemKind = "payload_missing"
	// ProblemStoredHash: the stored Merkle hashes were altered or removed (events are intact).
	ProblemStoredHash ProblemKind = "stored_hash"
	// ProblemBadRecord: a stored record cannot be re-encoded (unknown version, wrong chain).
	ProblemBadRecord ProblemKind = "bad_record"
)

// Problem is one thing Verify found. Seq is the first event concerned, 0 when the problem is a
// checkpoint's (then Checkpoint is its tree size).
type Problem struct {
	Seq        int64       `json:"seq,omitempty"`
	Kind       ProblemKind `json:"kind"`
	Checkpoint int64       `json:"checkpoint,omitempty"`
	Detail     string      `json:"detail"`
}

func (p Problem) String() string {
	switch {
	case p.Seq > 0:
		return fmt.Sprintf("seq %d: %s: %s", p.Seq, p.Kind, p.Detail)
	case p.Checkpoint > 0:
		return fmt.Sprintf("checkpoint at size %d: %s: %s", p.Checkpoint, p.Kind, p.Detail)
	}
	return fmt.Sprintf("%s: %s", p.Kind, p.Detail)
}

// Report is the result of Verify.
type Report struct {
	Chain         string    `json:"chain"`
	Size          int64     `json:"size"`           // highest stored seq
	Checkpoints   int       `json:"checkpoints"`    // stored checkpoints with a trusted signature
	Latest        int64     `json:"latest"`         // size of the newest trusted checkpoint (stored or anchored)
	Anchored      int64     `json:"anchored"`       // size of the anchor's latest checkpoint
	AnchorChecked bool      `json:"anchor_checked"` // false when verified without an anchor
	Unsigned      int64     `json:"unsigned"`       // events after Latest: not yet covered by a signature
	Redacted      int64     `json:"redacted"`       // events whose payload was lawfully erased
	RedactedSeqs  []int64   `json:"redacted_seqs,omitempty"`
	Problems      []Problem `json:"problems,omitempty"`
	MoreProblems  bool      `json:"more_problems,omitempty"` // Problems was cut at maxProblems
}

// OK reports whether the log verified.
func (r Report) OK() bool { return len(r.Problems) == 0 }

// FirstBad is the problem with the lowest event seq, or the first checkpoint problem when no
// event is named.
func (r Report) FirstBad() (Problem, bool) {
	if len(r.Problems) == 0 {
		return Problem{}, false
	}
	return r.Problems[0], true // sorted by seq, seq 0 last
}

const (
	maxProblems   = 1000
	maxListed     = 1000
	maxMismatches = 4096 // per-event mismatches kept for diagnosis
	chunkSeqs     = 4096 // events per stored-hash read
)

// Verify checks a stored log end to end:
//
//   - every event is re-encoded from its stored fields and hashed (stored leaf hashes are never
//     trusted), the tree is rebuilt, and each stored and anchored checkpoint must carry a trusted
//     signature and equal the rebuilt root at its size. Equal roots from the same leaves imply
//     consistency between consecutive checkpoints, so no separate consistency proof is needed;
//   - seqs must be contiguous from 1, and no checkpoint may be larger than the store (a cut tail);
//   - the anchor's latest checkpoint must also be in the store;
//   - payloads must hash to what their events commit to, or be absent with a recorded erasure
//     that a later, verified ActionErase event names (reported as redacted).
//
// To name the exact event, Verify also rebuilds the tree from the leaf hashes the writer stored
// at append time. Where that tree matches a signed root, those stored hashes are authentic, and
// an event whose recomputed hash differs from its stored one is proven altered; comparing it with
// its neighbours' stored hashes tells an edit from a deletion, an insertion or a reordering.
//
// Tampering is reported in the Report; the error is only for failing to read.
func Verify(ctx context.Context, src VerifySource, anchor Anchor, verifiers note.Verifiers) (Report, error) {
	v := &verifyRun{ctx: ctx, src: src, verifiers: verifiers, pendingErase: map[int64][]int64{}}
	var err error
	if v.chain, err = src.Chain(ctx); err != nil {
		return Report{}, fmt.Errorf("verify audit log: %w", err)
	}
	v.rep.Chain = v.chain
	// Read the anchor, then the stored checkpoints, then the size: on a live log each is covered
	// by the next, so a concurrent writer cannot make an honest log look truncated.
	var anchored *vtarget
	if anchor != nil {
		v.rep.AnchorChecked = true
		msg, err := anchor.Latest(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("verify audit log: %w", err)
		}
		if msg != nil {
			anchored = v.addCheckpoint(msg, "anchored", nil)
			if anchored != nil {
				v.rep.Anchored = anchored.Size
			}
		}
	}
	notes, err := src.Checkpoints(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("verify audit log: %w", err)
	}
	var prev *vtarget
	for _, msg := range notes {
		if t := v.addCheckpoint(msg, "stored", prev); t != nil {
			prev = t
			v.rep.Checkpoints++
		}
	}
	if anchored != nil && !slices.ContainsFunc(v.targets, func(t *vtarget) bool {
		return t.source == "stored" && t.Size == anchored.Size && t.Root == anchored.Root
	}) {
		v.problem(Problem{Kind: ProblemCheckpointMissing, Checkpoint: anchored.Size,
			Detail: "the anchor holds this checkpoint but the store does not"})
	}
	if v.size, err = src.Size(ctx); err != nil {
		return Report{}, fmt.Errorf("verify audit log: %w", err)
	}
	v.rep.Size = v.size
	if err := src.Scan(ctx, 1, v.size, v.row); err != nil {
		return Report{}, fmt.Errorf("verify audit log: %w", err)
	}
	if err := v.finish(); err != nil {
		return Report{}, fmt.Errorf("verify audit log: %w", err)
	}
	slices.SortStableFunc(v.rep.Problems, func(a, b Problem) int {
		return cmpSeq(a.Seq, b.Seq)
	})
	return v.rep, nil
}

// cmpSeq orders problems by seq with "no seq" (0) last.
func cmpSeq(a, b int64) int {
	if a == 0 {
		a = 1<<63 - 1
	}
	if b == 0 {
		b = 1<<63 - 1
	}
	return cmp.Compare(a, b)
}

// vtarget is a trusted checkpoint and what the rebuilt trees said about it.
type vtarget struct {
	Checkpoint
	source       string // "stored" or "anchored"
	evDone, evOK bool   // tree rebuilt from events reached this size; root matched
	stDone, stOK bool   // tree rebuilt from stored leaf hashes reached this size; root matched
}

type vmismatch struct {
	seq          int64
	ev           Event
	leaf, stored tlog.Hash
}

type verifyRun struct {
	ctx       context.Context
	src       VerifySource
	verifiers note.Verifiers
	chain     string
	size      int64
	rep       Report
	targets   []*vtarget // ascending size

	ev, st   Frontier // rebuilt from recomputed leaves (row order) / stored leaves (seq order)
	stBroken bool     // a stored leaf hash is missing: st stops there
	last     int64    // last seq seen
	rows     int64

	chunkLo  int64 // stored hash index of chunk[0]
	chunk    []tlog.Hash
	chunkEnd int64 // highest seq whose stored hashes chunk holds

	mismatches   []vmismatch
	moreMismatch bool
	pendingErase map[int64][]int64 // erasure event seq -> seqs waiting for it
}

func (v *verifyRun) problem(p Problem) {
	if len(v.rep.Problems) >= maxProblems {
		v.rep.MoreProblems = true
		return
	}
	v.rep.Problems = append(v.rep.Problems, p)
}

// addCheckpoint opens a checkpoint note and, if it is trusted and in order, makes it a target.
func (v *verifyRun) addCheckpoint(msg []byte, source string, prev *vtarget) *vtarget {
	c, err := OpenCheckpoint(msg, v.verifiers)
	if err != nil {
		u, _ := ParseCheckpointUnverified(msg)
		kind := ProblemBadCheckpoint
		if errors.Is(err, ErrBadSignature) {
			kind = ProblemBadSignature
		}
		v.problem(Problem{Kind: kind, Checkpoint: u.Size, Detail: fmt.Sprintf("%s checkpoint: %v", source, err)})
		return nil
	}
	if c.Origin != Origin(v.chain) {
		v.problem(Problem{Kind: ProblemBadCheckpoint, Checkpoint: c.Size,
			Detail: fmt.Sprintf("%s checkpoint is for %q, not %q", source, c.Origin, Origin(v.chain))})
		return nil
	}
	if prev != nil && (c.Size <= prev.Size || c.Time.Before(prev.Time)) {
		v.problem(Problem{Kind: ProblemBadCheckpoint, Checkpoint: c.Size,
			Detail: fmt.Sprintf("%s checkpoint out of order after the one at size %d", source, prev.Size)})
		return nil
	}
	t := &vtarget{Checkpoint: c, source: source}
	i, _ := slices.BinarySearchFunc(v.targets, c.Size, func(t *vtarget, n int64) int { return cmp.Compare(t.Size, n) })
	v.targets = slices.Insert(v.targets, i, t)
	return t
}

// row processes one stored record, in seq order.
func (v *verifyRun) row(r Record) error {
	s := r.Event.Seq
	if s <= v.last {
		v.problem(Problem{Seq: s, Kind: ProblemBadRecord, Detail: "seq out of order"})
		return nil
	}
	for p := v.last + 1; p < s; p++ {
		v.problem(Problem{Seq: p, Kind: ProblemMissing, Detail: "no event is stored at this seq"})
		if err := v.feedStored(p); err != nil {
			return err
		}
	}
	if err := v.feedStored(s); err != nil {
		return err
	}
	v.last = s

	var leaf tlog.Hash
	switch {
	case r.Encoding != EncodingV1:
		v.problem(Problem{Seq: s, Kind: ProblemBadRecord, Detail: fmt.Sprintf("unknown encoding version %d", r.Encoding)})
	case r.Event.Chain != v.chain:
		v.problem(Problem{Seq: s, Kind: ProblemBadRecord, Detail: fmt.Sprintf("event of chain %q in %q", r.Event.Chain, v.chain)})
	default:
		var err error
		if leaf, err = EventLeaf(r.Event); err != nil {
			v.problem(Problem{Seq: s, Kind: ProblemBadRecord, Detail: err.Error()})
		}
	}
	// While nothing differed so far, the rebuilt tree is the stored tree, so every subtree hash
	// this event completes can be checked against storage too.
	inPlace := v.rows == s-1 && len(v.mismatches) == 0
	v.rows++
	built := v.ev.Add(leaf)
	v.reach(&v.ev, false)

	if stored, ok := v.storedAt(tlog.StoredHashIndex(0, s-1)); ok {
		if stored != leaf {
			if len(v.mismatches) < maxMismatches {
				v.mismatches = append(v.mismatches, vmismatch{seq: s, ev: r.Event, leaf: leaf, stored: stored})
			} else {
				v.moreMismatch = true
			}
		} else if inPlace {
			// The leaf is right; the subtree hashes it completed must be too, or proofs built from
			// them would fail.
			for j, h := range built[1:] {
				if got, ok := v.storedAt(tlog.StoredHashIndex(0, s-1) + int64(j) + 1); !ok || got != h {
					v.problem(Problem{Seq: s, Kind: ProblemStoredHash, Detail: "a stored subtree hash completed by this event is wrong or missing"})
					break
				}
			}
		}
	}
	v.checkPayload(r)
	return nil
}

// feedStored adds the stored leaf hash of seq p to the stored-hash tree.
func (v *verifyRun) feedStored(p int64) error {
	if err := v.loadChunk(p); err != nil {
		return err
	}
	if v.stBroken {
		return nil
	}
	h, ok := v.storedAt(tlog.StoredHashIndex(0, p-1))
	if !ok {
		v.stBroken = true
		v.problem(Problem{Seq: p, Kind: ProblemStoredHash, Detail: "the leaf hash stored at append time is missing"})
		return nil
	}
	v.st.Add(h)
	v.reach(&v.st, true)
	return nil
}

// reach records, for every target of the tree's size, whether the tree's root matched it. The
// root is folded only when a checkpoint is at this size: most sizes have none.
func (v *verifyRun) reach(tree *Frontier, stored bool) {
	n := tree.Size()
	i, found := slices.BinarySearchFunc(v.targets, n, func(t *vtarget, n int64) int { return cmp.Compare(t.Size, n) })
	if !found {
		return
	}
	root := tree.Root()
	for ; i < len(v.targets) && v.targets[i].Size == n; i++ {
		t := v.targets[i]
		if stored {
			t.stDone, t.stOK = true, root == t.Root
		} else {
			t.evDone, t.evOK = true, root == t.Root
		}
	}
}

// loadChunk makes sure the stored hashes written with seq p are in memory.
func (v *verifyRun) loadChunk(p int64) error {
	if p <= v.chunkEnd {
		return nil
	}
	end := min(p+chunkSeqs-1, v.size)
	lo := tlog.StoredHashIndex(0, p-1)
	hi := tlog.StoredHashCount(end) - 1
	hs, err := v.src.ReadStoredHashes(v.ctx, lo, hi)
	if err != nil {
		return err
	}
	v.chunkLo, v.chunk, v.chunkEnd = lo, hs, end
	return nil
}

func (v *verifyRun) storedAt(idx int64) (tlog.Hash, bool) {
	i := idx - v.chunkLo
	if i < 0 || i >= int64(len(v.chunk)) || v.chunk[i] == (tlog.Hash{}) {
		return tlog.Hash{}, false
	}
	return v.chunk[i], true
}

// storedLeaf reads one stored leaf hash directly (for diagnosis, after the scan).
func (v *verifyRun) storedLeaf(seq int64) (tlog.Hash, bool, error) {
	if seq < 1 {
		return tlog.Hash{}, false, nil
	}
	idx := tlog.StoredHashIndex(0, seq-1)
	hs, err := v.src.ReadStoredHashes(v.ctx, idx, idx)
	if err != nil {
		return tlog.Hash{}, false, err
	}
	if len(hs) != 1 || hs[0] == (tlog.Hash{}) {
		return tlog.Hash{}, false, nil
	}
	return hs[0], true, nil
}

func (v *verifyRun) checkPayload(r Record) {
	e := r.Event
	switch {
	case e.PayloadHash.IsZero():
		if r.Payload != nil || r.ErasedBy != 0 {
			v.problem(Problem{Seq: e.Seq, Kind: ProblemPayloadModified, Detail: "a payload is stored for an event that commits to none"})
		}
	case r.Payload != nil:
		if PayloadDigest(*r.Payload) != e.PayloadHash {
			v.problem(Problem{Seq: e.Seq, Kind: ProblemPayloadModified, Detail: "the payload does not match the hash the event commits to"})
		}
		if r.ErasedBy != 0 {
			v.problem(Problem{Seq: e.Seq, Kind: ProblemBadRecord, Detail: fmt.Sprintf("payload still held after its erasure by seq %d", r.ErasedBy)})
		}
	case r.ErasedBy > e.Seq:
		v.pendingErase[r.ErasedBy] = append(v.pendingErase[r.ErasedBy], e.Seq)
	default:
		v.problem(Problem{Seq: e.Seq, Kind: ProblemPayloadMissing, Detail: "the payload is gone and no erasure event accounts for it"})
	}
	if e.Action == ActionErase {
		for _, s := range v.pendingErase[e.Seq] {
			if slices.Contains(e.Erases, s) {
				v.redacted(s)
			} else {
				v.problem(Problem{Seq: s, Kind: ProblemPayloadMissing, Detail: fmt.Sprintf("erasure record names seq %d, which does not erase this event", e.Seq)})
			}
		}
		delete(v.pendingErase, e.Seq)
	}
}

func (v *verifyRun) redacted(s int64) {
	v.rep.Redacted++
	if len(v.rep.RedactedSeqs) < maxListed {
		v.rep.RedactedSeqs = append(v.rep.RedactedSeqs, s)
	}
}
