package elastic

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/search"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"

	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

func TestRectifierConformance(t *testing.T) {
	estest.Node(t)
	storetest.RunRectifier(t, func(t *testing.T) storetest.RectifyStore { return openTest(t) })
}

// backingIndices lists the concrete indices holding the given reads.
func (s *Store) backingIndices(t *testing.T, ids []string) []string {
	t.Helper()
	res, err := s.es.Search().Index(s.stream).Request(&search.Request{
		Query: &types.Query{Ids: &types.IdsQuery{Values: ids}}, Size: ptr(len(ids)),
	}).Do(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range res.Hits.Hits {
		if !slices.Contains(out, h.Index_) {
			out = append(out, h.Index_)
		}
	}
	return out
}

// Retention on a real Elasticsearch node: ILM's delete phase drops whole
// backing indices, so a retention run first moves held reads to the preserved index. Here the
// backing index of the old reads is deleted as ILM would delete it (the test node has no ILM);
// the held reads survive, searchable, exactly once, and nothing else of that index does.
func TestRetentionHeldReadsSurviveBackingIndexDeletion(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	cutoff := storetest.T0
	day := 24 * time.Hour
	held := []reads.Read{
		storetest.Read("CAM-A", "HD11AAA", cutoff.Add(-10*day)),
		storetest.Read("CAM-B", "HD11AAA", cutoff.Add(-40*day)),
		storetest.Read("CAM-HOLD", "CH22BBB", cutoff.Add(-5*day)),
	}
	unheld := []reads.Read{
		storetest.Read("CAM-A", "AB12CDE", cutoff.Add(-10*day)),
		storetest.Read("CAM-B", "XY34ZZZ", cutoff.Add(-20*day)),
		storetest.Read("CAM-A", "CH22BBB", cutoff.Add(-5*day)), // the plate of a camera hold, elsewhere
	}
	holds := []reads.HoldScope{{VRMs: []string{"HD11AAA"}}, {Cameras: []string{"CAM-HOLD"}}}
	if _, err := s.AppendReads(ctx, slices.Concat(held, unheld)); err != nil {
		t.Fatal(err)
	}
	ids := func(rs []reads.Read) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
		}
		return out
	}
	old := s.backingIndices(t, ids(slices.Concat(held, unheld)))
	if len(old) != 1 {
		t.Fatalf("old reads in %v, want one backing index", old)
	}
	if _, err := s.es.Indices.Rollover(s.stream).Do(ctx); err != nil {
		t.Fatalf("rollover: %v", err)
	}
	recent := []reads.Read{storetest.Read("CAM-A", "AB12CDE", cutoff.Add(time.Hour)), storetest.Read("CAM-HOLD", "NW55NEW", cutoff.Add(2*time.Hour))}
	if _, err := s.AppendReads(ctx, recent); err != nil {
		t.Fatal(err)
	}

	n, err := s.DeleteReadsBefore(ctx, cutoff, holds)
	if err != nil || n != int64(len(unheld)) {
		t.Fatalf("DeleteReadsBefore = %d, %v; want %d", n, err, len(unheld))
	}
	// ILM's delete phase, as it would run on the old backing index past retention.
	if _, err := s.es.Indices.Delete(old[0]).Do(ctx); err != nil {
		t.Fatalf("delete backing index %s: %v", old[0], err)
	}

	// Every plate the test used, looked up exactly: the store has no "match everything" query.
	everything := func() []string {
		var got []string
		for _, vrm := range []string{"HD11AAA", "CH22BBB", "AB12CDE", "XY34ZZZ", "NW55NEW"} {
			page, err := s.FindReads(ctx, reads.Query{Match: reads.MatchExact, Value: vrm,
				From: cutoff.AddDate(-1, 0, 0), To: cutoff.AddDate(0, 0, 1), Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Reads {
				got = append(got, r.ID)
			}
		}
		slices.Sort(got)
		return got
	}
	got := everything()
	want := ids(slices.Concat(held, recent))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("after retention and index deletion the store holds %v, want exactly the held and recent reads %v", got, want)
	}
	for _, r := range held {
		id := reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
		if got, err := s.GetRead(ctx, id); err != nil || got.VRM != r.VRM {
			t.Errorf("held read %s: %+v, %v", id, got, err)
		}
	}
	for _, id := range ids(unheld) {
		if _, err := s.GetRead(ctx, id); !errors.Is(err, reads.ErrNotFound) {
			t.Errorf("unheld read %s survived: %v", id, err)
		}
	}

	// A second run changes nothing; releasing the holds lets the next run delete the held reads
	// from the preserved index, and only those.
	if n, err := s.DeleteReadsBefore(ctx, cutoff, holds); err != nil || n != 0 {
		t.Fatalf("second run: %d, %v", n, err)
	}
	if n, err := s.DeleteReadsBefore(ctx, cutoff, nil); err != nil || n != int64(len(held)) {
		t.Fatalf("run after release: %d, %v; want %d", n, err, len(held))
	}
	if got, want := everything(), ids(recent); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("after release the store holds %v, want only the recent reads %v", got, want)
	}
}

// A held read that retention moved to the preserved index can still be corrected (the corrected
// read stays preserved) and erased.
func TestRectifyPreservedRead(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	r := storetest.Read("CAM-A", "HD11AA0", storetest.T0.Add(-48*time.Hour))
	if _, err := s.AppendReads(ctx, []reads.Read{r}); err != nil {
		t.Fatal(err)
	}
	id := reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
	if _, err := s.DeleteReadsBefore(ctx, storetest.T0, []reads.HoldScope{{Cameras: []string{"CAM-A"}}}); err != nil {
		t.Fatal(err)
	}
	inPreserved := func(id string) bool {
		res, err := s.es.Search().Index(s.PreservedIndex()).Request(&search.Request{
			Query: &types.Query{Ids: &types.IdsQuery{Values: []string{id}}}}).Do(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Hits.Hits) == 1
	}
	if !inPreserved(id) {
		t.Fatal("the held read was not moved to the preserved index")
	}
	_, after, err := s.CorrectRead(ctx, id, "HD11AAO")
	if err != nil {
		t.Fatal(err)
	}
	if !inPreserved(after.ID) || inPreserved(id) {
		t.Fatalf("corrected read %s not in the preserved index in place of %s", after.ID, id)
	}
	if _, err := s.EraseRead(ctx, after.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetRead(ctx, after.ID); !errors.Is(err, reads.ErrNotFound) {
		t.Fatalf("erased preserved read still found: %v", err)
	}
}
