package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/bench"
	"github.com/anpr-portal/anpr/internal/images"
	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/seed"
	"github.com/anpr-portal/anpr/internal/store/sqlite"
)

// The benchmark runs every search type end to end through a real portal, at the smallest size,
// and a short soak. It checks that each row is measured, never what the figures are (wall-clock
// times and memory are not a test's business), except that the soak's load met no errors.
func TestBenchMeasuresEverySearchEndToEnd(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ANPR_DATA_DIR": filepath.Join(dir, "data"), "ANPR_LOG_LEVEL": "error"}
	out, err := run(t, env, "bench", "--reads", "10000", "--queries", "20", "--audit-events", "200", "--es-reads", "0", "--soak", "6s", "--dir", filepath.Join(dir, "bench"))
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	want := []string{"### Searches end to end over HTTP", "export rows/s", "64 concurrent clients, audited exact searches",
		"### Soak: memory over time", "| RSS after warm-up, peak", "| Go live heap growth after warm-up", "| Goroutine growth after warm-up",
		"| Errors during the soak |  |  |  | 0 | yes |"}
	for _, sc := range bench.SearchCases {
		want = append(want, "| "+sc.Name+" p99")
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the table lacks %q:\n%s", w, out)
		}
	}
}

// anpr seed renders images for the planted plates and a sample of the rest into <data_dir>/images,
// and the stored reads name them.
func TestCLISeedRendersImages(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ANPR_DATA_DIR": dir, "ANPR_LOG_LEVEL": "error"}
	if out, err := run(t, env, "seed", "--reads", "10000", "--seed", "3", "--images-every", "200", "--now", "2026-11-20T12:00:00Z"); err != nil {
		t.Fatalf("seed: %v\n%s", err, out)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "reads.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	page, err := st.FindReads(ctx, reads.Query{Match: reads.MatchExact, Value: seed.CloneVRM, From: now.AddDate(0, 0, -60), To: now, Limit: 10})
	if err != nil || len(page.Reads) == 0 {
		t.Fatalf("planted reads: %v %d", err, len(page.Reads))
	}
	imgs, err := images.Open(filepath.Join(dir, "images"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range page.Reads {
		for _, d := range []string{r.PatchSHA, r.OverviewSHA} {
			if _, err := imgs.Get(ctx, d); err != nil {
				t.Fatalf("planted read %s names image %q: %v", r.ID, d, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "images")); err != nil {
		t.Fatal(err)
	}
}
