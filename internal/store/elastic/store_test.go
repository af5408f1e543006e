package elastic

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8/typedapi/core/count"
	"github.com/elastic/go-elasticsearch/v8/typedapi/types"

	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

// Every test here runs against a real node: the one ANPR_TEST_ES_URL names, or one estest starts
// from the cached distribution for this test binary. Nothing here is a request-shape test.
func TestMain(m *testing.M) { estest.Main(m) }

// openTest opens a store with names of its own, so tests share the node without seeing each
// other's data, and removes what it can of them afterwards.
func openTest(t *testing.T) *Store {
	t.Helper()
	node := estest.Node(t)
	var b [4]byte
	rand.Read(b[:])
	prefix := "anpr-test-" + hex.EncodeToString(b[:]) + "-"
	s, err := Open(t.Context(), Config{
		Addresses: []string{node.URL},
		Prefix:    prefix,
		Refresh:   "true", // the suite reads its own writes at once
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.drop(ctx, t)
		s.Close()
	})
	return s
}

// drop removes the store's indices. Without the data stream API (the test distribution) a data
// stream cannot be deleted at all, so its template stays too; the node is thrown away at the end.
func (s *Store) drop(ctx context.Context, t *testing.T) {
	if _, err := s.es.Indices.Delete(s.cameras).Do(ctx); err != nil {
		t.Logf("cleanup: delete %s: %v", s.cameras, err)
	}
	if !s.features.DataStreamAPI {
		return
	}
	if _, err := s.es.Indices.DeleteDataStream(s.stream).Do(ctx); err != nil {
		t.Logf("cleanup: delete data stream %s: %v", s.stream, err)
		return
	}
	if _, err := s.es.Indices.DeleteIndexTemplate(s.stream).Do(ctx); err != nil {
		t.Logf("cleanup: delete template %s: %v", s.stream, err)
	}
}

func TestReadStoreConformance(t *testing.T) {
	estest.Node(t) // skip or fail once here, not once per case
	storetest.RunReadStore(t, func(t *testing.T) reads.Store { return openTest(t) })
}

// TestFeatures says in the test output which optional Elasticsearch features this run exercised
// and which it fell back from, and checks the store's detection agrees with the node's modules.
func TestFeatures(t *testing.T) {
	node := estest.Node(t)
	s := openTest(t)
	f := s.Features()
	t.Logf("elasticsearch %s: wildcard type %v, uppercase normaliser %v, ILM %v, security module %v, data stream API %v",
		f.Version, f.WildcardType, f.UppercaseNormalizer, f.ILM, f.Security, f.DataStreamAPI)
	for _, l := range node.Lacks() {
		t.Logf("node lacks %s", l)
	}
	if f.Version != node.Version {
		t.Errorf("store saw version %q, node reports %q", f.Version, node.Version)
	}
	for module, got := range map[string]bool{"wildcard": f.WildcardType, "x-pack-ilm": f.ILM,
		"analysis-common": f.UppercaseNormalizer, "data-streams": f.DataStreamAPI} {
		if got != node.Has(module) {
			t.Errorf("store detected %s = %v, node modules say %v", module, got, node.Has(module))
		}
	}
}

// TestPatternFieldMatchesFeatures shows which field pattern searches use: the wildcard subfield
// exists exactly when the cluster has the type, and the keyword fallback answers the same query.
func TestPatternFieldMatchesFeatures(t *testing.T) {
	s := openTest(t)
	r := storetest.Read("CAM-A", "AB12CDE", storetest.T0)
	if _, err := s.AppendReads(t.Context(), []reads.Read{r}); err != nil {
		t.Fatal(err)
	}
	m, err := s.es.Indices.GetFieldMapping("vrm.wildcard").Index(s.stream).Do(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	has := false
	for _, idx := range m {
		_, has = idx.Mappings["vrm.wildcard"]
	}
	if has != s.Features().WildcardType {
		t.Fatalf("vrm.wildcard mapped = %v, wildcard type available = %v", has, s.Features().WildcardType)
	}
	n, err := s.CountReads(t.Context(), reads.Query{Match: reads.MatchPattern, Value: "*2C?E",
		From: storetest.T0, To: storetest.T0.Add(time.Second)})
	if err != nil || n != 1 {
		t.Fatalf("pattern count = %d, %v; want 1", n, err)
	}
}

// TestDuplicateAfterRollover is the case a plain create with _id misses: the read is in an older
// backing index and the write index is new. The lookup before the bulk must still see it.
func TestDuplicateAfterRollover(t *testing.T) {
	s := openTest(t)
	r := storetest.Read("CAM-A", "AB12CDE", storetest.T0)
	if got, err := s.AppendReads(t.Context(), []reads.Read{r}); err != nil || got.Inserted != 1 {
		t.Fatalf("first append: %+v, %v", got, err)
	}
	if _, err := s.es.Indices.Rollover(s.stream).Do(t.Context()); err != nil {
		t.Fatalf("rollover: %v", err)
	}
	got, err := s.AppendReads(t.Context(), []reads.Read{r, storetest.Read("CAM-A", "AB12CDE", storetest.T0.Add(time.Second))})
	if err != nil || got != (reads.AppendResult{Inserted: 1, Duplicates: 1}) {
		t.Fatalf("append after rollover: %+v, %v; want 1 inserted, 1 duplicate", got, err)
	}
	n, err := s.CountReads(t.Context(), reads.Query{Match: reads.MatchExact, Value: "AB12CDE",
		From: storetest.T0, To: storetest.T0.Add(time.Hour)})
	if err != nil || n != 2 {
		t.Fatalf("count = %d, %v; want 2", n, err)
	}
}

func TestConfigReportsAllProblems(t *testing.T) {
	c := Config{Prefix: "Bad Prefix", Refresh: "sometimes", MaxRetries: -1}
	err := c.CheckAndSetDefaults()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"no Elasticsearch address", "prefix", "refresh", "max retries"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// Reads take their camera's position at append time, so geographic search needs no join; a read
// from a camera the registry does not know has no position rather than a wrong one.
func TestReadsCarryCameraLocation(t *testing.T) {
	s := openTest(t)
	cam := reads.Camera{ID: "CAM-A", Name: "A40", Lat: 51.52, Lon: -0.29}
	if err := s.PutCameras(t.Context(), []reads.Camera{cam}); err != nil {
		t.Fatal(err)
	}
	batch := []reads.Read{storetest.Read("CAM-A", "AB12CDE", storetest.T0), storetest.Read("CAM-UNKNOWN", "AB12CDE", storetest.T0)}
	if _, err := s.AppendReads(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    types.Query
		want int64
	}{
		{"within 1 km of the camera", types.Query{GeoDistance: &types.GeoDistanceQuery{Distance: "1km",
			GeoDistanceQuery: map[string]types.GeoLocation{"location": types.LatLonGeoLocation{Lat: 51.521, Lon: -0.291}}}}, 1},
		{"within 1 km of elsewhere", types.Query{GeoDistance: &types.GeoDistanceQuery{Distance: "1km",
			GeoDistanceQuery: map[string]types.GeoLocation{"location": types.LatLonGeoLocation{Lat: 51.3, Lon: 0.1}}}}, 0},
		{"with any location", types.Query{Exists: &types.ExistsQuery{Field: "location"}}, 1},
	} {
		res, err := s.es.Count().Index(s.stream).Request(&count.Request{Query: &tc.q}).Do(t.Context())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Count != tc.want {
			t.Errorf("%s: %d reads, want %d", tc.name, res.Count, tc.want)
		}
	}
}
