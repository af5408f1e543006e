// Package dextest starts the project's bundled identity provider (Dex, built from
// deploy/dex) on a free local port for tests, so login is tested against a real OIDC server
// rather than a fake one.
package dextest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/proc"
)

// ClientID is the OAuth2 client the portal uses; deploy/dex/config.yaml.tmpl registers it.
const ClientID = "anpr-portal"

// Options configure a test Dex.
type Options struct {
	// RedirectURIs are the callback URLs the anpr-portal client may use. Dex refuses any other,
	// so start the portal's listener (e.g. httptest.NewServer) before Dex to know its URL.
	RedirectURIs []string
	// ClientSecret of the anpr-portal client; a random one is made when empty.
	ClientSecret string
	// Port, when set, is the port Dex listens on, for a test that starts the portal before its
	// identity provider; otherwise Dex takes a free one.
	Port int
}

// Dex is a running Dex process owned by one test; it stops in the test's cleanup.
type Dex struct {
	Issuer       string // e.g. http://127.0.0.1:41234/dex
	ClientID     string
	ClientSecret string
	Users        []User // the demo accounts (DemoUsers)

	tb      testing.TB
	logPath string
}

// User returns the demo user with the given username (e.g. "inspector") or fails the test.
func (d *Dex) User(username string) User {
	d.tb.Helper()
	for _, u := range d.Users {
		if u.Username == username {
			return u
		}
	}
	d.tb.Fatalf("dextest: no demo user %q", username)
	return User{}
}

// Start builds Dex if its cache is stale (the first build takes minutes; later ones nothing),
// starts it on a free 127.0.0.1 port with a config rendered from deploy/dex/config.yaml.tmpl
// into tb.TempDir(), and waits until it serves its discovery document. It fails the test, never
// skips it, when Dex cannot be built or started.
func Start(tb testing.TB, opts Options) *Dex {
	tb.Helper()
	root, err := proc.WorkingRoot()
	if err != nil {
		tb.Fatalf("dextest: %v", err)
	}
	bin := build(tb, root)
	tmpl, err := os.ReadFile(filepath.Join(root, "deploy", "dex", "config.yaml.tmpl"))
	if err != nil {
		tb.Fatalf("dextest: read Dex config template: %v", err)
	}
	secret := opts.ClientSecret
	if secret == "" {
		secret = randomSecret(tb)
	}

	dir := tb.TempDir()
	// The port is free when we pick it but another process may take it before Dex binds it;
	// that race is rare, and a retry with a new port resolves it.
	const attempts = 5
	for attempt := 1; ; attempt++ {
		port := opts.Port
		if port == 0 {
			if port, err = proc.FreePort(); err != nil {
				tb.Fatalf("dextest: %v", err)
			}
		}
		cfg, err := renderConfig(string(tmpl), configParams{
			Port: port, ClientSecret: secret, RedirectURIs: opts.RedirectURIs,
		})
		if err != nil {
			tb.Fatalf("dextest: %v", err)
		}
		d := &Dex{
			Issuer:       fmt.Sprintf("http://127.0.0.1:%d/dex", port),
			ClientID:     ClientID,
			ClientSecret: secret,
			Users:        DemoUsers(),
			tb:           tb,
			logPath:      filepath.Join(dir, fmt.Sprintf("dex-%d.log", attempt)),
		}
		cfgPath := filepath.Join(dir, fmt.Sprintf("config-%d.yaml", attempt))
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			tb.Fatalf("dextest: write Dex config: %v", err)
		}
		err = d.run(bin, cfgPath)
		if err == nil {
			return d
		}
		if errors.Is(err, errPortTaken) && attempt < attempts && opts.Port == 0 {
			continue
		}
		tb.Fatalf("dextest: start Dex: %v\n--- Dex log (%s) ---\n%s", err, d.logPath, d.logTail())
	}
}

var errPortTaken = errors.New("port already in use")

