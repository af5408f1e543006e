// Browser tests of every role's job (node:test + playwright-core + Debian's Chromium). Started by
// e2e_test.go, which provides the portal, Dex and the demo users in the environment. Pages are
// found by role and accessible name, as a user with a screen reader would find them.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
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

// Playwright's defaults (30 s a step) fail a slow but healthy run on a busy machine. A step ends
// at once when the browser or the page dies; this cap only catches a hang, so it is generous.
const stepTimeout = Number(process.env.E2E_STEP_TIMEOUT_MS || 120_000);

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
    timeout: 5 * stepTimeout,
  });
});

after(async () => {
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** A fresh browser profile (cookie jar) whose console errors and CSP violations fail the test. */
async function newPage() {
  const context = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: "en-GB" });
  context.setDefaultTimeout(stepTimeout);
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
  await page.getByRole("button", { name: "Show counts over time" }).click();
  await page.getByTestId("histogram-total").waitFor();
  await page.getByRole("img", { name: /Chart of \d+ counts per day/ }).locator("canvas").waitFor();
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
  // The planted plate's reads carry a plate patch and an overview, each fetched as an audited view.
  for (const name of [/^Plate patch of /, /^Overview image of /]) {
    const img = page.getByRole("img", { name });
    await img.waitFor();
    await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  }
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

test("extended investigator: band-2 search refused, authority requested, approved narrowed live by the inspector, then the search succeeds", async () => {
  const ext = await login("extended");
  const band2 = { purpose: "serious_crime", caseRef: "MPS/77120/26", offence: "RB01001",
    justification: "LD09HBR seen at the armed robbery in Camden in the spring; establish where it was kept" };
  await ext.goto("/search");
  await ext.getByLabel("Plate (VRM)").fill("LD09HBR");
  await ext.locator("#search-from").fill(local(daysAgo(210)));
  await ext.locator("#search-to").fill(local(daysAgo(190)));
  await ext.getByTestId("band").filter({ hasText: "Band 2" }).waitFor();
  await fillReason(ext, "search", band2);
  await ext.getByRole("button", { name: "Search", exact: true }).click();
  await ext.getByRole("alert").filter({ hasText: "Refused" }).waitFor();
  assert.equal(await ext.getByRole("table", { name: /search, page/ }).count(), 0, "no data without an authority");
  await shot(ext, "extended-band2-refused");
  await ext.getByRole("link", { name: "Request prior authority for this search" }).click();
  await ext.getByRole("form", { name: "Request prior authority" }).waitFor();
  assert.equal(await ext.locator("#ar-vrms").inputValue(), "LD09HBR", "the request names the refused plate");
  await fillReason(ext, "ar", band2);
  await ext.locator("#ar-uses").fill("3");

  // The inspector has the queue open before the request exists: it must arrive without a reload.
  const insp = await login("inspector");
  await insp.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Approvals" }).click();
  await insp.getByRole("heading", { name: "Authority requests to decide" }).waitFor();
  await insp.getByTestId("live").filter({ hasText: "Live: this list updates" }).waitFor();
  const navigations = [];
  insp.on("framenavigated", (f) => { if (f === insp.mainFrame()) navigations.push(f.url()); });

  await ext.getByRole("button", { name: "Submit request" }).click();
  await ext.getByText(/submitted; an authorising officer will decide it/).waitFor();
  const mine = ext.getByRole("table", { name: "Your requests, newest first" });
  await mine.getByText("pending").first().waitFor();
  await shot(ext, "authority-requested");

  const decide = insp.getByRole("button", { name: "Decide request MPS/77120/26" });
  await decide.waitFor({ timeout: 15000 });
  assert.deepEqual(navigations, [], "the request appeared in the open queue without a reload");
  const row = insp.getByRole("row").filter({ has: decide });
  assert.match(await row.innerText(), /LD09HBR/, "the queue says what becomes searchable");
  assert.match(await row.innerText(), /band2/);
  await shot(insp, "approvals-queue-live");
  await decide.click();
  const form = insp.getByRole("form", { name: "Decide request MPS/77120/26" });
  await form.getByLabel("Decision reason").fill("proportionate for a named vehicle; narrowed to the week of the offence");
  await form.getByLabel("Window from (later to narrow)").fill(local(daysAgo(203)));
  await form.getByLabel("Window to (earlier to narrow)").fill(local(daysAgo(197)));
  await shot(insp, "approvals-decide");
  await form.getByRole("button", { name: "Approve" }).click();
  await insp.getByRole("status").filter({ hasText: "Approved the request for MPS/77120/26" }).waitFor();
  await insp.getByRole("button", { name: "Decide request MPS/77120/26" }).waitFor({ state: "detached" });
  clean(insp);
  await insp.context().close();

  await ext.reload();
  await mine.getByText("approved").first().waitFor();
  const authorityId = await mine.getByRole("row").filter({ hasText: "approved" }).first().getAttribute("data-authority");
  assert.ok(authorityId, "the approved authority is listed with its id");
  await shot(ext, "my-authorities");

  // The approved authority covers the narrowed window only: the original window stays refused.
  await ext.goto("/search");
  await ext.getByLabel("Plate (VRM)").fill("LD09HBR");
  await ext.locator("#search-from").fill(local(daysAgo(210)));
  await ext.locator("#search-to").fill(local(daysAgo(190)));
  await fillReason(ext, "search", band2);
  await ext.locator("#authority").selectOption(authorityId);
  await ext.getByRole("button", { name: "Search", exact: true }).click();
  await ext.getByRole("alert").filter({ hasText: "Refused" }).waitFor();
  await ext.locator("#search-from").fill(local(daysAgo(203)));
  await ext.locator("#search-to").fill(local(daysAgo(197)));
  await ext.getByRole("button", { name: "Search", exact: true }).click();
  const table = ext.getByRole("table", { name: /Exact plate search, page 1/ });
  await table.waitFor();
  assert.ok((await table.locator("tbody tr").count()) > 0, "LD09HBR's band-2 reads are found under the authority");
  assert.match(await table.innerText(), /LD09HBR/);
  await ext.getByRole("heading", { name: /Results for LD09HBR/ }).filter({ hasText: "band2" }).waitFor();
  await shot(ext, "search-band2-with-authority");
  clean(ext);
  await ext.context().close();
  process.env.E2E_AUTHORITY_ID = authorityId; // the auditor's test looks it up
});

test("investigator: export of a search as CSV; the file's SHA-256 is the audited X-Content-SHA256", async () => {
  const page = await login("investigator");
  await page.goto("/search");
  await page.getByLabel("Plate (VRM)").fill("AB12CDE");
  await fillReason(page, "search");
  await page.getByRole("button", { name: "Search", exact: true }).click();
  await page.getByRole("table", { name: /search, page 1/ }).waitFor();
  const response = page.waitForResponse((r) => r.url().endsWith("/api/v1/exports"));
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const resp = await response;
  assert.equal(resp.status(), 200, `export answered ${resp.status()}`);
  const header = resp.headers()["x-content-sha256"];
  assert.match(header ?? "", /^[0-9a-f]{64}$/, "the export carries its digest");
  const file = await (await download).path();
  const body = readFileSync(file);
  const digest = createHash("sha256").update(body).digest("hex");
  assert.equal(digest, header, "the downloaded file is exactly what the audit log recorded");
  assert.match(body.toString("utf8").split("\n")[0], /^id,vrm,seen_at,camera_id/, "a CSV with the documented header");
  assert.ok(body.toString("utf8").includes("AB12CDE"));
  const shown = await page.getByTestId("export-digest").innerText();
  assert.equal(shown, header, "the page shows the same digest");
  await shot(page, "export");
  clean(page);
  await page.context().close();
});

test("auditor: finds the authority's request, approval and use, and the checkpoint signature verifies", async () => {
  const id = process.env.E2E_AUTHORITY_ID;
  assert.ok(id, "the authority flow ran first and left its id");
  const page = await login("auditor");
  await page.goto("/audit");
  const verify = page.getByTestId("checkpoint-verify");
  await verify.filter({ hasNotText: "Checking" }).waitFor();
  await shot(page, "audit-checkpoint");
  assert.match(await verify.innerText(), /^Verified in this browser/, "the checkpoint's signature verifies against the published key");
  await fillReason(page, "audit", { purpose: "audit_review", caseRef: "AUD/124/26", offence: "",
    justification: "review of prior authorities granted for band-2 searches this month" });
  await page.getByLabel("Authority id").fill(id);
  await page.getByRole("button", { name: "Search the audit log" }).click();
  const table = page.getByRole("table", { name: "Audit events, newest first" });
  await table.waitFor();
  const text = await table.innerText();
  assert.match(text, /authority\.request/, "the request is recorded");
  assert.match(text, /authority\.approve/, "the approval is recorded");
  assert.match(text, /Insp Aisha Adams/, "with the approver");
  assert.match(text, /DS Ezra Ellis/, "and the requester");
  assert.match(text, /search/, "the search that presented it");
  await shot(page, "audit-authority");
  clean(page);
  await page.context().close();
});

test("manager: places a preservation hold on the aged plate, runs retention, then releases the hold", async () => {
  const page = await login("manager");
  await page.goto("/admin");
  const hold = page.getByRole("form", { name: "Create a preservation hold" });
  await hold.getByLabel("VRMs (comma separated)").fill("LD09HBR");
  await hold.getByLabel("Review by").fill(local(new Date(Date.now() + 90 * 86400e3)));
  await fillReason(page, "hold", { purpose: "major_crime", caseRef: "OP/4471/26", offence: "HO01001",
    justification: "LD09HBR's year-old reads are evidence for the Operation Rowan trial; keep them past retention" });
  await hold.getByRole("button", { name: "Place hold" }).click();
  await page.getByRole("status").filter({ hasText: "Hold placed for OP/4471/26" }).waitFor();
  const holds = page.getByRole("table", { name: "Holds" });
  await holds.getByRole("row").filter({ hasText: "OP/4471/26" }).filter({ hasText: "active" }).waitFor();

  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Run retention now" }).click();
  const done = page.getByRole("status").filter({ hasText: "Retention run finished" });
  await done.waitFor();
  const m = /(\d+) reads? deleted, (\d+) kept under (\d+) hold/.exec(await done.innerText());
  assert.ok(m, "the run reports what it did");
  assert.ok(Number(m[2]) > 0, "the hold kept LD09HBR's expired reads");
  const runs = page.getByRole("table", { name: "Past runs" });
  await runs.getByRole("row").filter({ hasText: "(api)" }).first().waitFor();
  await page.getByRole("heading", { name: "Retention runs" }).scrollIntoViewIfNeeded();
  await shot(page, "admin-holds-retention");

  await holds.getByRole("button", { name: "Release hold OP/4471/26" }).click();
  const rel = page.getByRole("form", { name: "Release hold OP/4471/26" });
  await rel.getByLabel("Why the data may now be deleted").fill("trial concluded on 20 November; exhibits no longer needed");
  await rel.getByRole("button", { name: "Release hold" }).click();
  await holds.getByRole("row").filter({ hasText: "OP/4471/26" }).filter({ hasText: "released" }).waitFor();

  // Subject access: every read held of the plate, as a CSV whose digest the audit log recorded.
  await fillReason(page, "dr", { purpose: "data_protection", caseRef: "DPA/5521/26", offence: "",
    justification: "subject access request from the registered keeper of LD09HBR, received 18 November" });
  const sar = page.getByRole("form", { name: "Subject access report" });
  await sar.getByLabel("Plate (VRM)").fill("LD09HBR");
  await sar.getByLabel("From").fill(local(daysAgo(420)));
  const resp = page.waitForResponse((r) => r.url().endsWith("/api/v1/subject-access"));
  const download = page.waitForEvent("download");
  await sar.getByRole("button", { name: "Download subject access report" }).click();
  const header = (await resp).headers()["x-content-sha256"];
  const body = readFileSync(await (await download).path());
  assert.equal(createHash("sha256").update(body).digest("hex"), header, "the report is what the audit log recorded");
  assert.ok(body.toString("utf8").includes("LD09HBR"));
  await page.getByRole("status").filter({ hasText: "Subject access report for LD09HBR downloaded" }).waitFor();
  await shot(page, "admin-data-rights");
  clean(page);
  await page.context().close();
});

test("investigator: convoy of LK19XRT refused without authority; with the superintendent's approval it finds the follower, with evidence on the map", async () => {
  const inv = await login("investigator");
  const from = local(daysAgo(28));
  const to = local(new Date());
  const why = { purpose: "serious_crime", caseRef: "MPS/88231/26", offence: "TH68010",
    justification: "LK19XRT's keeper reports being followed home; identify the vehicle following" };
  const fillConvoy = async () => {
    await inv.goto("/analysis");
    await inv.getByLabel("Convoy (who travels with a target)").check();
    await inv.getByLabel("Target plate (VRM)").fill("LK19XRT");
    await inv.locator("#an-from").fill(from);
    await inv.locator("#an-to").fill(to);
    await fillReason(inv, "an", why);
  };
  await fillConvoy();
  await inv.getByRole("button", { name: "Search", exact: true }).click();
  await inv.getByRole("alert").filter({ hasText: "Refused" }).waitFor();
  await inv.getByRole("link", { name: "Request prior authority for this search" }).click();
  await inv.getByRole("form", { name: "Request prior authority" }).waitFor();
  assert.equal(await inv.locator("#ar-vrms").inputValue(), "LK19XRT");
  await fillReason(inv, "ar", why);
  await inv.getByRole("button", { name: "Submit request" }).click();
  await inv.getByText(/submitted; an authorising officer will decide it/).waitFor();

  const supt = await login("superintendent");
  await supt.goto("/authorities/queue");
  const decide = supt.getByRole("button", { name: "Decide request MPS/88231/26" });
  await decide.click();
  const form = supt.getByRole("form", { name: "Decide request MPS/88231/26" });
  await form.getByLabel("Decision reason").fill("convoy analysis proportionate: one named target, four weeks, harassment report");
  await form.getByLabel("Maximum uses").fill("3");
  await form.getByRole("button", { name: "Approve" }).click();
  await supt.getByRole("status").filter({ hasText: "Approved the request for MPS/88231/26" }).waitFor();
  clean(supt);
  await supt.context().close();

  await fillConvoy();
  const picker = inv.locator("#authority");
  await picker.locator("option", { hasText: "MPS/88231/26" }).waitFor({ state: "attached" });
  await picker.selectOption({ label: await picker.locator("option", { hasText: "MPS/88231/26" }).innerText() });
  await inv.getByRole("button", { name: "Search", exact: true }).click();
  const companions = inv.getByRole("table", { name: "Vehicles travelling with LK19XRT, best first" });
  await companions.waitFor();
  assert.match(await companions.locator("tbody tr").first().innerText(), /LN68BWD/, "the planted follower ranks first");
  const evidence = inv.getByRole("table", { name: /Evidence: LN68BWD with LK19XRT/ });
  await evidence.waitFor();
  assert.ok((await evidence.locator("tbody tr").count()) >= 2, "seen together at two or more cameras");
  await inv.getByRole("img", { name: /Map of the cameras where LN68BWD was seen/ }).locator("canvas").waitFor();
  await inv.getByRole("button", { name: "Show counts over time" }).click();
  await inv.getByTestId("histogram-total").waitFor();
  await inv.getByRole("img", { name: /Chart of \d+ counts per day/ }).locator("canvas").waitFor();
  await inv.waitForTimeout(1500); // let the map draw before the screenshot
  await shot(inv, "convoy");
  clean(inv);
  await inv.context().close();
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
