import "server-only";
// JobTask mechanics shared by every job kind: claiming a task under a lease, renewing it, the
// guarded writes that only the lease holder may make, releasing, and the job-state refresh.
//
// Why a lease on top of pg-boss: pg-boss notices a dead worker only when the message expires
// (minutes), and a message can be delivered twice (expiry + retry, a reaper re-send). The
// JobTask row is the source of truth instead: a worker runs a task only after claiming it in a
// transaction, holds it by renewing `lockedUntil` every few seconds, and every write it makes
// afterwards is conditional on still holding it (same `lockedBy` and `attempt`). A worker that
// was killed stops renewing; once the lease runs out any worker may take the task over as a new
// attempt, and the dead attempt can never write a result. So a task is never lost (the reaper
// re-sends its message), never run by two workers at once, and its result is written once.
//
// Locks, and why they cannot deadlock: the job advisory lock is always taken before the audit
// chain lock, and before the Job row. Claims take job lock -> host advisory lock -> task row,
// but lock the task row with SKIP LOCKED: a task row held by someone else (its worker finishing
// it) means "not ours to claim", so a claim never waits on a row while holding the job lock.
// Finishing takes task row -> host row -> job lock -> audit lock, and holds the job lock only for
// the last two statements, so the many tasks of one job mostly finish in parallel.
import { randomUUID } from "node:crypto";
import type PgBoss from "pg-boss";
import { z } from "zod";
import { recordAuditInTx } from "../audit/log";
import { prisma } from "../db";
import { env } from "../env";
import { decideClaim, deriveJobState, emptyTaskCounts, isTerminalJob, type ClaimDecision, type JobState, type TaskCounts, type TaskState } from "./state";
import type { Tx } from "../db";
import { stampLine } from "./task-log";


/** How long a claim holds without renewal (TLSFLEET_LEASE_SECONDS, default 20; tests shorten it).
 *  Renewed every LEASE_RENEW_MS while the task runs: at least four renewals per lease. */
export const LEASE_SECONDS = env.TLSFLEET_LEASE_SECONDS;
export const LEASE_RENEW_MS = Math.min(5_000, Math.floor((LEASE_SECONDS * 1000) / 4));

/**
 * Poison-task guard: a task whose lease ran out this many times (JobTask.leaseExpiries, one per takeover)
 * is failed instead of being handed to the next worker. A worker stops renewing when it dies or
 * when its event loop is stuck (e.g. on output a host crafted); without a bound, every worker of
 * the fleet would take the same task over in turn, forever. A task handed back on purpose
 * (worker shutdown, a host waiting for its maintenance window) is not counted.
 */
export const MAX_TASK_ATTEMPTS = 3;

export function givenUpReason(attempts: number): string {
  return `given up after ${attempts} attempts: the worker holding it stopped answering each time`;
}

// Keys for pg_advisory_xact_lock(int, int): (namespace, hashtext(id)). A hash collision only
// serialises two unrelated jobs or hosts for a moment; it never lets two holders in at once.
const JOB_LOCK = 7_351_101;
const HOST_LOCK = 7_351_102;

/** The payload of every task message. Parsed on receipt: the queue is a boundary like any other. */
export const TaskMessage = z.object({ taskId: z.string().uuid(), jobId: z.string().uuid() });
export type TaskMessageValue = z.output<typeof TaskMessage>;

export interface TaskLease {
  taskId: string;
  jobId: string;
  hostId: string;
  workerId: string;
  attempt: number;
}

