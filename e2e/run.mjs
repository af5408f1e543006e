// Browser tests of every role's job (node:test + playwright-core + Debian's Chromium). Started by
// e2e_test.go, which provides the portal, Dex and the demo users in the environment. Pages are
// found by role and accessible name, as a user with a screen reader would find them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = need("E2E_BASE_URL");
const artifacts = need("E2E_ARTIFACTS");
const users = Object.fromEntries(JSON.parse(need("E2E_USERS")).map((u) => [u.Username, u]));

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through e2e_test.go (make e2e)`);
  return v;
}

let browser;
const scratch = mkdtempSync(join(tmpdir(), "anpr-e2e-"));

before(async () => {
  // Playwright gives every launch a fresh --user-data-dir of its own (it refuses one in args).
  browser = await chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    downloadsPath: scratch,
  });
});

after(async () => {
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A fresh browser profile (cookie jar) whose console errors and CSP violations fail the test. */
async function newPage() {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: "en-GB" });
  const page = await context.newPage();
  page.problems = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource: the server responded with a status of (401|403|404)/.test(m.text())) {
      page.problems.push(`console: ${m.text()}`);
    }
  });
  page.on("pageerror", (e) => page.problems.push(`page error: ${e.message}`));
  return page;
}

function clean(page) {
  assert.deepEqual(page.problems, [], "the page logged errors (CSP violations show here)");
}

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** Signs in through the real Dex login form, as a person would. */
async function login(username) {
  const u = users[username];
  const page = await newPage();
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with your force account" }).click();
  await page.waitForURL((url) => url.pathname.includes("/auth/local"));
  await page.locator('input[name="login"]').fill(u.Email);
  await page.locator('input[name="password"]').fill(u.Password);
  await page.locator('button[type="submit"]').click();
  await page.waitForURL((url) => url.origin === base && !url.pathname.startsWith("/auth/"));
  await page.getByTestId("who").filter({ hasText: u.Name }).waitFor();
  return page;
}

function local(d) {
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
const daysAgo = (n) => new Date(Date.now() - n * 86400e3);

async function fillReason(page, prefix, { purpose = "crime_investigation", caseRef = "MPS/12345/26", offence = "TH68010",
  justification = "silver Ford seen leaving the burglary at 12 High Street; establish its route" } = {}) {
  await page.locator(`#${prefix}-purpose`).selectOption(purpose);
  await page.locator(`#${prefix}-case`).fill(caseRef);
  if (offence && (await page.locator(`#${prefix}-offence`).count())) await page.locator(`#${prefix}-offence`).fill(offence);
  await page.locator(`#${prefix}-just`).fill(justification);
}

/** Whether the server has an endpoint yet: an unknown route is a 404 "no such route" to anyone,
 * while a real one refuses an anonymous caller with 401. */
async function endpointExists(method, path) {
  const r = await fetch(base + path, { method, headers: { "Content-Type": "application/json" }, body: method === "GET" ? undefined : "{}" });
  if (r.status !== 404) return true;
  const body = await r.text();
  return !body.includes("no such route");
}

test("each demo user signs in through Dex and sees their role's pages", async () => {
  const expect = {
    investigator: ["Search", "Journey"],
    extended: ["Search", "Journey"],
    inspector: ["Approvals"],
    superintendent: ["Approvals"],
    auditor: ["Audit"],
    manager: ["Admin"],
  };
  for (const [name, links] of Object.entries(expect)) {
    const page = await login(name);
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const l of links) await nav.getByRole("link", { name: l, exact: true }).waitFor();
    await shot(page, `home-${name}`);
    clean(page);
    if (name === "investigator") {
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("link", { name: "Sign in with your force account" }).waitFor();
      const me = await page.request.get("/api/v1/me");
      assert.equal(me.status(), 401, "after sign out the session is gone");
    }
    await page.context().close();
  }
});

