package bench

import (
	"strings"
	"testing"
	"time"
)

// The soak's verdicts follow its samples: a budget broken after warm-up, and growth of the
// median from the middle third to the last, are reported as not met; a spike in one sample is
// not growth; the warm-up third is not judged.
func TestSoakRowsJudgeBudgetAndFlatness(t *testing.T) {
	samples := func(rss, heap []int64) []SoakSample {
		var out []SoakSample
		for i := range rss {
			out = append(out, SoakSample{At: time.Duration(i) * time.Second, RSS: rss[i] << 20, Heap: heap[i] << 20, Goroutines: 100})
		}
		return out
	}
	met := func(s Soak, name string) bool {
		for _, r := range s.Rows() {
			if strings.HasPrefix(r.Name, name) {
				return r.Met != nil && *r.Met
			}
		}
		t.Fatalf("no row %q", name)
		return false
	}
	// Warm-up from 50 to 300 MiB, then flat at 300 with one spike: within budget, flat.
	flat := Soak{Budget: 512 << 20, Samples: samples(
		[]int64{50, 150, 300, 300, 301, 300, 450, 300, 302},
		[]int64{10, 40, 80, 80, 80, 81, 80, 80, 81})}
	if !met(flat, "RSS after warm-up") || !met(flat, "RSS growth") || !met(flat, "Go live heap growth") {
		t.Errorf("a flat run within budget is judged otherwise: %+v", flat.Rows())
	}
	// Growing by a fifth from the middle third to the last, past the budget.
	growing := Soak{Budget: 512 << 20, Samples: samples(
		[]int64{50, 150, 300, 400, 410, 420, 500, 520, 530},
		[]int64{10, 40, 80, 100, 101, 102, 120, 122, 125})}
	if met(growing, "RSS after warm-up") || met(growing, "RSS growth") || met(growing, "Go live heap growth") {
		t.Errorf("a growing run over budget is judged met: %+v", growing.Rows())
	}
}
