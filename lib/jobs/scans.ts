import "server-only";
// Scan jobs: one Job, one JobTask per host, one queue message per task. The web app (or the
// API, or the schedule) creates them; worker processes execute them (agents/scan-task.ts).
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { prisma } from "../db";
import { recordAuditInTx } from "../audit/log";
import { HostFilter, isEmptyFilter, type HostFilterValue } from "../inventory/filter";
import { hostIdsMatching } from "../inventory/hosts";
import { bossDbForTx, deleteWaitingMessages, getBoss, QUEUES } from "./queue";
import { canCancel, canRetryFailed, RETRYABLE_TASK_STATES } from "./state";
import { lockJob, refreshJobState, taskCounts, taskMessage, wavePriority, type Tx } from "./tasks";

/** Most hosts one scan job may cover; hostIdsMatching() caps a filter at the same number. */
export const MAX_SCAN_HOSTS = 100_000;
export const DEFAULT_SCAN_CONCURRENCY = 16;

export class ScanError extends Error {
  readonly userFacing = true;
  constructor(message: string) {
    super(message);
    this.name = "ScanError";
  }
}

/** Who asked: a user, an API token's owner, or the system (schedule). */
export interface JobActor {
  id: string | null;
  email: string;
}
export const SYSTEM_ACTOR: JobActor = { id: null, email: "system" };

/** What to scan: exactly one of a host selection, a host-list filter, or every host. */
export const ScanTargetInput = z
  .object({
    hostIds: z.array(z.string().uuid("Host ids are UUIDs")).min(1, "Select at least one host").max(MAX_SCAN_HOSTS).optional(),
    filter: HostFilter.optional(),
    all: z.literal(true).optional(),
  })
  .refine((v) => [v.hostIds !== undefined, v.filter !== undefined, v.all === true].filter(Boolean).length === 1, {
    message: "Choose exactly one of: hosts, a filter, or all hosts",
  });
export type ScanTargetValue = z.input<typeof ScanTargetInput>;

export const ScanOptions = z.object({
  /** Hosts of this job probed at the same time, across all workers. */
  maxConcurrency: z.number().int().min(1).max(256).default(DEFAULT_SCAN_CONCURRENCY),
  /** Where the request came from; shown as "requested by" for the schedule. */
  origin: z.enum(["ui", "api", "schedule"]).default("ui"),
});
export type ScanOptionsValue = z.input<typeof ScanOptions>;

/** What Job.target stores: the selection as the user made it (a filter stays a filter). */
type StoredTarget = { hostIds: string[] } | { filter: HostFilterValue };

async function resolveHosts(target: z.output<typeof ScanTargetInput>): Promise<{ hostIds: string[]; stored: StoredTarget; summary: string }> {
  if (target.hostIds) {
    const wanted = [...new Set(target.hostIds)];
    const found = await prisma.host.findMany({ where: { id: { in: wanted } }, select: { id: true }, orderBy: { name: "asc" } });
    if (found.length !== wanted.length) {
      throw new ScanError(found.length === 0 ? "None of the selected hosts exists any more" : `${wanted.length - found.length} of the selected hosts no longer exist; reload the list and try again`);
    }
    return { hostIds: found.map((h) => h.id), stored: { hostIds: found.map((h) => h.id) }, summary: `${found.length} selected host(s)` };
  }
  const filter: HostFilterValue = target.filter ?? {};
  const hostIds = await hostIdsMatching(filter, MAX_SCAN_HOSTS);
  return { hostIds, stored: { filter }, summary: target.all || isEmptyFilter(filter) ? "all hosts" : "hosts matching a filter" };
}

/**
 * Creates a scan job and queues one task per host. The job, its tasks, their queue messages and
 * the audit event commit together: a crash in between leaves nothing half-created.
 */
