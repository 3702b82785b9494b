// The worker process: registers the task kinds with the one host-task runner (./tasks/runner.ts)
// and the scheduled rescan. Any number of workers may run, on any number of machines.
import { hostname } from "node:os";
import { getBoss, QUEUES, stopBoss } from "../lib/jobs/queue";
import { applyRescanSchedule, runScheduledRescan } from "../lib/jobs/schedule";
import { everyWithoutOverlap } from "../lib/jobs/interval";
import { logger } from "../lib/log";
import { sweepRollouts } from "../lib/rollout/controller";
import { sweepExpiredExceptions } from "../lib/exceptions/service";
import { startConfiguredSink } from "./outbound-sink";
import { auditTask } from "./tasks/audit";
import { outboundTask } from "./tasks/outbound";
import { planTask } from "./tasks/plan";
import { remediateTask } from "./tasks/remediate";
import { rollbackTask } from "./tasks/rollback";
import { startHostTaskRunner, type TaskKind } from "./tasks/runner";
import { scanTask } from "./tasks/scan";

export const WORKER_ID = `${hostname()}:${process.pid}`;

/**
 * Every task kind a worker runs: scans (probe hosts, store evidence, recompute status), config
 * audits (credentialed read-only checks per playbook), and a rollout's plan (dry run), remediate
 * (apply, restart, verify on the wire) and rollback tasks.
 */
export function defaultTaskKinds(): TaskKind[] {
  return [scanTask(), auditTask(), planTask(), remediateTask(), rollbackTask(), outboundTask()];
}

/** How often every worker moves rollouts forward (a finished wave starts the next one). */
export const ROLLOUT_SWEEP_MS = 3_000;

/** How often every worker returns hosts whose exception expired to their real status. */
export const EXCEPTION_SWEEP_MS = 60_000;

export async function startWorker(opts: { workerId?: string; kinds?: TaskKind[]; pollIntervalMs?: number } = {}): Promise<{ stop(): Promise<void> }> {
  const boss = await getBoss();
  const workerId = opts.workerId ?? WORKER_ID;
  const kinds = opts.kinds ?? defaultTaskKinds();
  const sink = await startConfiguredSink();
  const runner = startHostTaskRunner(boss, { workerId, kinds, pollIntervalMs: opts.pollIntervalMs });
  const stopSweep = everyWithoutOverlap(ROLLOUT_SWEEP_MS, () => sweepRollouts(), (err) => logger.error({ err }, "rollout sweep failed"));
  const stopExceptionSweep = everyWithoutOverlap(EXCEPTION_SWEEP_MS, () => sweepExpiredExceptions(), (err) => logger.error({ err }, "exception expiry sweep failed"));

  await boss.work(QUEUES.scheduler, async () => {
    await runScheduledRescan();
  });
  await applyRescanSchedule().catch((err: unknown) => logger.error({ err }, "could not apply the rescan schedule"));

  logger.info({ worker: workerId, kinds: kinds.map((k) => k.kind) }, "worker started");
  return {
    async stop() {
      logger.info({ worker: workerId }, "worker stopping");
      stopSweep();
      stopExceptionSweep();
      await boss.offWork(QUEUES.scheduler).catch((err: unknown) => logger.error({ err }, "could not stop the rescan schedule handler"));
      // Before pg-boss stops: running tasks hand unfinished work back while they still can.
      await runner.stop().catch((err: unknown) => logger.error({ err }, "the task runner failed to stop cleanly"));
      await sink?.close();
      await stopBoss();
    },
  };
}
