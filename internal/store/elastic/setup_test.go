package elastic

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/reads"
	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
	"github.com/anpr-portal/anpr/internal/store/storetest"
)

// These run against the real node (see TestMain). What the node cannot do (ILM, security roles,
// API keys; estest prints the list) is covered by the TestRequestShape tests in
// setup_shape_test.go, which are request-shape tests and not Elasticsearch verified.

func setupConfig(t *testing.T) Config {
	t.Helper()
	node := estest.Node(t)
	var b [4]byte
	rand.Read(b[:])
	return Config{
		Addresses: []string{node.URL},
		Prefix:    "anpr-setup-" + hex.EncodeToString(b[:]) + "-",
		Refresh:   "true",
		Logger:    slog.New(slog.DiscardHandler),
	}
}

func statusOf(rep SetupReport) map[string]SetupStatus {
	out := map[string]SetupStatus{}
	for _, it := range rep.Items {
		out[it.Kind+" "+it.Name] = it.Status
	}
	return out
}

// `anpr es setup` run twice changes nothing the second time, and what it
// made is what the store serves from: a stream whose backing index has the strict mapping.
func TestSetupTwiceChangesNothing(t *testing.T) {
	node := estest.Node(t)
	cfg := setupConfig(t)
	opts := SetupOptions{Retention: 365 * 24 * time.Hour, APIKeys: []string{RolePortal}}

	// Before setup, a portal that must not manage templates refuses to start, saying why.
	cfg2 := cfg
	cfg2.SkipSetup = true
	bare, err := Open(t.Context(), cfg2)
	if err != nil {
		t.Fatal(err)
	}
	if err := bare.CheckSetup(t.Context()); err == nil || !strings.Contains(err.Error(), "anpr es setup") {
		t.Fatalf("unprepared cluster passed CheckSetup: %v", err)
	}

	first, err := Setup(t.Context(), cfg, opts)
	if err != nil {
		t.Fatalf("first setup: %v", err)
	}
	var out bytes.Buffer
	first.Print(&out)
	t.Logf("first run:\n%s", out.String())
	st := statusOf(first)
	for _, want := range []string{"component template " + cfg.Prefix + "reads-mappings", "index template " + cfg.Prefix + "reads",
		"index " + cfg.Prefix + "cameras"} {
		if st[want] != StatusCreated {
			t.Errorf("%s: %q, want created", want, st[want])
		}
	}
	// What the node lacks is reported, not faked.
	lacks := strings.Join(first.Lacks, "\n")
	if !node.Has("x-pack-ilm") && (st["ILM policy "+cfg.Prefix+"reads"] != StatusSkipped || !strings.Contains(lacks, "ILM")) {
		t.Errorf("node without ILM: policy %q, lacks %q", st["ILM policy "+cfg.Prefix+"reads"], lacks)
	}
	if !node.Has("wildcard") && !strings.Contains(lacks, "wildcard") {
		t.Errorf("node without the wildcard type, lacks %q", lacks)
	}
	if node.Started && st["role "+cfg.Prefix+"audit-writer"] != StatusSkipped {
		// estest starts its node with security off.
		t.Errorf("audit writer role on a node with security off: %q", st["role "+cfg.Prefix+"audit-writer"])
	}

	second, err := Setup(t.Context(), cfg, opts)
	if err != nil {
		t.Fatalf("second setup: %v", err)
	}
	out.Reset()
	second.Print(&out)
	t.Logf("second run:\n%s", out.String())
	if second.Changed() || !strings.Contains(out.String(), "nothing changed") {
		t.Fatalf("second run changed something:\n%s", out.String())
	}
	if len(second.Items) != len(first.Items) {
		t.Fatalf("second run looked after %d things, first %d", len(second.Items), len(first.Items))
	}
	for _, it := range second.Items {
		if it.Status != StatusExists && it.Status != StatusSkipped {
			t.Errorf("second run: %s %s %s", it.Kind, it.Name, it.Status)
		}
	}

	// The store serves from what setup made, without managing templates itself.
	s, err := Open(t.Context(), cfg2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckSetup(t.Context()); err != nil {
		t.Fatalf("CheckSetup after setup: %v", err)
	}
	r := storetest.Read("CAM-A", "AB12CDE", storetest.T0)
	if got, err := s.AppendReads(t.Context(), []reads.Read{r}); err != nil || got.Inserted != 1 {
		t.Fatalf("append: %+v %v", got, err)
	}
	n, err := s.CountReads(t.Context(), reads.Query{Match: reads.MatchExact, Value: "AB12CDE", From: storetest.T0, To: storetest.T0.Add(time.Second)})
	if err != nil || n != 1 {
		t.Fatalf("count = %d, %v", n, err)
	}
	// The backing index got the composed template's strict mapping: an unknown field is refused.
	code, raw, err := s.call(t.Context(), http.MethodGet, s.stream+"/_mapping", nil)
	if err != nil || code != 200 || !strings.Contains(string(raw), `"dynamic":"strict"`) || !strings.Contains(string(raw), `"geo_point"`) {
		t.Fatalf("mapping of %s: %d %v %s", s.stream, code, err, raw)
	}
	code, raw, _ = s.call(t.Context(), http.MethodPost, s.stream+"/_doc?op_type=create", map[string]any{"@timestamp": 1, "surprise": 1})
	if code != http.StatusBadRequest || !strings.Contains(string(raw), "strict_dynamic_mapping_exception") {
		t.Fatalf("unknown field accepted: %d %s", code, raw)
	}

	// A different definition (as an older anpr would have left, or a hand edit) is replaced and
	// reported; the run after that changes nothing again.
	comp := cfg.Prefix + "reads-mappings"
	if code, raw, err := s.call(t.Context(), http.MethodPut, "_component_template/"+comp,
		map[string]any{"template": map[string]any{"mappings": map[string]any{"dynamic": "true"}}}); err != nil || code != 200 {
		t.Fatalf("overwrite %s: %d %v %s", comp, code, err, raw)
	}
	third, err := Setup(t.Context(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := statusOf(third)["component template "+comp]; got != StatusUpdated {
		t.Errorf("edited component template: %q, want updated", got)
	}
	if fourth, err := Setup(t.Context(), cfg, opts); err != nil || fourth.Changed() {
		t.Errorf("run after the repair changed something: %v %+v", err, fourth.Items)
	}
}

func TestSetupOptionsRefused(t *testing.T) {
	o := SetupOptions{APIKeys: []string{"superuser"}}
	err := o.checkAndSetDefaults("anpr-")
	for _, want := range []string{"retention", `"superuser": no such role`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	o = SetupOptions{Retention: time.Hour}
	if err := o.checkAndSetDefaults("force-"); err != nil || o.AuditIndices[0] != "force-audit-*" || o.IdentityIndices[0] != "force-identity-*" {
		t.Fatalf("defaults: %+v %v", o, err)
	}
}
