// Exchange prerequisites (the KB's step 1) and reboot truth, end to end against the Windows TEST
// DOUBLE (tests/lab/windows-double: not Windows, a documented stand-in) through a real in-process
// worker: config audits over WinRM, stored ConfigSnapshots, host status, and rollout plans.
// - Exchange 2016 CU7 on .NET 4.7: the audit names what to install, the host is at_risk, and
//   both goals are refused by the plan with the CU they need;
// - Exchange 2013 CU23 (the KB host): a change stays "pending reboot" until an audit sees a boot
//   after it, also when it touched only Client and .NET values (which the inbound wire never shows).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reloadEnv } from "@/lib/env";
import { prisma } from "@/lib/db";
import { createScanJob } from "@/lib/jobs/scans";
import { createAuditJob } from "@/lib/jobs/audits";
import { createCredential } from "@/lib/credentials/service";
import { setHostTrust } from "@/lib/hosts/host-keys";
import { recordAudit } from "@/lib/audit/log";
import { requestRollout } from "@/lib/rollout/service";
import { getRollout } from "@/lib/rollout/views";
import { startWorker } from "@/agents/worker";
import { windowsSchannel, type SchannelState } from "@/agents/playbooks/windows-schannel";
import { openWinRmSession } from "@/agents/transport/winrm";
import { doubleEvents, startDouble, type RunningDouble } from "./windows-double-support";
import { scopeCredential } from "./custody-support";
import { jobWhenTerminal, makeHost, scanDatabase, tasksOf, testActor, waitFor } from "./scan-support";

scanDatabase("exprereq_exchange");

const admin = { id: "00000000-0000-4000-8000-000000000001", email: "exprereq-tests@example.test", role: "admin" as const };
let worker: { stop(): Promise<void> } | undefined;
const doubles: RunningDouble[] = [];

beforeAll(async () => {
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("base64");
  reloadEnv();
  worker = await startWorker({ workerId: "exprereq-test-worker", pollIntervalMs: 300 });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  for (const d of doubles) await d.stop();
});

/** A Windows host for a fresh double: its own credential, certificate pinned on first contact,
 *  TLS 1.0/1.1 allowed on the management connection (the KB host speaks nothing newer). */
async function windowsHost(profile: string, name: string): Promise<{ id: string; d: RunningDouble }> {
  const d = await startDouble(profile, { rebootDowntimeMs: 800 });
  doubles.push(d);
  await createCredential(admin, { name: `${name}-admin`, kind: "winrm_basic", username: d.ready.user, secret: d.ready.password });
  await scopeCredential(`${name}-admin`, ["127.0.0.1/32"]);
  const h = await makeHost("exprereq", "127.0.0.1", [{ port: d.ready.ports.smtp, service: "smtp" }], `${name}.exprereq.test`);
  await prisma.host.update({ where: { id: h.id }, data: { platform: "windows", roles: ["exchange"], transport: "winrm", port: d.ready.ports.winrmHttps, credential: { connect: { name: `${name}-admin` } } } });
  await setHostTrust(admin, { hostId: h.id, setting: "trustOnFirstUse", enabled: true });
  await setHostTrust(admin, { hostId: h.id, setting: "legacyTls", enabled: true });
  return { id: h.id, d };
}

async function audit(hostId: string) {
  const { jobId } = await createAuditJob(testActor, { hostIds: [hostId] });
  await jobWhenTerminal(jobId, 120_000);
  const task = (await tasksOf(jobId)).find((t) => t.hostId === hostId)!;
  expect(task.state, task.log).toBe("succeeded");
  const snapshot = await prisma.configSnapshot.findFirstOrThrow({ where: { jobId, hostId } });
  return { log: task.log, snapshot, state: snapshot.state as unknown as SchannelState };
}

async function scan(hostId: string) {
  await jobWhenTerminal((await createScanJob(testActor, { hostIds: [hostId] })).jobId, 60_000);
}