export async function lockJob(tx: Tx, jobId: string) {
  // Through uuid and back, so "ABC..." from a URL and "abc..." from the database are one lock.
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${JOB_LOCK}::int, hashtext(CAST(${jobId} AS uuid)::text))`;
}

export async function taskCounts(db: Pick<Tx, "$queryRaw">, jobId: string): Promise<TaskCounts> {
  const rows = await db.$queryRaw<Array<{ state: TaskState; n: number }>>`
    SELECT state::text AS state, count(*)::int AS n FROM "JobTask" WHERE "jobId" = ${jobId}::uuid GROUP BY state`;
  const counts = emptyTaskCounts();
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

/**
 * Brings Job.state (and startedAt/finishedAt) in line with its tasks. Call inside the transaction
 * that changed a task, after the change. Takes the job lock, so two tasks finishing at once
 * cannot both read "one still open" and leave the job running forever.
 */
export async function refreshJobState(tx: Tx, jobId: string): Promise<JobState> {
  // The lock is its own statement: in READ COMMITTED a statement's snapshot is taken when it
  // starts, so reads in the statement that waited for the lock could miss what the previous
  // holder committed.
  await lockJob(tx, jobId);
  // A running job with any open task stays running (deriveJobState); EXISTS stops at the first
  // open task instead of counting 50,000 rows per finished host.
  const [job] = await tx.$queryRaw<Array<{ state: JobState; cancelRequested: boolean; open: boolean }>>`
    SELECT j.state::text AS state, j."cancelledAt" IS NOT NULL AS "cancelRequested",
           EXISTS (SELECT 1 FROM "JobTask" t WHERE t."jobId" = j.id AND t.state IN ('queued', 'running', 'not_started')) AS open
    FROM "Job" j WHERE j.id = ${jobId}::uuid FOR UPDATE OF j`;
  if (!job) return "cancelled";
  if (job.state === "running" && job.open) return "running";
  const next = deriveJobState({ current: job.state, counts: await taskCounts(tx, jobId), cancelRequested: job.cancelRequested });
  if (next !== job.state) {
    const terminal = isTerminalJob(next);
    await tx.$executeRaw`
      UPDATE "Job" SET state = CAST(${next} AS "JobState"),
        "startedAt" = CASE WHEN ${next} IN ('running', 'succeeded', 'failed') THEN COALESCE("startedAt", now()) ELSE "startedAt" END,
        "finishedAt" = CASE WHEN ${terminal} THEN now() ELSE NULL END
      WHERE id = ${jobId}::uuid`;
  }
  return next;
}

/**
 * refreshJobState on its own, for when a task disappeared (its host was deleted mid-job): nothing
 * else would notice that the job's last open task is gone.
 */
export async function refreshJobStateNow(jobId: string): Promise<JobState> {
  return prisma.$transaction((tx) => refreshJobState(tx, jobId), { maxWait: 15_000 });
}

const JobParameters = z.object({ maxConcurrency: z.number().int().min(1).max(1000).default(16) }).passthrough();

/** What a claimed task works on, read in the claim itself (one round trip less per host). */
export interface ClaimedHost {
  id: string;
  name: string;
  address: string;
  endpoints: Array<{ id: string; port: number; service: string }>;
}

export type ClaimResult =
  | { kind: "claimed"; lease: TaskLease; takeover: boolean; previousHolder: string | null; host: ClaimedHost; jobParameters: unknown }
  | { kind: "gone" }
  | Exclude<ClaimDecision, { kind: "claim" }>;

/**
 * Tries to start a task for `workerId`. Serialised per job (the concurrency cap is a count that
 * must not be read by two claimers at once) and per host (one task per host at a time, across
 * jobs and workers, so the 2-connections-per-host limit of the prober holds fleet-wide).
 */
export async function claimTask(taskId: string, workerId: string): Promise<ClaimResult> {
  return prisma.$transaction(
    async (tx) => {
      // Both advisory locks in one round trip; no row: the task (or its job) was deleted.
      const locked = await tx.$queryRaw<Array<{ jobId: string; hostId: string }>>`
        SELECT t."jobId"::text AS "jobId", t."hostId"::text AS "hostId"
        FROM "JobTask" t,
          LATERAL (SELECT pg_advisory_xact_lock(${JOB_LOCK}::int, hashtext(t."jobId"::text)), pg_advisory_xact_lock(${HOST_LOCK}::int, hashtext(t."hostId"::text))) l
        WHERE t.id = ${taskId}::uuid`;
      const head = locked[0];
      if (!head) return { kind: "gone" as const };
      const [t] = await tx.$queryRaw<
        Array<{
          state: TaskState; attempt: number; leaseExpiries: number; lockedBy: string | null; leaseLive: boolean; cancelRequested: boolean; paused: boolean; jobState: JobState; parameters: unknown;
          runningInJob: number; hostBusy: boolean; hostName: string; address: string; endpoints: ClaimedHost["endpoints"];
        }>
      >`
        SELECT t.state::text AS state, t.attempt, t."leaseExpiries", t."lockedBy", COALESCE(t."lockedUntil" > now(), false) AS "leaseLive",
               h.name AS "hostName", h.address,
               COALESCE((SELECT json_agg(json_build_object('id', e.id, 'port', e.port, 'service', e.service) ORDER BY e.port) FROM "Endpoint" e WHERE e."hostId" = t."hostId" AND e."removedAt" IS NULL), '[]'::json) AS endpoints,
               j."cancelledAt" IS NOT NULL AS "cancelRequested", j."pausedAt" IS NOT NULL AS paused, j.state::text AS "jobState", j.parameters,
               (SELECT count(*)::int FROM "JobTask" r WHERE r."jobId" = t."jobId" AND r.id <> t.id AND r.state = 'running' AND r."lockedUntil" > now()) AS "runningInJob",
               EXISTS (SELECT 1 FROM "JobTask" o WHERE o."hostId" = t."hostId" AND o.id <> t.id AND o.state = 'running' AND o."lockedUntil" > now()) AS "hostBusy"
        FROM "JobTask" t JOIN "Job" j ON j.id = t."jobId" JOIN "Host" h ON h.id = t."hostId"
        WHERE t.id = ${taskId}::uuid
        FOR UPDATE OF t SKIP LOCKED`;
      // Row locked: its worker is finishing it right now (or another claim won the race).
      if (!t) return { kind: "skip" as const, reason: "held" as const };
      const params = JobParameters.safeParse(t.parameters ?? {});
      const decision = decideClaim({
        state: t.state,
        leaseLive: t.leaseLive,
        cancelRequested: t.cancelRequested,
        runningInJob: t.runningInJob,
        maxConcurrency: params.success ? params.data.maxConcurrency : 16,
        hostBusy: t.hostBusy,
        paused: t.paused,
        leaseExpiries: t.state === "running" ? t.leaseExpiries + 1 : t.leaseExpiries,
        maxLeaseExpiries: MAX_TASK_ATTEMPTS,
      });
      if (decision.kind === "give-up") {
        const reason = givenUpReason(decision.attempts);
        await tx.$executeRaw`
          UPDATE "JobTask" SET state = 'failed', "finishedAt" = now(), "lockedBy" = NULL, "lockedUntil" = NULL, error = ${reason},
            log = log || ${stampLine(`${reason} (last: ${t.lockedBy ?? "a worker"}); not retried`)}, "updatedAt" = clock_timestamp()
          WHERE id = ${taskId}::uuid`;
        await refreshJobState(tx, head.jobId);
        // After the job lock, as every audit write (see the top of this file).
        await recordAuditInTx(tx, { actor: `worker:${workerId}`, action: "task.given_up", target: `host:${t.hostName}`, details: { jobId: head.jobId, taskId, attempts: decision.attempts, lastWorker: t.lockedBy } });
        return decision;
      }
      if (decision.kind === "cancel") {
        await tx.$executeRaw`
          UPDATE "JobTask" SET state = 'cancelled', "finishedAt" = now(), "lockedBy" = NULL, "lockedUntil" = NULL,
            log = log || ${stampLine(t.state === "running" ? `cancelled: the job was cancelled while ${t.lockedBy ?? "a worker"} held this host and stopped responding` : "cancelled before it started")},
            "updatedAt" = clock_timestamp()
          WHERE id = ${taskId}::uuid`;
        await refreshJobState(tx, head.jobId);
        return decision;
      }
      if (decision.kind !== "claim") return decision;
      const attempt = t.attempt + 1;
      const line = decision.takeover
        ? `attempt ${attempt} on ${workerId} (${t.lockedBy ?? "the previous worker"} stopped renewing its lease; its unfinished work was discarded)`
        : `attempt ${attempt} on ${workerId}`;
      await tx.$executeRaw`
        UPDATE "JobTask" SET state = 'running', attempt = ${attempt}, "leaseExpiries" = "leaseExpiries" + ${decision.takeover ? 1 : 0}, "lockedBy" = ${workerId},
          "lockedUntil" = now() + make_interval(secs => ${LEASE_SECONDS}), "startedAt" = now(), "finishedAt" = NULL, error = NULL,
          log = log || ${stampLine(line)}, "updatedAt" = clock_timestamp()
        WHERE id = ${taskId}::uuid`;
      // A running job stays running when one more task starts; only the first claim changes it.
      if (t.jobState !== "running") await refreshJobState(tx, head.jobId);
      return {
        kind: "claimed" as const,
        lease: { taskId, jobId: head.jobId, hostId: head.hostId, workerId, attempt },
        takeover: decision.takeover,
        previousHolder: t.lockedBy,
        host: { id: head.hostId, name: t.hostName, address: t.address, endpoints: t.endpoints },
        jobParameters: t.parameters,
      };
    },
    // Under load the pool may be busy for a moment; Prisma's 2 s default gives up too early.
    { maxWait: 15_000, timeout: 30_000 },
  );
}


/** Extends the lease. `held: false` means another worker took the task over: stop, write nothing. */
export async function renewLease(lease: TaskLease): Promise<{ held: boolean; cancelRequested: boolean }> {
  const rows = await prisma.$queryRaw<Array<{ cancelRequested: boolean }>>`
    UPDATE "JobTask" t SET "lockedUntil" = now() + make_interval(secs => ${LEASE_SECONDS})
    WHERE t.id = ${lease.taskId}::uuid AND t."lockedBy" = ${lease.workerId} AND t.attempt = ${lease.attempt} AND t.state = 'running'
    RETURNING (SELECT j."cancelledAt" IS NOT NULL FROM "Job" j WHERE j.id = t."jobId") AS "cancelRequested"`;
  return rows[0] ? { held: true, cancelRequested: rows[0].cancelRequested } : { held: false, cancelRequested: false };
}

/** Appends to the task log while the lease is held (the live view shows it). False: lease lost. */
export async function appendTaskLog(lease: TaskLease, text: string): Promise<boolean> {
  const n = await prisma.$executeRaw`
    UPDATE "JobTask" SET log = log || ${text}, "updatedAt" = clock_timestamp()
    WHERE id = ${lease.taskId}::uuid AND "lockedBy" = ${lease.workerId} AND attempt = ${lease.attempt} AND state = 'running'`;
  return n === 1;
}

export class LeaseLostError extends Error {
  constructor(lease: TaskLease) {
    super(`task ${lease.taskId} attempt ${lease.attempt} is no longer held by ${lease.workerId}`);
    this.name = "LeaseLostError";
  }
}

/**
 * Locks the task row for the rest of the caller's transaction, or throws LeaseLostError if this
 * attempt no longer holds it. A SELECT ... FOR UPDATE, not an UPDATE: a transaction that updates
 * the JobTask row twice makes PostgreSQL re-check its foreign keys on the second update (the old
 * row version is its own), which takes FOR KEY SHARE on the Job row, and refreshJobState's
 * `SELECT ... FROM "Job" FOR UPDATE` in another finisher (holding the job lock this one waits
 * for) then deadlocks with it. So every transaction writes the task row exactly once.
 */
export async function lockHeldTaskInTx(tx: Tx, lease: TaskLease): Promise<void> {
  const rows = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM "JobTask"
    WHERE id = ${lease.taskId}::uuid AND "lockedBy" = ${lease.workerId} AND attempt = ${lease.attempt} AND state = 'running'
    FOR UPDATE`;
  if (rows.length !== 1) throw new LeaseLostError(lease);
}

