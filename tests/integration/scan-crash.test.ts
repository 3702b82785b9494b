// A worker killed in the middle of a scan: its tasks are taken over by another worker once their
// lease runs out, each task ends exactly once, and no task gets two sets of results. Real worker
// processes (`node bin/tlsfleet worker`), real SIGKILL, real slow SMTP servers on loopback.
import { afterAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { getBoss, QUEUES } from "@/lib/jobs/queue";
import { createScanJob } from "@/lib/jobs/scans";
import { taskMessage, LEASE_SECONDS } from "@/lib/jobs/tasks";
import { halfSlowFleet, jobWhenTerminal, tasksOf, testActor, scanDatabase, waitFor, type LoopbackSmtp } from "./scan-support";
import { workerProcesses } from "./worker-process-support";

const db = scanDatabase("crash");
const servers: LoopbackSmtp[] = [];
const workers = workerProcesses();
const startWorkerProcess = (name: string) => workers.start(name, db.url(), { TLSFLEET_WORKER_CONCURRENCY: "8" });

afterAll(async () => {
  await workers.killAll();
  await Promise.all(servers.map((s) => s.close()));
});

describe("a worker killed during a scan", () => {
  it("leaves its tasks to a restarted worker: none lost, none run twice, one set of results per task", async () => {
    // The slow hosts are still being probed when the worker dies.
    const hosts = await halfSlowFleet("crash", "127.0.0", servers);
    const { jobId } = await createScanJob(testActor, { hostIds: hosts.map((h) => h.id) });

    const first = startWorkerProcess("worker 1");
    const slowIds = hosts.filter((h) => h.slow).map((h) => h.id);
    await waitFor(
      "the fast hosts to finish while the slow ones are being probed",
      async () => {
        const tasks = await prisma.jobTask.findMany({ where: { jobId } });
        const fastDone = tasks.filter((t) => !slowIds.includes(t.hostId) && t.state === "succeeded").length === 3;
        const slowRunning = tasks.filter((t) => slowIds.includes(t.hostId) && t.state === "running").length === 3;
        return fastDone && slowRunning;
      },
      60_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.output()}`);
    });
    await first.crash();
    const killedAt = Date.now();
    const orphaned = await prisma.jobTask.findMany({ where: { jobId, state: "running" } });
    expect(orphaned.map((t) => t.hostId).sort()).toEqual([...slowIds].sort());
    expect(await prisma.probeResult.count({ where: { jobId, endpoint: { hostId: { in: slowIds } } } })).toBe(0);

    const second = startWorkerProcess("worker 2");
    const job = await jobWhenTerminal(jobId, 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${second.output()}`);
    });
    const recoveryMs = Date.now() - killedAt;
    console.log(`scan-crash: all tasks done ${recoveryMs} ms after the kill (lease ${LEASE_SECONDS} s)`);
    expect(job.state).toBe("succeeded");

    const tasks = await tasksOf(jobId);
    for (const t of tasks) {
      expect(t.state).toBe("succeeded");
      expect(t.lockedBy).toBeNull();
      const results = await prisma.probeResult.count({ where: { jobId, endpointId: t.host.endpoints[0]!.id } });
      expect(results).toBe(1);
      expect(t.host.status?.status).toBe("noncompliant");
      if (slowIds.includes(t.hostId)) {
        expect(t.attempt).toBe(2);
        expect(t.log).toMatch(/attempt 2 on .*stopped renewing its lease/);
      } else {
        expect(t.attempt).toBe(1);
      }
    }

    // pg-boss will eventually redeliver the dead worker's messages (after their expiry), and a
    // reaper may re-send: deliver every task's message again now and check nothing changes.
    const boss = await getBoss();
    await boss.insert(tasks.map((t) => taskMessage(QUEUES.scanTask, { id: t.id, jobId })));
    await waitFor("the duplicate messages to be consumed", async () => (await boss.getQueueSize(QUEUES.scanTask)) === 0, 30_000);
    const after = await tasksOf(jobId);
    expect(after.map((t) => [t.id, t.state, t.attempt])).toEqual(tasks.map((t) => [t.id, t.state, t.attempt]));
    expect(await prisma.probeResult.count({ where: { jobId } })).toBe(6);

    await second.stop();
    expect(second.child.exitCode).toBe(0);
  });
});
