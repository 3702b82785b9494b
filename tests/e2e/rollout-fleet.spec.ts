// The bulk fix as an ops team runs it: from the host list, select two lab Postfix hosts that accept
// TLS 1.0/1.1 and the legacy Windows host (the Windows test double: Exchange 2013 with TLS 1.2
// disabled) -> Enable TLS 1.2 + Disable TLS 1.0/1.1 -> the plan shows the diffs -> the requester
// cannot approve, a second admin does -> the canary (the Windows host, restarted, and one Postfix
// host) is changed and verified on the wire -> the next wave has a host whose credential stopped
// working, which halts the rollout at the budget -> rolling the Postfix host back restores its
// values and the wire shows TLS 1.0 again. (The Windows rollback with its restart is covered by
// tests/integration/rollout-lab.test.ts.)
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { loadFleet } from "../lab/fleet";
import { startDouble, type RunningDouble } from "../integration/windows-double-support";
import { probeEndpoint, parseAllowList } from "../../lib/tls";
import { addCredential, addUser, allowLabTargets, createHostViaApi, makePlan, scanAuditAndConfirmKey, shot, signIn, tickHostTrust, unique } from "./helpers";

test.setTimeout(420_000);

let double: RunningDouble | undefined;
test.afterAll(async () => {
  await double?.stop();
});

const hostRow = (page: Page, name: string) => page.getByTestId("rollout-host").filter({ hasText: name });
const hostState = (page: Page, name: string) => hostRow(page, name).locator("[data-rollout-host-state]");

