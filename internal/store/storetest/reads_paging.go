package storetest

import (
	"encoding/base64"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
)

// testPagingConcurrent pages through a plate's reads while other reads of the same plate arrive,
// which is what happens when a camera back-office catches up on old data during a search. Keyset
// paging on (seen_at, id) must never repeat a read, never skip one that was there when the cursor
// passed its position, and never go back to pick up reads that arrived behind the cursor.
func testPagingConcurrent(t *testing.T, s reads.Store) {
	for _, order := range []reads.Order{reads.NewestFirst, reads.OldestFirst} {
		t.Run(string(order), func(t *testing.T) {
			vrm := map[reads.Order]string{reads.NewestFirst: "AB12CDE", reads.OldestFirst: "XY34ZZZ"}[order]
			var initial []reads.Read
			at := T0
			for i := range 120 {
				if i%4 != 0 {
					at = at.Add(time.Minute)
				}
				initial = append(initial, Read(fixtureCameras[i%len(fixtureCameras)], vrm, at))
			}
			appendOK(t, s, initial)
			first, last := T0, at

			// A writer appends reads of the same plate, older than everything, while the paging
			// runs: they may or may not show up, but must not break the order. It stops after a
			// few hundred so that the paging below is sure to end.
			stop := make(chan struct{})
			var wg sync.WaitGroup
			var bgErr error
			wg.Go(func() {
				for k := range 300 {
					select {
					case <-stop:
						return
					default:
					}
					r := Read("CAM-BG", vrm, first.Add(-time.Duration(k+1)*time.Second))
					if _, err := s.AppendReads(t.Context(), []reads.Read{r}); err != nil {
						bgErr = fmt.Errorf("background append %d: %w", k, err)
						return
					}
				}
			})

			// Between pages, reads arrive at both ends of the range. "ahead" reads lie in the part
			// not yet paged and must appear; "behind" reads lie in the part already paged and must
			// not.
			var ahead, behind []reads.Read
			q := reads.Query{Match: reads.MatchExact, Value: vrm, From: T0.AddDate(0, 0, -90), To: T0.AddDate(0, 0, 90),
				Order: order, Limit: 11}
			got := findAllBetween(t, s, q, func(pages int) {
				older := Read("CAM-OLD", vrm, first.Add(-time.Duration(pages+1)*time.Hour))
				newer := Read("CAM-NEW", vrm, last.Add(time.Duration(pages+1)*time.Minute))
				appendOK(t, s, []reads.Read{older, newer})
				if order == reads.NewestFirst {
					ahead, behind = append(ahead, older), append(behind, newer)
				} else {
					ahead, behind = append(ahead, newer), append(behind, older)
				}
			})
			close(stop)
			wg.Wait()
			if bgErr != nil {
				t.Fatal(bgErr)
			}

			for i := 1; i < len(got); i++ {
				c := compareReads(got[i-1], got[i])
				if (order == reads.NewestFirst && c <= 0) || (order == reads.OldestFirst && c >= 0) {
					t.Fatalf("results %d and %d are out of %s order: %s", i-1, i, order, describe(got[i-1:i+1]))
				}
			}
			seen := map[string]bool{}
			for _, r := range got {
				seen[r.ID] = true
			}
			for _, set := range []struct {
				name  string
				reads []reads.Read
				want  bool
			}{{"initial", initial, true}, {"arrived ahead of the cursor", ahead, true}, {"arrived behind the cursor", behind, false}} {
				for _, r := range set.reads {
					if id := withID(r).ID; seen[id] != set.want {
						t.Fatalf("%s read %s (%s): returned = %v, want %v", set.name, id, r.SeenAt.Format(time.RFC3339), seen[id], set.want)
					}
				}
			}
			if len(ahead) == 0 {
				t.Fatal("paging ended after one page; the concurrent part is untested")
			}
		})
	}
}

