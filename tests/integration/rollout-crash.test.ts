// Crash safety of a rollout mid-wave, with real processes: a worker killed with SIGKILL while a
// Windows host (the test double) restarts, and PostgreSQL itself restarted while a host restarts.
// The rollout must continue: no host applied twice, no host lost, every host verified on the wire.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reloadEnv } from "@/lib/env";
import { prisma } from "@/lib/db";
import { createScanJob } from "@/lib/jobs/scans";
import { createCredential } from "@/lib/credentials/service";
import { setSetting } from "@/lib/settings";
import { approveRollout, requestRollout, rollbackRollout, startRollout } from "@/lib/rollout/service";
import { getRollout } from "@/lib/rollout/views";
import { startWorker } from "@/agents/worker";
import { ensureLabUp } from "../lab/fleet";
import { jobWhenTerminal, makeHost, scanDatabase, testActor, waitFor } from "./scan-support";
import { doubleEvents, startDouble, type RunningDouble } from "./windows-double-support";
import { scopeCredential } from "./custody-support";
import { workerProcesses } from "./worker-process-support";

const fleet = ensureLabUp();
const db = scanDatabase("rollout_crash");
const admin = { id: "00000000-0000-4000-8000-0000000000aa", email: "crash-admin@example.test", role: "admin" as const };
const workers = workerProcesses();
let double: RunningDouble | undefined;
let doubleHost = "";
let postfixHost = "";

/** Reads that survive the database going away for a moment. */
const tolerant = <T>(fn: () => Promise<T>) => async () => {
  try {
    return await fn();
  } catch {
    return null;
  }
};

async function hostState(rolloutId: string, hostId: string) {
  return (await getRollout(rolloutId))?.hosts.find((h) => h.hostId === hostId)?.state ?? null;
}

const regWrites = () => doubleEvents(double!.ready, "registry-write").length;

async function freshRollout(): Promise<string> {
  const { rolloutId } = await requestRollout(admin, { target: { hostIds: [doubleHost, postfixHost] }, goals: ["enable-tls12", "disable-legacy"], settings: { canarySize: 1, rebootPolicy: "now", rebootTimeoutSeconds: 90 } });
  const planned = await waitFor("the plan", async () => {
    const r = await getRollout(rolloutId);
    return r?.state === "planned" ? r : null;
  }, 60_000);
  expect(planned.hosts.map((h) => [h.hostName, h.state, h.wave])).toEqual([["a-exchange-double.crash.test", "planned", -1], ["mx-legacy.crash.test", "planned", -1]]);
  return rolloutId;
}

beforeAll(async () => {
  process.env.TLSFLEET_SECRET_KEY = randomBytes(32).toString("base64");
  reloadEnv();
  await setSetting(testActor, "allowedTargets", ["127.0.0.1/32", "198.18.0.0/15"]);
  // A restart long enough for a worker to be killed (or the database restarted) while it waits.
  double = await startDouble("legacy", { rebootDowntimeMs: 8_000 });
  await createCredential(admin, { name: "double-admin", kind: "winrm_basic", username: double.ready.user, secret: double.ready.password });
  await createCredential(admin, { name: "lab-root", kind: "ssh_key", username: fleet.ssh.user, secret: readFileSync(fleet.ssh.keyPath, "utf8") });
  await scopeCredential("double-admin", ["127.0.0.1/32"]);
  await scopeCredential("lab-root", ["198.18.0.0/15"]);
  const d = await makeHost("crash", "127.0.0.1", [{ port: double.ready.ports.smtp, service: "smtp" }], "a-exchange-double.crash.test");
  await prisma.host.update({ where: { id: d.id }, data: { platform: "windows", roles: ["exchange"], transport: "winrm", port: double.ready.ports.winrmHttps, credential: { connect: { name: "double-admin" } }, pinnedKey: double.ready.certificate.sha256.replace(/[:\s]/g, "").toLowerCase(), pinnedAt: new Date(), legacyTls: true } });
  doubleHost = d.id;
  const lab = fleet.hosts.find((h) => h.name === "mx-legacy")!;
  const p = await makeHost("crash", lab.address, [{ port: 25 }], "mx-legacy.crash.test");
  await prisma.host.update({ where: { id: p.id }, data: { platform: "linux", roles: ["postfix"], transport: "ssh", port: 22, credential: { connect: { name: "lab-root" } }, pinnedKey: lab.ssh!.hostKeyFingerprint, pinnedAt: new Date() } });
  postfixHost = p.id;
}, 120_000);

