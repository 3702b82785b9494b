// Config audit end to end, against the real lab over SSH: an admin pastes the lab's client key
// as a credential and scopes it to the lab, adds mx-legacy with transport ssh and that credential,
// scans it, runs a config audit from the host page (the first contact only reads the host key and
// says to confirm it), confirms the key, audits again and sees config evidence beside the wire matrix.
// The audit trail (no lab): the Audit page's chain status, filters, event details and CSV export.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { loadFleet } from "../lab/fleet";
import { allowLabTargets, createHostViaApi, followJobToEnd, scopeCredential, shot, signIn, unique } from "./helpers";

test.setTimeout(240_000);
// The host page puts wire and config evidence side by side from 1920 px up.
test.use({ viewport: { width: 1920, height: 1080 } });

/** Host page: starts a config audit and waits for its job to end; returns the job's id. */
async function runConfigAudit(page: Page): Promise<string> {
  await page.getByRole("button", { name: "Run config audit" }).click();
  await expect(page.getByText("Config audit started")).toBeVisible();
  return followJobToEnd(page);
}

test("config audit: credential, lab host over ssh, audit from the host page, evidence beside the wire, confirm the host key", async ({ page }) => {
  const fleet = loadFleet();
  const lab = fleet.hosts.find((h) => h.name === "mx-legacy")!;
  const u = `e2e${unique()}`;
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);

  // ---- the lab is an allowed target
  // The lab and loopback: saving only the lab's range would take loopback away from later specs.
  await allowLabTargets(page);

  // ---- Settings > Credentials: paste the lab client key
  await page.goto("/settings/credentials");
  const form = page.getByRole("form", { name: "Add a credential" });
  await form.getByLabel("Name", { exact: true }).fill(`${u}-lab-root`);
  await form.getByLabel("Kind").selectOption("ssh_key");
  await form.getByLabel("Username").fill(fleet.ssh.user);
  await form.getByLabel("Private key (OpenSSH or PEM, unencrypted)").fill(readFileSync(fleet.ssh.keyPath, "utf8"));
  await form.getByRole("button", { name: "Save credential" }).click();
  await expect(page.getByRole("cell", { name: `${u}-lab-root` })).toBeVisible();
  // The key never comes back to the browser.
  expect(await page.content()).not.toContain("PRIVATE KEY-----\n");
  // Usable for the lab's range only (an empty scope is usable nowhere).
  await scopeCredential(page, `${u}-lab-root`, ["198.18.0.0/15"]);
  const credentialRow = page.getByTestId(`credential-row-${u}-lab-root`);
  await credentialRow.getByRole("button", { name: "Edit scope" }).click();
  await credentialRow.getByLabel("Address ranges").fill("not-a-range");
  await credentialRow.getByRole("button", { name: "Save scope" }).click();
  await expect(credentialRow.getByText('"not-a-range" is not an address range: write a CIDR such as 198.18.0.0/24').first()).toBeVisible();
  await shot(page, "credentials-scope-error");
  await credentialRow.getByRole("button", { name: "Cancel" }).click();

  // ---- the host, through the API, with transport ssh and that credential (no pinned key yet)
  const hostId = await createHostViaApi(page, { name: `${u}-mx-legacy.lab.tlsfleet.test`, address: lab.address, platform: "linux", roles: ["postfix"], transport: "ssh", port: 22, credentialName: `${u}-lab-root`, endpoints: "25/smtp" });

  // ---- wire first (Scan this host), then the config audit from the host page: the first contact
  // reads the host key without logging in, and the task says what to do
  await page.goto(`/hosts/${hostId}`);
  await expect(page.getByTestId("config-evidence-empty")).toBeVisible();
  await page.getByRole("button", { name: "Scan this host" }).click();
  await followJobToEnd(page);
  await page.reload();
  const firstContact = await runConfigAudit(page);
  await page.goto(`/jobs/${firstContact}`);
  await expect(page.getByText(/confirm the key on the host page/).first()).toBeVisible({ timeout: 30_000 });

  // ---- the key the first contact recorded, confirmed by the admin
  await page.goto(`/hosts/${hostId}`);
  const panel = page.getByTestId("host-key-panel");
  await expect(panel.getByTestId("pending-key")).toContainText(lab.ssh!.hostKeyFingerprint);
  await shot(page, "audit-host");
  await panel.getByRole("button", { name: "Confirm host key" }).click();
  await expect(panel.getByTestId("pinned-key")).toHaveText(lab.ssh!.hostKeyFingerprint);
  await expect(panel.getByTestId("pending-key")).toHaveCount(0);
  await shot(page, "audit-host-key-confirmed");

  // ---- now the audit logs in against the pinned key
  await page.reload();
  const auditJob = await runConfigAudit(page);

  // The job page shows the operator-readable task log.
  await page.goto(`/jobs/${auditJob}`);
  await page.getByText(/^Log \(\d+ lines\)$/).first().click();
  await expect(page.getByText(/smtpd_tls_protocols = >=TLSv1 -> TLS 1\.0\/1\.1 enabled/).first()).toBeVisible({ timeout: 30_000 });
  await shot(page, "audit-job");

  // ---- the host page: config evidence beside the wire matrix, status from both
  await page.goto(`/hosts/${hostId}`);
  await expect(page.getByTestId("host-status")).toContainText(/Noncompliant/);
  const row = page.getByTestId("evidence-row");
  const postfix = row.getByTestId("config-postfix");
  await expect(postfix).toBeVisible();
  await expect(postfix.getByTestId("postfix-settings")).toContainText("smtpd_tls_protocols");
  await expect(postfix.getByTestId("postfix-settings")).toContainText(">=TLSv1");
  await expect(postfix.getByTestId("postfix-settings")).toContainText("TLS 1.0, 1.1, 1.2, 1.3");
  const wireBox = await row.getByRole("heading", { name: /Endpoints and protocols/ }).boundingBox();
  const configBox = await row.getByRole("heading", { name: "Configuration evidence" }).boundingBox();
  // Side by side: same row, config to the right of the wire.
  expect(Math.abs(wireBox!.y - configBox!.y)).toBeLessThan(5);
  expect(configBox!.x).toBeGreaterThan(wireBox!.x + 200);
});

