package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anpr-portal/anpr/internal/identity/keycloaktest"
)

func TestMain(m *testing.M) { keycloaktest.Main(m) }

// TestBrowserKeycloak signs people in through Keycloak's own login page in Chromium, with the
// portal fitted to the realm by settings alone (the README's Keycloak example): the role's pages,
// sign-out of the portal and of Keycloak, and the no-role page with its sign-out.
func TestBrowserKeycloak(t *testing.T) {
	root, node := prerequisites(t)
	kc := keycloaktest.Server(t)
	bin := buildBinary(t, root)
	addr := freeAddr(t)
	base := "http://" + addr
	realm := kc.NewRealm(t, keycloaktest.RealmOptions{
		RedirectURIs: []string{base + "/auth/callback"}, PostLogoutRedirectURIs: []string{base + "/"},
		Users: keycloaktest.DemoUsers(),
	})
	var roleMap []string
	for v, r := range keycloaktest.PortalRoleMap() {
		roleMap = append(roleMap, v+"="+r)
	}
	data := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ANPR_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"ANPR_DATA_DIR="+data, "ANPR_LOG_LEVEL=warn", "ANPR_LISTEN="+addr,
		"ANPR_IDENTITY_ISSUER="+realm.Issuer, "ANPR_IDENTITY_CLIENT_ID="+realm.ClientID,
		"ANPR_IDENTITY_CLIENT_SECRET="+realm.ClientSecret, "ANPR_IDENTITY_ALLOW_INSECURE_COOKIES=true",
		"ANPR_IDENTITY_SCOPES=openid,profile,email", "ANPR_IDENTITY_ROLES_CLAIM=realm_access.roles",
		"ANPR_IDENTITY_ROLES_MAP="+strings.Join(roleMap, ","), "ANPR_IDENTITY_RANK_CLAIM=rank",
		"ANPR_IDENTITY_ACCESS_CONTACT=the ANPR manager (anpr@force.example)")
	runCmd(t, env, bin, "seed", "--reads", "10000", "--seed", "5")
	runCmd(t, env, bin, "audit", "keys", "init")
	serve := startServe(t, env, bin, base, filepath.Join(data, "serve.log"))

	users, err := json.Marshal(realm.Users)
	if err != nil {
		t.Fatal(err)
	}
	artifacts := filepath.Join(root, "e2e", "artifacts")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "--test-concurrency=1", "keycloak.mjs")
	cmd.Dir = filepath.Join(root, "e2e")
	cmd.Env = append(os.Environ(), "E2E_BASE_URL="+base, "E2E_KC_ISSUER="+realm.Issuer, "E2E_KC_USERS="+string(users),
		"E2E_ARTIFACTS="+artifacts, "E2E_CHROMIUM="+chromium)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("Keycloak browser tests (screenshots in %s):\n%s", artifacts, out.String())
	if err != nil {
		t.Errorf("Keycloak browser tests failed: %v", err)
	}
	serve.stop()
	if out := runCmd(t, env, bin, "audit", "verify"); !strings.Contains(out, "OK") {
		t.Errorf("audit verify after the browser tests:\n%s", out)
	}
}