func testCursorOtherQuery(t *testing.T, s reads.Store) {
	loadFixture(t, s)
	base := reads.Query{Match: reads.MatchPattern, Value: "AB*", From: fixtureStart, To: fixtureEnd,
		Cameras: []string{"CAM-A", "CAM-B"}, Limit: 5}
	p, err := s.FindReads(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	if p.Next == "" {
		t.Fatal("fixture gives a single page; cannot test cursors")
	}
	for _, tc := range []struct {
		name string
		edit func(q *reads.Query)
		ok   bool
	}{
		{"same query", func(q *reads.Query) {}, true},
		{"different page size", func(q *reads.Query) { q.Limit = 50 }, true},
		{"same cameras in another order", func(q *reads.Query) { q.Cameras = []string{"CAM-B", "CAM-A"} }, true},
		{"other value", func(q *reads.Query) { q.Value = "AB1*" }, false},
		{"other match kind", func(q *reads.Query) { q.Match, q.Value = reads.MatchExact, "AB12CDE" }, false},
		{"wider window", func(q *reads.Query) { q.From = q.From.Add(-time.Hour) }, false},
		{"narrower window", func(q *reads.Query) { q.To = q.To.Add(-time.Hour) }, false},
		{"other cameras", func(q *reads.Query) { q.Cameras = []string{"CAM-A"} }, false},
		{"no cameras", func(q *reads.Query) { q.Cameras = nil }, false},
		{"other order", func(q *reads.Query) { q.Order = reads.OldestFirst }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := base
			tc.edit(&q)
			q.Cursor = p.Next
			_, err := s.FindReads(t.Context(), q)
			if tc.ok {
				if err != nil {
					t.Fatalf("cursor refused for an equivalent query: %v", err)
				}
				return
			}
			wantErr(t, "cursor from another query", err, reads.ErrInvalid)
		})
	}
}

func testCursorGarbage(t *testing.T, s reads.Store) {
	loadFixture(t, s)
	q := reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: fixtureStart, To: fixtureEnd, Limit: 3}
	p, err := s.FindReads(t.Context(), q)
	if err != nil || p.Next == "" {
		t.Fatalf("first page: next %q, %v", p.Next, err)
	}
	valid := p.Next
	flipped := []byte(valid)
	flipped[len(flipped)/2] ^= 0x01 // still base64url almost always; the content no longer checks out
	for _, c := range []string{
		"garbage",
		"!!!!",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		base64.RawURLEncoding.EncodeToString([]byte(`{"v":1,"seen_at":0,"id":"x"}`)),
		valid[:len(valid)-3],
		valid + "AAAA",
		string(flipped),
	} {
		q.Cursor = c
		_, err := s.FindReads(t.Context(), q)
		wantErr(t, fmt.Sprintf("cursor %q", c), err, reads.ErrInvalid)
	}
}

func testLimits(t *testing.T, s reads.Store) {
	n := reads.MaxPageSize + 25
	batch := make([]reads.Read, 0, n)
	for i := range n {
		batch = append(batch, Read(fixtureCameras[i%len(fixtureCameras)], "AB12CDE", T0.Add(time.Duration(i)*time.Second)))
	}
	appendOK(t, s, batch)
	q := reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: T0, To: T0.AddDate(0, 0, 1)}
	for _, tc := range []struct {
		limit, want int
	}{
		{0, 100},
		{1, 1},
		{reads.MaxPageSize, reads.MaxPageSize},
		{reads.MaxPageSize + 1, reads.MaxPageSize},
		{1 << 30, reads.MaxPageSize},
	} {
		q.Limit = tc.limit
		p, err := s.FindReads(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Reads) != tc.want || p.Next == "" {
			t.Fatalf("limit %d: %d reads (next %q), want %d and a next page", tc.limit, len(p.Reads), p.Next, tc.want)
		}
	}
	total, err := s.CountReads(t.Context(), q)
	if err != nil {
		t.Fatal(err)
	}
	if total != int64(n) {
		t.Fatalf("count = %d, want %d", total, n)
	}
	q.Limit = reads.MaxPageSize
	if got := findAll(t, s, q); len(got) != n {
		t.Fatalf("paging at the cap gave %d reads, want %d", len(got), n)
	}
}

func testGetRead(t *testing.T, s reads.Store) {
	stored := loadFixture(t, s)
	for _, r := range []reads.Read{stored[0], stored[len(stored)/2], stored[len(stored)-1]} {
		want := withID(r)
		got, err := s.GetRead(t.Context(), want.ID)
		if err != nil {
			t.Fatalf("GetRead(%s): %v", want.ID, err)
		}
		if got != want {
			t.Fatalf("GetRead(%s) = %+v, want %+v", want.ID, got, want)
		}
	}
	absent := withID(Read("CAM-A", "AB12CDE", T0.AddDate(5, 0, 0))).ID
	_, err := s.GetRead(t.Context(), absent)
	wantErr(t, "GetRead of an id never stored", err, reads.ErrNotFound)
	for _, bad := range []string{"", "xyz", "../../etc/passwd", "AB12CDE", "ffffffffffffffff", "0123456789abcdef0"} {
		_, err := s.GetRead(t.Context(), bad)
		wantErr(t, fmt.Sprintf("GetRead(%q)", bad), err, reads.ErrInvalid)
	}
}
