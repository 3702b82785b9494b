// The worker process: registers the task kinds with the one host-task runner (./tasks/runner.ts)
// and the scheduled rescan. Any number of workers may run, on any number of machines.
import { hostname } from "node:os";
import { getBoss, QUEUES, stopBoss } from "../lib/jobs/queue";
import { applyRescanSchedule, runScheduledRescan } from "../lib/jobs/schedule";
import { everyWithoutOverlap } from "../lib/jobs/interval";
import { logger } from "../lib/log";
import { sweepRollouts } from "../lib/rollout/controller";
import { sweepExpiredExceptions } from "../lib/exceptions/service";
import { env } from "../lib/env";
import { loadOrCreateAuditKeys } from "../lib/audit/keys";
import { createCheckpoint, lastFullVerificationAt, verifyAuditChain } from "../lib/audit/verify";
import { startConfiguredSink } from "./outbound-sink";
import { auditTask } from "./tasks/audit";
import { startEvidencePackWorker } from "./tasks/evidence-pack";
import { outboundTask } from "./tasks/outbound";
import { planTask } from "./tasks/plan";
import { remediateTask } from "./tasks/remediate";
import { rollbackTask } from "./tasks/rollback";
import { startHostTaskRunner, type TaskKind } from "./tasks/runner";
import { scanTask } from "./tasks/scan";
import { sharedConnectionGate } from "../lib/tls";
import { startWorkerPresence } from "../lib/jobs/worker-presence";

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
/** How often a worker looks whether the audit chain is due for a checkpoint (at most one per interval). */
export const AUDIT_CHECKPOINT_POLL_MS = 60_000;

/** How often the worker walks the whole chain instead of only the events since the last check. */
export const AUDIT_FULL_VERIFY_MS = 24 * 3_600_000;

/**
 * Signs a checkpoint when the newest is older than TLSFLEET_AUDIT_CHECKPOINT_MINUTES, then verifies
 * the events since the last verification (what the Audit page shows), or the whole chain once a
 * day, so an edit to an event verified earlier shows on the page within a day. Several workers
 * share it: createCheckpoint re-checks the age under the chain lock.
 */
export async function auditCheckpointRound(keys = loadOrCreateAuditKeys(), now = new Date()): Promise<void> {
  const created = await createCheckpoint(keys, { ifOlderThanMs: env.TLSFLEET_AUDIT_CHECKPOINT_MINUTES * 60_000, now });
  if (!created) return;
  const lastFull = await lastFullVerificationAt();
  const full = !lastFull || now.getTime() - lastFull.getTime() >= AUDIT_FULL_VERIFY_MS;
  const report = await verifyAuditChain({ publicKey: keys.publicKey, full });
  if (report.ok) logger.info({ checkpoint: created.number, seq: created.seq.toString() }, "audit checkpoint signed");
  else logger.error({ checkpoint: created.number, problem: report.problem }, "audit chain verification found a break");
}

export async function startWorker(opts: { workerId?: string; kinds?: TaskKind[]; pollIntervalMs?: number } = {}): Promise<{ stop(): Promise<void> }> {
  const boss = await getBoss();
  const workerId = opts.workerId ?? WORKER_ID;
  const kinds = opts.kinds ?? defaultTaskKinds();
  const sink = await startConfiguredSink();
  // Probes share every server's budget with the other live workers (docs/domain.md "Pacing per
  // server"): this worker registers first and starts its tasks only once the others made room.
  if (env.TLSFLEET_PROBE_SERVER_BUDGET) sharedConnectionGate.setServerBudget(env.TLSFLEET_PROBE_SERVER_BUDGET);
  const presence = await startWorkerPresence(workerId, sharedConnectionGate);
  if (!(await presence.ready())) logger.warn({ worker: workerId, workers: presence.workers() }, "other workers did not confirm this one's share of the server budgets in time; starting anyway");
  const runner = startHostTaskRunner(boss, { workerId, kinds, pollIntervalMs: opts.pollIntervalMs });
  const stopSweep = everyWithoutOverlap(ROLLOUT_SWEEP_MS, () => sweepRollouts(), (err) => logger.error({ err }, "rollout sweep failed"));
  const stopExceptionSweep = everyWithoutOverlap(EXCEPTION_SWEEP_MS, () => sweepExpiredExceptions(), (err) => logger.error({ err }, "exception expiry sweep failed"));
  const auditKeys = loadOrCreateAuditKeys();
  const stopCheckpoints = everyWithoutOverlap(AUDIT_CHECKPOINT_POLL_MS, () => auditCheckpointRound(auditKeys), (err) => logger.error({ err }, "audit checkpoint round failed"));

  await boss.work(QUEUES.scheduler, async () => {
    await runScheduledRescan();
  });
  const packs = await startEvidencePackWorker(boss);
  await applyRescanSchedule().catch((err: unknown) => logger.error({ err }, "could not apply the rescan schedule"));

  logger.info({ worker: workerId, kinds: kinds.map((k) => k.kind), workers: presence.workers().length }, "worker started");
  return {
    async stop() {
      logger.info({ worker: workerId }, "worker stopping");
      stopSweep();
      stopExceptionSweep();
      stopCheckpoints();
      await boss.offWork(QUEUES.scheduler).catch((err: unknown) => logger.error({ err }, "could not stop the rescan schedule handler"));
      await packs.stop().catch((err: unknown) => logger.error({ err }, "could not stop the evidence-pack handler"));
      // Before pg-boss stops: running tasks hand unfinished work back while they still can.
      await runner.stop().catch((err: unknown) => logger.error({ err }, "the task runner failed to stop cleanly"));
      // After the probes stopped: the others may take this worker's share at their next beat.
      await presence.stop().catch((err: unknown) => logger.error({ err }, "could not remove this worker's presence"));
      await sink?.close();
      await stopBoss();
    },
  };
}
