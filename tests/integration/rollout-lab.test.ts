// Bulk remediation against the real lab over SSH (Postfix in network namespaces), through a real
// in-process worker: the dry-run plan (diffs, skips and why), four-eyes approval of the plan's
// hash, expiry, canary then waves, verification on the wire with the prober, per-host rollback
// that brings TLS 1.0 back, "plan out of date", and a halt at the failure budget.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reloadEnv } from "@/lib/env";
import { prisma } from "@/lib/db";
import { createScanJob } from "@/lib/jobs/scans";
import { lockJob } from "@/lib/jobs/tasks";
import { createCredential } from "@/lib/credentials/service";
import { setSetting } from "@/lib/settings";
import { deleteHosts } from "@/lib/inventory/hosts";
import { approveRollout, pauseRollout, requestRollout, resumeRollout, rollbackRollout, startRollout, RolloutError } from "@/lib/rollout/service";
import { getRollout } from "@/lib/rollout/views";
import { startWorker } from "@/agents/worker";
import { scanTask } from "@/agents/tasks/scan";
import { planTask } from "@/agents/tasks/plan";
import { remediateTask } from "@/agents/tasks/remediate";
import { rollbackTask } from "@/agents/tasks/rollback";
import { postfixPlaybook, type PostfixState } from "@/agents/playbooks/postfix";
import { openSshSession } from "@/agents/transport/ssh";
import { probeEndpoint, parseAllowList } from "@/lib/tls";
import { ensureLabUp, type LabHost } from "../lab/fleet";
import { jobWhenTerminal, makeHost, scanDatabase, testActor, waitFor } from "./scan-support";
import { startDouble, type RunningDouble } from "./windows-double-support";
import { scopeCredential } from "./custody-support";

const fleet = ensureLabUp();
scanDatabase("rollout");

const requester = { id: "00000000-0000-4000-8000-00000000000a", email: "requester@example.test", role: "admin" as const };
const approver = { id: "00000000-0000-4000-8000-00000000000b", email: "approver@example.test", role: "admin" as const };
const operator = { id: "00000000-0000-4000-8000-00000000000c", email: "operator@example.test", role: "operator" as const };

const labHost = (name: string): LabHost => fleet.hosts.find((h) => h.name === name)!;
const ids = new Map<string, string>();
let worker: { stop(): Promise<void> } | undefined;
const probeOptions = { timeoutMs: 5_000, deadlineMs: 30_000 };

async function labSession(name: string) {
  const h = labHost(name);
  return openSshSession({ host: h.address, port: 22, hostLabel: name, credential: { kind: "ssh-key", username: fleet.ssh.user, privateKey: readFileSync(fleet.ssh.keyPath, "utf8") }, remoteOs: "linux", pinnedFingerprint: h.ssh!.hostKeyFingerprint, allowList: parseAllowList(["198.18.0.0/15"]) });
}

async function wire(name: string, port = 25) {
  const r = await probeEndpoint({ host: labHost(name).address, port, service: port === 587 ? "submission" : "smtp" }, { ...probeOptions, allowList: parseAllowList(["198.18.0.0/15"]) });
  return r.protocols;
}

/** The lab's Postfix as it was before this file: restored whatever a test left behind. */
const pristine = new Map<string, PostfixState>();

async function rolloutWhen(id: string, states: string[], timeoutMs = 120_000) {
  return waitFor(`rollout ${id} to be ${states.join("/")}`, async () => {
    const r = await getRollout(id);
    return r && states.includes(r.state) ? r : null;
  }, timeoutMs, 300);
}