/**
 * Ends the task in `state`, inside the caller's transaction (which also writes the task's
 * results). Throws LeaseLostError, rolling the results back, if this attempt lost its lease.
 * The caller must call refreshJobState() in the same transaction after its other writes.
 */
export async function finishTaskInTx(tx: Tx, lease: TaskLease, state: Extract<TaskState, "succeeded" | "failed" | "unreachable" | "cancelled" | "pending_reboot" | "skipped">, error: string | null, logText = "") {
  const n = await tx.$executeRaw`
    UPDATE "JobTask" SET state = CAST(${state} AS "TaskState"), error = ${error}, "finishedAt" = now(), "lockedBy" = NULL, "lockedUntil" = NULL,
      log = log || ${logText}, "updatedAt" = clock_timestamp()
    WHERE id = ${lease.taskId}::uuid AND "lockedBy" = ${lease.workerId} AND attempt = ${lease.attempt} AND state = 'running'`;
  if (n !== 1) throw new LeaseLostError(lease);
}

/** Gives a claimed task back unfinished (worker shutting down): queued again, same attempt count. */
export async function releaseTask(lease: TaskLease, reason: string): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    await lockJob(tx, lease.jobId);
    const n = await tx.$executeRaw`
      UPDATE "JobTask" SET state = 'queued', "lockedBy" = NULL, "lockedUntil" = NULL, "startedAt" = NULL,
        log = log || ${stampLine(`released by ${lease.workerId}: ${reason}`)}, "updatedAt" = clock_timestamp()
      WHERE id = ${lease.taskId}::uuid AND "lockedBy" = ${lease.workerId} AND attempt = ${lease.attempt} AND state = 'running'`;
    return n === 1;
  });
}

