// Runs first (file name): its first test needs the brand-new, empty install that npm test starts
// the e2e server with; the other specs add hosts under their own unique prefixes.
// A new install from the operator's side: the Overview says what to do, "Load demo inventory"
// fills it, the numbers appear, and a host page shows identity, endpoints and what is still missing.
// Runs against a fresh database (see the e2e command in the README): the first test needs the
// inventory to be empty, as on a new install.
import { expect, test } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { shot, signIn } from "./helpers";

test("new install: empty Overview, load the demo inventory, numbers appear", async ({ page }) => {
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await expect(page.getByText("No hosts yet: import a CSV or add one")).toBeVisible();
  await expect(page.getByRole("link", { name: "Add a host" })).toBeVisible();
  await shot(page, "dashboard-empty");

  await page.getByRole("button", { name: "Load demo inventory" }).click();
  const done = page.getByRole("status").filter({ hasText: /^Loaded \d+ (lab|example) hosts/ });
  await expect(done).toBeVisible();
  const loaded = Number(/^Loaded (\d+)/.exec((await done.textContent()) ?? "")![1]);
  expect(loaded).toBeGreaterThanOrEqual(9);

  // After the refresh the Overview answers first: every demo host is new, so all are unknown.
  await expect(page.getByTestId("overview-answer")).toContainText(`None of the ${loaded} hosts has a conclusive scan yet`);
  await expect(page.getByTestId("count-unknown")).toContainText(String(loaded));
  await expect(page.getByTestId("count-compliant")).toContainText("0");
  await expect(page.getByRole("heading", { name: /Mail flow at risk/ })).toBeVisible();
  await expect(page.getByText("No host is at risk")).toBeVisible();
  await expect(page.getByRole("heading", { name: "Non-compliance by group" })).toBeVisible();
  await expect(page.getByRole("img", { name: /Compliance trend/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /Hosts per status\. Unknown: \d+/ })).toBeVisible();
  await shot(page, "dashboard-overview-demo");

  // Loading twice is refused: demo data only goes into an empty inventory.
  await page.goto("/");
  await expect(page.getByRole("button", { name: "Load demo inventory" })).toHaveCount(0);
});

test("a demo host's page: identity, endpoints, empty evidence; scan and config audit fill the matrix, the evidence and the timeline", async ({ page }) => {
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await page.getByTestId("count-unknown").click();
  await expect(page).toHaveURL(/\/hosts\?status=unknown/);
  // A mail host: mx-legacy (TLS 1.0 accepted) when the lab is up, mx-edge1.example.test otherwise.
  await page.goto("/hosts?status=unknown&q=mx");
  const hostLink = page.getByRole("link", { name: /^mx-[a-z0-9-]+\.(lab\.tlsfleet\.test|example\.test)$/ }).first();
  const name = (await hostLink.textContent())!.trim();
  await hostLink.click();

  await expect(page.getByRole("heading", { level: 1 })).toContainText(name);
  const status = page.getByTestId("host-status");
  await expect(status.getByText("Never scanned", { exact: true })).toBeVisible();
  // The first badge is the host's; the direction boxes below it carry their own.
  await expect(status.locator("[data-status]").first()).toHaveAttribute("data-status", "unknown");
  const identity = page.getByTestId("host-identity");
  await expect(identity.getByText("demo", { exact: true })).toBeVisible();
  const matrix = page.getByTestId("protocol-matrix");
  await expect(matrix.getByRole("columnheader", { name: "TLS 1.0" })).toBeVisible();
  await expect(matrix.getByText("not probed yet").first()).toBeVisible();
  await expect(page.getByTestId("config-evidence-empty")).toContainText("No config audit yet: run a config audit (needs a credential");
  await expect(page.getByText("Nothing has happened to this host yet")).toBeVisible();
  await shot(page, "dashboard-host");

  // The worker started by `tlsfleet start` probes it; the page shows whatever the wire said (a lab
  // host answers; an example.test address is outside the allowed targets, which is also evidence).
  await page.getByRole("button", { name: "Scan this host" }).click();
  await expect(page.getByRole("link", { name: "follow the job" })).toBeVisible();
  await expect(async () => {
    await page.reload();
    await expect(matrix.getByText("not probed yet")).toHaveCount(0, { timeout: 1000 });
  }).toPass({ timeout: 90_000, intervals: [1000, 2000, 3000] });
  // Status, matrix and timeline come from one snapshot: evidence and the status it caused together.
  await expect(page.getByTestId("host-status").locator("[data-status]").first()).not.toHaveAttribute("data-status", "unknown");
  await expect(matrix.locator("[data-outcome]").first()).toBeVisible();
  const timeline = page.getByTestId("host-timeline");
  await expect(timeline.getByRole("link", { name: "scan job" })).toBeVisible();
  await expect(timeline.locator('[data-status]').first()).toBeVisible();
  await shot(page, "dashboard-host-scanned");

  // Config audit: with the lab, the demo host has the lab's key as a credential and the Postfix
  // playbook's reading appears as configuration evidence; without it the task is skipped (no credential).
  await page.getByRole("button", { name: "Run config audit" }).click();
  await expect(page.getByRole("link", { name: "follow the job" }).last()).toBeVisible();
  const auditEntry = timeline.locator("li", { has: page.getByRole("link", { name: "audit job" }) });
  await expect(async () => {
    await page.reload();
    await expect(auditEntry).toContainText(/task (succeeded|skipped|failed|unreachable)/, { timeout: 1000 });
  }).toPass({ timeout: 120_000, intervals: [1000, 2000, 3000] });
  await expect(page.getByTestId("config-evidence").or(page.getByTestId("config-evidence-empty"))).toBeVisible();
  await shot(page, "dashboard-host-audited");

  // Back on the Overview one host fewer is unknown.
  await page.getByRole("link", { name: "Overview" }).click();
  await expect(page.getByTestId("overview-answer")).toBeVisible();
  await shot(page, "dashboard-overview-after-scan");
});