async function addLabHost(name: string, opts: { credential?: boolean; sshPort?: number; tags?: string[] } = {}) {
  const h = labHost(name);
  const created = await makeHost("rollout", h.address, h.endpoints.map((e) => ({ port: e.port, service: e.service })), `${name}.rollout.test`);
  await prisma.host.update({
    where: { id: created.id },
    data: {
      platform: "linux",
      roles: h.roles,
      transport: "ssh",
      port: opts.sshPort ?? 22,
      tags: opts.tags ?? [],
      ...(opts.credential === false ? {} : { credential: { connect: { name: "lab-root" } } }),
      pinnedKey: h.ssh!.hostKeyFingerprint,
      pinnedAt: new Date("2026-01-05T00:00:00Z"),
    },
  });
  ids.set(name, created.id);
  return created.id;
}

beforeAll(async () => {
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("base64");
  reloadEnv();
  await setSetting(testActor, "allowedTargets", ["127.0.0.1/32", "198.18.0.0/15"]);
  await createCredential(requester, { name: "lab-root", kind: "ssh_key", username: fleet.ssh.user, secret: readFileSync(fleet.ssh.keyPath, "utf8") });
  await scopeCredential("lab-root", ["198.18.0.0/15"]);
  for (const name of ["mx-legacy", "mx-submission"]) {
    const s = await labSession(name);
    try {
      pristine.set(name, await postfixPlaybook.check(s));
    } finally {
      await s.close();
    }
  }
  for (const name of ["mx-legacy", "mx-submission", "mx-modern"]) await addLabHost(name);
  const noCred = await makeHost("rollout", labHost("mx-tls10only").address, [{ port: 25 }], "no-credential.rollout.test");
  ids.set("no-credential", noCred.id);
  worker = await startWorker({
    workerId: "rollout-test-worker",
    pollIntervalMs: 300,
    kinds: [scanTask({ probeOptions }), planTask({ connectTimeoutMs: 5_000 }), remediateTask({ probeOptions, connectTimeoutMs: 5_000, rebootPollMs: 500 }), rollbackTask({ probeOptions, connectTimeoutMs: 5_000, rebootPollMs: 500 })],
  });
  await jobWhenTerminal((await createScanJob(testActor, { hostIds: [...ids.values()] })).jobId, 60_000);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  // Whatever happened above, the lab goes back to how this file found it.
  for (const [name, before] of pristine) {
    const s = await labSession(name);
    try {
      await postfixPlaybook.rollback(s, before);
    } finally {
      await s.close();
    }
  }
}, 120_000);

