package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/authority/authoritytest"
)

func TestAuthorityStoreConformance(t *testing.T) {
	authoritytest.Run(t, func(t *testing.T) authority.Store {
		s, err := OpenAuthorityStore(context.Background(), filepath.Join(t.TempDir(), "authority.db"), AuthorityOptions{MaxConns: 8})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
