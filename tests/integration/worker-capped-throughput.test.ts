// A job below its worker's slot count (maxConcurrency 2, 4 slots) must run as fast as its hosts
// answer, not one batch per poll interval: the worker fetches 4 messages, claims 2 and defers 2,
// and each host that finishes must start the next one at once. The rule this replaces slept a
// whole poll interval after every deferral, 2 hosts per 3 s poll here: about a minute for 40.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBoss } from "@/lib/jobs/queue";
import { createScanJob } from "@/lib/jobs/scans";
import { setSetting } from "@/lib/settings";
import { startHostTaskRunner, type HostTaskRunner } from "@/agents/tasks/runner";
import { scanTask } from "@/agents/tasks/scan";
import { jobWhenTerminal, makeHost, scanDatabase, startSmtp, tasksOf, testActor, type LoopbackSmtp } from "./scan-support";

scanDatabase("capped");

const POLL_MS = 3_000;
const HOSTS = 40;

describe("a worker with more slots than a job's cap", () => {
  let runner: HostTaskRunner | undefined;
  const servers: Array<LoopbackSmtp & { host: string }> = [];

  beforeAll(async () => {
    await setSetting(testActor, "allowedTargets", ["127.0.0.0/8"]);
    for (let i = 1; i <= 4; i++) servers.push({ ...(await startSmtp({ min: "TLSv1.2", max: "TLSv1.3", host: `127.31.0.${i}` })), host: `127.31.0.${i}` });
    runner = startHostTaskRunner(await getBoss(), { workerId: "capped-test-worker", kinds: [scanTask({ concurrency: 4, probeOptions: { timeoutMs: 5_000, deadlineMs: 20_000 } })], pollIntervalMs: POLL_MS });
  });

  afterAll(async () => {
    await runner?.stop();
    for (const s of servers) await s.close();
  });

  it("starts the next host when one finishes, not at the next poll", { timeout: 150_000 }, async () => {
    const ids: string[] = [];
    for (let i = 0; i < HOSTS; i++) {
      const server = servers[i % servers.length]!;
      ids.push((await makeHost("capped", server.host, [{ port: server.port }])).id);
    }
    const started = Date.now();
    const { jobId } = await createScanJob(testActor, { hostIds: ids }, { maxConcurrency: 2 });
    const job = await jobWhenTerminal(jobId, 140_000);
    const seconds = (Date.now() - started) / 1000;
    expect(job.state).toBe("succeeded");
    const tasks = await tasksOf(jobId);
    // The cap still holds: never more than 2 hosts of the job at once.
    const events = tasks.flatMap((t) => [[t.startedAt!.getTime(), 1], [t.finishedAt!.getTime(), -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let atOnce = 0;
    let most = 0;
    for (const [, d] of events) most = Math.max(most, (atOnce += d));
    expect(most).toBeLessThanOrEqual(2);
    const busy = tasks.reduce((n, t) => n + (t.finishedAt!.getTime() - t.startedAt!.getTime()), 0) / 1000;
    console.log(`worker-capped-throughput: ${HOSTS} hosts at cap 2 in ${seconds.toFixed(1)} s (polls every ${POLL_MS / 1000} s), at most ${most} at once, ${(busy / HOSTS).toFixed(2)} s per host, so ${(busy / 2).toFixed(1)} s at cap 2 back to back`);
    // 20 poll intervals would be 60 s. The hosts take well under a second back to back; the tail is
    // the deferred messages' retry delay (1-2 s) and one poll.
    expect(seconds).toBeLessThan(20);
  });
});
