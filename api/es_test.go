package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/identity/dextest"
	"github.com/anpr-portal/anpr/internal/identity/keycloaktest"
	"github.com/anpr-portal/anpr/internal/proc"
	"github.com/anpr-portal/anpr/internal/seed"
	"github.com/anpr-portal/anpr/internal/store/elastic/estest"
)

// esTests are the tests of this package that need the real Elasticsearch node.
var esTests = []string{"TestServeOnElasticsearch", "TestAuthorityStoryES", "TestAuthorityAttacksES"}

// TestMain starts the Elasticsearch node (estest) only when a test that needs it is selected:
// it takes half a minute and half a gigabyte, and the other tests here run without it.
func TestMain(m *testing.M) {
	runAsChildIfAsked() // a crash test's portal process (crash_test.go) exits here
	flag.Parse()
	pattern := flag.Lookup("test.run").Value.String()
	top, _, _ := strings.Cut(pattern, "/")
	re, err := regexp.Compile(top)
	for _, name := range esTests {
		if pattern == "" || (err == nil && re.MatchString(name)) {
			estest.Main(keycloaktest.Wrap(m)) // exits
		}
	}
	keycloaktest.Main(m) // Keycloak starts only if a test asks for it (keycloak_test.go)
}

// startPortalES is startPortal with every store in Elasticsearch (reads, audit log, identity,
// authorities, holds) under a fresh index prefix on the test node, after `anpr es setup`.
func startPortalES(t *testing.T, addr, issuer, secret string) *portal {
	t.Helper()
	node := estest.Node(t)
	var b [4]byte
	rand.Read(b[:])
	prefix := "anpr-api-" + hex.EncodeToString(b[:]) + "-"
	for k, v := range map[string]string{
		"ANPR_BACKEND": "elasticsearch", "ANPR_ELASTICSEARCH_URLS": node.URL,
		"ANPR_ELASTICSEARCH_INDEX_PREFIX": prefix, "ANPR_ELASTICSEARCH_REFRESH": "true",
	} {
		t.Setenv(k, v)
	}
	if out, err := run(t, map[string]string{"ANPR_DATA_DIR": t.TempDir(), "ANPR_LOG_LEVEL": "error"}, "es", "setup"); err != nil {
		t.Fatalf("es setup: %v\n%s", err, out)
	}
	return startPortal(t, addr, issuer, secret)
}

// Serving on a real Elasticsearch node: a portal on an unprepared cluster
// says to run setup; `anpr es setup` twice changes nothing the second time; then `anpr seed` and
// `anpr serve` with backend elasticsearch, an investigator's search through Dex answered from
// Elasticsearch, and /readyz following the cluster's health (red is not ready).
func TestServeOnElasticsearch(t *testing.T) {
	node := estest.Node(t)
	var b [4]byte
	rand.Read(b[:])
	prefix := "anpr-api-" + hex.EncodeToString(b[:]) + "-"
	for k, v := range map[string]string{
		"ANPR_BACKEND": "elasticsearch", "ANPR_ELASTICSEARCH_URLS": node.URL,
		"ANPR_ELASTICSEARCH_INDEX_PREFIX": prefix, "ANPR_ELASTICSEARCH_REFRESH": "true",
	} {
		t.Setenv(k, v)
	}
	env := map[string]string{"ANPR_DATA_DIR": t.TempDir(), "ANPR_LOG_LEVEL": "error"}

	if out, err := run(t, env, "seed", "--reads", "10000"); err == nil || !strings.Contains(err.Error(), "anpr es setup") {
		t.Fatalf("seed into an unprepared cluster: %v\n%s", err, out)
	}
	out, err := run(t, env, "es", "setup")
	if err != nil || !strings.Contains(out, "created  index template     "+prefix+"reads") {
		t.Fatalf("es setup: %v\n%s", err, out)
	}
	t.Logf("es setup, first run:\n%s", out)
	out, err = run(t, env, "es", "setup")
	if err != nil || !strings.Contains(out, "nothing changed") || strings.Contains(out, "\n  created") {
		t.Fatalf("es setup, second run changed something: %v\n%s", err, out)
	}

	addr := freePort(t)
	dex := dextest.Start(t, dextest.Options{RedirectURIs: []string{"http://" + addr + "/auth/callback"}})
	p := startPortal(t, addr, dex.Issuer, dex.ClientSecret)
	defer func() { p.stop() }()

	code, ready := getJSON(t, p.base+"/readyz")
	if code != 200 || !strings.Contains(ready, `"cluster":"ok"`) || !strings.Contains(ready, `"audit":"ok"`) {
		t.Fatalf("readyz on elasticsearch: %d %s", code, ready)
	}

	inv := login(t, dex, p.base, userByRole(dex, dextest.RoleInvestigator))
	now := time.Now().UTC()
	body := fmt.Sprintf(`{"vrm":%q,"from":%q,"to":%q,"reason":{"purpose":"stolen_vehicle","case_ref":"MPS/12345/26",`+
		`"offence_code":"TH68010","justification":"vehicle reported stolen from Ealing driveway overnight; owner saw it leave westbound towards Perivale"}}`,
		seed.MisreadVRM, now.AddDate(0, 0, -30).Format(time.RFC3339), now.Format(time.RFC3339))
	code, res := inv.call("POST", "/api/v1/searches/exact", body)
	hits, _ := res["hits"].([]any)
	if code != 200 || len(hits) == 0 {
		t.Fatalf("exact search on elasticsearch: %d %v", code, res)
	}
	for _, h := range hits {
		if h.(map[string]any)["vrm"] != seed.MisreadVRM {
			t.Errorf("hit %v", h)
		}
	}
	// The reads came from Elasticsearch: the store's stream holds the seeded reads.
	code, count := getJSON(t, node.URL+"/"+prefix+"reads/_count")
	if code != 200 || !strings.Contains(count, `"count":10000`) {
		t.Fatalf("reads in %sreads: %d %s", prefix, code, count)
	}

	// A primary that cannot be assigned turns the cluster red: the portal is then not ready.
	red := prefix + "red"
	esDo(t, http.MethodPut, node.URL+"/"+red+"?wait_for_active_shards=0",
		`{"settings":{"number_of_replicas":0,"index.routing.allocation.require._name":"no-such-node"}}`)
	defer esDo(t, http.MethodDelete, node.URL+"/"+red, "")
	code, ready = getJSON(t, p.base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(ready, `"cluster":"elastic: cluster`) || !strings.Contains(ready, "red") {
		t.Fatalf("readyz with a red cluster: %d %s", code, ready)
	}
	esDo(t, http.MethodDelete, node.URL+"/"+red, "")
	code, ready = getJSON(t, p.base+"/readyz")
	if code != 200 {
		t.Fatalf("readyz after the red index went: %d %s", code, ready)
	}
}

func getJSON(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func esDo(t *testing.T, method, url, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), proc.WaitCap)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 && !(method == http.MethodDelete && resp.StatusCode == 404) {
		t.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, b)
	}
}
