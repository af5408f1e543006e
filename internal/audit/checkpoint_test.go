package audit

import (
	"bytes"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

func testKeys(t testing.TB, name string) (note.Signer, Keyring) {
	t.Helper()
	skey, vkey, err := GenerateKey(rand.Reader, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	ring, err := NewKeyring(vkey)
	if err != nil {
		t.Fatal(err)
	}
	return s, ring
}

func TestCheckpointSignOpen(t *testing.T) {
	s, ring := testKeys(t, DefaultKeyName)
	tree := tlog.Tree{N: 12, Hash: tlog.RecordHash([]byte("x"))}
	at := time.Date(2025, 5, 1, 12, 0, 0, 500, time.UTC)
	c, err := SignCheckpoint("main", tree, at, s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(c.Note), "anpr-audit/main\n12\n") {
		t.Fatalf("note text:\n%s", c.Note)
	}
	got, err := OpenCheckpoint(c.Note, ring.Verifiers())
	if err != nil {
		t.Fatal(err)
	}
	if got.Tree() != tree || got.Chain() != "main" || !got.Time.Equal(at.Truncate(TimePrecision)) {
		t.Fatalf("opened %+v", got)
	}

	_, otherRing := testKeys(t, DefaultKeyName) // same name, different key: an impostor
	for name, tc := range map[string]struct {
		msg  []byte
		ring note.Verifiers
		want error
	}{
		"other key":     {c.Note, otherRing.Verifiers(), ErrBadSignature},
		"edited size":   {bytes.Replace(c.Note, []byte("\n12\n"), []byte("\n13\n"), 1), ring.Verifiers(), ErrBadSignature},
		"no signatures": {[]byte("anpr-audit/main\n12\n"), ring.Verifiers(), ErrInvalid},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := OpenCheckpoint(tc.msg, tc.ring); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseCheckpointTextRejects(t *testing.T) {
	h := tlog.RecordHash(nil).String()
	for name, text := range map[string]string{
		"three lines":   "anpr-audit/main\n1\n" + h + "\n",
		"other origin":  "go.sum database tree\n1\n" + h + "\n2025-01-01T00:00:00Z\n",
		"bad chain":     "anpr-audit/Main Chain\n1\n" + h + "\n2025-01-01T00:00:00Z\n",
		"size +1":       "anpr-audit/main\n+1\n" + h + "\n2025-01-01T00:00:00Z\n",
		"short hash":    "anpr-audit/main\n1\nAAAA\n2025-01-01T00:00:00Z\n",
		"zone not utc":  "anpr-audit/main\n1\n" + h + "\n2025-01-01T00:00:00+01:00\n",
		"extra line":    "anpr-audit/main\n1\n" + h + "\n2025-01-01T00:00:00Z\nmore\n",
		"negative size": "anpr-audit/main\n-1\n" + h + "\n2025-01-01T00:00:00Z\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseCheckpointText(text); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// Rotation: checkpoints signed before and after rotation both verify with the keyring; the old
// signer file is gone; initialising over an existing key is refused.
func TestKeyRotation(t *testing.T) {
	dir := t.TempDir()
	v1, err := InitKeys(dir, DefaultKeyName, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := InitKeys(dir, DefaultKeyName, rand.Reader); err == nil {
		t.Fatal("InitKeys overwrote an existing signer")
	}
	s1, err := LoadSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := SignCheckpoint("main", tlog.Tree{N: 1}, time.Unix(0, 0), s1)

	v2, err := RotateKey(dir, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := LoadSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s2.KeyHash() == s1.KeyHash() {
		t.Fatal("rotation kept the old key")
	}
	cur, _ := SignCheckpoint("main", tlog.Tree{N: 2}, time.Unix(1, 0), s2)
	ring, err := LoadKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ring.Keys) != 2 || ring.Keys[0] != v1 || ring.Current() != v2 {
		t.Fatalf("keyring %v", ring.Keys)
	}
	for _, c := range []Checkpoint{old, cur} {
		if _, err := OpenCheckpoint(c.Note, ring.Verifiers()); err != nil {
			t.Fatalf("checkpoint of size %d: %v", c.Size, err)
		}
	}
	st, err := os.Stat(filepath.Join(dir, SignerKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("signer file mode %v, %v; want 0600", st.Mode(), err)
	}
	if strings.Contains(ring.Text(), "PRIVATE") {
		t.Fatal("public keyring text leaks a private key")
	}
}

func TestParseKeyringRejects(t *testing.T) {
	for name, text := range map[string]string{
		"empty":       "",
		"comment":     "# nothing\n",
		"private key": "PRIVATE+KEY+anpr-audit+00000000+AAAA\n",
		"garbage":     "hello\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseKeyring([]byte(text)); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// FuzzOpenCheckpoint: arbitrary notes never panic, and none opens without the right key.
func FuzzOpenCheckpoint(f *testing.F) {
	s, ring := testKeys(f, DefaultKeyName)
	c, _ := SignCheckpoint("main", tlog.Tree{N: 3}, time.Unix(3, 0), s)
	f.Add(c.Note)
	f.Add([]byte("anpr-audit/main\n1\n\n— x AAAA\n"))
	_, other := testKeys(f, DefaultKeyName)
	f.Fuzz(func(t *testing.T, msg []byte) {
		if _, err := OpenCheckpoint(msg, other.Verifiers()); err == nil {
			t.Fatal("opened with a key that signed nothing")
		}
		got, err := OpenCheckpoint(msg, ring.Verifiers())
		if err == nil && !bytes.Equal(got.Note, msg) {
			t.Fatal("opened checkpoint does not keep its note")
		}
		ParseCheckpointUnverified(msg)
	})
}

// FuzzProofText: proof documents parse without panicking and re-render to an equal proof.
func FuzzProofText(f *testing.F) {
	p := Proof{Seq: 2, Event: []byte{1, 2}, Payload: []byte{3}, Checkpoint: []byte("cp\n\n— k x\n"), Hashes: tlog.RecordProof{{1}, {2}}}
	text, _ := p.MarshalText()
	f.Add(text)
	f.Fuzz(func(t *testing.T, b []byte) {
		var q Proof
		if err := q.UnmarshalText(b); err != nil {
			return
		}
		again, _ := q.MarshalText()
		var r Proof
		if err := r.UnmarshalText(again); err != nil {
			t.Fatalf("re-rendered proof does not parse: %v", err)
		}
		if r.Seq != q.Seq || !bytes.Equal(r.Event, q.Event) || !bytes.Equal(r.Checkpoint, q.Checkpoint) || len(r.Hashes) != len(q.Hashes) {
			t.Fatal("proof text round trip changed the proof")
		}
	})
}

func FuzzDecodeCursor(f *testing.F) {
	f.Add(EncodeCursor(17))
	f.Fuzz(func(t *testing.T, c string) {
		seq, err := DecodeCursor(c)
		if err == nil && c != "" && (seq <= 0 || EncodeCursor(seq) != c) {
			t.Fatalf("cursor %q decoded to %d", c, seq)
		}
	})
}
