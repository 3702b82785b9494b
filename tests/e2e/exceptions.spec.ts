// An exception end to end in Chromium: a loopback SMTP server that accepts TLS 1.0 makes a host
// noncompliant (TLS 1.0 and 1.1 accepted); an operator requests an exception for that port; the operator cannot
// approve it, a second admin does; the host shows "excepted" with the justification on its page,
// in the host list and on the Overview.
import { expect, test } from "@playwright/test";
import type { Server } from "node:net";
import { E2E_ADMIN } from "../../playwright.config";
import { createMailServer } from "../lab/peers/mail-server";
import { selfSignedCertificate } from "../lab/peers/common";
import { addUser, allowLabTargets, followJobToEnd, pageAs, shot, signIn, unique } from "./helpers";

let smtp: Server;
let smtpPort = 0;

test.beforeAll(async () => {
  smtp = createMailServer({ protocol: "smtp", minVersion: "TLSv1", maxVersion: "TLSv1.3", greetingMs: 0, offerStartTls: true, afterStartTls: "tls", certificate: selfSignedCertificate("exceptions-e2e.lab") });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  smtpPort = (smtp.address() as { port: number }).port;
});

test.afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

test("an operator requests an exception, a second admin approves it, and the host shows excepted with the justification", async ({ page, browser }) => {
  const u = unique();
  const operator = { email: `exc-op-${u}@example.test`, password: "operator-password-1" };
  const approver = { email: `exc-admin-${u}@example.test`, password: "approver-password-1" };
  const hostName = `${u}-fax-gateway.example.test`;
  const justification = `Fax gateway ${u} speaks only TLS 1.0/1.1; replaced by CHG-1042 in January`;

  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  // Loopback must be an allowed target whatever an earlier spec saved in Settings > Scans.
  await allowLabTargets(page);
  await addUser(page, operator.email, "operator", operator.password);
  await addUser(page, approver.email, "admin", approver.password);
  const created = await page.request.post("/api/v1/hosts", { data: { name: hostName, address: "127.0.0.1", roles: ["postfix"], endpoints: `${smtpPort}/smtp` } });
  expect(created.status()).toBe(201);
  const hostId = ((await created.json()) as { id: string }).id;
  await page.goto(`/hosts/${hostId}`);
  await page.getByRole("button", { name: "Scan this host" }).click();
  await followJobToEnd(page);
  await page.reload();
  await expect(page.getByTestId("host-status")).toContainText(`TLS 1.0 and TLS 1.1 accepted on ${smtpPort}/smtp`);
  // The first badge is the host's; the direction boxes below it carry their own.
  await expect(page.getByTestId("host-status").locator("[data-status]").first()).toHaveAttribute("data-status", "noncompliant");

  // The operator asks, on the host page.
  const op = await pageAs(browser, operator.email, operator.password);
  await op.goto(`/hosts/${hostId}`);
  const form = op.getByRole("form", { name: "Request an exception" });
  await form.getByLabel("Endpoint").selectOption(String(smtpPort));
  // Every version: the port accepts both TLS 1.0 and 1.1, and an exception hides only what it names.
  await form.getByLabel("TLS version").selectOption("");
  await form.getByLabel(/^Expires/).fill(new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10));
  await form.getByLabel("Justification").fill(justification);
  await form.getByRole("button", { name: "Request exception" }).click();
  await expect(op.getByText("Exception requested: it counts once an admin (not you) approves it")).toBeVisible();
  const row = op.getByTestId("host-exceptions").locator("tr[data-state]");
  await expect(row).toHaveAttribute("data-state", "pending");
  await expect(row).toContainText(`every version on port ${smtpPort}`);
  // Pending does not count; the requester has no Approve button, and the server refuses them anyway.
  await expect(op.getByTestId("host-status").locator("[data-status]").first()).toHaveAttribute("data-status", "noncompliant");
  await expect(op.getByRole("button", { name: "Approve" })).toHaveCount(0);
  const exceptionId = (await row.getAttribute("data-exception-id"))!;
  expect((await op.request.post(`/api/v1/exceptions/${exceptionId}/approve`, { data: {} })).status()).toBe(403);
  await shot(op, "exceptions-requested");

  // A second admin approves it from the Exceptions page.
  const admin2 = await pageAs(browser, approver.email, approver.password);
  await admin2.goto("/exceptions?state=pending");
  await expect(admin2.getByTestId("awaiting-you")).toContainText("wait for your approval");
  const pendingRow = admin2.locator(`tr[data-exception-id="${exceptionId}"]`);
  await expect(pendingRow).toContainText(hostName);
  await expect(pendingRow).toContainText(justification);
  await expect(pendingRow).toContainText(`requested by ${operator.email}`);
  await shot(admin2, "exceptions-pending-approval");
  await pendingRow.getByRole("button", { name: "Approve" }).click();
  // Approved, the row leaves the pending list; its confirmation goes with it on the refresh, so
  // the row is what is waited for (the status check below is the real assertion).
  await expect(pendingRow).toHaveCount(0);

  // The host shows excepted, with the justification and the expiry, wherever its status appears.
  await admin2.goto(`/hosts/${hostId}`);
  const status = admin2.getByTestId("host-status");
  await expect(status.locator("[data-status]").first()).toHaveAttribute("data-status", "excepted");
  await expect(status).toContainText(/excepted until \d{4}-\d\d-\d\d 23:59 UTC/);
  await expect(status).toContainText(justification);
  await expect(admin2.getByTestId("host-exceptions").locator("tr[data-state]")).toContainText(`approved by ${approver.email}`);
  await shot(admin2, "exceptions-host-excepted");

  await admin2.goto(`/hosts?q=${u}`);
  const listRow = admin2.getByRole("row").filter({ hasText: hostName });
  await expect(listRow.locator("[data-status]")).toHaveAttribute("data-status", "excepted");
  await expect(listRow).toContainText(justification);

  await admin2.goto("/");
  const overview = admin2.getByText(/^Excepted \(\d+\)$/);
  await expect(overview).toBeVisible();
  await expect(admin2.getByRole("link", { name: hostName })).toBeVisible();
  await shot(admin2, "exceptions-overview");
});