test("investigator: band-1 exact search of a planted plate, live band, paging table and read detail", async () => {
  const page = await login("investigator");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Search", exact: true }).click();
  await page.getByRole("heading", { name: "Search reads" }).waitFor();
  await page.getByLabel("Plate (VRM)").fill("AB12CDE");
  // The band follows the window as it is typed.
  await page.locator("#search-from").fill(local(daysAgo(120)));
  await page.getByTestId("band").filter({ hasText: "Band 2" }).waitFor();
  await page.locator("#search-from").fill(local(daysAgo(400)));
  await page.getByTestId("band").filter({ hasText: "Expired" }).waitFor();
  await page.locator("#search-from").fill(local(daysAgo(30)));
  await page.getByTestId("band").filter({ hasText: "Band 1" }).waitFor();
  await fillReason(page, "search");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const table = page.getByRole("table", { name: /Exact plate search, page 1/ });
  await table.waitFor();
  const rows = await table.locator("tbody tr").count();
  assert.ok(rows > 0, "the planted plate has band-1 reads");
  assert.match(await table.locator("tbody tr").first().innerText(), /AB12CDE/);
  await shot(page, "search-results");
  // Paging by cursor: the planted plate has more than one page of reads in 30 days.
  const pager = page.getByRole("navigation", { name: "Result pages" });
  await pager.getByRole("button", { name: "Next page" }).click();
  await page.getByRole("table", { name: /Exact plate search, page 2/ }).waitFor();
  await pager.getByRole("button", { name: "Previous page" }).click();
  await page.getByRole("table", { name: /Exact plate search, page 1/ }).waitFor();

  // Misread-tolerant search finds the look-alikes and says why.
  await page.getByLabel("Misread-tolerant").check();
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const mis = page.getByRole("table", { name: /Misread-tolerant search, page 1/ });
  await mis.waitFor();
  const text = await mis.innerText();
  assert.ok(/AB12C0E|A812CDE/.test(text), "misreads of the planted plate are found");
  await shot(page, "search-misread");

  await mis.getByRole("link", { name: /^Read / }).first().click();
  await page.getByRole("heading", { name: /^Read / }).waitFor();
  await page.getByText("Misread skeleton").waitFor();
  await shot(page, "read-detail");
  clean(page);
  await page.context().close();
});

test("investigator: journey of the cloned plate YR17KDX on the map, with impossible-travel flags", async () => {
  const page = await login("investigator");
  await page.goto("/journey?vrm=YR17KDX");
  await page.getByRole("heading", { name: "Journey" }).waitFor();
  await page.locator("#journey-from").fill(local(daysAgo(30)));
  await fillReason(page, "journey", { purpose: "stolen_vehicle", offence: "TH68010",
    justification: "plate reported cloned by the keeper; compare the two vehicles' routes" });
  await page.getByRole("button", { name: "Show journey" }).click();
  const flags = page.getByRole("table", { name: /Impossible travel/ });
  await flags.waitFor();
  assert.ok((await flags.locator("tbody tr").count()) > 0, "the clone's legs are flagged");
  await page.getByText(/possible cloned plate/).waitFor();
  await page.getByRole("heading", { name: "Timeline" }).waitFor();
  const map = page.getByRole("img", { name: /Map of YR17KDX/ });
  await map.locator("canvas").waitFor();
  await page.waitForTimeout(1500); // let the map draw its layers before the screenshot
  await shot(page, "journey");
  clean(page);
  await page.context().close();
});

test("investigator: a band-2 search (LD09HBR, older than 90 days) is refused and the reason shown", async () => {
  const page = await login("investigator");
  await page.goto("/search");
  await page.getByLabel("Plate (VRM)").fill("LD09HBR");
  await page.locator("#search-from").fill(local(daysAgo(210)));
  await page.locator("#search-to").fill(local(daysAgo(190)));
  await page.getByTestId("band").filter({ hasText: "Band 2" }).waitFor();
  await fillReason(page, "search", { purpose: "serious_crime", offence: "TH68010" });
  await page.getByRole("button", { name: "Search", exact: true }).click();
  const alert = page.getByRole("alert").filter({ hasText: "Refused" });
  await alert.waitFor();
  const text = await alert.innerText();
  assert.ok(text.length > 20, `the refusal says why: ${text}`);
  assert.equal(await page.getByRole("table", { name: /search, page/ }).count(), 0, "no data is shown");
  await shot(page, "search-band2-refused");
  clean(page);
  await page.context().close();
});