// run starts the binary, registers its cleanup and waits until it is ready or has exited.
func (d *Dex) run(bin, cfgPath string) error {
	logFile, err := os.Create(d.logPath)
	if err != nil {
		return fmt.Errorf("create log file: %w", err)
	}
	defer logFile.Close() // the child has its own copy of the descriptor
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	p, err := proc.Start(cmd)
	if err != nil {
		return err
	}
	d.tb.Cleanup(func() {
		if err := p.Stop(10 * time.Second); err != nil {
			d.tb.Logf("dextest: stop Dex: %v", err)
		}
		if d.tb.Failed() {
			d.tb.Logf("dextest: Dex log (%s):\n%s", d.logPath, d.logTail())
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), proc.WaitCap)
	defer cancel()
	err = p.WaitReady(ctx, 50*time.Millisecond, d.ready)
	if errors.Is(err, proc.ErrExited) && strings.Contains(d.logTail(), "address already in use") {
		return errPortTaken
	}
	if err != nil {
		return fmt.Errorf("dex at %s: %w", d.Issuer, err)
	}
	return nil
}

// ready says whether our Dex (not some other server that took the port) serves discovery.
func (d *Dex) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.Issuer+"/.well-known/openid-configuration", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("discovery: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return fmt.Errorf("discovery: %w", err)
	}
	if doc.Issuer != d.Issuer {
		return fmt.Errorf("discovery names issuer %q, not ours", doc.Issuer)
	}
	return nil
}

func (d *Dex) logTail() string { return proc.Tail(d.logPath, 60) }

// build runs deploy/dex/build.sh, which rebuilds only when deploy/dex/go.mod, go.sum, build.sh or the Go
// toolchain changed, and returns the binary's path. build.sh serialises concurrent callers.
func build(tb testing.TB, root string) string {
	tb.Helper()
	script := filepath.Join(root, "deploy", "dex", "build.sh")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("dextest: cannot build Dex with %s (needs the Go toolchain and the Go module proxy "+
			"or a warm module cache; run `bash deploy/dex/build.sh` to see the full error): %v\n%s",
			script, err, stderr.String())
	}
	if s := strings.TrimSpace(stderr.String()); s != "" {
		tb.Logf("dextest: %s", s) // only printed when it built: says how long that took
	}
	bin := strings.TrimSpace(lastLine(stdout.String()))
	if bin == "" {
		tb.Fatalf("dextest: %s printed no binary path", script)
	}
	return bin
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func randomSecret(tb testing.TB) string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("dextest: random client secret: %v", err)
	}
	return hex.EncodeToString(b)
}

type configParams struct {
	Port         int
	ClientSecret string
	RedirectURIs []string
}

var placeholder = regexp.MustCompile(`@[A-Z_]+@`)

// renderConfig fills the template's @NAME@ placeholders the same way deploy/dex/run.sh does.
func renderConfig(tmpl string, p configParams) (string, error) {
	// Values land inside double-quoted YAML strings; refuse anything that could break out.
	bad := func(s string) bool { return s == "" || strings.ContainsAny(s, "\"\\\n\r") }
	if bad(p.ClientSecret) {
		return "", fmt.Errorf("client secret must be non-empty, without quotes, backslashes or newlines")
	}
	quoted := make([]string, len(p.RedirectURIs))
	for i, u := range p.RedirectURIs {
		if bad(u) {
			return "", fmt.Errorf("redirect URI %q must be non-empty, without quotes, backslashes or newlines", u)
		}
		quoted[i] = strconv.Quote(u)
	}
	out := strings.NewReplacer(
		"@ISSUER@", fmt.Sprintf("http://127.0.0.1:%d/dex", p.Port),
		"@HTTP_ADDR@", fmt.Sprintf("127.0.0.1:%d", p.Port),
		"@CLIENT_SECRET@", p.ClientSecret,
		"@REDIRECT_URIS@", "["+strings.Join(quoted, ", ")+"]",
	).Replace(tmpl)
	// Comments in the template mention the placeholders; only live YAML must be free of them.
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if m := placeholder.FindString(line); m != "" {
			return "", fmt.Errorf("config template has a placeholder this package does not fill: %s", m)
		}
	}
	return out, nil
}
