// A rollout end to end, against the real lab over SSH: a Postfix host that accepts TLS 1.0/1.1
// (mx-legacy) is remediated from its host page. The plan shows the exact diff before anything
// changes; the admin approves the hash the page showed, starts it, watches the host verify on the
// wire, then rolls it back (which also leaves the lab as the other specs expect it) and finds the
// rollout in the host's remediation history.
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { E2E_ADMIN } from "../../playwright.config";
import { loadFleet } from "../lab/fleet";
import { addCredential, allowLabTargets, createHostViaApi, makePlan, scanAuditAndConfirmKey, shot, signIn, unique } from "./helpers";

test.setTimeout(300_000);

test("remediate a legacy Postfix host: plan with the exact diff, approve, start, verified on the wire, roll back, history", async ({ page }) => {
  const fleet = await loadFleet();
  const lab = fleet.hosts.find((h) => h.name === "mx-legacy")!;
  const u = `ro${unique()}`;
  await signIn(page, E2E_ADMIN.email, E2E_ADMIN.password);

  // ---- the lab is an allowed target; the lab key is a credential
  await allowLabTargets(page);
  await addCredential(page, { name: `${u}-lab-root`, kind: "ssh_key", username: fleet.ssh.user, secret: readFileSync(fleet.ssh.keyPath, "utf8"), scope: ["198.18.0.0/15"] });

  const hostId = await createHostViaApi(page, { name: `${u}-mx-legacy.lab.tlsfleet.test`, address: lab.address, platform: "linux", roles: ["postfix"], transport: "ssh", port: 22, credentialName: `${u}-lab-root`, endpoints: "25/smtp" });

  // ---- wire evidence, a config audit, and the host key confirmed: what a plan needs
  await page.goto(`/hosts/${hostId}`);
  await expect(page.getByTestId("remediation-history")).toContainText("No rollout has included this host yet");
  await scanAuditAndConfirmKey(page, hostId);
  await expect(page.getByTestId("host-key-panel").getByTestId("pinned-key")).toHaveText(lab.ssh!.hostKeyFingerprint);

  // ---- Remediate from the host page: both goals checked, settings at their defaults
  await page.getByRole("link", { name: "Remediate…" }).click();
  await expect(page).toHaveURL(new RegExp(`/rollouts/new\\?hostIds=${hostId}$`));
  await expect(page.getByTestId("rollout-target")).toContainText(`${u}-mx-legacy.lab.tlsfleet.test`);
  await expect(page.getByLabel("Enable TLS 1.2")).toBeChecked();
  await expect(page.getByLabel("Disable TLS 1.0/1.1")).toBeChecked();
  await expect(page.getByLabel("Canary hosts")).toHaveValue("1");

  // ---- the plan appears live; the answer first, then the exact diff
  const { rolloutUrl, state } = await makePlan(page);
  await expect(page.getByTestId("rollout-summary")).toContainText("1 host changes");
  await expect(page.getByTestId("rollout-summary")).toContainText("endpoints that will stop accepting TLS 1.0/1.1:");
  await expect(page.getByTestId("rollout-summary")).toContainText("25/smtp");
  const host = page.getByTestId("rollout-host").filter({ hasText: `${u}-mx-legacy` });
  await expect(host.getByTestId("plan-change").first()).toContainText("smtpd_tls_protocols");
  await expect(page.getByTestId("approval-panel")).toContainText("Any admin may approve");
  await shot(page, "rollout-planned");

  // ---- approve the hash shown, start, watch it verify on the wire
  const hash = await page.getByTestId("plan-hash").getAttribute("title");
  await page.getByRole("button", { name: /^Approve this plan/ }).click();
  await expect(state).toHaveAttribute("data-rollout-state", "approved");
  await expect(page.getByTestId("approval-panel")).toContainText(`by ${E2E_ADMIN.email}`);
  const api = (await (await page.request.get(`/api/v1/rollouts/${rolloutUrl.split("/").pop()}`)).json()) as { planHash: string; approvedBy: string };
  expect(api.planHash).toBe(hash);
  expect(api.approvedBy).toBe(E2E_ADMIN.email);
  // The running wave is followed over its job's event stream (the page does not reload).
  const stream = page.waitForRequest((r) => /\/api\/v1\/jobs\/[0-9a-f-]{36}\/events$/.test(r.url()), { timeout: 60_000 });
  await page.getByRole("button", { name: /^Start rollout/ }).click();
  const streamed = await stream;
  await expect(page.getByTestId("rollout-live")).toHaveAttribute("data-job-stream", streamed.url().split("/").at(-2)!);
  await expect(host.locator("[data-rollout-host-state]")).toHaveAttribute("data-rollout-host-state", "verified", { timeout: 180_000 });
  await expect(state).toHaveAttribute("data-rollout-state", "succeeded", { timeout: 30_000 });
  await expect(page.getByTestId("wave-row").first()).toContainText("Canary wave");
  await host.getByText(/^Log \(\d+ lines\)$/).click();
  await shot(page, "rollout-succeeded");

  // ---- roll the host back: prior values restored, checked on the wire
  await host.getByRole("button", { name: `Roll back ${u}-mx-legacy.lab.tlsfleet.test` }).click();
  await page.getByRole("dialog").getByRole("button", { name: `Roll back ${u}-mx-legacy.lab.tlsfleet.test` }).click();
  await expect(host.locator("[data-rollout-host-state]")).toHaveAttribute("data-rollout-host-state", "rolled_back", { timeout: 180_000 });

  // ---- the list and the host's remediation history
  await page.goto("/rollouts");
  await expect(page.getByTestId("rollout-row").first()).toContainText("Enable TLS 1.2 + Disable TLS 1.0/1.1");
  await page.goto(`/hosts/${hostId}`);
  const history = page.getByTestId("remediation-history");
  await expect(history.getByRole("link", { name: "Enable TLS 1.2 + Disable TLS 1.0/1.1" })).toHaveAttribute("href", new URL(rolloutUrl).pathname);
  await expect(history.locator("[data-rollout-host-state]")).toHaveAttribute("data-rollout-host-state", "rolled_back");
  await shot(page, "rollout-host-history");
});
