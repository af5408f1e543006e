package e2e

import (
	"encoding/json"
	"strings"
	"testing"

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
	p := startPortal(t, bin, addr, 10000,
		"ANPR_IDENTITY_ISSUER="+realm.Issuer, "ANPR_IDENTITY_CLIENT_ID="+realm.ClientID, "ANPR_IDENTITY_CLIENT_SECRET="+realm.ClientSecret,
		"ANPR_IDENTITY_SCOPES=openid,profile,email", "ANPR_IDENTITY_ROLES_CLAIM=realm_access.roles",
		"ANPR_IDENTITY_ROLES_MAP="+strings.Join(roleMap, ","), "ANPR_IDENTITY_RANK_CLAIM=rank",
		"ANPR_IDENTITY_ACCESS_CONTACT=the ANPR manager (anpr@force.example)")
	users, err := json.Marshal(realm.Users)
	if err != nil {
		t.Fatal(err)
	}
	runBrowser(t, root, node, "keycloak.mjs", "E2E_BASE_URL="+base, "E2E_KC_ISSUER="+realm.Issuer, "E2E_KC_USERS="+string(users))
	p.stopAndVerify()
}
