// The task log through the real runner and PostgreSQL: a task kind that logs what a hostile host
// could make it log (huge lines, NUL bytes, thousands of lines) and ends with a huge error. The
// row stays bounded, says what it left out, and the NUL does not make the write fail.
import { describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { QUEUES } from "@/lib/jobs/queue";
import { createScanJob } from "@/lib/jobs/scans";
import { MAX_TASK_LOG_BYTES, MAX_TASK_LOG_LINE_BYTES } from "@/lib/jobs/task-log";
import type { TaskKind } from "@/agents/tasks/runner";
import { jobWhenTerminal, makeHost, runKindForFile, scanDatabase, testActor } from "./scan-support";

scanDatabase("tasklog");

const noisy: TaskKind = {
  kind: "scan",
  queue: QUEUES.scanTask,
  concurrency: 1,
  async run(h) {
    await h.log(`the host said: ${"A".repeat(100_000)}`);
    await h.log("a NUL from the host: \0 (PostgreSQL text cannot store it)");
    for (let i = 0; i < 2_000; i++) await h.log(`line ${i}: ${"b".repeat(1_000)}`);
    return { kind: "finish", state: "failed", error: `host output: ${"E".repeat(50_000)}`, summary: "-> failed" };
  },
};

runKindForFile("task-log-test-worker", noisy);

describe("a task that logs without limit", () => {
  it("stores a bounded log and error, each cut saying how many bytes it left out", async () => {
    const host = await makeHost("tasklog", "127.0.0.1", [{ port: 25 }]);
    const { jobId } = await createScanJob(testActor, { hostIds: [host.id] });
    await jobWhenTerminal(jobId);
    const task = await prisma.jobTask.findFirstOrThrow({ where: { jobId } });
    expect(task.state).toBe("failed");
    const logBytes = Buffer.byteLength(task.log, "utf8");
    expect(logBytes).toBeLessThan(MAX_TASK_LOG_BYTES + 8 * 1024);
    expect(task.log).toContain(`the host said: ${"A".repeat(100)}`);
    expect(task.log).toMatch(/… \(truncated, \d+ bytes\)\n/);
    expect(task.log).toContain("a NUL from the host: \\0");
    expect(task.log).toMatch(/… task log full \(262144 bytes for this attempt\): further lines are left out\n/);
    expect(task.log).toMatch(/\(truncated, \d+ bytes: \d+ log lines left out\)\n.*-> failed\n$/);
    expect(Buffer.byteLength(task.error!, "utf8")).toBeLessThan(MAX_TASK_LOG_LINE_BYTES + 100);
    expect(task.error).toMatch(/^host output: E+… \(truncated, 45\d\d\d bytes\)$/);
  });
});
