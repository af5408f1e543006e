package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/anpr-portal/anpr/internal/store/storetest"
)

func TestHoldStoreConformance(t *testing.T) {
	storetest.RunHoldStore(t, func(t *testing.T) storetest.HoldStore {
		s, err := OpenHoldStore(t.Context(), filepath.Join(t.TempDir(), "holds.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
