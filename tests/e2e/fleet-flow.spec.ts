// Issue 4's whole flow against the real lab fleet: import (a bad row blocks everything until
// fixed), scan, watch live progress reach 100%, legacy hosts noncompliant with the evidence,
// the protocol matrix, retry the one host that failed, export.
import { readFile } from "node:fs/promises";
import { expect, test } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { loadFleet } from "../lab/fleet";
import { shot, signIn, unique } from "./helpers";

const HEADER = "name,address,platform,roles,tags,group,owner,transport,port,credential,endpoints";

test("import lab hosts, scan them live, see legacy TLS, retry the failed host, export", async ({ page }) => {
  test.setTimeout(300_000);
  const fleet = await loadFleet();
  const pick = (name: string) => {
    const h = fleet.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`lab host ${name} missing: run npm run lab -- up`);
    return h;
  };
  const u = `flow${unique()}`;
  const lab = ["mx-legacy", "mx-modern", "web-legacy", "web-modern"].map(pick);
  const silent = pick("peer-never-greets");
  const KNOWN_ROLES = ["exchange", "postfix", "nginx", "dovecot", "iis"];
  const roles = (h: ReturnType<typeof pick>) => h.roles.filter((r) => KNOWN_ROLES.includes(r)).join(";") || "other";
  const row = (h: ReturnType<typeof pick>, address = h.address) =>
    `${u}-${h.name},${address},linux,${roles(h)},lab,Lab,Ops,none,,,${h.endpoints.map((e) => `${e.port}/${e.service}`).join(";")}`;
  const rows = [...lab.map((h) => row(h)), row(silent)];
  const file = (name: string, lines: string[]) => ({ name, mimeType: "text/csv", buffer: Buffer.from([HEADER, ...lines].join("\n") + "\n") });

  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);

  // ---- one bad row: previewed with line/column/reason, nothing imported
  await page.goto("/hosts/import");
  const bad = [...rows];
  bad[1] = row(lab[1], "not an address");
  await page.getByLabel("CSV file").setInputFiles(file("lab-bad.csv", bad));
  await expect(page.getByTestId("import-summary")).toContainText("Nothing will be imported until the file is fixed.");
  await expect(page.getByTestId("import-issue")).toContainText("address");
  await shot(page, "flow-import-bad-row");
  expect((await (await page.request.get(`/api/v1/hosts?q=${u}`)).json()).total).toBe(0);

  await page.getByLabel("CSV file").setInputFiles(file("lab.csv", rows));
  await page.getByRole("button", { name: `Import ${rows.length} hosts` }).click();
  await expect(page.getByText(`Imported ${rows.length} hosts.`)).toBeVisible();

  // ---- scan everything matching the filter, follow the job live
  await page.goto(`/hosts?q=${u}`);
  await page.getByRole("checkbox", { name: "Select all hosts on this page" }).check();
  await page.getByRole("button", { name: `Scan ${rows.length} hosts` }).click();
  await page.getByRole("link", { name: "Follow the job" }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  const jobUrl = page.url();
  const bar = page.getByRole("progressbar");
  await expect(page.getByTestId("stream-state")).toHaveText(/Live|Final/);
  await expect(bar).toHaveAttribute("aria-valuenow", String(rows.length), { timeout: 180_000 });
  await expect(page.getByTestId("progress-counts").locator('[data-count="done"]')).toContainText(String(lab.length));
  await expect(page.getByTestId("progress-counts").locator('[data-count="unreachable"]')).toContainText("1");
  await shot(page, "flow-job-finished");

  // ---- retry only the host that was not reached
  await page.getByRole("button", { name: "Retry failed hosts only (1)" }).click();
  const silentRow = page.locator(`[data-task-host="${u}-${silent.name}"]`);
  await expect(silentRow.locator("td").nth(2)).toHaveText("2", { timeout: 60_000 });
  await expect(bar).toHaveAttribute("aria-valuenow", String(rows.length), { timeout: 120_000 });
  await expect(page.locator(`[data-task-host="${u}-mx-legacy"]`).locator("td").nth(2)).toHaveText("1");
  await shot(page, "flow-job-retried");

  // ---- legacy hosts are noncompliant, with the evidence named
  await page.goto(`/hosts?q=${u}&status=noncompliant`);
  const noncompliant = page.getByTestId("host-row");
  await expect(noncompliant).toHaveCount(2);
  await expect(noncompliant.filter({ hasText: `${u}-mx-legacy` })).toContainText("TLS 1.0 and TLS 1.1 accepted on 25/smtp");
  await expect(noncompliant.filter({ hasText: `${u}-web-legacy` })).toContainText("accepted on 443/https");
  await shot(page, "flow-noncompliant");

  // ---- the protocol matrix of one of them
  await page.getByRole("link", { name: `${u}-mx-legacy`, exact: true }).click();
  const matrix = page.getByTestId("protocol-matrix");
  await expect(matrix).toBeVisible();
  await expect(matrix).toContainText("25");
  await expect(matrix).toContainText(/accepted/i);
  await expect(page.getByTestId("host-status")).toContainText("Noncompliant");
  await shot(page, "flow-host-matrix");

  // ---- export the scanned inventory
  await page.goto(`/hosts?q=${u}&sort=name`);
  const downloadPromise = page.waitForEvent("download");
  await page.getByRole("link", { name: "Export CSV" }).click();
  const text = (await readFile((await (await downloadPromise).path())!)).toString("utf8").replace(/^\uFEFF/, "");
  const lines = text.trimEnd().split(/\r?\n/);
  expect(lines).toHaveLength(rows.length + 1);
  expect(lines.find((l) => l.startsWith(`${u}-mx-legacy,`))).toContain(",noncompliant,");
  expect(lines.find((l) => l.startsWith(`${u}-mx-modern,`))).toContain(",compliant,");
  expect(lines.find((l) => l.startsWith(`${u}-${silent.name},`))).toContain(",unreachable,");
  expect(page.url()).not.toBe(jobUrl);
});
