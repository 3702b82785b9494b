import "server-only";
// Scan jobs: one Job, one JobTask per host, one queue message per task. The web app (or the
// API, or the schedule) creates them; worker processes execute them (agents/tasks/scan.ts, through the host-task runner in agents/tasks/runner.ts).
import { z } from "zod";
import { prisma, type Tx } from "../db";
import { recordAuditInTx } from "../audit/log";
import { createTargetedJob, enqueueTasksInTx, hostJobOptions, JobTargetInput, MAX_JOB_HOSTS, taskQueueFor, type JobTargetValue } from "./create";
import type { Actor } from "../auth/actor";
import { deleteWaitingMessages, getBoss, QUEUES } from "./queue";
import { canCancel, canRetryFailed, RETRYABLE_TASK_STATES } from "./state";
import { lockJob, refreshJobState, taskCounts, fairnessPriority } from "./tasks";
import { AppError } from "../errors";
import { stampLine } from "./task-log";

/** Most hosts one scan job may cover; hostIdsMatching() caps a filter at the same number. */
export const MAX_SCAN_HOSTS = MAX_JOB_HOSTS;
export const DEFAULT_SCAN_CONCURRENCY = 16;

export class ScanError extends AppError {
  constructor(message: string) {
    super(message);
    this.name = "ScanError";
  }
}

/** What to scan: exactly one of a host selection, a host-list filter, or every host. */
export const ScanTargetInput = JobTargetInput;
export type ScanTargetValue = JobTargetValue;

/** Hosts of a scan job are probed `maxConcurrency` at a time, across all workers. */
export const ScanOptions = hostJobOptions({ defaultConcurrency: DEFAULT_SCAN_CONCURRENCY, maxConcurrency: 256 });
export type ScanOptionsValue = z.input<typeof ScanOptions>;

/**
 * Creates a scan job and queues one task per host. The job, its tasks, their queue messages and
 * the audit event commit together: a crash in between leaves nothing half-created.
 */
export async function createScanJob(actor: Actor, target: ScanTargetValue, options: ScanOptionsValue = {}): Promise<{ jobId: string; taskCount: number }> {
  return createTargetedJob({ kind: "scan", queue: QUEUES.scanTask, options: ScanOptions, verb: "scan", fail: (m) => new ScanError(m) }, actor, target, options);
}

async function lockedJob(tx: Tx, jobId: string) {
  await lockJob(tx, jobId);
  const job = await tx.job.findUnique({ where: { id: jobId }, select: { id: true, kind: true, state: true, cancelledAt: true, parameters: true } });
  if (!job) throw new ScanError("That job does not exist");
  return job;
}

/**
 * Cancels a job: tasks that have not started become cancelled at once; running ones stop at
 * their next check (lease renewal, every few seconds) and end cancelled too.
 */
export async function cancelJob(actor: Actor, jobId: string): Promise<{ cancelledTasks: number }> {
  return prisma.$transaction(async (tx) => {
    const job = await lockedJob(tx, jobId);
    if (!canCancel(job.state)) throw new ScanError(`This job has already ${job.state === "cancelled" ? "been cancelled" : "finished"}`);
    if (job.cancelledAt) return { cancelledTasks: 0 };
    await tx.job.update({ where: { id: jobId }, data: { cancelledAt: new Date() } });
    const line = stampLine(`cancelled by ${actor.email} before it started`);
    const cancelledTasks = await tx.$executeRaw`
      UPDATE "JobTask" SET state = 'cancelled', "finishedAt" = now(), log = log || ${line}, "updatedAt" = clock_timestamp()
      WHERE "jobId" = ${jobId}::uuid AND state IN ('queued', 'not_started')`;
    const queue = taskQueueFor(job.kind);
    // Their messages would only be fetched to be dropped: with 50,000 hosts that is real work.
    if (queue) await deleteWaitingMessages(tx, queue, jobId);
    const state = await refreshJobState(tx, jobId);
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "job.cancel", target: `job:${jobId}`, details: { cancelledTasks, state } });
    return { cancelledTasks };
  });
}

/** "Retry failed hosts only": a new attempt for failed and unreachable tasks; the rest stay as they are. */
export async function retryFailedTasks(actor: Actor, jobId: string): Promise<{ retried: number }> {
  await getBoss();
  return prisma.$transaction(
    async (tx) => {
      const job = await lockedJob(tx, jobId);
      const queue = taskQueueFor(job.kind);
      if (!queue) throw new ScanError("Only scan and audit jobs can be retried here");
      const counts = await taskCounts(tx, jobId);
      if (!canRetryFailed(job.state, counts)) {
        throw new ScanError(job.state === "queued" || job.state === "running" ? "Wait for the job to finish first" : "This job has no failed or unreachable hosts to retry");
      }
      const line = stampLine(`retry requested by ${actor.email}`);
      const retried = await tx.$queryRaw<Array<{ id: string; jobId: string }>>`
        UPDATE "JobTask" SET state = 'queued', error = NULL, "startedAt" = NULL, "finishedAt" = NULL, "lockedBy" = NULL, "lockedUntil" = NULL,
          log = log || ${line}, "updatedAt" = clock_timestamp()
        WHERE "jobId" = ${jobId}::uuid AND state = ANY(CAST(${RETRYABLE_TASK_STATES} AS "TaskState"[]))
        RETURNING id::text AS id, "jobId"::text AS "jobId"`;
      const maxConcurrency = z.object({ maxConcurrency: z.number().int().min(1) }).safeParse(job.parameters);
      const cap = maxConcurrency.success ? maxConcurrency.data.maxConcurrency : DEFAULT_SCAN_CONCURRENCY;
      await enqueueTasksInTx(tx, queue, retried.map((task, i) => ({ task, priority: fairnessPriority(i, cap) })));
      const state = await refreshJobState(tx, jobId);
      await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "job.retry_failed", target: `job:${jobId}`, details: { retried: retried.length, state } });
      return { retried: retried.length };
    },
    { timeout: 120_000, maxWait: 10_000 },
  );
}

/** True when a scan of every host, started by the schedule, is still queued or running. */
export async function scheduledScanInProgress(): Promise<boolean> {
  const n = await prisma.job.count({ where: { kind: "scan", state: { in: ["queued", "running"] }, parameters: { path: ["origin"], equals: "schedule" } } });
  return n > 0;
}