describe("a rollout of Enable TLS 1.2 + Disable TLS 1.0/1.1 on lab Postfix hosts", () => {
  let rolloutId = "";

  it("plans without changing anything: per-host diffs, skips with reasons, a hash, and the four-eyes rule", async () => {
    const created = await requestRollout(requester, { target: { hostIds: [...ids.values()] }, goals: ["enable-tls12", "disable-legacy"], settings: { canarySize: 1, wave: { kind: "count", size: 5 }, budget: { percent: 50, absolute: 1 } } });
    rolloutId = created.rolloutId;
    const r = await rolloutWhen(rolloutId, ["planned"]);
    const byName = new Map(r.hosts.map((h) => [h.hostName.replace(".rollout.test", ""), h]));
    expect(byName.get("mx-modern")).toMatchObject({ state: "skipped", reason: "already compliant: nothing to change" });
    expect(byName.get("no-credential")!.state).toBe("skipped");
    expect(byName.get("no-credential")!.reason).toMatch(/no credential/);
    const legacy = byName.get("mx-legacy")!;
    expect(legacy.state).toBe("planned");
    const changes = legacy.plan!.playbooks.find((p) => p.id === "postfix")!.changes;
    expect(changes.map((c) => c.value)).toContain("smtpd_tls_protocols");
    expect(legacy.plan!.endpointsLosingLegacy).toEqual(["25/smtp"]);
    // The submission listener's master.cf override is part of the diff, not only main.cf.
    const submission = byName.get("mx-submission")!.plan!;
    expect(submission.playbooks[0]!.changes.some((c) => c.path.endsWith("master.cf"))).toBe(true);
    expect(submission.endpointsLosingLegacy).toEqual(["587/submission"]);
    expect(r.summary).toMatchObject({ hosts: 4, changing: 2, reboots: 0, skipped: 2 });
    expect(r.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.requiresSecondAdmin).toBe(true);
    expect(r.approvalRule).toMatch(/other than the requester.*2 hosts/);
    // Dry run: the wire is as it was.
    expect((await wire("mx-legacy")).TLSv1).toBe("accepted");
  });

  it("refuses the requester, a non-admin and a stale hash; a second admin approves the hash they saw", async () => {
    const r = (await getRollout(rolloutId))!;
    await expect(approveRollout(requester, rolloutId, r.planHash!)).rejects.toThrow(/admin other than the requester/);
    await expect(approveRollout(operator, rolloutId, r.planHash!)).rejects.toThrow(/Only an admin/);
    await expect(approveRollout(approver, rolloutId, "0".repeat(64))).rejects.toThrow(/plan changed since you opened it/);
    await approveRollout(approver, rolloutId, r.planHash!);
    const approved = (await getRollout(rolloutId))!;
    expect(approved).toMatchObject({ state: "approved", approvedBy: approver.email });
    expect(await prisma.auditEvent.count({ where: { action: "rollout.approval_refused", target: `rollout:${rolloutId}` } })).toBe(3);
  });

  it("refuses to start on an expired approval and sends the plan back for approval", async () => {
    const r = (await getRollout(rolloutId))!;
    const later = new Date(new Date(r.approvedAt!).getTime() + 25 * 3_600_000);
    await expect(startRollout(requester, rolloutId, later)).rejects.toThrow(/approval expired/);
    expect((await getRollout(rolloutId))!.state).toBe("planned");
    await approveRollout(approver, rolloutId, r.planHash!);
  });

  it("runs the canary, then the next wave, and verifies every host on the wire", async () => {
    await startRollout(requester, rolloutId);
    const r = await rolloutWhen(rolloutId, ["succeeded", "failed", "halted"], 180_000);
    expect(r.state, JSON.stringify(r.hosts.map((h) => [h.hostName, h.state, h.reason]))).toBe("succeeded");
    expect(r.waves.map((w) => [w.name, w.hosts, w.verified])).toEqual([["the canary wave", 1, 1], ["wave 1", 1, 1]]);
    for (const name of ["mx-legacy", "mx-submission"]) {
      const h = r.hosts.find((x) => x.hostName === `${name}.rollout.test`)!;
      expect(h.state, h.log).toBe("verified");
      expect(h.hasRollbackPoint).toBe(true);
      expect(h.log).toMatch(/verified.*on the wire on 25\/smtp/);
    }
    const p = await wire("mx-legacy");
    expect([p.TLSv1, p["TLSv1.1"], p["TLSv1.2"]]).toEqual(["rejected", "rejected", "accepted"]);
    expect((await wire("mx-submission", 587))["TLSv1.1"]).toBe("rejected");
    const actions = (await prisma.auditEvent.findMany({ where: { OR: [{ target: `rollout:${rolloutId}` }, { action: { startsWith: "rollout.host_" } }] }, select: { action: true } })).map((e) => e.action);
    for (const a of ["rollout.requested", "rollout.planned", "rollout.approved", "rollout.started", "rollout.wave_started", "rollout.host_applied", "rollout.host_verified", "rollout.finished"]) expect(actions).toContain(a);
    expect(actions.filter((a) => a === "rollout.wave_started")).toHaveLength(2);
  });

  it("rolls one host back to its exact prior values, and the wire shows TLS 1.0 again", async () => {
    const { jobId } = await rollbackRollout(operator, rolloutId, [ids.get("mx-legacy")!]);
    await jobWhenTerminal(jobId, 120_000);
    const h = (await getRollout(rolloutId))!.hosts.find((x) => x.hostName === "mx-legacy.rollout.test")!;
    expect(h.state, h.log).toBe("rolled_back");
    expect(h.log).toMatch(/rolled back and verified/);
    expect((await wire("mx-legacy")).TLSv1).toBe("accepted");
    const s = await labSession("mx-legacy");
    try {
      const now = await postfixPlaybook.check(s);
      expect(now.parameters).toEqual(pristine.get("mx-legacy")!.parameters);
    } finally {
      await s.close();
    }
    // The other host keeps the fix until it is rolled back too (its 587 accepted TLS 1.1 before).
    expect((await wire("mx-submission", 587))["TLSv1.1"]).toBe("rejected");
    await jobWhenTerminal((await rollbackRollout(operator, rolloutId)).jobId, 120_000);
    expect((await wire("mx-submission", 587))["TLSv1.1"]).toBe("accepted");
  });

  it("pause starts no further host of the running wave; resume finishes the wave", async () => {
    const { rolloutId: id } = await requestRollout(requester, {
      target: { hostIds: [ids.get("mx-legacy")!, ids.get("mx-submission")!] },
      goals: ["disable-legacy"],
      settings: { canarySize: 0, wave: { kind: "percent", percent: 100 }, maxConcurrency: 1 },
    });
    const planned = await rolloutWhen(id, ["planned"]);
    await approveRollout(approver, id, planned.planHash!);
    await startRollout(requester, id);
    // A claim that is reading the job holds the job's lock: the pause waits for it, or that claim
    // could start a host after the pause returned (CI, 2026-12-08).
    const waveJob = (await getRollout(id))!.waves.find((w) => w.jobId !== null)!.jobId!;
    let release!: () => void;
    let lockTaken!: () => void;
    const taken = new Promise<void>((r) => (lockTaken = r));
    const claimInFlight = prisma.$transaction(async (tx) => {
      await lockJob(tx, waveJob);
      lockTaken();
      await new Promise<void>((r) => (release = r));
    }, { timeout: 30_000 });
    await taken;
    let pauseReturned = false;
    const pausing = pauseRollout(requester, id).then(() => (pauseReturned = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(pauseReturned, "pause returned while a claim held the job").toBe(false);
    release();
    await claimInFlight;
    await pausing;
    const started = async () => (await getRollout(id))!.hosts.filter((h) => h.state !== "planned");
    // A host claimed before the pause finishes its step; the other is never claimed while paused
    // (the queue offers it again every few seconds, at the job's cap and after).
    // A claimed host stays "planned" while its task logs in and reads the before-state, so wait for
    // the wave's claimed tasks too: otherwise "every started host settled" holds vacuously.
    const running = async () => {
      const jobIds = (await getRollout(id))!.waves.map((w) => w.jobId).filter((j): j is string => j !== null);
      return prisma.jobTask.count({ where: { jobId: { in: jobIds }, state: "running" } });
    };
    await waitFor("the started host to settle", async () => ((await running()) === 0 && (await started()).every((h) => ["verified", "failed"].includes(h.state)) ? true : null), 120_000, 300);
    const before = (await started()).map((h) => h.hostName);
    expect(before.length).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 7_000));
    expect((await started()).map((h) => h.hostName)).toEqual(before);
    expect((await getRollout(id))!.state).toBe("paused");

    await resumeRollout(requester, id);
    const done = await rolloutWhen(id, ["succeeded", "failed", "halted"], 180_000);
    expect(done.state, JSON.stringify(done.hosts.map((h) => [h.hostName, h.state, h.reason]))).toBe("succeeded");
    expect((await wire("mx-legacy")).TLSv1).toBe("rejected");
    await jobWhenTerminal((await rollbackRollout(operator, id)).jobId, 120_000);
    expect((await wire("mx-legacy")).TLSv1).toBe("accepted");
  }, 360_000);
});