// ---- queue messages -------------------------------------------------------------------------

/** One message per task; the singletonKey lets the "short" queue policy merge re-sends. */
export function taskMessage(queue: string, task: { id: string; jobId: string }, opts: { priority?: number; startAfterSeconds?: number } = {}): PgBoss.JobInsert<TaskMessageValue> {
  return {
    id: randomUUID(),
    name: queue,
    data: { taskId: task.id, jobId: task.jobId },
    singletonKey: `task:${task.id}`,
    priority: opts.priority ?? 0,
    ...(opts.startAfterSeconds ? { startAfter: String(Math.max(1, Math.round(opts.startAfterSeconds))) } : {}),
  };
}

/**
 * Priorities that interleave jobs fairly: a job's tasks go out in batches of its concurrency cap
 * (priority 0, -1, -2, ...), so a second job's first batch is fetched right after the first job's
 * first batch instead of behind all 50,000 of its hosts. (Not rollout waves: those are decided by
 * the rollout, lib/rollout.)
 */
export function fairnessPriority(index: number, maxConcurrency: number): number {
  return -Math.floor(index / Math.max(1, maxConcurrency));
}

/** Tasks whose worker died: lease ran out while running. Their message is gone with the worker. */
export async function expiredLeases(kinds: readonly string[], limit = 500): Promise<Array<{ id: string; jobId: string; kind: string }>> {
  return prisma.$queryRaw<Array<{ id: string; jobId: string; kind: string }>>`
    SELECT t.id::text AS id, t."jobId"::text AS "jobId", j.kind::text AS kind
    FROM "JobTask" t JOIN "Job" j ON j.id = t."jobId"
    WHERE t.state = 'running' AND t."lockedUntil" < now() AND j.kind::text = ANY(${[...kinds]}::text[])
    ORDER BY t."lockedUntil" LIMIT ${limit}`;
}

