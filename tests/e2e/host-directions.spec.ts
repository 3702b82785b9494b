// The host page tells both mail directions (no lab): a Postfix host whose listener on 25/smtp
// takes TLS 1.2+ only (a real probe of a loopback server, stored as its 25/smtp result), whose
// smtp_tls_protocols allow TLS 1.0 only, and whose outbound check was refused by the TLS-1.2-only
// sink (it offered TLS 1.0 only: Microsoft 365's 421 4.4.2). The evidence is written by
// tests/e2e/seed/both-directions.ts through lib/ (a scan records only what a reachable host
// answers now, and an outbound check needs a real Postfix). The page must show inbound fine,
// outbound at risk, each with what decided it, at 1920, 1680 and 1280 px; screenshots in test-results/.
import { spawnSync } from "node:child_process";
import { expect, test, type Page } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { shot, signIn, unique } from "./helpers";

function seedBothDirections(hostId: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
  if (process.env.E2E_DATABASE_URL) env.DATABASE_URL = process.env.E2E_DATABASE_URL;
  const r = spawnSync(process.execPath, ["--conditions=react-server", "--import", "tsx", "tests/e2e/seed/both-directions.ts", hostId], { env, encoding: "utf8", timeout: 60_000 });
  expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
}

async function expectBothDirections(page: Page, hostName: string) {
  const status = page.getByTestId("host-status");
  await expect(status.locator("[data-status]").first()).toHaveAttribute("data-status", "at_risk");
  // The at_risk explanation is about the outbound direction: mail to Microsoft 365 fails.
  const explanation = status.getByTestId("status-explanation");
  await expect(explanation).toContainText(/outbound/i);
  await expect(explanation).toContainText("Microsoft 365");
  await expect(explanation).not.toContainText("inbound");

  const inbound = page.getByRole("region", { name: "Inbound from Microsoft 365", exact: true });
  await expect(inbound.locator("[data-status]")).toHaveAttribute("data-status", "compliant");
  await expect(inbound).toContainText("this host as TLS server");
  await expect(inbound).toContainText("Decided by the wire probes");

  const outbound = page.getByRole("region", { name: "Outbound to Microsoft 365", exact: true });
  await expect(outbound.locator("[data-status]")).toHaveAttribute("data-status", "at_risk");
  await expect(outbound).toContainText("this host as TLS client");
  await expect(outbound).toContainText("Decided by an outbound check on the wire");
  await expect(outbound.getByRole("listitem").first()).toContainText("Microsoft 365");
  // The config agrees: its client side allows TLS 1.0 only (shown once, not once per finding).
  const advisory = outbound.getByTestId("advisory-outbound").getByRole("listitem");
  await expect(advisory).toHaveCount(1);
  await expect(advisory).toContainText("Outbound to Microsoft 365: TLS 1.0/1.1 enabled by main.cf: smtp_tls_protocols");

  // The wire matrix of 25/smtp: TLS 1.2 and 1.3 accepted, 1.0 and 1.1 refused.
  const matrix = page.getByTestId("evidence-row");
  await expect(matrix.getByTestId("endpoint-25").locator("[data-outcome]")).toHaveText([/^rejected/, /^rejected/, /^accepted/, /^accepted/]);
  // The config: the server side compliant, the client side TLS 1.0 only.
  const postfix = matrix.getByTestId("config-postfix");
  await expect(postfix).toContainText("smtpd_tls_protocols");
  await expect(postfix).toContainText("smtp_tls_protocols");
  await expect(postfix).toContainText("!SSLv2, !SSLv3, !TLSv1.1, !TLSv1.2, !TLSv1.3");

  // The outbound check card: refused, in the sink's words.
  const check = page.getByTestId("outbound-evidence");
  await expect(check).toContainText("Refused: older TLS only");
  await expect(check).toContainText("the host offered only TLS 1.0 to the check sink 198.18.0.1:25");
  await expect(check).toContainText("421 4.4.2");
  await expect(page.getByRole("heading", { name: hostName })).toBeVisible();
}

/** Nothing scrolls sideways: neither the page nor the version matrix inside its card. */
async function expectNoSidewaysScroll(page: Page) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  expect(scroll).toBeLessThanOrEqual(client);
  const matrix = await page.getByTestId("protocol-matrix").evaluate((table) => ({ scroll: table.parentElement!.scrollWidth, client: table.parentElement!.clientWidth }));
  expect(matrix.scroll).toBeLessThanOrEqual(matrix.client);
}

/** Where the outbound check sits relative to the inbound matrix and the config evidence. */
async function boxes(page: Page) {
  const row = page.getByTestId("evidence-row");
  const box = async (name: string | RegExp) => (await row.getByRole("heading", { name }).boundingBox())!;
  return { wire: await box(/^Endpoints and protocols/), outbound: await box(/^Outbound check/), config: await box("Configuration evidence") };
}

test("host page: inbound from Microsoft 365 fine on the wire, outbound to Microsoft 365 refused by the check (TLS 1.0 only), both visible at 1920, 1680 and 1280 px", async ({ page }) => {
  const u = unique();
  const hostName = `${u}-mx-both.example.test`;
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  // Data only: no scan runs against it, the address is never dialled.
  const created = await page.request.post("/api/v1/hosts", { data: { name: hostName, address: "127.0.0.1", platform: "linux", roles: ["postfix"], endpoints: "25/smtp" } });
  expect(created.status(), await created.text()).toBe(201);
  const hostId = ((await created.json()) as { id: string }).id;
  seedBothDirections(hostId);

  // Full HD: wire evidence of both directions on the left, the config of both sides on the right.
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(`/hosts/${hostId}`);
  await expectBothDirections(page, hostName);
  await expectNoSidewaysScroll(page);
  let b = await boxes(page);
  expect(Math.abs(b.wire.y - b.config.y)).toBeLessThan(5);
  expect(b.config.x).toBeGreaterThan(b.wire.x + 200);
  expect(Math.abs(b.outbound.x - b.wire.x)).toBeLessThan(5);
  await shot(page, "host-directions-1920");

  // Narrower: stacked, the outbound check right under the inbound matrix, before the long config.
  for (const width of [1680, 1280]) {
    await page.setViewportSize({ width, height: 1000 });
    await page.reload();
    await expectBothDirections(page, hostName);
    await expectNoSidewaysScroll(page);
    b = await boxes(page);
    expect(b.outbound.y).toBeGreaterThan(b.wire.y);
    expect(b.outbound.y).toBeLessThan(b.config.y);
    await shot(page, `host-directions-${width}`);
  }
});