test("auditor: finds the investigator's searches and refusal, their timeline, anomalies and the checkpoint", async () => {
  const page = await login("auditor");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Audit" }).click();
  await page.getByRole("heading", { name: "Audit log" }).waitFor();
  await page.getByTestId("checkpoint-size").waitFor();
  await fillReason(page, "audit", { purpose: "audit_review", caseRef: "AUD/123/26", offence: "",
    justification: "monthly dip sample of investigator searches for the professional standards review" });
  await page.getByRole("button", { name: "Search the audit log" }).click();
  const table = page.getByRole("table", { name: "Audit events, newest first" });
  await table.waitFor();
  const text = await table.innerText();
  assert.match(text, /DC Ivy Ingram/, "the investigator's events are there");
  assert.match(text, /AB12CDE/, "with the plate they searched");
  assert.match(text, /deny/, "and the band-2 refusal");
  await shot(page, "audit-events");
  await table.getByRole("button", { name: "Timeline of DC Ivy Ingram" }).first().click();
  await page.getByRole("table", { name: /Timeline of / }).waitFor();
  await shot(page, "audit-timeline");
  await page.getByRole("tab", { name: "Anomalies" }).click();
  await page.getByRole("tabpanel", { name: "Anomalies" }).waitFor();
  await page.waitForTimeout(300);
  await shot(page, "audit-anomalies");
  clean(page);
  await page.context().close();
});

test("manager: users, a grant and an API key", async () => {
  const page = await login("manager");
  await page.goto("/admin");
  await page.getByRole("table", { name: "People who have signed in" }).getByText("DC Ivy Ingram").waitFor();

  const grant = page.getByRole("form", { name: "Grant a role" });
  await grant.getByLabel("User").selectOption({ label: "Insp Aisha Adams (inspector@anpr.example)" });
  await grant.getByLabel("Role").selectOption("auditor");
  await grant.getByLabel("Expires (optional)").fill(local(new Date(Date.now() + 30 * 86400e3)));
  await grant.getByLabel("Reason").fill("covering the audit team's dip sampling during leave, ticket HR-2231");
  await grant.getByRole("button", { name: "Grant" }).click();
  await page.getByRole("status").filter({ hasText: "Granted auditor to Insp Aisha Adams" }).waitFor();
  await page.getByRole("table", { name: "Role grants" }).getByRole("button", { name: "Revoke auditor from Insp Aisha Adams" }).waitFor();

  const key = page.getByRole("form", { name: "Create an API key" });
  await key.getByLabel("Name").fill("camera back-office, north");
  await key.getByRole("button", { name: "Create key" }).click();
  await page.getByRole("status").filter({ hasText: "New key" }).locator("code").waitFor();
  await page.getByRole("table", { name: "API keys" }).getByText("camera back-office, north").waitFor();
  await shot(page, "admin");
  clean(page);
  await page.context().close();
});

test("investigator: the authority request and area/convoy forms render, labelled, without errors", async () => {
  const page = await login("investigator");
  await page.goto("/authorities/new");
  await page.getByRole("form", { name: "Request prior authority" }).waitFor();
  for (const label of ["Purpose", "VRMs (comma separated)", "Authority expires", "Maximum uses"]) {
    await page.getByLabel(label, { exact: true }).waitFor();
  }
  await page.getByTestId("band").filter({ hasText: "Band 2" }).waitFor(); // the default window is aged data
  await shot(page, "authority-request-form");
  await page.goto("/analysis");
  await page.getByRole("form", { name: "Analysis search" }).waitFor();
  await page.getByLabel("Convoy (who travels with a target)").check();
  await page.getByLabel("Target plate (VRM)").waitFor();
  await shot(page, "analysis-form");
  clean(page);
  await page.context().close();
});

