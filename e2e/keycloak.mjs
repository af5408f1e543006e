// Browser tests of signing in through Keycloak (node:test + playwright-core + Debian's Chromium):
// Keycloak's own login form, the portal's pages for the role the realm gives, sign-out of the
// portal and of Keycloak (RP-initiated logout), and the no-role page. Started by e2e_test.go
// (TestBrowserKeycloak), which provides the portal, the realm and its users in the environment.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = need("E2E_BASE_URL");
const artifacts = need("E2E_ARTIFACTS");
const issuer = need("E2E_KC_ISSUER");
const users = Object.fromEntries(JSON.parse(need("E2E_KC_USERS")).map((u) => [u.Username, u]));

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through e2e_test.go (make e2e)`);
  return v;
}

let browser;
before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
});
after(async () => browser?.close());

/** A fresh profile whose console errors and CSP violations on the portal's pages fail the test. */
async function newPage() {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 }, locale: "en-GB" });
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (m) => {
    const onPortal = page.url().startsWith(base);
    if (onPortal && m.type() === "error" && !/status of (401|403)/.test(m.text())) page.problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
  return page;
}

/** From the portal's home page to Keycloak's login form, and through it. */
async function signIn(page, u) {
  await page.getByRole("link", { name: "Sign in with your force account" }).click();
  await page.waitForURL((url) => url.href.startsWith(issuer + "/"));
  await page.locator("#username").fill(u.Username);
  await page.locator("#password").fill(u.Password);
  await page.locator("#kc-login").click();
}

/** After a sign-out, signing in again must ask for the password: Keycloak's session is gone. */
async function keycloakAsksAgain(page) {
  await page.getByRole("link", { name: "Sign in with your force account" }).click();
  await page.waitForURL((url) => url.href.startsWith(issuer + "/"));
  await page.locator("#username").waitFor();
}

test("roles from Keycloak's realm roles and rank attribute; sign-out ends the Keycloak session too", async () => {
  const expect = { investigator: "Search", inspector: "Approvals", manager: "Admin" };
  for (const [name, link] of Object.entries(expect)) {
    const u = users[name];
    const page = await newPage();
    await page.goto("/");
    await signIn(page, u);
    await page.waitForURL((url) => url.origin === base && !url.pathname.startsWith("/auth/"));
    await page.getByTestId("who").filter({ hasText: `${u.FirstName} ${u.LastName}` }).waitFor();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: link, exact: true }).waitFor();
    await page.screenshot({ path: join(artifacts, `keycloak-home-${name}.png`), fullPage: true });
    await page.getByRole("button", { name: "Sign out" }).click();
    // The portal sends the browser to Keycloak's end-session endpoint, which returns it home.
    await page.waitForURL(base + "/");
    await page.getByRole("link", { name: "Sign in with your force account" }).waitFor();
    assert.equal((await page.request.get("/api/v1/me")).status(), 401, "the portal session is gone");
    await keycloakAsksAgain(page);
    assert.deepEqual(page.problems, [], "the portal's pages logged errors");
    await page.context().close();
  }
});

test("someone without a portal role gets a page saying whom to ask, whose sign-out ends the Keycloak session", async () => {
  const u = users.newstarter;
  const page = await newPage();
  await page.goto("/");
  await signIn(page, u);
  await page.getByRole("heading", { name: "No access to the ANPR portal" }).waitFor();
  const text = await page.locator("main").innerText();
  assert.match(text, /has no role in the\s+ANPR portal/);
  assert.match(text, /Ask the ANPR manager/);
  await page.screenshot({ path: join(artifacts, "keycloak-no-role.png"), fullPage: true });
  await page.getByRole("button", { name: "Sign out of your identity provider" }).click();
  await page.waitForURL(base + "/");
  await keycloakAsksAgain(page);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