/** `tlsfleet audit ...` against the e2e server's database (as the worker's hourly round would). */
function auditCli(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: process.env.E2E_DATA_DIR ?? ".data/e2e", LOG_LEVEL: "warn" };
  if (process.env.E2E_DATABASE_URL) env.DATABASE_URL = process.env.E2E_DATABASE_URL;
  const r = spawnSync(process.execPath, [path.resolve("bin/tlsfleet"), "audit", ...args], { env, encoding: "utf8", timeout: 120_000 });
  expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}

test("audit trail: chain status, filters find an event with its place in the chain, CSV export of the filter", async ({ page }) => {
  const u = `e2e${unique()}`;
  const hostName = `${u}-trail.example.test`;
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await createHostViaApi(page, { name: hostName, address: "127.0.0.1", platform: "linux", roles: ["nginx"], endpoints: "443/https" });
  expect(auditCli("checkpoint")).toMatch(/^checkpoint \d+: event #\d+/);
  expect(auditCli("verify")).toContain("OK: ");

  await page.goto("/audit");
  await expect(page.getByRole("heading", { name: "Audit" })).toBeVisible();
  await expect(page.getByTestId("chain-status")).toContainText(/Verified up to checkpoint \d+ at \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

  // Keyboard only: type the filter, Enter submits.
  const search = page.getByRole("search", { name: "Filter audit events" });
  await search.getByLabel("Action").fill("host.create");
  await search.getByLabel("Target").fill(`host:${hostName}`);
  await search.getByLabel("Target").press("Enter");
  await expect(page).toHaveURL(/target=host%3A/);
  const events = page.getByTestId("audit-event");
  await expect(events).toHaveCount(1);
  await expect(events.first()).toContainText(E2E_ADMIN.email);
  await expect(events.first()).toContainText(`host:${hostName}`);

  // Open the event from the keyboard: its details and its place in the chain.
  await events.first().locator("summary").focus();
  await page.keyboard.press("Enter");
  const place = events.first().getByRole("region", { name: "Place in the chain" });
  await expect(place).toBeVisible();
  await expect(place).toContainText(/Sequence#\d+ \(id \d+\)/);
  await expect(place).toContainText(/Hash[0-9a-f]{64}/);
  await expect(events.first().getByRole("region", { name: "Details" })).toContainText('"address": "127.0.0.1"');
  await shot(page, "audit-trail-filtered");

  // CSV of the filter.
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Export CSV (filtered)" }).click()]);
  expect(download.suggestedFilename()).toMatch(/^tlsfleet-audit-.*\.csv$/);
  const csv = readFileSync((await download.path())!, "utf8").replace(/^\uFEFF/, "").trim().split("\r\n");
  expect(csv[0]).toBe("seq,id,at,actor,actorId,action,target,details,prevHash,hash");
  expect(csv).toHaveLength(2);
  expect(csv[1]).toContain(`,host.create,host:${hostName},`);

  // The export itself is on the record, and a filter that matches nothing says what to do.
  await page.goto(`/audit?action=audit.export`);
  await expect(events.first()).toContainText("audit.export");
  await page.goto(`/audit?target=host%3Anothing-${u}`);
  await expect(page.getByText("No events match this filter")).toBeVisible();

  // Unfiltered, first page, with paging.
  await page.goto("/audit");
  await expect(events.first()).toBeVisible();
  await shot(page, "audit-trail");
});
