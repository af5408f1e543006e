// Package keycloaktest gives a test binary one real Keycloak (the server distribution from Maven
// Central, deploy/keycloak/fetch.sh), started in development mode on free local ports the first
// time a test asks for it and stopped when the binary ends. Each test then configures a realm of
// its own through Keycloak's admin REST API, the way a force sets up its IdP (realm.go), and signs
// users in through Keycloak's real login form (login.go). Use it from TestMain:
//
//	func TestMain(m *testing.M) { keycloaktest.Main(m) }
//
// Keycloak needs Java 21 or newer; it is looked for apart from the default java (which may stay
// older for Elasticsearch): EnvJavaHome, then JAVA_HOME, then the JDKs under /usr/lib/jvm.
package keycloaktest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/proc"
)

// EnvRequire, when "1", turns a missing java 21+ or mvn into a failure instead of a skip.
const EnvRequire = "ANPR_TEST_KEYCLOAK_REQUIRE"

// EnvJavaHome names the JDK (21 or newer) to run Keycloak with.
const EnvJavaHome = "ANPR_TEST_KEYCLOAK_JAVA_HOME"

// startCap bounds the wait for a start on a busy 2-core machine (a quiet one takes about a
// minute, a loaded one nine: Quarkus re-augments in development mode, then the database schema is created). The wait
// also ends at once if the process dies.
const startCap = 15 * time.Minute

// Keycloak is the running server.
type Keycloak struct {
	URL string // e.g. http://127.0.0.1:41234

	admin     string
	adminPass string
	logPath   string
	p         *proc.Process
	// Started is how long fetch + start took, for the test log.
	Started time.Duration
}

// shared is the one server of this test binary. It is package state on purpose: it stands for
// one OS process that lives exactly as long as the test binary, which Main manages.
var shared struct {
	once sync.Once
	kc   *Keycloak
	skip string
	err  error
	work string // the server's home, database and logs; removed when the binary ends
}

// Runner runs a test binary's tests: *testing.M.
type Runner interface{ Run() int }

// Main runs the tests and stops Keycloak afterwards if a test started it.
func Main(m Runner) { os.Exit(Wrap(m).Run()) }

// Wrap is m with Keycloak stopped after its tests, for a TestMain that hands m on to another
// helper's Main (estest.Main(keycloaktest.Wrap(m))).
func Wrap(m Runner) Runner { return runner{m} }

type runner struct{ m Runner }

func (r runner) Run() int {
	code := r.m.Run()
	if kc := shared.kc; kc != nil {
		if err := kc.p.Stop(30 * time.Second); err != nil {
			fmt.Fprintf(os.Stderr, "keycloaktest: stop Keycloak: %v\n", err)
		}
	}
	if shared.work != "" {
		_ = os.RemoveAll(shared.work)
	}
	return code
}

// Server returns the binary's Keycloak, starting it on first use; it skips the test saying what
// is missing (fails under EnvRequire=1), and fails it when Keycloak could not start.
func Server(tb testing.TB) *Keycloak {
	tb.Helper()
	shared.once.Do(func() { shared.kc, shared.skip, shared.err = start() })
	switch {
	case shared.err != nil:
		tb.Fatalf("keycloaktest: %v", shared.err)
	case shared.skip != "":
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("keycloaktest: %s, and %s=1 says this machine must run the Keycloak tests", shared.skip, EnvRequire)
		}
		fmt.Println("SKIPPED: Keycloak login tests:", shared.skip)
		tb.Skip(shared.skip)
	}
	return shared.kc
}

func start() (*Keycloak, string, error) {
	began := time.Now()
	root, err := proc.WorkingRoot()
	if err != nil {
		return nil, "", err
	}
	javaHome := findJava21()
	if javaHome == "" {
		return nil, "no Java 21 or newer found (set " + EnvJavaHome + " or JAVA_HOME, or install a JDK under /usr/lib/jvm)", nil
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return nil, "mvn not found (deploy/keycloak/fetch.sh fetches Keycloak from Maven Central with it)", nil
	}
	var stdout, stderr bytes.Buffer
	fetch := exec.Command("bash", filepath.Join(root, "deploy", "keycloak", "fetch.sh"))
	fetch.Stdout, fetch.Stderr = &stdout, &stderr
	if err := fetch.Run(); err != nil {
		return nil, "", fmt.Errorf("deploy/keycloak/fetch.sh: %v\n%s", err, stderr.String())
	}
	dist := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(dist, '\n'); i >= 0 {
		dist = dist[i+1:]
	}
	work, err := os.MkdirTemp("", "anpr-keycloak-")
	if err != nil {
		return nil, "", err
	}
	shared.work = work
	home, err := privateHome(dist, filepath.Join(work, "home"))
	if err != nil {
		return nil, "", err
	}
	for attempt := 1; ; attempt++ {
		kc, err := launch(home, work, javaHome, attempt)
		if err == nil {
			kc.Started = time.Since(began)
			fmt.Printf("keycloak: %s at %s, fetch+start %s (java %s)\n", filepath.Base(dist), kc.URL, kc.Started.Round(100*time.Millisecond), javaHome)
			return kc, "", nil
		}
		if errors.Is(err, errPortTaken) && attempt < 3 {
			continue
		}
		return nil, "", err
	}
}