test("select legacy Postfix and Windows hosts, plan, four-eyes approval, canary with a restart, halt at the budget, roll one host back", async ({ page, browser }) => {
  const fleet = await loadFleet();
  const u = `rf${unique()}`;
  double = await startDouble("legacy", { rebootDowntimeMs: 800 });
  const smtpPort = double.ready.ports.smtp;
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);
  await allowLabTargets(page);
  await addCredential(page, { name: `${u}-lab-root`, kind: "ssh_key", username: fleet.ssh.user, secret: readFileSync(fleet.ssh.keyPath, "utf8"), scope: ["198.18.0.0/15"] });
  await addCredential(page, { name: `${u}-double`, kind: "winrm_basic", username: double.ready.user, secret: double.ready.password, scope: ["127.0.0.1/32"] });
  const dir = mkdtempSync(path.join(tmpdir(), "e2e-key-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
  await addCredential(page, { name: `${u}-unauthorised`, kind: "ssh_key", username: fleet.ssh.user, secret: readFileSync(path.join(dir, "k"), "utf8"), scope: ["198.18.0.0/15"] });
  rmSync(dir, { recursive: true, force: true });

  // Sorted by name, the Windows host and mx-legacy are the canary and mx-submission the next wave.
  const win = `${u}-a-exchange.lab.tlsfleet.test`;
  const mx = `${u}-b-mx-legacy.lab.tlsfleet.test`;
  const sub = `${u}-c-mx-submission.lab.tlsfleet.test`;
  const ids: Record<string, string> = {};
  ids[win] = await createHostViaApi(page, { name: win, address: "127.0.0.1", platform: "windows", roles: ["exchange"], transport: "winrm", port: double.ready.ports.winrmHttps, credentialName: `${u}-double`, endpoints: `${smtpPort}/smtp` });
  for (const [name, lab] of [[mx, "mx-legacy"], [sub, "mx-submission"]] as const) {
    const h = fleet.hosts.find((x) => x.name === lab)!;
    ids[name] = await createHostViaApi(page, { name, address: h.address, platform: "linux", roles: ["postfix"], transport: "ssh", port: 22, credentialName: `${u}-lab-root`, endpoints: h.endpoints.map((e) => `${e.port}/${e.service}`).join(";") });
  }
  // The legacy Windows listener speaks only TLS 1.0/1.1 before the fix: the admin allows that for this host.
  await tickHostTrust(page, ids[win], "Allow TLS 1.0/1.1 for WinRM");
  for (const id of Object.values(ids)) await scanAuditAndConfirmKey(page, id);

  // ---- select them on the host list and remediate
  await page.goto(`/hosts?q=${u}`);
  await page.getByRole("checkbox", { name: "Select all hosts on this page" }).check();
  await page.getByRole("link", { name: "Remediate 3 hosts…" }).click();
  await expect(page.getByLabel("Enable TLS 1.2")).toBeChecked();
  await expect(page.getByLabel("Disable TLS 1.0/1.1")).toBeChecked();
  await page.getByLabel("Canary hosts").fill("2");
  await page.getByLabel("Each further wave (% of hosts)").fill("100");
  await page.getByLabel("Failed hosts allowed (% of hosts)").fill("100");
  await page.getByLabel("Failed hosts allowed (at most)").fill("0");
  await page.getByLabel("Restart when needed").check();
  const { rolloutUrl, state } = await makePlan(page);

  // ---- the plan: the exact diffs, the restart, and who may approve
  await expect(page.getByTestId("rollout-summary")).toContainText("3 hosts change");
  await expect(page.getByTestId("rollout-summary")).toContainText("1 needs a restart");
  await expect(hostRow(page, win).getByTestId("plan-change").filter({ hasText: "TLS 1.2\\Server" }).first()).toBeVisible();
  await expect(hostRow(page, mx).getByTestId("plan-change").first()).toContainText("smtpd_tls_protocols");
  await expect(hostRow(page, sub).getByTestId("plan-change").filter({ hasText: "master.cf" }).first()).toBeVisible();
  await shot(page, "rollout-fleet-plan");
  await expect(page.getByTestId("approval-panel")).toContainText("You requested this rollout, so you cannot approve it");
  await expect(page.getByRole("button", { name: /^Approve this plan/ })).toHaveCount(0);
  // The server refuses too, not only the page.
  const rolloutId = rolloutUrl.split("/").pop()!;
  const planHash = (await (await page.request.get(`/api/v1/rollouts/${rolloutId}`)).json()).planHash as string;
  const selfApproval = await page.request.post(`/api/v1/rollouts/${rolloutId}/approve`, { headers: { origin: new URL(page.url()).origin, "content-type": "application/json" }, data: { planHash } });
  expect(selfApproval.status()).toBe(400);
  expect(await selfApproval.text()).toMatch(/admin other than the requester/);

  // After the plan, the submission host's credential stops working: it will fail in its wave.
  const patched = await page.request.patch(`/api/v1/hosts/${ids[sub]}`, { headers: { origin: new URL(page.url()).origin, "content-type": "application/json" }, data: { credentialName: `${u}-unauthorised` } });
  expect(patched.status(), await patched.text()).toBe(200);

  // ---- a second admin approves the plan they see
  const second = { email: `${u}-approver@example.test`, password: "second-admin-password-123" };
  await addUser(page, second.email, "admin", second.password);
  const approverContext = await browser.newContext();
  const approverPage = await approverContext.newPage();
  await signIn(approverPage, second.email, second.password);
  await approverPage.goto(rolloutUrl);
  await expect(approverPage.getByTestId("approval-panel")).toContainText("An admin other than the requester must approve");
  await shot(approverPage, "rollout-fleet-approval");
  await approverPage.getByRole("button", { name: /^Approve this plan/ }).click();
  await expect(approverPage.locator("h1 [data-rollout-state]")).toHaveAttribute("data-rollout-state", "approved");
  await approverContext.close();

  // ---- the requester starts it: the canary is restarted and verified on the wire
  await page.goto(rolloutUrl);
  await expect(page.getByTestId("approval-panel")).toContainText(`by ${second.email}`);
  await page.getByRole("button", { name: /^Start rollout/ }).click();
  await expect(hostState(page, win)).toHaveAttribute("data-rollout-host-state", /^(applying|pending_reboot|rebooting|rebooted|verifying)$/, { timeout: 60_000 });
  await shot(page, "rollout-fleet-running");
  await expect(hostState(page, win)).toHaveAttribute("data-rollout-host-state", "verified", { timeout: 120_000 });
  await expect(hostState(page, mx)).toHaveAttribute("data-rollout-host-state", "verified", { timeout: 60_000 });

  // ---- the next wave: the host with the broken credential halts it at the budget of 0
  await expect(state).toHaveAttribute("data-rollout-state", "halted", { timeout: 120_000 });
  await expect(page.getByTestId("halt-reason")).toContainText("1 of 1 hosts in wave 1 failed; budget 0 (100% of 3, at most 0)");
  await expect(hostState(page, sub)).toHaveAttribute("data-rollout-host-state", "failed");
  await hostRow(page, win).getByText(/^Log \(\d+ lines\)$/).click();
  await shot(page, "rollout-fleet-halted");
  const wire = async (port: number, host = "127.0.0.1") => (await probeEndpoint({ host, port, service: "smtp" }, { timeoutMs: 5_000, deadlineMs: 30_000, allowList: parseAllowList(["127.0.0.1/32", "198.18.0.0/15"]) })).protocols;
  expect((await wire(smtpPort))["TLSv1.2"]).toBe("accepted");
  expect((await wire(smtpPort)).TLSv1).toBe("rejected");

  const mxAddress = fleet.hosts.find((x) => x.name === "mx-legacy")!.address;
  expect((await wire(25, mxAddress)).TLSv1).toBe("rejected");

  // ---- roll one host back: its prior values are restored and the wire shows TLS 1.0 again
  await hostRow(page, mx).getByRole("button", { name: `Roll back ${mx}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: `Roll back ${mx}` }).click();
  await expect(hostState(page, mx)).toHaveAttribute("data-rollout-host-state", "rolled_back", { timeout: 150_000 });
  expect((await wire(25, mxAddress)).TLSv1).toBe("accepted");
  await expect(hostState(page, win)).toHaveAttribute("data-rollout-host-state", "verified");
});
