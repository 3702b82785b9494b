// The Audit page finds an approval (no lab): an operator requests an exception for a host's
// 25/smtp, an admin approves it, and an auditor (viewer) filters the trail from the keyboard,
// first by the host, then by the approval action and the approver, and finds exactly that one
// event: who approved, what (the host, the exception and its scope), and when; its details open
// from the keyboard.
import { expect, test } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { addUser, pageAs, shot, signIn, unique } from "./helpers";

// Four people sign in (bcrypt each time) and three pages render on a shared 2-core machine.
test.setTimeout(240_000);

test("the Audit page filter finds the approval: who approved which exception when, opened from the keyboard", async ({ page, browser }) => {
  const u = unique();
  const operator = { email: `appr-op-${u}@example.test`, password: "operator-password-1" };
  const approver = { email: `appr-admin-${u}@example.test`, password: "approver-password-1" };
  const auditor = { email: `appr-auditor-${u}@example.test`, password: "auditor-password-1" };
  const hostName = `${u}-legacy-relay.example.test`;
  const justification = `Legacy relay ${u} talks to a TLS 1.0-only scanner; replaced by CHG-2077`;

  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  for (const [who, role] of [[operator, "operator"], [approver, "admin"], [auditor, "viewer"]] as const) await addUser(page, who.email, role, who.password);
  // Data only: no scan runs in this spec, the address is never dialled.
  const created = await page.request.post("/api/v1/hosts", { data: { name: hostName, address: "127.0.0.1", platform: "linux", roles: ["postfix"], endpoints: "25/smtp" } });
  expect(created.status(), await created.text()).toBe(201);
  const hostId = ((await created.json()) as { id: string }).id;

  // ---- the operator asks, on the host page
  const op = await pageAs(browser, operator.email, operator.password);
  await op.goto(`/hosts/${hostId}`);
  const form = op.getByRole("form", { name: "Request an exception" });
  await form.getByLabel("Endpoint").selectOption("25");
  await form.getByLabel("TLS version").selectOption("TLSv1");
  await form.getByLabel(/^Expires/).fill(new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10));
  await form.getByLabel("Justification").fill(justification);
  await form.getByRole("button", { name: "Request exception" }).press("Enter");
  await expect(op.getByText("Exception requested: it counts once an admin (not you) approves it")).toBeVisible();
  const exceptionId = (await op.getByTestId("host-exceptions").locator("tr[data-state=pending]").getAttribute("data-exception-id"))!;

  // ---- an admin approves it from the Exceptions page (Enter on the focused button)
  const admin = await pageAs(browser, approver.email, approver.password);
  await admin.goto("/exceptions?state=pending");
  const before = new Date();
  const pendingRow = admin.locator(`tr[data-exception-id="${exceptionId}"]`);
  await pendingRow.getByRole("button", { name: "Approve" }).press("Enter");
  // Approved, the row leaves the pending list (its confirmation with it, on the refresh).
  await expect(pendingRow).toHaveCount(0);
  const after = new Date();
  await admin.goto("/exceptions?state=approved");
  await expect(admin.locator(`tr[data-exception-id="${exceptionId}"]`)).toContainText(`approved by ${approver.email}`);

  // ---- the auditor filters the trail by the host: its creation, the request and the approval
  const audit = await pageAs(browser, auditor.email, auditor.password);
  await audit.goto("/audit");
  const search = audit.getByRole("search", { name: "Filter audit events" });
  await search.getByLabel("Target").focus();
  await audit.keyboard.type(`host:${hostName}`);
  await audit.keyboard.press("Enter");
  await expect(audit).toHaveURL(/target=host%3A/);
  const events = audit.getByTestId("audit-event");
  await expect(events.locator("summary")).toHaveText([/exception\.approved/, /exception\.requested/, /host\.create/]);

  // ---- then by the approval and its approver (Shift+Tab from the target to the action and the actor)
  await search.getByLabel("Target").focus();
  await audit.keyboard.press("Shift+Tab");
  await expect(search.getByLabel("Action")).toBeFocused();
  await audit.keyboard.type("exception.approved");
  await audit.keyboard.press("Shift+Tab");
  await expect(search.getByLabel("Actor")).toBeFocused();
  await audit.keyboard.type(approver.email);
  await audit.keyboard.press("Enter");
  await expect(audit).toHaveURL(/action=exception\.approved/);
  await expect(audit).toHaveURL(/actor=appr-admin-/);
  await expect(events).toHaveCount(1);
  const approval = events.first();
  const summary = approval.locator("summary");
  await expect(summary).toContainText(approver.email);
  await expect(summary).toContainText("exception.approved");
  await expect(summary).toContainText(`host:${hostName}`);
  // When: the approval's own time, between the click and its confirmation (to the second).
  const at = new Date((await summary.locator("time").getAttribute("datetime"))!);
  expect(at.getTime()).toBeGreaterThanOrEqual(Math.floor(before.getTime() / 1000) * 1000);
  expect(at.getTime()).toBeLessThanOrEqual(after.getTime());
  await expect(summary.locator("time")).toHaveText(`${at.toISOString().slice(0, 19).replace("T", " ")} UTC`);

  // ---- open it from the keyboard: Tab from the filter form reaches the event's summary
  await search.getByRole("button", { name: "Filter" }).focus();
  for (let i = 0; i < 5 && !(await summary.evaluate((el) => el === document.activeElement)); i++) await audit.keyboard.press("Tab");
  await expect(summary).toBeFocused();
  await audit.keyboard.press("Enter");
  const details = approval.getByRole("region", { name: "Details" });
  await expect(details).toBeVisible();
  await expect(details).toContainText(`"exceptionId": "${exceptionId}"`);
  await expect(details).toContainText('"scope": "TLS 1.0 on port 25"');
  await expect(approval.getByRole("region", { name: "Place in the chain" })).toContainText(/Hash[0-9a-f]{64}/);
  await shot(audit, "audit-approval-found");

  // The operator's request is not the approval: the same filter with the requester as actor finds nothing.
  await audit.goto(`/audit?action=exception.approved&target=${encodeURIComponent(`host:${hostName}`)}&actor=${encodeURIComponent(operator.email)}`);
  await expect(audit.getByText("No events match this filter")).toBeVisible();
});
