package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"reflect"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// The frontier must agree with tlog, the reference implementation, at every size: the roots it
// computes are what checkpoints sign and what verify compares.
func TestFrontierMatchesTlog(t *testing.T) {
	var stored []tlog.Hash
	reader := tlog.HashReaderFunc(func(idx []int64) ([]tlog.Hash, error) {
		out := make([]tlog.Hash, len(idx))
		for i, x := range idx {
			out[i] = stored[x]
		}
		return out, nil
	})
	var f Frontier
	for n := int64(0); n < 300; n++ {
		want, err := tlog.TreeHash(n, reader)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Root(); got != want {
			t.Fatalf("size %d: root %v, tlog %v", n, got, want)
		}
		// A frontier restored from stored hashes gives the same root.
		idx := FrontierIndexes(n)
		sub, _ := reader.ReadHashes(idx)
		g, ok := NewFrontier(n, sub)
		if !ok || g.Root() != want {
			t.Fatalf("size %d: restored frontier root differs", n)
		}

		var data [8]byte
		binary.BigEndian.PutUint64(data[:], uint64(n))
		leaf := tlog.RecordHash(data[:])
		wantStored, err := tlog.StoredHashesForRecordHash(n, leaf, reader)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Add(leaf); !reflect.DeepEqual(got, wantStored) {
			t.Fatalf("leaf %d: stored hashes %v, tlog %v", n, got, wantStored)
		}
		if int64(len(stored)) != tlog.StoredHashIndex(0, n) {
			t.Fatalf("leaf %d: stored index mismatch", n)
		}
		stored = append(stored, wantStored...)
	}
	if (&Frontier{}).Root() != sha256.Sum256(nil) {
		t.Fatal("empty tree root is SHA-256 of nothing (RFC 6962)")
	}
}

func TestNewFrontierRejectsWrongShape(t *testing.T) {
	if _, ok := NewFrontier(3, []tlog.Hash{{}}); ok {
		t.Fatal("size 3 needs two subtrees")
	}
}
