// Package images keeps the pictures of ANPR reads (the plate patch and the overview) in a
// content-addressed store on disk, and renders the synthetic ones the seeder attaches to its reads.
//
// An image is named by the SHA-256 of its bytes, which is what a read records (patch_sha256,
// overview_sha256) and what the audit event of an image view carries. The store is a directory
// of files, the same whichever read backend (SQLite or Elasticsearch) holds the reads: a read
// names its images by digest, and both backends keep that digest.
package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Error kinds.
var (
	ErrNotFound = errors.New("image not found")
	ErrInvalid  = errors.New("invalid image digest")
	// ErrCorrupt: the file under a digest no longer has that digest (a damaged disk, or an
	// edit). It is never served: an image shown as evidence must be the one recorded.
	ErrCorrupt = errors.New("image does not match its digest")
)

// MaxImageBytes bounds one image, so a damaged or hostile file cannot be read into memory whole.
const MaxImageBytes = 8 << 20

// Store is a content-addressed image directory: the image with digest d lives at
// <dir>/d[0:2]/d[2:4]/d.png. Two levels of 256 directories keep every directory small at
// hundreds of millions of images. It is safe for concurrent use, also by several processes: files
// appear whole, by rename, or not at all.
type Store struct {
	dir    string
	noSync bool
}

// Open returns the store rooted at dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("images: no directory")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("images: create %s: %w", dir, err)
	}
	return &Store{dir: dir}, nil
}

// WithoutSync returns the same store for a bulk load of images that can be made again (the
// seeder's synthetic pictures): files are still renamed into place whole, but not synced first,
// which makes each Put several times cheaper. After a crash such a file may be empty or torn;
// Get then reports ErrCorrupt (never serves it), and seeding again repairs it.
func (s *Store) WithoutSync() *Store { return &Store{dir: s.dir, noSync: true} }

// Dir is the store's root directory.
func (s *Store) Dir() string { return s.dir }

// Digest is the store's name for data: its SHA-256 in lower-case hex.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func (s *Store) path(digest string) (string, error) {
	if len(digest) != 2*sha256.Size || strings.ToLower(digest) != digest {
		return "", fmt.Errorf("%w: %q is not a lower-case hex SHA-256", ErrInvalid, digest)
	}
	if _, err := hex.DecodeString(digest); err != nil {
		return "", fmt.Errorf("%w: %q is not a lower-case hex SHA-256", ErrInvalid, digest)
	}
	return filepath.Join(s.dir, digest[0:2], digest[2:4], digest+".png"), nil
}

// Put stores data and returns its digest. Storing the same bytes twice stores them once. The
// file is written to a temporary name in its final directory, synced, and renamed into place, so
// a reader never sees a partial image, even after a crash.
func (s *Store) Put(ctx context.Context, data []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if len(data) > MaxImageBytes {
		return "", fmt.Errorf("images: %d bytes is more than %d", len(data), MaxImageBytes)
	}
	d := Digest(data)
	p, _ := s.path(d)
	if _, err := os.Stat(p); err == nil {
		return d, nil // already there: same name, same bytes
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("images: %w", err)
	}
	// CreateTemp makes the file 0600: only the portal's own user reads evidence images.
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("images: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return "", fmt.Errorf("images: write %s: %w", d, err)
	}
	if !s.noSync {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return "", fmt.Errorf("images: sync %s: %w", d, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("images: close %s: %w", d, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return "", fmt.Errorf("images: store %s: %w", d, err)
	}
	return d, nil
}

// Get returns the image with this digest after checking that its bytes still have it.
func (s *Store) Get(ctx context.Context, digest string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := s.path(digest)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, digest)
	}
	if err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	defer f.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(io.LimitReader(f, MaxImageBytes+1)); err != nil {
		return nil, fmt.Errorf("images: read %s: %w", digest, err)
	}
	if b.Len() > MaxImageBytes || Digest(b.Bytes()) != digest {
		return nil, fmt.Errorf("%w: %s", ErrCorrupt, digest)
	}
	return b.Bytes(), nil
}
