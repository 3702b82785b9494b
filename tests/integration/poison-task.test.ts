// Poison-task guard with real worker processes and real PostgreSQL: a task whose handler blocks
// its worker's event loop (so the lease is never renewed) is taken over by the next worker,
// which blocks too; after MAX_TASK_ATTEMPTS lease expiries the next claim gives the task up with
// a clear reason instead of handing it on for ever. Short leases (2 s) keep the test quick.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prisma } from "@/lib/db";
import { createScanJob } from "@/lib/jobs/scans";
import { givenUpReason, MAX_TASK_ATTEMPTS } from "@/lib/jobs/tasks";
import { makeHost, scanDatabase, testActor, waitFor } from "./scan-support";

const db = scanDatabase("poison");
const ROOT = path.resolve(__dirname, "..", "..");
const children: Array<{ id: string; child: ChildProcess; output: () => string }> = [];

function startPoisonWorker(id: string) {
  let output = "";
  const child = spawn(process.execPath, ["--conditions=react-server", "--import", "tsx", path.join(__dirname, "poison-worker.ts")], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url(), TLSFLEET_LEASE_SECONDS: "2", POISON_WORKER_ID: id, LOG_LEVEL: "warn", NODE_ENV: "production" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const entry = { id, child, output: () => output };
  children.push(entry);
  return entry;
}

const exited = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r())));

afterAll(async () => {
  // A blocked worker answers nothing but SIGKILL; only the processes this file started.
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await Promise.all(children.map((c) => exited(c.child)));
});

describe("a task whose handler blocks every worker that takes it", () => {
  it(`is given up after ${MAX_TASK_ATTEMPTS} lease expiries, with the reason, and the remaining worker never runs it`, async () => {
    const host = await makeHost("poison", "127.0.0.1", [{ port: 25 }]);
    // One more worker than attempts: the last one is left to give the task up.
    const workers = Array.from({ length: MAX_TASK_ATTEMPTS + 1 }, (_, i) => startPoisonWorker(`poison-worker-${i + 1}`));
    await waitFor("the workers to start", async () => workers.every((w) => w.output().includes("ready")), 60_000);
    const { jobId } = await createScanJob(testActor, { hostIds: [host.id] });

    const started = Date.now();
    const task = await waitFor(
      "the task to be given up",
      async () => {
        const t = await prisma.jobTask.findFirstOrThrow({ where: { jobId } });
        return t.state === "failed" ? t : null;
      },
      110_000,
      250,
    );
    const elapsedMs = Date.now() - started;
    console.log(`poison-task: given up ${elapsedMs} ms after the job was created (lease 2 s, ${MAX_TASK_ATTEMPTS} attempts)`);

    expect(task).toMatchObject({ state: "failed", attempt: MAX_TASK_ATTEMPTS, lockedBy: null, lockedUntil: null, error: givenUpReason(MAX_TASK_ATTEMPTS) });
    expect(task.error).toBe("given up after 3 attempts: the worker holding it stopped answering each time");
    const blocked = workers.filter((w) => w.output().includes("blocking on task"));
    expect(blocked).toHaveLength(MAX_TASK_ATTEMPTS);
    // Every attempt was a different worker's, each one logged, and the takeovers say why.
    for (let a = 1; a <= MAX_TASK_ATTEMPTS; a++) expect(task.log).toMatch(new RegExp(`attempt ${a} on poison-worker-\\d`));
    expect(task.log.match(/stopped renewing its lease/g)).toHaveLength(MAX_TASK_ATTEMPTS - 1);
    expect(task.log).toContain("given up after 3 attempts");

    const job = await prisma.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job.state).toBe("failed");
    expect(job.finishedAt).not.toBeNull();
    const audit = await prisma.auditEvent.findFirstOrThrow({ where: { action: "task.given_up" } });
    expect(audit).toMatchObject({ target: `host:${host.name}` });
    expect(audit.details).toMatchObject({ jobId, taskId: task.id, attempts: MAX_TASK_ATTEMPTS });

    // The worker left standing still answers: it did not take the task, so it is not blocked.
    const free = workers.find((w) => !blocked.includes(w))!;
    expect(free.output()).not.toContain("blocking on task");
  });
});
