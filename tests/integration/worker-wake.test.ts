// A worker starts a new job's tasks when the enqueueing transaction commits (NOTIFY on
// lib/jobs/queue.ts TASKS_CHANNEL), not at its next poll: the runner here polls every 60 s, so
// only the notification can start the task within the few seconds the test allows.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { getBoss } from "@/lib/jobs/queue";
import { createScanJob } from "@/lib/jobs/scans";
import { startHostTaskRunner, type HostTaskRunner } from "@/agents/tasks/runner";
import { scanTask } from "@/agents/tasks/scan";
import { jobWhenTerminal, makeHost, scanDatabase, startSmtp, testActor, waitFor, type LoopbackSmtp } from "./scan-support";

scanDatabase("wake");

const POLL_MS = 60_000;

describe("a worker woken by the enqueue", () => {
  let runner: HostTaskRunner;
  let smtp: LoopbackSmtp;

  beforeAll(async () => {
    smtp = await startSmtp({ min: "TLSv1.2", max: "TLSv1.3" });
    runner = startHostTaskRunner(await getBoss(), { workerId: "wake-test-worker", kinds: [scanTask({ concurrency: 4, probeOptions: { timeoutMs: 5_000, deadlineMs: 20_000 } })], pollIntervalMs: POLL_MS });
    // Its LISTEN is in place, and its pool made the first (empty) fetch and sleeps for a minute.
    await waitFor("the worker's LISTEN connection", async () => {
      const rows = await prisma.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tlsfleet-listen' AND datname = current_database() AND query LIKE 'LISTEN%'`;
      return rows[0]!.n > 0;
    }, 10_000, 50);
    await new Promise((r) => setTimeout(r, 500));
  });

  afterAll(async () => {
    await runner?.stop();
    await smtp?.close();
  });

  it("runs a new scan job's task within seconds although the poll interval is a minute", async () => {
    const host = await makeHost("wake", "127.0.0.1", [{ port: smtp.port }]);
    const started = Date.now();
    const { jobId } = await createScanJob(testActor, { hostIds: [host.id] });
    const job = await jobWhenTerminal(jobId, 15_000);
    expect(job.state).toBe("succeeded");
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
