// The worker process: registers the task kinds with the one host-task runner (./tasks/runner.ts)
// and the scheduled rescan. Any number of workers may run, on any number of machines.
import { hostname } from "node:os";
import { getBoss, QUEUES, stopBoss } from "../lib/jobs/queue";
import { applyRescanSchedule, runScheduledRescan } from "../lib/jobs/schedule";
import { logger } from "../lib/log";
import { auditTask } from "./tasks/audit";
import { startHostTaskRunner, type TaskKind } from "./tasks/runner";
import { scanTask } from "./tasks/scan";

export const WORKER_ID = `${hostname()}:${process.pid}`;

/** Every task kind a worker runs: scans (probe hosts, store evidence, recompute status) and config audits (credentialed read-only checks per playbook). */
export function defaultTaskKinds(): TaskKind[] {
  return [scanTask(), auditTask()];
}

export async function startWorker(opts: { workerId?: string; kinds?: TaskKind[]; pollIntervalMs?: number } = {}): Promise<{ stop(): Promise<void> }> {
  const boss = await getBoss();
  const workerId = opts.workerId ?? WORKER_ID;
  const kinds = opts.kinds ?? defaultTaskKinds();
  const runner = startHostTaskRunner(boss, { workerId, kinds, pollIntervalMs: opts.pollIntervalMs });

  await boss.work(QUEUES.scheduler, async () => {
    await runScheduledRescan();
  });
  await applyRescanSchedule().catch((err: unknown) => logger.error({ err }, "could not apply the rescan schedule"));

  logger.info({ worker: workerId, kinds: kinds.map((k) => k.kind) }, "worker started");
  return {
    async stop() {
      logger.info({ worker: workerId }, "worker stopping");
      await boss.offWork(QUEUES.scheduler).catch((err: unknown) => logger.error({ err }, "could not stop the rescan schedule handler"));
      // Before pg-boss stops: running tasks hand unfinished work back while they still can.
      await runner.stop().catch((err: unknown) => logger.error({ err }, "the task runner failed to stop cleanly"));
      await stopBoss();
    },
  };
}