describe("odd states", () => {
  it("does not change a host whose configuration changed since the plan (plan out of date)", async () => {
    const { rolloutId } = await requestRollout(requester, { target: { hostIds: [ids.get("mx-legacy")!] }, goals: ["disable-legacy"] });
    const planned = await rolloutWhen(rolloutId, ["planned"]);
    // Someone changes the host by hand after the plan was approved.
    const s = await labSession("mx-legacy");
    try {
      const state = await postfixPlaybook.check(s);
      await postfixPlaybook.apply(s, postfixPlaybook.plan(state, "disable-legacy").slice(0, 1));
    } finally {
      await s.close();
    }
    await approveRollout(approver, rolloutId, planned.planHash!);
    await startRollout(requester, rolloutId);
    const r = await rolloutWhen(rolloutId, ["succeeded", "failed", "halted"]);
    const h = r.hosts[0]!;
    expect(h.state).toBe("out_of_date");
    expect(h.reason).toMatch(/plan out of date: postfix on the host differs from the plan/);
    expect(h.hasRollbackPoint).toBe(false);
    const restore = await labSession("mx-legacy");
    try {
      await postfixPlaybook.rollback(restore, pristine.get("mx-legacy")!);
    } finally {
      await restore.close();
    }
  });

  it("halts at the failure budget when a credential fails mid-rollout, and never starts the next wave", async () => {
    const { rolloutId } = await requestRollout(requester, { target: { hostIds: [ids.get("mx-legacy")!, ids.get("mx-submission")!] }, goals: ["disable-legacy"], settings: { canarySize: 1, budget: { percent: 100, absolute: 0 } } });
    const planned = await rolloutWhen(rolloutId, ["planned"]);
    // After the plan, the canary's credential stops working (a key nobody authorised).
    const dir = mkdtempSync(path.join(tmpdir(), "rollout-key-"));
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", path.join(dir, "k")]);
    await createCredential(requester, { name: "unauthorised-key", kind: "ssh_key", username: fleet.ssh.user, secret: readFileSync(path.join(dir, "k"), "utf8") });
    await scopeCredential("unauthorised-key", ["198.18.0.0/15"]);
    rmSync(dir, { recursive: true, force: true });
    await prisma.host.update({ where: { id: ids.get("mx-legacy")! }, data: { credential: { connect: { name: "unauthorised-key" } } } });
    try {
      await approveRollout(approver, rolloutId, planned.planHash!);
      await startRollout(requester, rolloutId);
      const r = await rolloutWhen(rolloutId, ["halted", "succeeded", "failed"]);
      expect(r.state).toBe("halted");
      expect(r.haltReason).toBe("1 of 1 hosts in the canary wave failed; budget 0 (100% of 2, at most 0)");
      const canary = r.hosts.find((h) => h.wave === 0)!;
      expect(canary).toMatchObject({ hostName: "mx-legacy.rollout.test", state: "failed" });
      expect(canary.hasRollbackPoint).toBe(false);
      expect(r.hosts.find((h) => h.hostName === "mx-submission.rollout.test")!.state).toBe("not_started");
      expect((await wire("mx-submission", 587))["TLSv1.1"]).toBe("accepted");
      expect(await prisma.auditEvent.count({ where: { action: "rollout.halted", target: `rollout:${rolloutId}` } })).toBe(1);
    } finally {
      await prisma.host.update({ where: { id: ids.get("mx-legacy")! }, data: { credential: { connect: { name: "lab-root" } } } });
    }
  });

  it("skips a host deleted during the rollout, with that reason, and still finishes", async () => {
    const doomed = await addLabHost("mx-tls10only");
    const { rolloutId } = await requestRollout(requester, { target: { hostIds: [ids.get("mx-legacy")!, doomed] }, goals: ["disable-legacy"], settings: { canarySize: 1 } });
    const planned = await rolloutWhen(rolloutId, ["planned"]);
    expect(planned.hosts.map((h) => h.state)).toEqual(["planned", "planned"]);
    await approveRollout(approver, rolloutId, planned.planHash!);
    await deleteHosts(requester, [doomed]);
    await startRollout(requester, rolloutId);
    const r = await rolloutWhen(rolloutId, ["succeeded", "failed", "halted"]);
    expect(r.state).toBe("succeeded");
    expect(r.hosts.find((h) => h.hostName === "mx-tls10only.rollout.test")).toMatchObject({ hostId: doomed, state: "skipped", reason: "the host was deleted during the rollout" });
    expect(r.hosts.find((h) => h.hostName === "mx-legacy.rollout.test")!.state).toBe("verified");
    await jobWhenTerminal((await rollbackRollout(operator, rolloutId)).jobId, 120_000);
  });

  it("refuses what cannot be approved or started, with reasons", async () => {
    const { rolloutId } = await requestRollout(requester, { target: { hostIds: [ids.get("mx-modern")!] }, goals: ["enable-tls12"] });
    const r = await rolloutWhen(rolloutId, ["planned"]);
    await expect(approveRollout(approver, rolloutId, r.planHash!)).rejects.toThrow(/Nothing to approve/);
    await expect(startRollout(requester, rolloutId)).rejects.toThrow(RolloutError);
    await expect(requestRollout(requester, { target: { hostIds: [ids.get("mx-modern")!] }, goals: [] })).rejects.toThrow(/Choose at least one goal/);
  });
});