function session(d: RunningDouble) {
  return openWinRmSession({ host: "127.0.0.1", port: d.ready.ports.winrmHttps, transport: "https", auth: { kind: "basic", username: d.ready.user, password: d.ready.password }, tls: { thumbprint: d.ready.certificate.sha1, minVersion: "TLSv1" } });
}

async function planOutcome(hostId: string, goals: string[]) {
  const { rolloutId } = await requestRollout(admin, { target: { hostIds: [hostId] }, goals });
  const r = await waitFor("the rollout to be planned", async () => {
    const v = await getRollout(rolloutId);
    return v && v.state !== "planning" ? v : null;
  }, 120_000, 300);
  return r.hosts[0]!;
}

describe("Exchange 2016 CU7 on .NET 4.7 (before CU8): the KB's step 1", () => {
  let hostId = "";
  beforeAll(async () => {
    hostId = (await windowsHost("exchange2016-cu7", "ex2016-cu7")).id;
  }, 60_000);

  it("the audit names the CU and the .NET Framework to install, and the host is at_risk for it in both directions", async () => {
    await scan(hostId);
    const { log, state } = await audit(hostId);
    const cu8 = "Exchange 2016 CU7 (15.1.1261): TLS 1.2 needs CU8 (15.1.1415) or later; install the latest CU first (KB step 1)";
    expect(log).toContain(`windows-schannel: ${cu8}`);
    expect(state.exchangePrerequisites).toMatchObject({ installed: "Exchange 2016 CU7 (15.1.1261)", legacyOff: expect.stringMatching(/needs CU9 \(15\.1\.1466\)/) });
    expect(state.prerequisites).toEqual([cu8, expect.stringMatching(/needs \.NET Framework 4\.7\.1 or later for TLS 1\.2: Release 460805 \(4\.7\) found/)]);
    const status = await prisma.hostStatus.findUniqueOrThrow({ where: { hostId } });
    expect(status.status, status.explanation).toBe("at_risk");
    expect(status.explanation).toMatch(/^Both directions: Exchange 2016 CU7 \(15\.1\.1261\): TLS 1\.2 needs CU8/);
  }, 180_000);

  it("the plan refuses Enable TLS 1.2 (CU8 needed) and Disable TLS 1.0/1.1 (CU9 needed), and nothing is written", async () => {
    const writesBefore = doubleEvents(doubles[0]!.ready, "registry-write").length;
    const enable = await planOutcome(hostId, ["enable-tls12"]);
    expect(enable).toMatchObject({ state: "skipped", reason: expect.stringMatching(/^prerequisites missing: Exchange 2016 CU7 \(15\.1\.1261\): TLS 1\.2 needs CU8 \(15\.1\.1415\)/) });
    const disable = await planOutcome(hostId, ["disable-legacy"]);
    expect(disable).toMatchObject({ state: "skipped", reason: expect.stringMatching(/^prerequisites missing: Exchange 2016 CU7 \(15\.1\.1261\) cannot run with TLS 1\.0\/1\.1 disabled: that needs CU9 \(15\.1\.1466\)/) });
    expect(doubleEvents(doubles[0]!.ready, "registry-write").length).toBe(writesBefore);
  }, 240_000);
});

