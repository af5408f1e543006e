package keycloaktest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// ClientID is the portal's client in every realm this package makes.
const ClientID = "anpr-portal"

// User is a person in a test realm. Roles are realm roles (see RoleNames); Rank is the value of
// the user attribute "rank" as a force's HR feed would write it ("Inspector").
type User struct {
	Username  string
	Email     string
	Password  string
	FirstName string
	LastName  string
	Roles     []string // realm role names, e.g. "anpr-investigator"
	Rank      string   // "" for police staff without a rank
}

// Name is the display name Keycloak puts in the name claim.
func (u User) Name() string { return u.FirstName + " " + u.LastName }

// RoleNames maps each portal role to the realm role a force might call it: what the portal's
// identity.roles.map must translate.
var RoleNames = map[string]string{
	"investigator":          "anpr-investigator",
	"extended_investigator": "anpr-extended-investigator",
	"authorising_officer":   "anpr-authorising-officer",
	"auditor":               "anpr-auditor",
	"anpr_manager":          "anpr-manager",
}

// RealmOptions describe the portal's registration in a new realm.
type RealmOptions struct {
	// RedirectURIs and PostLogoutRedirectURIs are registered on the client, exactly; Keycloak
	// refuses any other.
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Users                  []User
}

// Realm is one test's realm with the portal's client and users.
type Realm struct {
	Name         string
	Issuer       string // <URL>/realms/<Name>
	ClientID     string
	ClientSecret string
	Users        []User

	kc *Keycloak
	tb testing.TB
}

// User returns the realm's user with that username or fails the test.
func (r *Realm) User(username string) User {
	r.tb.Helper()
	for _, u := range r.Users {
		if u.Username == username {
			return u
		}
	}
	r.tb.Fatalf("keycloaktest: no user %q in realm %s", username, r.Name)
	return User{}
}

// NewRealm configures a realm the way forces usually set Keycloak up for an OIDC application:
// roles are realm roles, which the client puts in the ID token under realm_access.roles; the
// rank is a user attribute (declared in the realm's user profile) that a protocol mapper puts in
// a claim of its own, "rank"; there is no "groups" scope. The client is confidential, standard
// flow only, PKCE S256 required, and its redirect and post-logout URIs are exactly those given.
func (k *Keycloak) NewRealm(tb testing.TB, opts RealmOptions) *Realm {
	tb.Helper()
	// A generous cap: on a loaded 2-core machine the forty-odd admin calls take minutes.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	name := "force-" + randomHex(4)
	r := &Realm{Name: name, Issuer: k.URL + "/realms/" + name, ClientID: ClientID, ClientSecret: randomHex(24), Users: opts.Users, kc: k, tb: tb}
	a, err := k.adminClient(ctx)
	if err != nil {
		tb.Fatalf("keycloaktest: %v", err)
	}
	must := func(what string, err error) {
		if err != nil {
			tb.Fatalf("keycloaktest: realm %s: %s: %v\n--- Keycloak log ---\n%s", name, what, err, k.logTail())
		}
	}
	must("create realm", a.do(ctx, "POST", "/admin/realms", map[string]any{"realm": name, "enabled": true}, nil))
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if a, err := k.adminClient(ctx); err == nil {
			_ = a.do(ctx, "DELETE", "/admin/realms/"+name, nil, nil)
		}
	})
	base := "/admin/realms/" + name

	// The rank attribute, declared in the user profile as Keycloak 24+ requires of any attribute.
	var profile map[string]any
	must("read user profile", a.do(ctx, "GET", base+"/users/profile", nil, &profile))
	attrs, _ := profile["attributes"].([]any)
	profile["attributes"] = append(attrs, map[string]any{
		"name": "rank", "displayName": "Rank",
		"permissions": map[string]any{"view": []string{"admin", "user"}, "edit": []string{"admin"}},
	})
	must("declare the rank attribute", a.do(ctx, "PUT", base+"/users/profile", profile, nil))

	for _, role := range RoleNames {
		must("create role "+role, a.do(ctx, "POST", base+"/roles", map[string]any{"name": role}, nil))
	}
	client := map[string]any{
		"clientId": ClientID, "name": "ANPR portal", "enabled": true, "protocol": "openid-connect",
		"publicClient": false, "secret": r.ClientSecret, "clientAuthenticatorType": "client-secret",
		"standardFlowEnabled": true, "directAccessGrantsEnabled": false, "implicitFlowEnabled": false,
		"serviceAccountsEnabled": false, "redirectUris": opts.RedirectURIs,
		"attributes": map[string]any{
			"pkce.code.challenge.method": "S256",
			"post.logout.redirect.uris":  strings.Join(opts.PostLogoutRedirectURIs, "##"),
		},
		"protocolMappers": []any{
			map[string]any{
				"name": "realm roles in the ID token", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-realm-role-mapper",
				"config": map[string]any{"claim.name": "realm_access.roles", "multivalued": "true", "jsonType.label": "String",
					"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"},
			},
			map[string]any{
				"name": "rank", "protocol": "openid-connect", "protocolMapper": "oidc-usermodel-attribute-mapper",
				"config": map[string]any{"user.attribute": "rank", "claim.name": "rank", "jsonType.label": "String",
					"id.token.claim": "true", "access.token.claim": "true", "userinfo.token.claim": "true"},
			},
		},
	}
	must("create the portal's client", a.do(ctx, "POST", base+"/clients", client, nil))

	for _, u := range opts.Users {
		rep := map[string]any{
			"username": u.Username, "email": u.Email, "firstName": u.FirstName, "lastName": u.LastName,
			"enabled": true, "emailVerified": true,
			"credentials": []any{map[string]any{"type": "password", "value": u.Password, "temporary": false}},
		}
		if u.Rank != "" {
			rep["attributes"] = map[string]any{"rank": []string{u.Rank}}
		}
		must("create user "+u.Username, a.do(ctx, "POST", base+"/users", rep, nil))
		var found []struct {
			ID string `json:"id"`
		}
		must("find user "+u.Username, a.do(ctx, "GET", base+"/users?exact=true&username="+url.QueryEscape(u.Username), nil, &found))
		if len(found) != 1 {
			tb.Fatalf("keycloaktest: user %s: found %d", u.Username, len(found))
		}
		var roles []map[string]any
		for _, name := range u.Roles {
			var role map[string]any
			must("read role "+name, a.do(ctx, "GET", base+"/roles/"+url.PathEscape(name), nil, &role))
			roles = append(roles, role)
		}
		if len(roles) > 0 {
			must("give "+u.Username+" roles", a.do(ctx, "POST", base+"/users/"+found[0].ID+"/role-mappings/realm", roles, nil))
		}
	}
	return r
}