describe("a rollout on the Windows test double (the KB fix) with reboot policy now", () => {
  let double: RunningDouble | undefined;
  let hostId = "";
  beforeAll(async () => {
    double = await startDouble("legacy", { rebootDowntimeMs: 800 });
    await createCredential(requester, { name: "double-admin", kind: "winrm_basic", username: double.ready.user, secret: double.ready.password });
    await scopeCredential("double-admin", ["127.0.0.1/32"]);
    const h = await makeHost("rollout", "127.0.0.1", [{ port: double.ready.ports.smtp, service: "smtp" }], "exchange-double.rollout.test");
    await prisma.host.update({
      where: { id: h.id },
      data: { platform: "windows", roles: ["exchange"], transport: "winrm", port: double.ready.ports.winrmHttps, credential: { connect: { name: "double-admin" } }, pinnedKey: double.ready.certificate.sha256.replace(/[:\s]/g, "").toLowerCase(), pinnedAt: new Date(), legacyTls: true },
    });
    hostId = h.id;
    await jobWhenTerminal((await createScanJob(testActor, { hostIds: [hostId] })).jobId, 60_000);
  }, 90_000);
  afterAll(async () => {
    await double?.stop();
  });

  const smtp = async () => (await probeEndpoint({ host: "127.0.0.1", port: double!.ready.ports.smtp, service: "smtp" }, { ...probeOptions, allowList: parseAllowList(["127.0.0.1/32"]) })).protocols;

  it("plans the SCHANNEL and .NET values with a reboot, restarts the host, and verifies on the wire; rollback restores TLS 1.0", async () => {
    expect((await smtp())["TLSv1.2"]).toBe("rejected");
    const { rolloutId } = await requestRollout(requester, { target: { hostIds: [hostId] }, goals: ["enable-tls12", "disable-legacy"], settings: { rebootPolicy: "now", rebootTimeoutSeconds: 60 } });
    const planned = await rolloutWhen(rolloutId, ["planned"]);
    const h = planned.hosts[0]!;
    expect(h.state, h.reason ?? "").toBe("planned");
    expect(h.rebootNeeded).toBe(true);
    const values = h.plan!.playbooks[0]!.changes.map((c) => `${c.path.split("\\").slice(-2).join("\\")}\\${c.value}=${c.to}`);
    expect(values).toEqual(expect.arrayContaining(["TLS 1.2\\Server\\Enabled=1", "TLS 1.2\\Client\\Enabled=1", "TLS 1.2\\Client\\DisabledByDefault=0", "TLS 1.0\\Server\\Enabled=0"]));
    expect(h.plan!.playbooks[0]!.changes.some((c) => c.value === "SystemDefaultTlsVersions")).toBe(true);
    expect(planned.summary.reboots).toBe(1);
    // One host, no production tag: any admin may approve, the requester included.
    expect(planned.requiresSecondAdmin).toBe(false);
    await approveRollout(requester, rolloutId, planned.planHash!);
    await startRollout(requester, rolloutId);
    const done = await rolloutWhen(rolloutId, ["succeeded", "failed", "halted"], 120_000);
    const after = done.hosts[0]!;
    expect(after.state, after.log).toBe("verified");
    expect(after.log).toMatch(/verified after the restart/);
    const p = await smtp();
    expect([p.TLSv1, p["TLSv1.1"], p["TLSv1.2"]]).toEqual(["rejected", "rejected", "accepted"]);
    expect(await prisma.auditEvent.count({ where: { action: "rollout.host_rebooted", target: "host:exchange-double.rollout.test" } })).toBe(1);

    const { jobId } = await rollbackRollout(operator, rolloutId);
    await jobWhenTerminal(jobId, 120_000);
    const rolled = (await getRollout(rolloutId))!.hosts[0]!;
    expect(rolled.state, rolled.log).toBe("rolled_back");
    const back = await smtp();
    expect([back.TLSv1, back["TLSv1.2"]]).toEqual(["accepted", "rejected"]);
  }, 240_000);

  it("with reboot policy window: applies at once, waits while the window is closed, restarts when it opens, then verifies", async () => {
    // A window that opens at the next whole minute at least 20 s away (UTC), for 15 minutes.
    const opensAt = new Date(Math.ceil((Date.now() + 20_000) / 60_000) * 60_000);
    const start = opensAt.toISOString().slice(11, 16);
    const { rolloutId } = await requestRollout(requester, {
      target: { hostIds: [hostId] },
      goals: ["enable-tls12", "disable-legacy"],
      settings: { rebootPolicy: "window", maintenanceWindow: { days: [0, 1, 2, 3, 4, 5, 6], start, durationMinutes: 15, timeZone: "UTC" }, rebootTimeoutSeconds: 60 },
    });
    const planned = await rolloutWhen(rolloutId, ["planned"]);
    await approveRollout(requester, rolloutId, planned.planHash!);
    await startRollout(requester, rolloutId);
    const waiting = await waitFor("the host to wait for the window", async () => {
      const h = (await getRollout(rolloutId))!.hosts[0]!;
      return h.state === "waiting_window" ? h : null;
    }, 60_000, 300);
    expect(Date.now()).toBeLessThan(opensAt.getTime());
    expect(waiting.log).toMatch(new RegExp(`the restart waits for the maintenance window \\(every day ${start} for 15 min \\(UTC\\)\\), next at ${opensAt.toISOString().slice(0, 16).replace("T", " ")} UTC`));
    // Applied but not restarted: SCHANNEL takes the new values only at the next boot.
    expect((await smtp())["TLSv1.2"]).toBe("rejected");
    expect((await getRollout(rolloutId))!.state).toBe("running");

    const done = await rolloutWhen(rolloutId, ["succeeded", "failed", "halted"], 180_000);
    const after = done.hosts[0]!;
    expect(after.state, after.log).toBe("verified");
    const rebooted = await prisma.auditEvent.findFirst({ where: { action: "rollout.host_rebooted", details: { path: ["rolloutId"], equals: rolloutId } } });
    expect(rebooted!.at.getTime()).toBeGreaterThanOrEqual(opensAt.getTime());
    expect(await prisma.auditEvent.count({ where: { action: "rollout.host_waiting_window", details: { path: ["rolloutId"], equals: rolloutId } } })).toBe(1);
    const p = await smtp();
    expect([p.TLSv1, p["TLSv1.2"]]).toEqual(["rejected", "accepted"]);
  }, 300_000);
});
