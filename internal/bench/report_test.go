package bench

import (
	"bytes"
	"strings"
	"testing"
)

// The side-by-side table prints a figure that was not measured as "not measured: <why>", and
// nothing that looks like a number, so an empty hook can never pass for a measurement.
func TestBenchComparisonMarkdown(t *testing.T) {
	r := Report{Backends: &Comparison{
		Columns: [2]string{"SQLite, 10 reads", "Elasticsearch 8.19.21, 5 reads"},
		Lines: []Line{
			{Name: "ingest", Unit: "reads/s", Figures: [2]Figure{Measured(123456), Measured(2345.6)}},
			{Name: "audit append rate", Unit: "events/s", Figures: [2]Figure{Measured(812), NotMeasured("no Elasticsearch audit log")}},
		},
	}}
	var b bytes.Buffer
	r.Markdown(&b)
	out := b.String()
	for _, want := range []string{
		"### SQLite and Elasticsearch side by side",
		"| measure | SQLite, 10 reads | Elasticsearch 8.19.21, 5 reads |",
		"| ingest | 123,456 reads/s | 2,346 reads/s |",
		"| audit append rate | 812 events/s | not measured: no Elasticsearch audit log |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	// A not-measured figure with a stray value still prints as not measured.
	f := Figure{Value: 99, NotMeasured: "why"}
	if got := f.text("x"); got != "not measured: why" {
		t.Errorf("figure with a reason printed as %q", got)
	}
}

// Without a comparison the report has no side-by-side section (e.g. JSON read back from an
// older run).
func TestBenchReportWithoutComparison(t *testing.T) {
	var b bytes.Buffer
	Report{Rows: []Row{{Section: "s", Name: "n", Unit: "u", Ours: 1}}}.Markdown(&b)
	if strings.Contains(b.String(), "side by side") {
		t.Errorf("side-by-side section without a comparison:\n%s", b.String())
	}
}
