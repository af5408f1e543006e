// Package bench measures the portal end to end beside the raw backend for the same work, in one
// run, and renders the table that docs/benchmarks.md carries. It never decides pass or fail for
// tests: figures are reported against their targets for people to read.
package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Row is one measured figure: ours (end to end) beside the raw backend's for the same work.
type Row struct {
	Section string  `json:"section"`
	Name    string  `json:"name"`
	Unit    string  `json:"unit"`
	Ours    float64 `json:"ours"`          // end-to-end figure (0 when not applicable)
	Raw     float64 `json:"raw,omitempty"` // raw backend figure for the same work
	Target  string  `json:"target,omitempty"`
	Met     *bool   `json:"met,omitempty"`
	Note    string  `json:"note,omitempty"`
}

// Ratio is ours/raw, or 0 when there is no raw figure.
func (r Row) Ratio() float64 {
	if r.Raw == 0 || r.Ours == 0 {
		return 0
	}
	return r.Ours / r.Raw
}

// Report is a whole run.
type Report struct {
	Started  time.Time `json:"started"`
	Duration string    `json:"duration"`
	Machine  Machine   `json:"machine"`
	Params   string    `json:"params"`
	// Backends puts the headline figures of SQLite and Elasticsearch side by side; the rows
	// below it have the detail of each.
	Backends *Comparison `json:"backends,omitempty"`
	Rows     []Row       `json:"rows"`
	// Soak is the soak phase's memory over time (its figures are rows too).
	Soak *Soak `json:"soak,omitempty"`
}

// Comparison is the side-by-side table: one measure per line, one column per backend.
type Comparison struct {
	Columns [2]string `json:"columns"` // e.g. "SQLite, 10,000,000 reads"
	Lines   []Line    `json:"lines"`
}

// Line is one measure on both backends.
type Line struct {
	Name    string    `json:"name"`
	Unit    string    `json:"unit"`
	Figures [2]Figure `json:"figures"`
}

// Figure is a measured value, or why there is none. A figure that was not measured is always
// printed as "not measured: <why>", never as a number.
type Figure struct {
	Value       float64 `json:"value,omitempty"`
	NotMeasured string  `json:"not_measured,omitempty"`
}

// Measured is a figure that was measured.
func Measured(v float64) Figure { return Figure{Value: v} }

// NotMeasured is a figure that was not, with the reason.
func NotMeasured(why string) Figure { return Figure{NotMeasured: why} }

func (f Figure) text(unit string) string {
	if f.NotMeasured != "" {
		return "not measured: " + f.NotMeasured
	}
	return fmtNum(f.Value) + " " + unit
}

func (c Comparison) markdown(w io.Writer) {
	fmt.Fprintf(w, "### SQLite and Elasticsearch side by side\n\n")
	fmt.Fprintf(w, "| measure | %s | %s |\n|---|---:|---:|\n", c.Columns[0], c.Columns[1])
	for _, l := range c.Lines {
		fmt.Fprintf(w, "| %s | %s | %s |\n", l.Name, l.Figures[0].text(l.Unit), l.Figures[1].text(l.Unit))
	}
	fmt.Fprintln(w)
}

// Machine describes where the run happened, because figures mean nothing without it.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	Memory string `json:"memory"`
	OS     string `json:"os"`
	Go     string `json:"go"`
}

// ThisMachine reads the CPU model and memory from /proc where available.
func ThisMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version(), CPU: "unknown", Memory: "unknown"}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPU = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		var kb int64
		fmt.Sscanf(v, "%d", &kb)
		m.Memory = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	if v := procField("/etc/os-release", "PRETTY_NAME="); v != "" {
		m.OS += " (" + strings.Trim(v, `"`) + ")"
	}
	return m
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, key) {
			v := strings.TrimPrefix(line, key)
			v = strings.TrimLeft(v, " \t:")
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// RSSBytes is this process's resident set size now (Linux), 0 if unknown.
func RSSBytes() int64 {
	if v := procField("/proc/self/status", "VmRSS"); v != "" {
		var kb int64
		fmt.Sscanf(v, "%d", &kb)
		return kb * 1024
	}
	return 0
}

// Met makes the Met field of a row: whether the figure meets its target.
func Met(ok bool) *bool { return &ok }

// Markdown renders the report as the table docs/benchmarks.md carries.
func (r Report) Markdown(w io.Writer) {
	fmt.Fprintf(w, "Measured %s on %s, %d cores, %s RAM, %s, %s. Run took %s.\n\n",
		r.Started.UTC().Format("2006-01-02 15:04 UTC"), r.Machine.CPU, r.Machine.Cores, r.Machine.Memory, r.Machine.OS, r.Machine.Go, r.Duration)
	fmt.Fprintf(w, "Parameters: %s\n\n", r.Params)
	if r.Backends != nil {
		r.Backends.markdown(w)
	}
	sections := []string{}
	seen := map[string]bool{}
	for _, row := range r.Rows {
		if !seen[row.Section] {
			seen[row.Section] = true
			sections = append(sections, row.Section)
		}
	}
	for _, s := range sections {
		fmt.Fprintf(w, "### %s\n\n", s)
		fmt.Fprintln(w, "| measure | ours (end to end) | raw backend | ratio ours/raw | target | met |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
		for _, row := range r.Rows {
			if row.Section != s {
				continue
			}
			ratio, raw, ours := "", "", ""
			if row.Raw != 0 {
				raw = fmtNum(row.Raw) + " " + row.Unit
			}
			if row.Ours != 0 {
				ours = fmtNum(row.Ours) + " " + row.Unit
			}
			if q := row.Ratio(); q != 0 {
				ratio = fmt.Sprintf("%.2f", q)
			}
			m := ""
			if row.Met != nil {
				m = map[bool]string{true: "yes", false: "**no**"}[*row.Met]
			}
			name := row.Name
			if row.Note != "" {
				name += " (" + row.Note + ")"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", name, ours, raw, ratio, row.Target, m)
		}
		fmt.Fprintln(w)
	}
	if r.Soak != nil {
		r.Soak.markdown(w)
	}
}

func fmtNum(v float64) string {
	switch {
	case v >= 1000:
		return commas(int64(v + 0.5))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.3f", v)
	}
}

// Commas writes n with thousands separators, as the tables do.
func Commas(n int64) string { return commas(n) }

func commas(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Latencies summarises a set of durations.
type Latencies []time.Duration

// Quantile returns the q-quantile (0..1) in milliseconds, nearest-rank.
func (l Latencies) Quantile(q float64) float64 {
	if len(l) == 0 {
		return 0
	}
	s := append(Latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return float64(s[i].Microseconds()) / 1000
}
