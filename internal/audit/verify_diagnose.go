package audit

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"golang.org/x/mod/sumdb/tlog"
)

// maxDiagnosed bounds how many mismatches get the (quadratic) reordering search; later ones are
// reported as modified.
const maxDiagnosed = 64

// explainsRoot is the set of problems that explain a checkpoint root the rebuilt tree does not
// reach: those that change event leaves, and an earlier unexplained mismatch (later roots
// follow from it).
var explainsRoot = []ProblemKind{ProblemModified, ProblemMissing, ProblemInserted, ProblemReordered, ProblemBadRecord, ProblemRootMismatch}

// finish turns what the scan gathered into problems.
func (v *verifyRun) finish() error {
	for _, by := range slices.Sorted(maps.Keys(v.pendingErase)) {
		for _, s := range v.pendingErase[by] {
			v.problem(Problem{Seq: s, Kind: ProblemPayloadMissing,
				Detail: fmt.Sprintf("erasure record names seq %d, which is not an erasure event", by)})
		}
	}

	var latest, authEvents, authStored int64
	var beyond *vtarget
	for _, t := range v.targets {
		latest = max(latest, t.Size)
		if t.Size > v.size && (beyond == nil || t.Size > beyond.Size) {
			beyond = t
		}
		if t.evDone && t.evOK {
			authEvents = max(authEvents, t.Size)
		}
		if t.stDone && t.stOK {
			authStored = max(authStored, t.Size)
		}
	}
	v.rep.Latest = latest
	v.rep.Unsigned = max(v.size-latest, 0)
	if beyond != nil {
		v.problem(Problem{Seq: v.size + 1, Kind: ProblemTruncated, Checkpoint: beyond.Size,
			Detail: fmt.Sprintf("the %s checkpoint proves %d events but the store ends at seq %d", beyond.source, beyond.Size, v.size)})
	}

	if err := v.reportMismatches(authEvents, authStored); err != nil {
		return err
	}

	// A signed root the events do not reach, with no event-level problem at or below it: the
	// stored hashes were rewritten along with the events, so only the range can be named.
	prevGood := int64(0)
	for _, t := range v.targets {
		if t.evDone && t.evOK {
			prevGood = max(prevGood, t.Size)
			continue
		}
		if !t.evDone || t.Size > v.size {
			continue
		}
		explained := slices.ContainsFunc(v.rep.Problems, func(p Problem) bool {
			return p.Seq > 0 && p.Seq <= t.Size && slices.Contains(explainsRoot, p.Kind)
		})
		if !explained {
			v.problem(Problem{Seq: prevGood + 1, Kind: ProblemRootMismatch, Checkpoint: t.Size,
				Detail: fmt.Sprintf("events %d..%d do not hash to the root of the %s checkpoint at size %d; the stored hashes were rewritten too, so the altered event cannot be named exactly",
					prevGood+1, t.Size, t.source, t.Size)})
		}
	}
	return nil
}

// reportMismatches explains each event whose recomputed leaf differs from the leaf hash stored
// at append time. authEvents: events up to here match a signed root (the stored hash is what was
// altered). authStored: stored leaf hashes up to here match a signed root (so the event is what
// was altered, provably).
func (v *verifyRun) reportMismatches(authEvents, authStored int64) error {
	partnered := map[int64]bool{}
	for i, m := range v.mismatches {
		if partnered[m.seq] {
			continue
		}
		if m.seq <= authEvents {
			v.problem(Problem{Seq: m.seq, Kind: ProblemStoredHash,
				Detail: "the event matches the signed tree but the leaf hash stored for it was altered"})
			continue
		}
		p := Problem{Seq: m.seq, Kind: ProblemModified, Detail: "the stored event differs from the event committed at this seq"}
		var partner int64
		var shifted bool
		if i < maxDiagnosed {
			var err error
			if p, partner, shifted, err = v.diagnose(m); err != nil {
				return err
			}
		}
		if m.seq > authStored {
			p.Detail += " (not proven: no checkpoint authenticates the stored hashes this far)"
		}
		v.problem(p)
		if partner > 0 {
			partnered[partner] = true
		}
		if shifted {
			// Every later event moved by one; reporting each would bury the cause.
			return nil
		}
	}
	if v.moreMismatch {
		v.problem(Problem{Kind: ProblemModified, Detail: fmt.Sprintf("more than %d events differ from their stored hashes; listing stopped", maxMismatches)})
	}
	return nil
}

// diagnose tells an edit from an insertion, a deletion with renumbering, and a reordering, by
// re-encoding the event at neighbouring seqs and comparing with the hashes stored there.
func (v *verifyRun) diagnose(m vmismatch) (p Problem, partner int64, shifted bool, err error) {
	s := m.seq
	at := func(e Event, seq int64) tlog.Hash {
		e.Seq = seq
		h, _ := EventLeaf(e)
		return h
	}
	find := func(seq int64) *vmismatch {
		i, ok := slices.BinarySearchFunc(v.mismatches, seq, func(x vmismatch, seq int64) int { return cmp.Compare(x.seq, seq) })
		if !ok {
			return nil
		}
		return &v.mismatches[i]
	}
	// Two events that each sit where the other was committed: a swap (checked first, because
	// neighbours swapped also look like an insertion or a deletion from one side).
	for _, o := range v.mismatches {
		if o.seq != s && at(m.ev, o.seq) == o.stored && at(o.ev, s) == m.stored {
			return Problem{Seq: s, Kind: ProblemReordered,
				Detail: fmt.Sprintf("this event and the one at seq %d were committed in each other's place", o.seq)}, o.seq, false, nil
		}
	}
	if next := find(s + 1); next != nil && at(next.ev, s) == m.stored {
		return Problem{Seq: s, Kind: ProblemInserted,
			Detail: fmt.Sprintf("this event was never appended; the event committed at seq %d now sits at seq %d and all later events are renumbered", s, s+1)}, 0, true, nil
	}
	nextStored, ok, err := v.storedLeaf(s + 1)
	if err != nil {
		return Problem{}, 0, false, err
	}
	if ok && at(m.ev, s+1) == nextStored {
		return Problem{Seq: s, Kind: ProblemMissing,
			Detail: fmt.Sprintf("the event committed at seq %d was deleted and later events renumbered down by one", s)}, 0, true, nil
	}
	for _, o := range v.mismatches {
		if o.seq != s && at(m.ev, o.seq) == o.stored {
			return Problem{Seq: s, Kind: ProblemReordered,
				Detail: fmt.Sprintf("this event was committed at seq %d", o.seq)}, 0, false, nil
		}
	}
	return Problem{Seq: s, Kind: ProblemModified,
		Detail: "the stored event differs from the event committed at this seq"}, 0, false, nil
}
