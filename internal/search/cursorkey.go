package search

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateCursorKey reads the key that signs page cursors from path (hex, one line), or, when
// the file does not exist, generates a random one and writes it with mode 0600. Instances that
// share the file accept each other's cursors, and cursors survive a restart. The key only
// protects cursors (a caller cannot forge one for another user's query), so replacing it costs
// clients no more than a fresh first page.
func LoadOrCreateCursorKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) < minCursorKey {
			return nil, fmt.Errorf("search: cursor key file %s: want at least %d bytes in hex", path, minCursorKey)
		}
		return key, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("search: read cursor key: %w", err)
	}
	key := make([]byte, minCursorKey)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("search: generate cursor key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("search: cursor key directory: %w", err)
	}
	// O_EXCL: two instances starting together must end up with one key, the first written.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateCursorKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("search: create cursor key: %w", err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return nil, fmt.Errorf("search: write cursor key: %w", err)
	}
	return key, nil
}
