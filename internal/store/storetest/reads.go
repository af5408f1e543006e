// Package storetest is the conformance suite every store backend must pass: a backend is done when
// it passes the whole suite, not when it compiles. It talks to backends only through the domain
// interfaces (reads.Store, ...), so the embedded SQLite backend and Elasticsearch run the very
// same assertions.
package storetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/plate"
	"github.com/anpr-portal/anpr/internal/reads"
)

// NewReadStore returns an empty store for one subtest and arranges (t.Cleanup) to close it.
type NewReadStore func(t *testing.T) reads.Store

// RunReadStore runs the reads.Store conformance suite. Every subtest gets a fresh, empty store.
func RunReadStore(t *testing.T, newStore NewReadStore) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s reads.Store)
	}{
		{"AppendIdempotent", testAppendIdempotent},
		{"AppendAssignsDeterministicIDs", testAppendIDs},
		{"AppendRejectsWrongID", testAppendWrongID},
		{"AppendBatchAtomic", testAppendAtomic},
		{"AppendRoundTrip", testAppendRoundTrip},
		{"FindMatchesOracle", testFindOracle},
		{"FindPatternShapes", testFindPatterns},
		{"FindSkeleton", testFindSkeleton},
		{"FindWindowHalfOpen", testFindWindowEdges},
		{"FindCameraFilter", testFindCameras},
		{"FindOrdersAreMirrorImages", testFindOrders},
		{"FindRejectsInvalidQueries", testFindInvalid},
		{"FindAcrossWeeks", testFindAcrossWeeks},
		{"PagingUnderConcurrentAppends", testPagingConcurrent},
		{"CursorFromOtherQueryRejected", testCursorOtherQuery},
		{"CursorGarbageRejected", testCursorGarbage},
		{"LimitDefaultAndCap", testLimits},
		{"GetRead", testGetRead},
		{"CameraRegistry", testCameras},
		{"RetentionRespectsHolds", testRetentionHolds},
		{"RetentionThenReappend", testRetentionReappend},
		{"RetentionRejectsBadHolds", testRetentionBadHolds},
		{"RetentionDropsWholeWeeks", testRetentionWholeWeeks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
	runAnalysis(t, newStore) // area reads, convoy, multi-location, histograms
}

// T0 is the suite's fixed reference time. Assertions never depend on the wall clock.
var T0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Read builds a read as the ingest layer hands it to a store: normalised plate, skeleton set, no
// id (the store derives it).
func Read(camera, vrm string, at time.Time) reads.Read {
	return reads.Read{
		VRM:        vrm,
		Skeleton:   plate.Skeleton(vrm),
		CameraID:   camera,
		SeenAt:     at.UTC(),
		Confidence: 0.875, // exactly representable, so round trips compare with ==
		Lane:       1,
	}
}

// withID returns r with its deterministic id filled in, as a store returns it.
func withID(r reads.Read) reads.Read {
	r.ID = reads.ReadID(r.CameraID, r.SeenAt, r.VRM)
	return r
}

func appendOK(t *testing.T, s reads.Store, batch []reads.Read) reads.AppendResult {
	t.Helper()
	res, err := s.AppendReads(t.Context(), batch)
	if err != nil {
		t.Fatalf("AppendReads(%d reads): %v", len(batch), err)
	}
	return res
}

// findAll pages through q with q.Limit per page and returns everything, failing on a repeated
// read or a page larger than asked.
func findAll(t *testing.T, s reads.Store, q reads.Query) []reads.Read {
	t.Helper()
	return findAllBetween(t, s, q, nil)
}

// findAllBetween is findAll that calls between(page) after every page that has a next one,
// before fetching it: for tests that write while a caller pages.
func findAllBetween(t *testing.T, s reads.Store, q reads.Query, between func(page int)) []reads.Read {
	t.Helper()
	var all []reads.Read
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatalf("paging %+v did not end", q)
		}
		p, err := s.FindReads(t.Context(), q)
		if err != nil {
			t.Fatalf("FindReads(%+v): %v", q, err)
		}
		if q.Limit > 0 && len(p.Reads) > q.Limit {
			t.Fatalf("page has %d reads, limit %d", len(p.Reads), q.Limit)
		}
		for _, r := range p.Reads {
			if seen[r.ID] {
				t.Fatalf("read %s returned twice while paging %+v", r.ID, q)
			}
			seen[r.ID] = true
		}
		all = append(all, p.Reads...)
		if p.Next == "" {
			return all
		}
		if len(p.Reads) == 0 {
			t.Fatalf("empty page with a next cursor for %+v", q)
		}
		if between != nil {
			between(pages)
		}
		q.Cursor = p.Next
	}
}

// compareReads orders reads by the stable total order (seen_at, id), oldest first. Ids are
// fixed-width lowercase hex, so string order is numeric order.
func compareReads(a, b reads.Read) int {
	return cmp.Or(a.SeenAt.Compare(b.SeenAt), strings.Compare(a.ID, b.ID))
}

// oracle is the reference answer to q over the reads a test stored, in q's order. It is written
// as plainly as possible, with plate.Pattern.Match as the definition of a pattern match.
func oracle(t *testing.T, stored []reads.Read, q reads.Query) []reads.Read {
	t.Helper()
	var match func(r reads.Read) bool
	switch q.Match {
	case reads.MatchExact:
		match = func(r reads.Read) bool { return r.VRM == q.Value }
	case reads.MatchSkeleton:
		match = func(r reads.Read) bool { return r.Skeleton == q.Value }
	case reads.MatchPattern:
		p, err := plate.ParsePattern(q.Value)
		if err != nil {
			t.Fatalf("oracle: pattern %q: %v", q.Value, err)
		}
		match = func(r reads.Read) bool { return p.Match(r.VRM) }
	case reads.MatchAny:
		match = func(reads.Read) bool { return true }
	default:
		t.Fatalf("oracle: match kind %q", q.Match)
	}
	var out []reads.Read
	seen := map[string]bool{}
	for _, r := range stored {
		r = withID(r)
		if seen[r.ID] || !match(r) || r.SeenAt.Before(q.From) || !r.SeenAt.Before(q.To) {
			continue
		}
		if len(q.Cameras) > 0 && !slices.Contains(q.Cameras, r.CameraID) {
			continue
		}
		seen[r.ID] = true
		out = append(out, r)
	}
	slices.SortFunc(out, compareReads)
	if q.Order != reads.OldestFirst {
		slices.Reverse(out)
	}
	return out
}

// sameIDs fails unless got and want hold the same reads in the same order.
func sameIDs(t *testing.T, what string, got, want []reads.Read) {
	t.Helper()
	g, w := readIDs(got), readIDs(want)
	if slices.Equal(g, w) {
		return
	}
	t.Fatalf("%s: got %d reads, want %d\n got: %s\nwant: %s", what, len(g), len(w), describe(got), describe(want))
}

func readIDs(rs []reads.Read) []string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return ids
}

func describe(rs []reads.Read) string {
	const max = 12
	var sb strings.Builder
	for i, r := range rs {
		if i == max {
			fmt.Fprintf(&sb, " ... (%d more)", len(rs)-max)
			break
		}
		fmt.Fprintf(&sb, " %s/%s/%s@%s", r.ID[:6], r.VRM, r.CameraID, r.SeenAt.Format("01-02T15:04:05.000"))
	}
	return sb.String()
}

// wantErr fails unless err wraps kind.
func wantErr(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got error %v, want one wrapping %q", what, err, kind)
	}
}