export async function createScanJob(actor: JobActor, target: ScanTargetValue, options: ScanOptionsValue = {}): Promise<{ jobId: string; taskCount: number }> {
  const parsedTarget = ScanTargetInput.safeParse(target);
  if (!parsedTarget.success) throw new ScanError(parsedTarget.error.issues[0]?.message ?? "Invalid scan target");
  const opts = ScanOptions.parse(options);
  const { hostIds, stored, summary } = await resolveHosts(parsedTarget.data);
  if (hostIds.length === 0) throw new ScanError(parsedTarget.data.filter ? "No host matches this filter" : "There are no hosts to scan yet: import a CSV or add one");

  await getBoss(); // installs pg-boss's schema and the queues before we insert messages by hand
  const jobId = randomUUID();
  const tasks = hostIds.map((hostId) => ({ id: randomUUID(), jobId, hostId }));
  await prisma.$transaction(
    async (tx) => {
      await tx.job.create({
        data: {
          id: jobId,
          kind: "scan",
          state: "queued",
          target: stored as never,
          parameters: { maxConcurrency: opts.maxConcurrency, origin: opts.origin },
          requestedById: actor.id,
        },
      });
      for (let i = 0; i < tasks.length; i += 5000) {
        await tx.jobTask.createMany({ data: tasks.slice(i, i + 5000).map((t) => ({ ...t, state: "queued" as const })) });
      }
      await enqueueInTx(tx, tasks.map((t, i) => ({ task: t, priority: wavePriority(i, opts.maxConcurrency) })));
      await recordAuditInTx(tx, {
        actor: actor.email,
        actorId: actor.id,
        action: "scan.create",
        target: `job:${jobId}`,
        details: { hosts: tasks.length, target: summary, maxConcurrency: opts.maxConcurrency, origin: opts.origin },
      });
    },
    // 100,000 tasks and messages take a while; Prisma's 5 s default would abort the transaction.
    { timeout: 300_000, maxWait: 10_000 },
  );
  return { jobId, taskCount: tasks.length };
}

async function enqueueInTx(tx: Tx, items: Array<{ task: { id: string; jobId: string }; priority: number }>) {
  const boss = await getBoss();
  const db = bossDbForTx(tx);
  for (let i = 0; i < items.length; i += 2000) {
    await boss.insert(
      items.slice(i, i + 2000).map(({ task, priority }) => taskMessage(QUEUES.scanTask, task, { priority })),
      { db },
    );
  }
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
export async function cancelJob(actor: JobActor, jobId: string): Promise<{ cancelledTasks: number }> {
  return prisma.$transaction(async (tx) => {
    const job = await lockedJob(tx, jobId);
    if (!canCancel(job.state)) throw new ScanError(`This job has already ${job.state === "cancelled" ? "been cancelled" : "finished"}`);
    if (job.cancelledAt) return { cancelledTasks: 0 };
    await tx.job.update({ where: { id: jobId }, data: { cancelledAt: new Date() } });
    const line = `${new Date().toISOString().slice(11, 19)}Z cancelled by ${actor.email} before it started\n`;
    const cancelledTasks = await tx.$executeRaw`
      UPDATE "JobTask" SET state = 'cancelled', "finishedAt" = now(), log = log || ${line}, "updatedAt" = clock_timestamp()
      WHERE "jobId" = ${jobId}::uuid AND state IN ('queued', 'not_started')`;
    const queue = job.kind === "scan" ? QUEUES.scanTask : null;
    // Their messages would only be fetched to be dropped: with 50,000 hosts that is real work.
    if (queue) await deleteWaitingMessages(tx, queue, jobId);
    const state = await refreshJobState(tx, jobId);
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "job.cancel", target: `job:${jobId}`, details: { cancelledTasks, state } });
    return { cancelledTasks };
  });
}

/** "Retry failed hosts only": a new attempt for failed and unreachable tasks; the rest stay as they are. */
export async function retryFailedTasks(actor: JobActor, jobId: string): Promise<{ retried: number }> {
  await getBoss();
  return prisma.$transaction(
    async (tx) => {
      const job = await lockedJob(tx, jobId);
      if (job.kind !== "scan") throw new ScanError("Only scan jobs can be retried here");
      const counts = await taskCounts(tx, jobId);
      if (!canRetryFailed(job.state, counts)) {
        throw new ScanError(job.state === "queued" || job.state === "running" ? "Wait for the job to finish first" : "This job has no failed or unreachable hosts to retry");
      }
      const line = `${new Date().toISOString().slice(11, 19)}Z retry requested by ${actor.email}\n`;
      const retried = await tx.$queryRaw<Array<{ id: string; jobId: string }>>`
        UPDATE "JobTask" SET state = 'queued', error = NULL, "startedAt" = NULL, "finishedAt" = NULL, "lockedBy" = NULL, "lockedUntil" = NULL,
          log = log || ${line}, "updatedAt" = clock_timestamp()
        WHERE "jobId" = ${jobId}::uuid AND state = ANY(CAST(${RETRYABLE_TASK_STATES} AS "TaskState"[]))
        RETURNING id::text AS id, "jobId"::text AS "jobId"`;
      const maxConcurrency = z.object({ maxConcurrency: z.number().int().min(1) }).safeParse(job.parameters);
      const cap = maxConcurrency.success ? maxConcurrency.data.maxConcurrency : DEFAULT_SCAN_CONCURRENCY;
      await enqueueInTx(tx, retried.map((task, i) => ({ task, priority: wavePriority(i, cap) })));
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