describe("reboot truth on the KB host (Exchange 2013 CU23): pending until a boot after the change", () => {
  let hostId = "";
  let d: RunningDouble;
  beforeAll(async () => {
    ({ id: hostId, d } = await windowsHost("legacy", "ex2013-kb"));
  }, 60_000);

  it("a Client/.NET-only change stays pending whatever the wire shows; the Server change too; a restart clears both", async () => {
    await scan(hostId);
    const first = await audit(hostId);
    expect(first.snapshot.rebootPending, first.log).toBe(false);
    expect(first.state.lastBootAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);

    // The Client and .NET half of Enable TLS 1.2: nothing the probe of port 25 can see.
    const s = await session(d);
    try {
      const plan = windowsSchannel.plan((await windowsSchannel.check(s)) as SchannelState, "enable-tls12");
      const clientSide = plan.filter((c) => !c.path.endsWith("\\Server"));
      expect(clientSide.length).toBeGreaterThan(0);
      expect((await windowsSchannel.apply(s, clientSide)).pendingReboot).toBe(true);
    } finally {
      await s.close();
    }
    const second = await audit(hostId);
    expect(second.log).toMatch(/windows-schannel: reboot pending: SCHANNEL\/\.NET values changed since the audit of/);
    expect(second.snapshot.rebootPending).toBe(true);

    // A probe after the change: the wire serves what the (unchanged) Server values say. Not a restart.
    await scan(hostId);
    const third = await audit(hostId);
    expect(third.snapshot.rebootPending, third.log).toBe(true);
    const since = (x: { snapshot: { state: unknown } }) => (x.snapshot.state as { changeAwaitingReboot?: { since: string } }).changeAwaitingReboot?.since;
    expect(since(third)).toBe(since(second));

    // The Server half, then the restart.
    const s2 = await session(d);
    try {
      const rest = windowsSchannel.plan((await windowsSchannel.check(s2)) as SchannelState, "enable-tls12");
      expect(rest.every((c) => c.path.endsWith("\\Server"))).toBe(true);
      await windowsSchannel.apply(s2, rest);
      expect((await audit(hostId)).snapshot.rebootPending).toBe(true);
      const boots = doubleEvents(d.ready, "listening").length;
      await windowsSchannel.reboot(s2, { delaySeconds: 0, message: "tlsfleet: reboot truth test" });
      await waitFor("the double to come back", async () => doubleEvents(d.ready, "listening").length > boots, 30_000);
    } finally {
      await s2.close().catch(() => undefined);
    }
    const after = await audit(hostId);
    expect(after.snapshot.rebootPending, after.log).toBe(false);
    expect(Date.parse(after.state.lastBootAt!)).toBeGreaterThan(Date.parse(first.state.lastBootAt!));
    expect(after.state.tls12Enabled).toBe(true);
  }, 300_000);

  async function restart(message: string) {
    const s = await session(d);
    try {
      const boots = doubleEvents(d.ready, "listening").length;
      await windowsSchannel.reboot(s, { delaySeconds: 0, message });
      await waitFor("the double to come back", async () => doubleEvents(d.ready, "listening").length > boots, 30_000);
    } finally {
      await s.close().catch(() => undefined);
    }
  }
  async function change(goal: "disable-legacy" | "enable-tls12", undo = false) {
    const s = await session(d);
    try {
      const state = (await windowsSchannel.check(s)) as SchannelState;
      if (undo) await windowsSchannel.rollback(s, { ...state, protocols: { ...state.protocols, "TLS 1.0": { Client: { Enabled: null, DisabledByDefault: null }, Server: { Enabled: null, DisabledByDefault: null } } } } as SchannelState);
      else await windowsSchannel.apply(s, windowsSchannel.plan(state, goal));
    } finally {
      await s.close();
    }
  }

  it("a change and a restart between two audits: pending until one more restart, unless a rollout recorded when it applied", async () => {
    // Someone else's change, then a restart, before the next audit: which came first is unknown.
    await change("disable-legacy");
    await restart("tlsfleet: unknown order");
    const unsure = await audit(hostId);
    expect(unsure.snapshot.rebootPending, unsure.log).toBe(true);
    expect(unsure.log).toMatch(/before or after the change: a further restart is needed to be sure/);
    await restart("tlsfleet: to be sure");
    expect((await audit(hostId)).snapshot.rebootPending).toBe(false);

    // The same, made by a rollout (its rollout.host_applied event dates the change): in effect.
    await change("disable-legacy", true);
    await recordAudit({ actor: "exprereq-tests", action: "rollout.host_applied", target: "host:ex2013-kb.exprereq.test", details: { rolloutId: "00000000-0000-4000-8000-0000000000ff", playbook: "windows-schannel", changes: [] } });
    await restart("tlsfleet: rollout restart");
    const applied = await audit(hostId);
    expect(applied.snapshot.rebootPending, applied.log).toBe(false);
  }, 300_000);
});
