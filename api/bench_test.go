package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/anpr-portal/anpr/internal/bench"
	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
)

// benchReport runs `anpr bench` at a tiny size and returns its JSON report and printed table.
func benchReport(t *testing.T, args ...string) (bench.Report, string) {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{"ANPR_DATA_DIR": dir, "ANPR_LOG_LEVEL": "error"}
	jsonOut := filepath.Join(dir, "bench.json")
	args = append([]string{"bench", "--reads", "10000", "--queries", "20", "--audit-events", "200", "--dir", filepath.Join(dir, "scratch"), "--json", jsonOut}, args...)
	out, err := run(t, env, args...)
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out)
	}
	b, err := os.ReadFile(jsonOut)
	if err != nil {
		t.Fatal(err)
	}
	var rep bench.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Backends == nil || len(rep.Backends.Lines) == 0 {
		t.Fatalf("no side-by-side table:\n%s", out)
	}
	return rep, out
}

// A size the generator refuses is refused before any phase runs.
func TestBenchRefusesBadElasticSize(t *testing.T) {
	_, err := run(t, map[string]string{"ANPR_DATA_DIR": t.TempDir(), "ANPR_LOG_LEVEL": "error"}, "bench", "--es-reads", "5")
	if err == nil || !strings.Contains(err.Error(), "--es-reads") {
		t.Fatalf("bench --es-reads 5: err = %v, want it refused", err)
	}
}

// With the Elasticsearch column switched off, every figure in it says so, and none is a number.
func TestBenchElasticColumnOff(t *testing.T) {
	rep, out := benchReport(t, "--es-reads", "0")
	for _, l := range rep.Backends.Lines {
		if l.Figures[0].Value <= 0 {
			t.Errorf("%s: SQLite figure %+v, want a measurement", l.Name, l.Figures[0])
		}
		if l.Figures[1] != bench.NotMeasured("--es-reads is 0") {
			t.Errorf("%s: Elasticsearch figure %+v, want not measured because --es-reads is 0", l.Name, l.Figures[1])
		}
	}
	if !strings.Contains(out, "| not measured: --es-reads is 0 |") {
		t.Errorf("table does not say the column was not measured:\n%s", out)
	}
}

// The Elasticsearch column is measured on a node the bench command starts and stops itself,
// beside SQLite: ingest, every lookup and the audit append rate.
func TestBenchBothBackends(t *testing.T) {
	if _, err := exec.LookPath("java"); err != nil {
		if os.Getenv(estest.EnvRequire) == "1" {
			t.Fatalf("java not found, and %s=1 says this machine must run the Elasticsearch tests", estest.EnvRequire)
		}
		t.Skip("SKIPPED: bench against Elasticsearch: java not found")
	}
	rep, out := benchReport(t, "--es-reads", "10000", "--es-heap", "512m")
	if !strings.HasPrefix(rep.Backends.Columns[1], "Elasticsearch 8.") {
		t.Errorf("Elasticsearch column = %q", rep.Backends.Columns[1])
	}
	measured := 0
	for _, l := range rep.Backends.Lines {
		es := l.Figures[1]
		switch {
		case es.NotMeasured != "" || es.Value <= 0:
			t.Errorf("%s: Elasticsearch figure %+v, want a measurement", l.Name, es)
		default:
			measured++
		}
	}
	if measured < 7 {
		t.Errorf("%d Elasticsearch figures measured, want ingest (raw and HTTP), every lookup and the audit append rate", measured)
	}
	for _, want := range []string{"Reads: ingest and lookup, Elasticsearch 8.", "### SQLite and Elasticsearch side by side"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