afterAll(async () => {
  await workers.killAll();
  await double?.stop();
});

describe("a rollout whose worker is killed mid-wave", () => {
  it("continues on a restarted worker: the restarting host is not applied twice, and the next wave runs", async () => {
    const first = workers.start("worker 1", db.url());
    await jobWhenTerminal((await createScanJob(testActor, { hostIds: [doubleHost, postfixHost] })).jobId, 60_000);
    const rolloutId = await freshRollout();
    await approveRollout({ ...admin, id: "00000000-0000-4000-8000-0000000000ab" }, rolloutId, (await getRollout(rolloutId))!.planHash!);
    await startRollout(admin, rolloutId);
    await waitFor("the canary to be restarting", async () => (await hostState(rolloutId, doubleHost)) === "rebooting", 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.output()}`);
    });
    const writesBefore = regWrites();
    expect(writesBefore).toBeGreaterThan(0);
    await first.crash();

    const second = workers.start("worker 2", db.url());
    const r = await waitFor("the rollout to finish", async () => {
      const x = await getRollout(rolloutId);
      return x && ["succeeded", "failed", "halted"].includes(x.state) ? x : null;
    }, 150_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${second.output()}`);
    });
    expect(r.state, JSON.stringify(r.hosts.map((h) => [h.hostName, h.state, h.reason]))).toBe("succeeded");
    expect(r.hosts.map((h) => h.state)).toEqual(["verified", "verified"]);
    // Applied once: one host_applied event, and no registry write after the kill.
    expect(await prisma.auditEvent.count({ where: { action: "rollout.host_applied", target: "host:a-exchange-double.crash.test" } })).toBe(1);
    expect(regWrites()).toBe(writesBefore);
    const canary = r.hosts[0]!;
    expect(canary.log).toMatch(/back after the restart|verified after the restart/);

    // Put both hosts back for the next test.
    await jobWhenTerminal((await rollbackRollout(admin, rolloutId)).jobId, 150_000);
    expect((await getRollout(rolloutId))!.hosts.map((h) => h.state)).toEqual(["rolled_back", "rolled_back"]);
    await second.stop();
  }, 420_000);
});

describe("a rollout while PostgreSQL restarts", () => {
  it("resumes when the database is back", async () => {
    const clusters = execFileSync("ls", ["/etc/postgresql"]).toString().trim().split(/\s+/);
    if (!process.env.DATABASE_URL?.includes("127.0.0.1:5432") || clusters.length === 0) {
      throw new Error("this test restarts the machine's PostgreSQL with pg_ctlcluster: run it with DATABASE_URL on 127.0.0.1:5432, as .ci/run does");
    }
    const worker = await startWorker({ workerId: "rollout-pg-restart-worker", pollIntervalMs: 300 });
    try {
      const rolloutId = await freshRollout();
      await approveRollout({ ...admin, id: "00000000-0000-4000-8000-0000000000ab" }, rolloutId, (await getRollout(rolloutId))!.planHash!);
      await startRollout(admin, rolloutId);
      await waitFor("the canary to be restarting", tolerant(async () => (await hostState(rolloutId, doubleHost)) === "rebooting"), 60_000);
      execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", clusters[0]!, "main", "restart"], { stdio: "ignore" });
      const r = await waitFor("the rollout to finish", tolerant(async () => {
        const x = await getRollout(rolloutId);
        return x && ["succeeded", "failed", "halted"].includes(x.state) ? x : null;
      }), 150_000);
      expect(r.state, JSON.stringify(r.hosts.map((h) => [h.hostName, h.state, h.reason]))).toBe("succeeded");
      expect(r.hosts.map((h) => h.state)).toEqual(["verified", "verified"]);
      await jobWhenTerminal((await rollbackRollout(admin, rolloutId)).jobId, 150_000);
    } finally {
      await worker.stop();
    }
  }, 420_000);
});
