package elastic

import (
	"context"
	"testing"

	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

func TestHoldStoreConformance(t *testing.T) {
	estest.Node(t)
	storetest.RunHoldStore(t, func(t *testing.T) storetest.HoldStore {
		s := openTest(t)
		h, err := s.HoldStore(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			for _, idx := range []string{h.holds, h.runs, s.PreservedIndex()} {
				s.es.Indices.Delete(idx).IgnoreUnavailable(true).Do(context.Background())
			}
		})
		return h
	})
}
