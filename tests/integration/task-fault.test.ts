// A fault in a task kind's own code, through the real runner and PostgreSQL: an exception thrown
// by run() or by the result's write (as a crash in status evaluation did for outbound checks).
// The task is finished as failed on its first attempt with the fault's message, and the rest of
// the job goes on; before, it stayed "running" until its lease expired, was blamed on the worker
// ("stopped renewing its lease") and ran the same fault twice more.
import { describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { QUEUES } from "@/lib/jobs/queue";
import { createScanJob } from "@/lib/jobs/scans";
import type { TaskKind } from "@/agents/tasks/runner";
import { jobWhenTerminal, makeHost, runKindForFile, scanDatabase, testActor } from "./scan-support";

scanDatabase("taskfault");

const faulty: TaskKind = {
  kind: "scan",
  queue: QUEUES.scanTask,
  concurrency: 2,
  async run(h) {
    if (h.host.name.includes("run-throws")) throw new TypeError("Cannot read properties of undefined (reading 'summary')");
    return {
      kind: "finish",
      state: "succeeded",
      error: null,
      summary: "-> succeeded",
      write: async (tx) => {
        await tx.host.update({ where: { id: h.host.id }, data: { tags: { push: "written-by-faulty-kind" } } });
        if (h.host.name.includes("write-throws")) throw new RangeError("status evaluation failed");
      },
    };
  },
};

runKindForFile("task-fault-test-worker", faulty);

describe("a task kind that throws", () => {
  it("fails the task at once with the fault's message, writes nothing of the failed write, and finishes the others", async () => {
    const hosts = [await makeHost("taskfault-run-throws", "127.0.0.1", [{ port: 25 }]), await makeHost("taskfault-write-throws", "127.0.0.1", [{ port: 25 }]), await makeHost("taskfault-fine", "127.0.0.1", [{ port: 25 }])];
    const started = Date.now();
    const { jobId } = await createScanJob(testActor, { hostIds: hosts.map((h) => h.id) });
    const job = await jobWhenTerminal(jobId);
    // Well inside one lease (TLSFLEET_LEASE_SECONDS): nothing waited for an expiry.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(job.state).toBe("failed");
    const tasks = await prisma.jobTask.findMany({ where: { jobId }, include: { host: true } });
    const byName = new Map(tasks.map((t) => [["run-throws", "write-throws", "fine"].find((n) => t.host.name.includes(n))!, t]));
    for (const [name, pattern] of [["run-throws", /^internal error; this attempt's results were not recorded: Cannot read properties of undefined \(reading 'summary'\)$/], ["write-throws", /^internal error; this attempt's results were not recorded: status evaluation failed$/]] as const) {
      const t = byName.get(name)!;
      expect(t.state, name).toBe("failed");
      expect(t.error, name).toMatch(pattern);
      expect(t.attempt, name).toBe(1);
      expect(t.leaseExpiries, name).toBe(0);
      expect(t.lockedBy, name).toBeNull();
      expect(t.log, name).toMatch(/-> failed: internal error/);
    }
    // The failed write was rolled back; the good host's write committed.
    expect(byName.get("write-throws")!.host.tags).not.toContain("written-by-faulty-kind");
    expect(byName.get("fine")!).toMatchObject({ state: "succeeded" });
    expect(byName.get("fine")!.host.tags).toContain("written-by-faulty-kind");
  });
});