var errPortTaken = errors.New("port already in use")

// launch starts kc.sh start-dev on two free ports (HTTP and management) with its database in work.
func launch(home, work, javaHome string, attempt int) (*Keycloak, error) {
	httpPort, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	mgmtPort, err := proc.FreePort()
	if err != nil {
		return nil, err
	}
	kc := &Keycloak{
		URL:       fmt.Sprintf("http://127.0.0.1:%d", httpPort),
		admin:     "admin",
		adminPass: randomHex(16),
		logPath:   filepath.Join(work, fmt.Sprintf("keycloak-%d.log", attempt)),
	}
	logFile, err := os.Create(kc.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own copy
	db := filepath.Join(work, fmt.Sprintf("db-%d", attempt), "keycloakdb")
	cmd := exec.Command(filepath.Join(home, "bin", "kc.sh"), "start-dev",
		"--http-host=127.0.0.1", "--http-port="+strconv.Itoa(httpPort),
		"--http-management-port="+strconv.Itoa(mgmtPort), "--health-enabled=true",
		"--db=dev-file", "--db-url=jdbc:h2:file:"+db+";NON_KEYWORDS=VALUE",
		"--cache=local")
	cmd.Env = append(os.Environ(),
		"JAVA_HOME="+javaHome,
		"KC_BOOTSTRAP_ADMIN_USERNAME="+kc.admin, "KC_BOOTSTRAP_ADMIN_PASSWORD="+kc.adminPass,
		// A test server needs little heap; the default takes a share of the machine's memory.
		"JAVA_OPTS_KC_HEAP=-Xms64m -Xmx768m")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = work
	p, err := proc.StartGroup(cmd) // kc.sh runs java beneath it: stop the whole group
	if err != nil {
		return nil, err
	}
	kc.p = p
	ctx, cancel := context.WithTimeout(context.Background(), startCap)
	defer cancel()
	live := fmt.Sprintf("http://127.0.0.1:%d/health/ready", mgmtPort)
	err = p.WaitReady(ctx, 500*time.Millisecond, func(ctx context.Context) error {
		if err := httpOK(ctx, live); err != nil {
			return err
		}
		return httpOK(ctx, kc.URL+"/realms/master/.well-known/openid-configuration")
	})
	if err == nil {
		return kc, nil
	}
	tail := proc.Tail(kc.logPath, 60)
	_ = p.Stop(10 * time.Second)
	if strings.Contains(tail, "Address already in use") {
		return nil, errPortTaken
	}
	return nil, fmt.Errorf("keycloak at %s: %w\n--- Keycloak log (%s) ---\n%s", kc.URL, err, kc.logPath, tail)
}

func httpOK(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	return nil
}

// privateHome makes a Keycloak home of this server's own: development mode rewrites lib/quarkus
// (the augmented application) and writes data/ at every start, so two test binaries sharing the
// unpacked distribution would overwrite each other. Everything small is copied; the jars in
// lib/lib (150 MB), which nothing writes, are linked.
func privateHome(dist, home string) (string, error) {
	err := filepath.WalkDir(dist, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dist, path)
		dst := filepath.Join(home, rel)
		switch {
		case rel == filepath.Join("lib", "lib"):
			if err := os.Symlink(path, dst); err != nil {
				return err
			}
			return filepath.SkipDir
		case rel == "data":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, info.Mode().Perm())
	})
	if err != nil {
		return "", fmt.Errorf("keycloak home: %w", err)
	}
	return home, nil
}

// findJava21 returns a JDK home whose release file says Java 21 or newer, or "".
func findJava21() string {
	candidates := []string{os.Getenv(EnvJavaHome), os.Getenv("JAVA_HOME")}
	if dirs, err := filepath.Glob("/usr/lib/jvm/*"); err == nil {
		candidates = append(candidates, dirs...)
	}
	best, bestVersion := "", 0
	for i, c := range candidates {
		if c == "" {
			continue
		}
		v := javaMajor(filepath.Join(c, "release"))
		if v < 21 {
			continue
		}
		if i < 2 { // named explicitly: take it
			return c
		}
		if _, err := os.Stat(filepath.Join(c, "bin", "java")); err == nil && v > bestVersion {
			best, bestVersion = c, v
		}
	}
	return best
}

func javaMajor(release string) int {
	f, err := os.Open(release)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "JAVA_VERSION="); ok {
			v = strings.Trim(v, `"`)
			major, _, _ := strings.Cut(v, ".")
			n, _ := strconv.Atoi(major)
			return n
		}
	}
	return 0
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

func procTail(path string) string { return proc.Tail(path, 60) }