test("authority request, the inspector's approval, then the band-2 search succeeds", async (t) => {
  if (!(await endpointExists("GET", "/api/v1/authorities"))) {
    t.todo("PENDING: /api/v1/authorities is not in this build (authority branch not merged); flow not run");
    return;
  }
  const ext = await login("extended");
  await ext.goto("/authorities/new");
  await fillReason(ext, "ar", { purpose: "serious_crime", offence: "TH68010" });
  await ext.locator("#ar-vrms").fill("LD09HBR");
  await ext.locator("#ar-from").fill(local(daysAgo(210)));
  await ext.locator("#ar-to").fill(local(daysAgo(190)));
  await ext.getByRole("button", { name: "Submit request" }).click();
  await ext.getByText(/submitted/).waitFor();
  await shot(ext, "authority-requested");

  const insp = await login("inspector");
  await insp.goto("/authorities/queue");
  await insp.getByText("Live: this list updates").waitFor();
  await insp.getByRole("button", { name: /Decide request MPS\/12345\/26/ }).first().click();
  await insp.getByLabel("Decision reason").fill("proportionate: named vehicle, short window, serious offence");
  await shot(insp, "authority-queue");
  await insp.getByRole("button", { name: "Approve" }).click();
  await insp.getByText(/Approved the request/).waitFor();
  clean(insp);
  await insp.context().close();

  await ext.goto("/search");
  await ext.getByLabel("Plate (VRM)").fill("LD09HBR");
  await ext.locator("#search-from").fill(local(daysAgo(210)));
  await ext.locator("#search-to").fill(local(daysAgo(190)));
  await fillReason(ext, "search", { purpose: "serious_crime", offence: "TH68010" });
  const opt = ext.locator("#authority option").nth(1);
  await ext.locator("#authority").selectOption(await opt.getAttribute("value"));
  await ext.getByRole("button", { name: "Search", exact: true }).click();
  await ext.getByRole("table", { name: /search, page 1/ }).waitFor();
  await shot(ext, "search-band2-with-authority");
  clean(ext);
  await ext.context().close();
});

test("investigator: export of a search as CSV with its audited digest", async (t) => {
  if (!(await endpointExists("POST", "/api/v1/exports"))) {
    t.todo("PENDING: POST /api/v1/exports is not in this build (search branch not merged); flow not run");
    return;
  }
  const page = await login("investigator");
  await page.goto("/search");
  await page.getByLabel("Plate (VRM)").fill("AB12CDE");
  await fillReason(page, "search");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByRole("table", { name: /search, page 1/ }).waitFor();
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  await download;
  await page.getByText(/recorded in the audit log/).filter({ hasText: "SHA-256" }).waitFor();
  clean(page);
  await page.context().close();
});

test("inspector: the approval queue", async (t) => {
  const page = await login("inspector");
  await page.goto("/authorities/queue");
  await page.getByRole("heading", { name: "Authority requests to decide" }).waitFor();
  await shot(page, "approvals");
  clean(page);
  await page.context().close();
  if (!(await endpointExists("GET", "/api/v1/authorities/queue"))) {
    t.todo("PENDING: /api/v1/authorities/queue is not in this build (authority branch not merged); only the page's notice was checked");
  }
});

test("public transparency page: charts and counts, no sign-in", async () => {
  const page = await newPage();
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with your force account" }).waitFor();
  await shot(page, "home-anonymous");
  await page.goto("/transparency");
  await page.getByRole("heading", { name: "Transparency report" }).waitFor();
  const table = page.getByRole("table", { name: "Monthly counts" });
  await table.waitFor();
  assert.ok((await table.locator("tbody tr").count()) > 0, "this month's searches are counted");
  await page.getByRole("img", { name: /Chart of searches/ }).locator("canvas").waitFor();
  await shot(page, "transparency");
  clean(page);
  await page.context().close();
});