/**
 * Queued tasks nobody touched for a while: their message may have been taken by a worker that
 * died before claiming (pg-boss would only notice at the message's expiry). Re-sending is
 * harmless: the queue merges it with a waiting message, and a claim is idempotent. Touching
 * updatedAt rotates the sweep through a long backlog instead of re-sending the same rows.
 */
export async function staleQueuedTasks(kinds: readonly string[], olderThanSeconds: number, limit = 200): Promise<Array<{ id: string; jobId: string; kind: string }>> {
  return prisma.$queryRaw<Array<{ id: string; jobId: string; kind: string }>>`
    WITH stale AS (
      SELECT t.id, j.kind::text AS kind FROM "JobTask" t JOIN "Job" j ON j.id = t."jobId"
      WHERE t.state = 'queued' AND t."updatedAt" < now() - make_interval(secs => ${olderThanSeconds})
        AND j.kind::text = ANY(${[...kinds]}::text[]) AND j."cancelledAt" IS NULL AND j."pausedAt" IS NULL
      ORDER BY t."updatedAt" LIMIT ${limit}
      FOR UPDATE OF t SKIP LOCKED
    )
    UPDATE "JobTask" t SET "updatedAt" = clock_timestamp() FROM stale WHERE t.id = stale.id
    RETURNING t.id::text AS id, t."jobId"::text AS "jobId", stale.kind`;
}
