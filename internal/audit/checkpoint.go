package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// ErrBadSignature: a checkpoint note is not signed by any trusted verifier key.
var ErrBadSignature = errors.New("checkpoint not signed by a trusted key")

// Checkpoint is a signed statement "the log <Origin> had Size events with Merkle root Root at
// Time". The note text, in the C2SP checkpoint shape with one extension line, is
//
//	anpr-audit/<chain>
//	<size, decimal>
//	<root hash, base64>
//	<time, RFC 3339 UTC>
//
// followed by the note signatures (golang.org/x/mod/sumdb/note, Ed25519).
type Checkpoint struct {
	Origin string    `json:"origin"`
	Size   int64     `json:"size"`
	Root   tlog.Hash `json:"root"`
	Time   time.Time `json:"time"`
	Note   []byte    `json:"note"` // the signed note exactly as stored and anchored
}

// Tree is the checkpoint's tree description.
func (c Checkpoint) Tree() tlog.Tree { return tlog.Tree{N: c.Size, Hash: c.Root} }

// OriginPrefix starts every checkpoint origin line; the chain id follows.
const OriginPrefix = "anpr-audit/"

var chainRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidChain reports whether id can name a chain: lower-case letters, digits, '.', '_' and '-',
// so that it is safe in an origin line, a file name and an Elasticsearch document id.
func ValidChain(id string) bool { return chainRE.MatchString(id) }

// Origin is the checkpoint origin line for a chain.
func Origin(chain string) string { return OriginPrefix + chain }

// SignCheckpoint signs the tree of chain at time t.
func SignCheckpoint(chain string, tree tlog.Tree, t time.Time, s note.Signer) (Checkpoint, error) {
	if !ValidChain(chain) {
		return Checkpoint{}, fmt.Errorf("%w: chain id %q", ErrInvalid, chain)
	}
	t = t.UTC().Truncate(TimePrecision)
	text := fmt.Sprintf("%s\n%d\n%s\n%s\n", Origin(chain), tree.N, tree.Hash, t.Format(time.RFC3339Nano))
	msg, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("sign checkpoint: %w", err)
	}
	return Checkpoint{Origin: Origin(chain), Size: tree.N, Root: tree.Hash, Time: t, Note: msg}, nil
}

// OpenCheckpoint checks the note's signature against the trusted verifiers and parses it. An
// unknown key or a bad signature wraps ErrBadSignature; malformed text wraps ErrInvalid.
func OpenCheckpoint(msg []byte, verifiers note.Verifiers) (Checkpoint, error) {
	n, err := note.Open(msg, verifiers)
	if err != nil {
		var unverified *note.UnverifiedNoteError
		var invalid *note.InvalidSignatureError
		if errors.As(err, &unverified) || errors.As(err, &invalid) {
			return Checkpoint{}, fmt.Errorf("%w: %v", ErrBadSignature, err)
		}
		return Checkpoint{}, fmt.Errorf("%w: checkpoint note: %v", ErrInvalid, err)
	}
	c, err := parseCheckpointText(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	c.Note = bytes.Clone(msg)
	return c, nil
}

// ParseCheckpointUnverified reads the text of a checkpoint note without checking signatures. It
// is only for naming a checkpoint in a report after OpenCheckpoint refused it.
func ParseCheckpointUnverified(msg []byte) (Checkpoint, error) {
	i := bytes.LastIndex(msg, []byte("\n\n"))
	if i < 0 {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint note has no signature block", ErrInvalid)
	}
	c, err := parseCheckpointText(string(msg[:i+1]))
	if err != nil {
		return Checkpoint{}, err
	}
	c.Note = bytes.Clone(msg)
	return c, nil
}

func parseCheckpointText(text string) (Checkpoint, error) {
	bad := func(what string) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: checkpoint %s", ErrInvalid, what)
	}
	lines := strings.Split(text, "\n")
	if len(lines) != 5 || lines[4] != "" {
		return bad("must have four lines")
	}
	if chain, ok := strings.CutPrefix(lines[0], OriginPrefix); !ok || !ValidChain(chain) {
		return bad("origin")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return bad("size")
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != tlog.HashSize {
		return bad("root hash")
	}
	t, err := time.Parse(time.RFC3339Nano, lines[3])
	if err != nil || t.UTC().Format(time.RFC3339Nano) != lines[3] {
		return bad("time")
	}
	c := Checkpoint{Origin: lines[0], Size: size, Time: t.UTC()}
	copy(c.Root[:], h)
	return c, nil
}

// Chain returns the chain id named by the checkpoint's origin.
func (c Checkpoint) Chain() string { return strings.TrimPrefix(c.Origin, OriginPrefix) }
