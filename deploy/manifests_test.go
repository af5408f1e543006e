// Package deploy_test checks the deployment files: no container engine or cluster runs where the
// tests do, so every manifest is parsed, the portal configuration embedded in them is validated
// with the portal's own validator, and the names that tie the files together are checked to
// agree (a Secret the Deployment reads exists, the CA file is where the CA is mounted, ...).
package deploy_test

import (
	"bytes"
	"errors"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/anpr-portal/anpr/internal/audit"
	"github.com/anpr-portal/anpr/internal/config"
)

type obj = map[string]any

// get walks decoded YAML by keys and list indices.
func get(v any, path ...string) any {
	for _, p := range path {
		switch t := v.(type) {
		case obj:
			v = t[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i >= len(t) {
				return nil
			}
			v = t[i]
		default:
			return nil
		}
	}
	return v
}

func str(v any, path ...string) string { s, _ := get(v, path...).(string); return s }

func list(v any, path ...string) []any { l, _ := get(v, path...).([]any); return l }

// readDocs decodes every YAML document of a file.
func readDocs(t *testing.T, path string) []obj {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	var docs []obj
	for {
		var d obj
		err := dec.Decode(&d)
		if errors.Is(err, io.EOF) {
			return docs
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			docs = append(docs, d)
		}
	}
}

// k8s loads deploy/k8s: every document must be a Kubernetes object, and the kustomization must
// list exactly the files there.
func k8s(t *testing.T) map[string]obj {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/k8s: %v", err)
	}
	objs := map[string]obj{}
	var resources []string
	for _, f := range files {
		for _, d := range readDocs(t, f) {
			kind := str(d, "kind")
			if kind == "Kustomization" {
				for _, r := range list(d, "resources") {
					resources = append(resources, r.(string))
				}
				continue
			}
			name := str(d, "metadata", "name")
			if str(d, "apiVersion") == "" || kind == "" || name == "" {
				t.Errorf("%s: a document without apiVersion, kind or metadata.name: %v", f, d)
			}
			objs[kind+"/"+name] = d
		}
	}
	var want []string
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" {
			want = append(want, b)
		}
	}
	slices.Sort(resources)
	if !slices.Equal(resources, want) {
		t.Errorf("kustomization lists %v, the directory has %v", resources, want)
	}
	return objs
}

func must(t *testing.T, objs map[string]obj, key string) obj {
	t.Helper()
	o, ok := objs[key]
	if !ok {
		t.Fatalf("no %s in deploy/k8s", key)
	}
	return o
}

