package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Key files in a key directory. The signer file is the one secret; the verifier file is public
// (it is what the public-key endpoint serves and what an auditor verifies with) and lists every
// key that ever signed checkpoints of this log, oldest first, so rotation never orphans an old
// checkpoint.
const (
	SignerKeyFile    = "audit-signer.key"
	VerifierKeysFile = "audit-verifiers.txt"
)

// DefaultKeyName names checkpoint signing keys unless configured otherwise.
const DefaultKeyName = "anpr-audit"

// GenerateKey makes an Ed25519 note key pair: the private signer key string and the public
// verifier key string ("name+hash+base64").
func GenerateKey(rand io.Reader, name string) (signer, verifier string, err error) {
	if name == "" || strings.ContainsAny(name, "+ \t\r\n") {
		return "", "", fmt.Errorf("%w: key name %q", ErrInvalid, name)
	}
	signer, verifier, err = note.GenerateKey(rand, name)
	if err != nil {
		return "", "", fmt.Errorf("generate audit key: %w", err)
	}
	return signer, verifier, nil
}

// InitKeys creates the first key pair in dir. It refuses to overwrite an existing signer: losing
// the key that signed a log's checkpoints would make them unverifiable. It returns the verifier
// key.
func InitKeys(dir, name string, rand io.Reader) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, SignerKeyFile)); err == nil {
		return "", fmt.Errorf("%w: %s already exists; use key rotation", ErrInvalid, filepath.Join(dir, SignerKeyFile))
	}
	skey, vkey, err := GenerateKey(rand, name)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("init audit keys: %w", err)
	}
	// Verifier first: a crash between the two writes leaves a trusted but unused key, never a
	// signing key nobody trusts.
	if err := writeFileAtomic(filepath.Join(dir, VerifierKeysFile), []byte(vkey+"\n"), 0o644); err != nil {
		return "", err
	}
	if err := writeFileAtomic(filepath.Join(dir, SignerKeyFile), []byte(skey+"\n"), 0o600); err != nil {
		return "", err
	}
	return vkey, nil
}

// RotateKey replaces the signer in dir with a new key of the same name and appends its verifier
// key to the trusted list. Checkpoints signed by older keys still verify. It returns the new
// verifier key. A running writer keeps its loaded key until restarted.
func RotateKey(dir string, rand io.Reader) (string, error) {
	old, err := LoadSigner(dir)
	if err != nil {
		return "", err
	}
	ring, err := LoadKeyring(dir)
	if err != nil {
		return "", err
	}
	skey, vkey, err := GenerateKey(rand, old.Name())
	if err != nil {
		return "", err
	}
	list := strings.Join(append(ring.Keys, vkey), "\n") + "\n"
	if err := writeFileAtomic(filepath.Join(dir, VerifierKeysFile), []byte(list), 0o644); err != nil {
		return "", err
	}
	if err := writeFileAtomic(filepath.Join(dir, SignerKeyFile), []byte(skey+"\n"), 0o600); err != nil {
		return "", err
	}
	return vkey, nil
}

// LoadSigner reads the signer key of dir.
func LoadSigner(dir string) (note.Signer, error) {
	b, err := os.ReadFile(filepath.Join(dir, SignerKeyFile))
	if err != nil {
		return nil, fmt.Errorf("load audit signer: %w", err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("load audit signer %s: %w", filepath.Join(dir, SignerKeyFile), err)
	}
	return s, nil
}

// Keyring is the list of trusted checkpoint verifier keys, oldest first; the last one is the
// current signer's.
type Keyring struct {
	Keys      []string
	verifiers note.Verifiers
}

// Verifiers is the keyring as note verifiers.
func (k Keyring) Verifiers() note.Verifiers { return k.verifiers }

// Current is the newest verifier key, "" for an empty keyring.
func (k Keyring) Current() string {
	if len(k.Keys) == 0 {
		return ""
	}
	return k.Keys[len(k.Keys)-1]
}

// Text is the keyring in its file format, one key a line: what the public-key endpoint serves.
func (k Keyring) Text() string {
	if len(k.Keys) == 0 {
		return ""
	}
	return strings.Join(k.Keys, "\n") + "\n"
}

// LoadKeyring reads the trusted verifier keys of dir.
func LoadKeyring(dir string) (Keyring, error) {
	b, err := os.ReadFile(filepath.Join(dir, VerifierKeysFile))
	if err != nil {
		return Keyring{}, fmt.Errorf("load audit verifier keys: %w", err)
	}
	return ParseKeyring(b)
}

// ParseKeyring parses verifier keys, one a line; blank lines and lines starting with # are
// ignored. An auditor can verify a copied log with nothing but this text.
func ParseKeyring(text []byte) (Keyring, error) {
	var k Keyring
	var vs []note.Verifier
	for i, line := range bytes.Split(text, []byte("\n")) {
		s := strings.TrimSpace(string(line))
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		v, err := note.NewVerifier(s)
		if err != nil {
			return Keyring{}, fmt.Errorf("%w: verifier key on line %d: %v", ErrInvalid, i+1, err)
		}
		k.Keys = append(k.Keys, s)
		vs = append(vs, v)
	}
	if len(vs) == 0 {
		return Keyring{}, fmt.Errorf("%w: no verifier keys", ErrInvalid)
	}
	k.verifiers = note.VerifierList(vs...)
	return k, nil
}

// NewKeyring builds a keyring from verifier key strings.
func NewKeyring(keys ...string) (Keyring, error) {
	return ParseKeyring([]byte(strings.Join(keys, "\n")))
}

// writeFileAtomic replaces path with data so that a crash leaves the old or the new file, never
// a torn one.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
