// PostgreSQL restarted in the middle of a scan, both a server tlsfleet runs itself (embedded) and
// one it is only given (an "external" cluster of this test's own, never the machine's): the web
// side's client (this process: Prisma, as the web app uses it) and a real worker process
// (`node bin/tlsfleet worker`) reconnect, the scan completes, and nothing is lost or doubled.
import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { reloadEnv } from "@/lib/env";
import { disconnectPrisma, prisma } from "@/lib/db";
import { ensureDatabase } from "@/lib/db/database";
import { migrate } from "@/lib/db/migrate";
import { getBoss, stopBoss } from "@/lib/jobs/queue";
import { createScanJob } from "@/lib/jobs/scans";
import { adminQuery, databaseUrl } from "../support/db";
import { startOwnCluster } from "../support/own-cluster";
import { halfSlowFleet, jobWhenTerminal, tasksOf, testActor, waitFor, type LoopbackSmtp } from "./scan-support";
import { workerProcesses } from "./worker-process-support";

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const servers: LoopbackSmtp[] = [];
const workers = workerProcesses();
const runUrl = process.env.DATABASE_URL;

afterAll(async () => {
  await workers.killAll();
  await Promise.all(servers.map((s) => s.close()));
  await stopBoss();
  await disconnectPrisma();
  process.env.DATABASE_URL = runUrl;
  reloadEnv();
});

async function pointAppAt(url: string): Promise<void> {
  await stopBoss();
  await disconnectPrisma();
  process.env.DATABASE_URL = url;
  reloadEnv();
  await getBoss();
}

async function scanThroughRestart(label: string, url: string, restart: () => Promise<void>): Promise<void> {
  await pointAppAt(url);
  // The slow hosts are mid-probe at the restart.
  const hosts = await halfSlowFleet(label, "127.0.1", servers);
  const worker = workers.start(`worker (${label})`, url, { TLSFLEET_WORKER_CONCURRENCY: "8" });
  // The last lines only: this goes into the message of every check below.
  const output = () => worker.output(80);
  const { jobId } = await createScanJob(testActor, { hostIds: hosts.map((h) => h.id) });
  const slowIds = hosts.filter((h) => h.slow).map((h) => h.id);
  await waitFor(
    "the slow hosts to be probed",
    async () => (await prisma.jobTask.findMany({ where: { jobId, hostId: { in: slowIds }, state: "running" } })).length === 3,
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${output()}`);
  });

  const restartedAt = Date.now();
  await restart();
  const downMs = Date.now() - restartedAt;

  const job = await jobWhenTerminal(jobId, 150_000).catch((err: Error) => {
    throw new Error(`${err.message}\n${output()}`);
  });
  expect(job.state, output()).toBe("succeeded");
  const tasks = await tasksOf(jobId);
  console.log(`db-restart ${label}: server down/up in ${downMs} ms; scan done ${Date.now() - restartedAt} ms after the restart began; attempts ${tasks.map((t) => t.attempt).join(",")}`);
  expect(tasks).toHaveLength(6);
  for (const t of tasks) {
    expect(t.state).toBe("succeeded");
    expect(t.lockedBy).toBeNull();
    // Retried in place (lib/db/transient.ts), not abandoned to a lease expiry and a second attempt.
    expect(t.attempt, output()).toBe(1);
    expect(t.leaseExpiries).toBe(0);
    const results = await prisma.probeResult.findMany({ where: { jobId, endpointId: t.host.endpoints[0]!.id } });
    // One result per endpoint, each with one outcome per TLS version.
    expect(results).toHaveLength(1);
    expect(Object.keys(results[0]!.protocols as object).sort()).toEqual(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]);
    expect(t.host.status?.status).toBe("noncompliant");
  }
  expect(await prisma.probeResult.count({ where: { jobId } })).toBe(6);
  expect(await prisma.jobTask.count({ where: { jobId } })).toBe(6);

  // The web side after the restart: a new scan is created, run and read back.
  const again = await createScanJob(testActor, { hostIds: [hosts[0]!.id] });
  expect((await jobWhenTerminal(again.jobId, 60_000)).state).toBe("succeeded");

  await worker.stop();
  expect(worker.child.exitCode, output()).toBe(0);
  await stopBoss();
  await disconnectPrisma();
}

describe("PostgreSQL restarted during a scan", () => {
  it("an external server: web client and worker reconnect, the scan completes, one result per endpoint", async () => {
    const cluster = await startOwnCluster();
    try {
      await adminQuery(cluster.url, "CREATE DATABASE tlsfleet");
      const url = databaseUrl(cluster.url, "tlsfleet");
      await migrate({ url });
      await scanThroughRestart("ext", url, () => cluster.restart());
    } finally {
      await stopBoss();
      await disconnectPrisma();
      await cluster.stop();
    }
  });

  it("the embedded server: stopped and started again by tlsfleet, same result", async () => {
    const dataDir = path.join(ROOT, ".data", `db-restart-${process.pid}`);
    delete process.env.DATABASE_URL;
    reloadEnv();
    let db = await ensureDatabase({ dataDir });
    try {
      // Migrations run as the owner; the app (and the worker) connect as tlsfleet_app.
      await migrate({ url: db.ownerUrl });
      await scanThroughRestart("emb", db.url, async () => {
        await db.stop();
        db = await ensureDatabase({ dataDir });
      });
    } finally {
      await stopBoss();
      await disconnectPrisma();
      await db.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