// loadPortalConfig validates a portal config file with its environment, as `anpr serve` would.
func loadPortalConfig(t *testing.T, body string, env []string, serve bool) config.Config {
	t.Helper()
	p := filepath.Join(t.TempDir(), "anpr.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p, env)
	if err != nil {
		t.Fatalf("portal config does not load:\n%v", err)
	}
	if serve {
		if err := cfg.ValidateServe(); err != nil {
			t.Fatalf("portal config cannot serve:\n%v", err)
		}
	}
	if cfg.Backend != "elasticsearch" {
		t.Errorf("deployed portal on backend %q", cfg.Backend)
	}
	return cfg
}

// podEnv is a container's environment as the portal would see it: literal values, and every key
// of the Secrets it takes whole (envFrom) or by key.
func podEnv(t *testing.T, objs map[string]obj, c any) []string {
	t.Helper()
	var env []string
	for _, e := range list(c, "env") {
		name, v := str(e, "name"), str(e, "value")
		if ref := get(e, "valueFrom", "secretKeyRef"); ref != nil {
			v = "from-secret-" + str(ref, "name") // ECK's and other external Secrets
		}
		if name == "ANPR_CONFIG" {
			continue // the file is given to Load directly
		}
		env = append(env, name+"="+v)
	}
	for _, ef := range list(c, "envFrom") {
		sec := must(t, objs, "Secret/"+str(ef, "secretRef", "name"))
		for k, v := range get(sec, "stringData").(obj) {
			env = append(env, k+"="+v.(string))
		}
	}
	return env
}

// mounts maps a container's mount paths to the volume definitions behind them.
func mounts(pod, c any) map[string]any {
	vols := map[string]any{}
	for _, v := range list(pod, "volumes") {
		vols[str(v, "name")] = v
	}
	out := map[string]any{}
	for _, m := range list(c, "volumeMounts") {
		out[str(m, "mountPath")] = vols[str(m, "name")]
	}
	return out
}

func TestK8sManifests(t *testing.T) {
	objs := k8s(t)
	es := must(t, objs, "Elasticsearch/anpr")
	if !strings.HasPrefix(str(es, "apiVersion"), "elasticsearch.k8s.elastic.co/") || !strings.HasPrefix(str(es, "spec", "version"), "8.") {
		t.Errorf("ECK resource: %v", es)
	}
	esName := str(es, "metadata", "name")
	cm := must(t, objs, "ConfigMap/anpr-portal-config")
	dep := must(t, objs, "Deployment/anpr-portal")
	pod := get(dep, "spec", "template", "spec")
	c := get(pod, "containers", "0")
	body := str(cm, "data", "anpr.yaml")
	cfg := loadPortalConfig(t, body, podEnv(t, objs, c), true)
	m := mounts(pod, c)

	// The config the Deployment names is the ConfigMap's.
	var cfgPath string
	for _, e := range list(c, "env") {
		if str(e, "name") == "ANPR_CONFIG" {
			cfgPath = str(e, "value")
		}
	}
	if str(m[filepath.Dir(cfgPath)], "configMap", "name") != str(cm, "metadata", "name") || filepath.Base(cfgPath) != "anpr.yaml" {
		t.Errorf("ANPR_CONFIG %s is not the mounted ConfigMap", cfgPath)
	}
	// The cluster is ECK's service, over TLS, trusted through ECK's CA.
	u, err := url.Parse(cfg.Elasticsearch.URLs[0])
	if err != nil || u.Scheme != "https" || u.Hostname() != esName+"-es-http" {
		t.Errorf("elasticsearch.urls %v: want https://%s-es-http:9200", cfg.Elasticsearch.URLs, esName)
	}
	if str(m[filepath.Dir(cfg.Elasticsearch.CAFile)], "secret", "secretName") != esName+"-es-http-certs-public" || filepath.Base(cfg.Elasticsearch.CAFile) != "ca.crt" {
		t.Errorf("ca_file %s is not ECK's CA", cfg.Elasticsearch.CAFile)
	}
	// The API key is given, and no superuser password.
	env := strings.Join(podEnv(t, objs, c), "\n")
	if cfg.Elasticsearch.APIKey == "" || strings.Contains(env, "ANPR_ELASTICSEARCH_PASSWORD") {
		t.Error("the portal must run with its API key, not a password")
	}
	// The audit signing key is the mounted Secret with the files the audit package reads.
	keys := m[cfg.Audit.KeyDir]
	ks := must(t, objs, "Secret/"+str(keys, "secret", "secretName"))
	for _, f := range []string{audit.SignerKeyFile, audit.VerifierKeysFile} {
		if get(ks, "stringData", f) == nil {
			t.Errorf("audit key Secret lacks %s", f)
		}
	}
	// The data directory (SQLite audit log and identity) is a claim that exists, and writable.
	must(t, objs, "PersistentVolumeClaim/"+str(m[cfg.DataDir], "persistentVolumeClaim", "claimName"))
	// Ports, probes and labels agree.
	_, port, _ := strings.Cut(cfg.Listen, ":")
	if strconv.Itoa(get(c, "ports", "0", "containerPort").(int)) != port {
		t.Errorf("container port %v, config listens on %s", get(c, "ports", "0", "containerPort"), cfg.Listen)
	}
	if str(c, "readinessProbe", "httpGet", "path") != "/readyz" || str(c, "livenessProbe", "httpGet", "path") != "/healthz" {
		t.Error("probes are not /readyz and /healthz")
	}
	svc := must(t, objs, "Service/anpr-portal")
	labels := get(dep, "spec", "template", "metadata", "labels").(obj)
	for k, v := range get(svc, "spec", "selector").(obj) {
		if labels[k] != v {
			t.Errorf("service selector %s=%v does not match the pods", k, v)
		}
	}
	for k, v := range get(dep, "spec", "selector", "matchLabels").(obj) {
		if labels[k] != v {
			t.Errorf("deployment selector %s=%v does not match its pods", k, v)
		}
	}
	if str(svc, "spec", "ports", "0", "targetPort") != str(c, "ports", "0", "name") {
		t.Error("service targetPort is not the container's port name")
	}
	// While the audit log is SQLite on the volume, one writer: one replica, never two at once.
	if get(dep, "spec", "replicas") != 1 || str(dep, "spec", "strategy", "type") != "Recreate" {
		t.Error("more than one portal could write the SQLite audit log")
	}

	// The setup Job: same config, the elastic user ECK made.
	job := must(t, objs, "Job/anpr-es-setup")
	jpod := get(job, "spec", "template", "spec")
	jc := get(jpod, "containers", "0")
	if str(mounts(jpod, jc)["/etc/anpr"], "configMap", "name") != str(cm, "metadata", "name") {
		t.Error("setup Job does not read the portal's ConfigMap")
	}
	var userSecret string
	for _, e := range list(jc, "env") {
		if str(e, "name") == "ANPR_ELASTICSEARCH_PASSWORD" {
			userSecret = str(e, "valueFrom", "secretKeyRef", "name")
		}
	}
	if userSecret != esName+"-es-elastic-user" || str(jc, "args", "0") != "es" || str(jc, "args", "1") != "setup" {
		t.Errorf("setup Job: args %v, password from %q", get(jc, "args"), userSecret)
	}
	jcfg := loadPortalConfig(t, body, podEnv(t, objs, jc), false)
	if jcfg.Elasticsearch.Username != "elastic" {
		t.Errorf("setup Job runs as %q", jcfg.Elasticsearch.Username)
	}
}

// expand applies compose's interpolation to a value: ${VAR:-default} and ${VAR} with nothing
// set in the environment (what a fresh checkout has), and $$ for a literal $.
func expand(s string) string {
	re := regexp.MustCompile(`\$\{([A-Z_]+)(:-([^}]*))?\}`)
	s = re.ReplaceAllString(s, "$3")
	return strings.ReplaceAll(s, "$$", "$")
}

func serviceEnv(svc any) []string {
	var env []string
	for k, v := range get(svc, "environment").(obj) {
		if k != "ANPR_CONFIG" {
			env = append(env, k+"="+expand(v.(string)))
		}
	}
	return env
}

func TestCompose(t *testing.T) {
	docs := readDocs(t, "compose.yaml")
	if len(docs) != 1 {
		t.Fatalf("compose.yaml: %d documents", len(docs))
	}
	services := get(docs[0], "services").(obj)
	for _, s := range []string{"elasticsearch", "dex", "init", "portal"} {
		if services[s] == nil {
			t.Fatalf("compose.yaml has no %s service", s)
		}
	}
	esEnv := get(services["elasticsearch"], "environment")
	if str(esEnv, "xpack.security.enabled") != "true" || !strings.Contains(str(services["elasticsearch"], "image"), "elasticsearch:8.") {
		t.Errorf("Elasticsearch 8 with security on: %v", services["elasticsearch"])
	}
	portal := services["portal"]
	if df := filepath.Join(str(portal, "build", "context"), str(portal, "build", "dockerfile")); df != "../deploy/Dockerfile" {
		t.Errorf("portal built from %s", df)
	} else if _, err := os.Stat(df); err != nil {
		t.Error(err)
	}
	if str(services["init"], "build", "target") != "init" || str(services["init"], "build", "dockerfile") != "deploy/Dockerfile" {
		t.Errorf("init service build: %v", get(services["init"], "build"))
	}
	// The config file both mount, validated with each one's environment.
	var host string
	for _, v := range list(portal, "volumes") {
		if src, dst, _ := strings.Cut(v.(string), ":"); strings.HasPrefix(dst, "/etc/anpr/anpr.yaml") {
			host = src
		}
	}
	body, err := os.ReadFile(host)
	if err != nil {
		t.Fatalf("portal config %q: %v", host, err)
	}
	cfg := loadPortalConfig(t, string(body), serviceEnv(portal), true)
	if cfg.Elasticsearch.APIKeyFile == "" || cfg.Elasticsearch.Username != "" {
		t.Error("the compose portal must run with the API key es setup wrote, not the superuser")
	}
	icfg := loadPortalConfig(t, string(body), serviceEnv(services["init"]), false)
	if icfg.Elasticsearch.Password != str(esEnv, "ELASTIC_PASSWORD") && icfg.Elasticsearch.Password != expand(str(esEnv, "ELASTIC_PASSWORD")) {
		t.Error("init's elastic password is not the cluster's")
	}
	if u, _ := url.Parse(cfg.Elasticsearch.URLs[0]); u.Hostname() != "elasticsearch" {
		t.Errorf("elasticsearch.urls %v: not the compose service", cfg.Elasticsearch.URLs)
	}
	// Browser and portal must see one issuer: Dex's, under a name the dex service answers to.
	dexCfg := readDocs(t, "compose/dex.yaml")[0]
	if str(dexCfg, "issuer") != cfg.Identity.Issuer {
		t.Errorf("Dex issuer %q, portal issuer %q", str(dexCfg, "issuer"), cfg.Identity.Issuer)
	}
	iu, _ := url.Parse(cfg.Identity.Issuer)
	if !slices.Contains(list(services["dex"], "networks", "default", "aliases"), any(iu.Hostname())) {
		t.Errorf("issuer host %s is not an alias of the dex service", iu.Hostname())
	}
	if str(get(dexCfg, "staticClients", "0"), "secret") != cfg.Identity.ClientSecret ||
		str(dexCfg, "staticClients", "0", "redirectURIs", "0") != cfg.Identity.RedirectURL {
		t.Errorf("Dex client does not match the portal: %v vs %s", get(dexCfg, "staticClients"), cfg.Identity.RedirectURL)
	}
}

// The compose Dex config is the development template rendered, so its demo users are the ones
// make run and the tests log in as.
func TestComposeDexIsTheTemplate(t *testing.T) {
	tmpl, err := os.ReadFile("dex/config.yaml.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	r := strings.NewReplacer("@ISSUER@", "http://dex.localhost:5556/dex", "@HTTP_ADDR@", "0.0.0.0:5556",
		"@CLIENT_SECRET@", "anpr-portal-demo-secret", "@REDIRECT_URIS@", `["http://localhost:8080/auth/callback"]`)
	want := r.Replace(string(tmpl))
	got, err := os.ReadFile("compose/dex.yaml")
	if err != nil {
		t.Fatal(err)
	}
	from := func(s string) string { return s[strings.Index(s, "\nissuer:"):] }
	if from(want) != from(string(got)) {
		t.Error("deploy/compose/dex.yaml differs from deploy/dex/config.yaml.tmpl rendered; re-render it (see its header)")
	}
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(raw)
	stages := regexp.MustCompile(`(?m)^FROM \S+ AS (\S+)$`).FindAllStringSubmatch(df, -1)
	var names []string
	for _, s := range stages {
		names = append(names, s[1])
	}
	if !slices.Equal(names, []string{"web", "build", "init", "portal"}) {
		t.Errorf("stages %v: want web, build, init, portal (the portal last: the default target)", names)
	}
	// The front end is built only where it exists, and the Go build embeds what it made.
	if !strings.Contains(df, "if [ -f frontend/package.json ]") || !strings.Contains(df, "npm ci") ||
		!strings.Contains(df, "COPY --from=web /src/frontend/dist/ ./frontend/dist/") {
		t.Error("Dockerfile does not build the front end when frontend/ exists")
	}
	// The Go image is the go.mod toolchain.
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goLine := regexp.MustCompile(`(?m)^go (\S+)$`).FindSubmatch(mod)
	if goLine == nil || !strings.Contains(df, "ARG GO_VERSION="+string(goLine[1])+"\n") {
		t.Errorf("Dockerfile GO_VERSION is not go.mod's go %s", goLine[1])
	}
	for _, src := range regexp.MustCompile(`(?m)^COPY (deploy/\S+)`).FindAllStringSubmatch(df, -1) {
		if _, err := os.Stat(filepath.Join("..", src[1])); err != nil {
			t.Errorf("Dockerfile copies %s: %v", src[1], err)
		}
	}
	if !strings.Contains(df, "CGO_ENABLED=0") || !strings.Contains(df, "USER 65532") {
		t.Error("the image should be a static binary running as non-root")
	}
}
