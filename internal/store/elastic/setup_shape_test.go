package elastic

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// REQUEST-SHAPE TESTS. The test node runs without ILM and with security off (estest prints
// what it lacks), so the ILM policy, roles and API keys cannot be verified against a real node
// here. These tests check the requests `anpr es setup` sends for them against an httptest
// server that answers like Elasticsearch 8 (X-Elastic-Product header, its response envelopes,
// 404 for what does not exist) and remembers what was PUT, so that a second run can be shown to
// change nothing. They are request-shape tests: they do not count as Elasticsearch verified.

type shapeReq struct {
	Method, Path, Query string
	Body                map[string]any
}

// fakeES is an Elasticsearch stand-in with just enough behaviour for setup: it stores
// definitions and API keys and answers GETs with what it stored.
type fakeES struct {
	modules  []string
	security string // "on", "off" (no security endpoints) or "refuse" (401)

	mu   sync.Mutex
	reqs []shapeReq
	defs map[string]map[string]any // path -> stored body
	keys []map[string]any
}

func newFakeES(t *testing.T, security string, modules ...string) (*fakeES, *httptest.Server) {
	f := &fakeES{modules: modules, security: security, defs: map[string]map[string]any{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	w.Header().Set("Content-Type", "application/json")
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	p := strings.TrimPrefix(r.URL.Path, "/")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, shapeReq{r.Method, p, r.URL.RawQuery, body})
	reply := func(code int, v any) {
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
	}
	notFound := func() {
		reply(404, map[string]any{"error": map[string]any{"type": "resource_not_found_exception", "reason": p + " missing"}, "status": 404})
	}
	name := p[strings.LastIndexByte(p, '/')+1:]
	switch {
	case p == "_nodes/plugins":
		mods := []map[string]string{}
		for _, m := range f.modules {
			mods = append(mods, map[string]string{"name": m})
		}
		reply(200, map[string]any{"nodes": map[string]any{"n1": map[string]any{"version": "8.19.21", "modules": mods, "plugins": []any{}}}})
	case p == "_security/_authenticate":
		switch f.security {
		case "on":
			reply(200, map[string]any{"username": "elastic", "roles": []string{"superuser"}})
		case "refuse":
			reply(401, map[string]any{"error": map[string]any{"type": "security_exception", "reason": "unable to authenticate user [elastic]"}, "status": 401})
		default:
			reply(405, map[string]any{"error": "Incorrect HTTP method for uri [/_security/_authenticate] and method [GET], allowed: [POST]", "status": 405})
		}
	case p == "_security/api_key" && r.Method == http.MethodGet:
		var out []map[string]any
		for _, k := range f.keys {
			if k["name"] == r.URL.Query().Get("name") {
				out = append(out, map[string]any{"id": k["id"], "name": k["name"], "invalidated": false})
			}
		}
		if out == nil {
			notFound()
			return
		}
		reply(200, map[string]any{"api_keys": out})
	case p == "_security/api_key" && r.Method == http.MethodPost:
		id := fmt.Sprintf("key%d", len(f.keys)+1)
		body["id"] = id
		f.keys = append(f.keys, body)
		reply(200, map[string]any{"id": id, "name": body["name"], "api_key": "secret-" + id, "encoded": "ZW5jb2RlZC0=" + id})
	case r.Method == http.MethodPut:
		f.defs[p] = body
		reply(200, map[string]any{"acknowledged": true})
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		def, ok := f.defs[p]
		if !ok {
			notFound()
			return
		}
		switch {
		case strings.HasPrefix(p, "_ilm/policy/"):
			reply(200, map[string]any{name: map[string]any{"version": 1, "modified_date": "2026-11-23T00:00:00Z", "policy": def["policy"]}})
		case strings.HasPrefix(p, "_component_template/"):
			reply(200, map[string]any{"component_templates": []any{map[string]any{"name": name, "component_template": def}}})
		case strings.HasPrefix(p, "_index_template/"):
			reply(200, map[string]any{"index_templates": []any{map[string]any{"name": name, "index_template": def}}})
		case strings.HasPrefix(p, "_security/role/"):
			reply(200, map[string]any{name: def})
		case strings.HasPrefix(p, "_data_stream/"):
			reply(200, map[string]any{"data_streams": []any{map[string]any{"name": name}}})
		default:
			reply(200, map[string]any{p: def})
		}
	default:
		reply(400, map[string]any{"error": "fakeES: unexpected " + r.Method + " " + p})
	}
}

// writes returns the requests that changed something.
func (f *fakeES) writes() []shapeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []shapeReq
	for _, r := range f.reqs {
		if r.Method == http.MethodPut || r.Method == http.MethodPost || r.Method == http.MethodDelete {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeES) sent(method, path string) map[string]any {
	for _, r := range f.writes() {
		if r.Method == method && r.Path == path {
			return r.Body
		}
	}
	return nil
}

var allModules = []string{"x-pack-ilm", "x-pack-security", "wildcard", "data-streams", "analysis-common"}

func shapeConfig(url string) Config {
	return Config{Addresses: []string{url}, Logger: slog.New(slog.DiscardHandler)}
}

// at reads a JSON path out of a decoded body, for assertions.
func at(v any, path ...string) any {
	b, _ := json.Marshal(v)
	return dig(b, path...)
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestRequestShapeSetupOnAFullCluster(t *testing.T) {
	f, srv := newFakeES(t, "on", allModules...)
	opts := SetupOptions{Retention: 365 * 24 * time.Hour, APIKeys: Roles()}
	rep, err := Setup(t.Context(), shapeConfig(srv.URL), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Lacks) != 0 {
		t.Errorf("a full cluster lacks %v", rep.Lacks)
	}

	// ILM: rollover in the hot phase, delete at retention.
	pol := f.sent("PUT", "_ilm/policy/anpr-reads")
	if at(pol, "policy", "phases", "hot", "actions", "rollover", "max_age") != "24h" ||
		at(pol, "policy", "phases", "hot", "actions", "rollover", "max_primary_shard_size") != "50gb" ||
		at(pol, "policy", "phases", "delete", "min_age") != "8760h" ||
		at(pol, "policy", "phases", "delete", "actions", "delete") == nil {
		t.Errorf("ILM policy: %v", pol)
	}
	// Templates: the index template is composed of the mapping and the lifecycle components.
	it := f.sent("PUT", "_index_template/anpr-reads")
	if got := strs(at(it, "composed_of")); !slices.Equal(got, []string{"anpr-reads-mappings", "anpr-reads-lifecycle"}) ||
		at(it, "data_stream") == nil || strs(at(it, "index_patterns"))[0] != "anpr-reads" || at(it, "template") != nil {
		t.Errorf("index template: %v", it)
	}
	if at(f.sent("PUT", "_component_template/anpr-reads-lifecycle"), "template", "settings", "index.lifecycle.name") != "anpr-reads" {
		t.Errorf("lifecycle component: %v", f.sent("PUT", "_component_template/anpr-reads-lifecycle"))
	}
	m := f.sent("PUT", "_component_template/anpr-reads-mappings")
	if at(m, "template", "mappings", "dynamic") != "strict" ||
		at(m, "template", "mappings", "properties", "vrm", "fields", "wildcard", "type") != "wildcard" ||
		at(m, "template", "mappings", "properties", "location", "type") != "geo_point" {
		t.Errorf("mapping component is not readsTemplate's strict mapping: %v", m)
	}
	if !slices.ContainsFunc(f.writes(), func(r shapeReq) bool { return r.Path == "_data_stream/anpr-reads" }) {
		t.Error("data stream not created")
	}

	// The audit writer may create audit documents and do nothing else with them: no cluster
	// privilege, create_doc on the audit indices, and index only on the writer lease, which holds
	// no audit data.
	aw := f.sent("PUT", "_security/role/anpr-audit-writer")
	if len(at(aw, "cluster").([]any)) != 0 || len(at(aw, "indices").([]any)) != 2 ||
		!slices.Equal(strs(at(aw, "indices", "0", "names")), []string{"anpr-audit-*"}) ||
		!slices.Equal(strs(at(aw, "indices", "0", "privileges")), []string{"create_doc"}) ||
		!slices.Equal(strs(at(aw, "indices", "1", "names")), []string{"anpr-audit-writers"}) ||
		!slices.Equal(strs(at(aw, "indices", "1", "privileges")), []string{"index"}) {
		t.Errorf("audit writer role: %v", aw)
	}
	// The search role only reads.
	sr := f.sent("PUT", "_security/role/anpr-search")
	for _, e := range at(sr, "indices").([]any) {
		for _, p := range strs(at(e, "privileges")) {
			if p != "read" && p != "view_index_metadata" {
				t.Errorf("search role has %q", p)
			}
		}
	}
	// No role can change or remove an audit event, checkpoint or erasure record: the append-only
	// rule, refused by privileges. The only exceptions are named: re-indexing the writer lease, and
	// deleting a payload document for an erasure the law requires (the event keeps its digest).
	exception := map[string]string{"anpr-audit-writers": "index", "anpr-audit-payloads": "delete"}
	for _, role := range Roles() {
		def := f.sent("PUT", "_security/role/anpr-"+role)
		if def == nil {
			t.Fatalf("role %s not created", role)
		}
		for _, e := range at(def, "indices").([]any) {
			names := strs(at(e, "names"))
			for _, n := range names {
				if !strings.HasPrefix(n, "anpr-audit-") {
					continue
				}
				for _, p := range strs(at(e, "privileges")) {
					if !slices.Contains([]string{"all", "write", "index", "delete", "delete_index", "manage", "create"}, p) {
						continue
					}
					if len(names) != 1 || exception[n] != p {
						t.Errorf("role %s may %q %v", role, p, names)
					}
				}
			}
		}
	}
	// One API key per requested role, each limited to exactly that role's privileges.
	var keys []SetupItem
	for _, it := range rep.Items {
		if it.Kind == "API key" {
			keys = append(keys, it)
		}
	}
	if len(keys) != len(Roles()) || len(f.keys) != len(Roles()) {
		t.Fatalf("API keys: report %v, cluster %v", keys, f.keys)
	}
	for _, k := range f.keys {
		name := k["name"].(string)
		role := f.sent("PUT", "_security/role/"+name)
		desc := at(k, "role_descriptors", name)
		if desc == nil || fmt.Sprint(at(desc, "indices")) != fmt.Sprint(at(role, "indices")) {
			t.Errorf("key %s: descriptor %v, role %v", name, desc, role)
		}
	}
	for _, it := range keys {
		if it.Status != StatusCreated || it.Secret == "" {
			t.Errorf("new key %s: %s, secret shown %v", it.Name, it.Status, it.Secret != "")
		}
	}

	// The second run sends no write at all and shows no secret.
	before := len(f.writes())
	rep2, err := Setup(t.Context(), shapeConfig(srv.URL), opts)
	if err != nil {
		t.Fatal(err)
	}
	if after := f.writes(); len(after) != before || rep2.Changed() {
		t.Fatalf("second run wrote %v", after[before:])
	}
	for _, it := range rep2.Items {
		if it.Status != StatusExists || it.Secret != "" {
			t.Errorf("second run: %s %s %s", it.Kind, it.Name, it.Status)
		}
	}
}

// The audit log's indices are named by its backend; setup takes them as a parameter.
func TestRequestShapeSetupAuditIndicesAndNoDeletePhase(t *testing.T) {
	f, srv := newFakeES(t, "on", allModules...)
	cfg := shapeConfig(srv.URL)
	cfg.Prefix = "force-"
	_, err := Setup(t.Context(), cfg, SetupOptions{NoDeletePhase: true, AuditIndices: []string{"force-audit-events", "force-audit-checkpoints"}})
	if err != nil {
		t.Fatal(err)
	}
	aw := f.sent("PUT", "_security/role/force-audit-writer")
	if got := strs(at(aw, "indices", "0", "names")); !slices.Equal(got, []string{"force-audit-events", "force-audit-checkpoints"}) {
		t.Errorf("audit writer names %v", got)
	}
	if pol := f.sent("PUT", "_ilm/policy/force-reads"); at(pol, "policy", "phases", "delete") != nil || at(pol, "policy", "phases", "hot") == nil {
		t.Errorf("policy without delete phase: %v", pol)
	}
	if len(f.keys) != 0 {
		t.Errorf("keys issued though none asked for: %v", f.keys)
	}
}

// A cluster without ILM and with security off: nothing is sent to their APIs, and the report
// says what is missing.
func TestRequestShapeSetupReportsWhatTheClusterLacks(t *testing.T) {
	f, srv := newFakeES(t, "off", "x-pack-security")
	rep, err := Setup(t.Context(), shapeConfig(srv.URL), SetupOptions{Retention: time.Hour * 24 * 365, APIKeys: []string{RolePortal}})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range f.writes() {
		if strings.HasPrefix(w.Path, "_ilm") || strings.HasPrefix(w.Path, "_security") || strings.Contains(w.Path, "lifecycle") {
			t.Errorf("sent %s %s to a cluster without it", w.Method, w.Path)
		}
	}
	lacks := strings.Join(rep.Lacks, "\n")
	for _, want := range []string{"ILM", "security", "wildcard field type", "data stream API"} {
		if !strings.Contains(lacks, want) {
			t.Errorf("report does not say the cluster lacks %s:\n%s", want, lacks)
		}
	}
	if at(f.sent("PUT", "_component_template/anpr-reads-mappings"), "template", "mappings", "properties", "vrm", "fields") != nil {
		t.Error("wildcard subfield mapped on a cluster without the type")
	}
}

// Credentials the cluster refuses stop setup before any role is written.
func TestRequestShapeSetupRefusedCredentials(t *testing.T) {
	f, srv := newFakeES(t, "refuse", allModules...)
	_, err := Setup(t.Context(), shapeConfig(srv.URL), SetupOptions{Retention: time.Hour * 24 * 365})
	if err == nil || !strings.Contains(err.Error(), "refused these credentials") {
		t.Fatalf("refused credentials: %v", err)
	}
	for _, w := range f.writes() {
		if strings.HasPrefix(w.Path, "_security") {
			t.Errorf("wrote %s after the cluster refused the credentials", w.Path)
		}
	}
}