// SubjectOf returns the user's Keycloak id, the sub of their tokens.
func (r *Realm) SubjectOf(username string) string {
	r.tb.Helper()
	var found []struct {
		ID string `json:"id"`
	}
	r.admin("find "+username, "GET", "/users?exact=true&username="+url.QueryEscape(username), &found)
	if len(found) != 1 {
		r.tb.Fatalf("keycloaktest: find %s: %d found", username, len(found))
	}
	return found[0].ID
}

// SessionCount is how many live Keycloak sessions the user has: after an RP-initiated logout, 0.
func (r *Realm) SessionCount(username string) int {
	r.tb.Helper()
	var sessions []any
	r.admin("sessions of "+username, "GET", "/users/"+r.SubjectOf(username)+"/sessions", &sessions)
	return len(sessions)
}

// admin reads path under the realm's admin API into out, or fails the test.
func (r *Realm) admin(what, method, path string, out any) {
	r.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	a, err := r.kc.adminClient(ctx)
	if err == nil {
		err = a.do(ctx, method, "/admin/realms/"+r.Name+path, nil, out)
	}
	if err != nil {
		r.tb.Fatalf("keycloaktest: %s: %v", what, err)
	}
}

// admin is an authenticated client of the admin REST API. Its token lives a minute (the master
// realm's default); on a busy machine a realm's setup takes longer, so a 401 fetches a new one.
type admin struct {
	kc          *Keycloak
	base, token string
}

// adminClient signs in to the master realm as the bootstrap administrator (admin-cli, password
// grant: the way Keycloak's own kcadm.sh does).
func (k *Keycloak) adminClient(ctx context.Context) (*admin, error) {
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {k.admin}, "password": {k.adminPass}}
	req, err := http.NewRequestWithContext(ctx, "POST", k.URL+"/realms/master/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("admin token: %s %s", resp.Status, body)
	}
	return &admin{kc: k, base: k.URL, token: tok.AccessToken}, nil
}

func (a *admin) do(ctx context.Context, method, path string, in, out any) error {
	err := a.try(ctx, method, path, in, out)
	if !errors.Is(err, errExpired) {
		return err
	}
	fresh, err := a.kc.adminClient(ctx)
	if err != nil {
		return err
	}
	a.token = fresh.token
	return a.try(ctx, method, path, in, out)
}

var errExpired = errors.New("admin token refused")

func (a *admin) try(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusUnauthorized {
		return fmt.Errorf("%s %s: %w", method, path, errExpired)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

func (k *Keycloak) logTail() string { return procTail(k.logPath) }
