package audit

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/bits"

	"golang.org/x/mod/sumdb/tlog"
)

// Frontier computes RFC 6962 roots of a growing list of leaves in O(log n) memory: it keeps the
// roots of the complete subtrees the leaves so far form, largest (leftmost) first, like the carry
// chain of a binary counter. Verify streams millions of events through it without holding the
// tree, and a backend's writer extends its tree with it without reading old hashes back.
type Frontier struct {
	size   int64
	hashes []tlog.Hash
}

// NewFrontier restores the frontier of a tree of size n from the roots of its complete subtrees,
// largest first (FrontierIndexes(n) names their stored hash indexes).
func NewFrontier(n int64, subtrees []tlog.Hash) (*Frontier, bool) {
	if len(subtrees) != bits.OnesCount64(uint64(n)) {
		return nil, false
	}
	return &Frontier{size: n, hashes: append([]tlog.Hash(nil), subtrees...)}, true
}

// FrontierIndexes are the tlog stored hash indexes of the complete subtrees of a tree of size n,
// largest first: one per set bit of n.
func FrontierIndexes(n int64) []int64 {
	var out []int64
	var start int64
	for level := 62; level >= 0; level-- {
		if n&(1<<level) == 0 {
			continue
		}
		out = append(out, tlog.StoredHashIndex(level, start>>level))
		start += 1 << level
	}
	return out
}

// Size is the number of leaves added.
func (f *Frontier) Size() int64 { return f.size }

// Add appends a leaf and returns the hashes tlog stores for it, in order from stored index
// tlog.StoredHashIndex(0, old size): the leaf, then each subtree it completes (the same list as
// tlog.StoredHashesForRecordHash).
func (f *Frontier) Add(h tlog.Hash) []tlog.Hash {
	stored := []tlog.Hash{h}
	f.hashes = append(f.hashes, h)
	// Each trailing 1 bit of the old size completes one more subtree.
	for n := f.size; n&1 == 1; n >>= 1 {
		l := len(f.hashes)
		f.hashes[l-2] = tlog.NodeHash(f.hashes[l-2], f.hashes[l-1])
		f.hashes = f.hashes[:l-1]
		stored = append(stored, f.hashes[l-2])
	}
	f.size++
	return stored
}

// Root is the Merkle tree hash of the leaves added so far (RFC 6962 section 2.1: the right-most
// subtrees fold into their left neighbours).
func (f *Frontier) Root() tlog.Hash {
	if f.size == 0 {
		return sha256.Sum256(nil)
	}
	r := f.hashes[len(f.hashes)-1]
	for i := len(f.hashes) - 2; i >= 0; i-- {
		r = tlog.NodeHash(f.hashes[i], r)
	}
	return r
}

// StoredHashReader reads a log's stored tree hashes as a tlog.HashReader (for proofs and for a
// writer restoring its frontier); tlog asks for a handful of scattered indexes and passes no
// context. A hash the store lacks is an error wrapping ErrNotFound.
func StoredHashReader(ctx context.Context, src VerifySource) tlog.HashReader {
	return storedHashReader{ctx: ctx, src: src}
}

type storedHashReader struct {
	ctx context.Context
	src VerifySource
}

func (r storedHashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, idx := range indexes {
		hs, err := r.src.ReadStoredHashes(r.ctx, idx, idx)
		if err != nil {
			return nil, err
		}
		if len(hs) != 1 || hs[0] == (tlog.Hash{}) {
			return nil, fmt.Errorf("%w: stored tree hash %d", ErrNotFound, idx)
		}
		out[i] = hs[0]
	}
	return out, nil
}

// Clone returns an independent copy, so a writer can roll back a failed batch.
func (f *Frontier) Clone() *Frontier {
	return &Frontier{size: f.size, hashes: append([]tlog.Hash(nil), f.hashes...)}
}
