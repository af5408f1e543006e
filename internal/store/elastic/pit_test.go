package elastic

import (
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/closepointintime"

	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

// On the test node points in time work, so snapshot paging searches inside one: a read appended
// ahead of the cursor after the first page is not shown (keyset paging would show it, see the
// conformance suite's PagingUnderConcurrentAppends). When the PIT is gone (closed here, as expiry
// would), the next page continues by keyset from the same position, complete and in order.
func TestSnapshotPagingUsesPointInTime(t *testing.T) {
	s := openTest(t)
	if !s.Features().PointInTime {
		t.Fatalf("the node does not open points in time (see the store's log); this test needs them") // the integ-test distribution does
	}
	t.Logf("node %s serves points in time: snapshot paging uses PIT + search_after", s.Features().Version)
	var batch []reads.Read
	for i := range 30 {
		batch = append(batch, storetest.Read("CAM-A", "PT11AAA", storetest.T0.Add(time.Duration(i)*time.Minute)))
	}
	if _, err := s.AppendReads(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	q := reads.Query{Match: reads.MatchExact, Value: "PT11AAA", From: storetest.T0.Add(-time.Hour), To: storetest.T0.Add(2 * time.Hour),
		Order: reads.OldestFirst, Limit: 10, Snapshot: true}
	p1, err := s.FindReads(t.Context(), q)
	if err != nil || len(p1.Reads) != 10 || p1.Next == "" {
		t.Fatalf("page 1: %v %+v", err, p1)
	}
	q.Cursor = p1.Next
	c, err := checkQuery(q)
	if err != nil || c.pit == "" {
		t.Fatalf("the cursor carries no point in time: %v", err)
	}
	// Ahead of the cursor, inside the window: keyset paging would return it; the frozen view must not.
	late := storetest.Read("CAM-A", "PT11AAA", storetest.T0.Add(90*time.Minute))
	if _, err := s.AppendReads(t.Context(), []reads.Read{late}); err != nil {
		t.Fatal(err)
	}
	p2, err := s.FindReads(t.Context(), q)
	if err != nil || len(p2.Reads) != 10 || p2.Next == "" {
		t.Fatalf("page 2: %v %+v", err, p2)
	}
	if !p2.Reads[0].SeenAt.Equal(storetest.T0.Add(10 * time.Minute)) {
		t.Fatalf("page 2 starts at %s", p2.Reads[0].SeenAt)
	}
	q.Cursor = p2.Next
	c, _ = checkQuery(q)
	// The PIT goes away (expiry, or a node restart): the last page still comes, by keyset.
	if _, err := s.es.ClosePointInTime().Request(&closepointintime.Request{Id: c.pit}).Do(t.Context()); err != nil {
		t.Fatal(err)
	}
	q.Limit = 20 // the page size may change between pages
	p3, err := s.FindReads(t.Context(), q)
	if err != nil || p3.Next != "" {
		t.Fatalf("page 3 after the PIT closed: %v %+v", err, p3)
	}
	// Keyset from the same position: the ten remaining reads, and now the late one too.
	if len(p3.Reads) != 11 || !p3.Reads[0].SeenAt.Equal(storetest.T0.Add(20*time.Minute)) || !p3.Reads[10].SeenAt.Equal(late.SeenAt) {
		t.Fatalf("page 3: %d reads %+v", len(p3.Reads), p3.Reads)
	}

	// Inside the view, a read appended mid-way stays hidden to the end.
	q.Cursor, q.Limit = "", 10
	var all []reads.Read
	for {
		p, err := s.FindReads(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, p.Reads...)
		if p.Next == "" {
			break
		}
		q.Cursor = p.Next
		if len(all) == 10 {
			if _, err := s.AppendReads(t.Context(), []reads.Read{storetest.Read("CAM-A", "PT11AAA", storetest.T0.Add(100*time.Minute))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(all) != 31 { // 30 + the late read, present at the first page; not the one appended after
		t.Fatalf("snapshot paging returned %d reads, want the 31 present at the first page", len(all))
	}
}
