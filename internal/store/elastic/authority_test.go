package elastic

import (
	"context"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/authority"
	"github.com/anpr-portal/anpr/internal/authority/authoritytest"
	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
)

// The authority conformance suite on a real node, concurrency included: the concurrent spends
// race on one document, and only the sequence-number checks keep them from double-counting.
func TestAuthorityStoreConformance(t *testing.T) {
	estest.Node(t)
	authoritytest.Run(t, func(t *testing.T) authority.Store {
		s := openTest(t)
		a, err := s.Authorities(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := s.es.Indices.Delete(a.index).Do(ctx); err != nil {
				t.Logf("cleanup: delete %s: %v", a.index, err)
			}
		})
		return a
	})
}

// Opening twice finds the index and changes nothing.
func TestAuthorityStoreOpenIdempotent(t *testing.T) {
	s := openTest(t)
	a, err := s.Authorities(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Create(t.Context(), authoritytest.Sample("au_keep", "alice", authoritytest.T0)); err != nil {
		t.Fatal(err)
	}
	b, err := s.Authorities(t.Context())
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	if _, err := b.Get(t.Context(), "au_keep"); err != nil {
		t.Fatalf("authority lost by the second open: %v", err)
	}
	t.Cleanup(func() { s.es.Indices.Delete(a.index).Do(context.Background()) })
}
