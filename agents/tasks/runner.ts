// The host-task runner: every job kind (scan, audit, remediate, verify, rollback) is a Job with
// one JobTask per host, and this is the one place that turns a queue message into one run of one
// task kind for one host. It owns what the kinds must never get wrong on their own: parsing the
// message, claiming the task under a lease (lib/jobs/tasks.ts), renewing it, noticing cancel /
// lease loss / shutdown, handing unfinished work back, the finish transaction (task end + the
// kind's results + job state + audit events, committed only by the lease holder), the job-state
// refresh when a task disappears (its host was deleted mid-job), and one reaper for every kind.
//
// A task kind (./scan.ts, ./audit.ts, ...) only says what it does for one host: it gets the host,
// an abort signal, a log and a lease-guarded transaction, and returns how the task ends. Modelled
// on graphile-worker's Task(payload, helpers) with helpers.abortSignal and one stale-lock sweep
// for every task type, and documenso's split of a job's declaration from its handler.
import { setMaxListeners } from "node:events";
import type PgBoss from "pg-boss";
import type { Logger } from "pino";
import { prisma, type Tx } from "../../lib/db";
import { env } from "../../lib/env";
import { StopOnce } from "../../lib/stop-once";
import { retryTransient } from "../../lib/db/transient";
import { logger as rootLogger } from "../../lib/log";
import { recordAuditInTx } from "../../lib/audit/log";
import { listen } from "../../lib/db/notifications";
import { everyWithoutOverlap } from "../../lib/jobs/interval";
import { TASKS_CHANNEL } from "../../lib/jobs/queue";
import { startPool, type Pool, type PoolOutcome } from "../../lib/jobs/pool";
import { stampLine } from "../../lib/jobs/task-log";
import { boundedLogLine, TaskLogBudget } from "../../lib/jobs/task-log";
import {
  appendTaskLog,
  claimTask,
  expiredLeases,
  finishTaskInTx,
  LEASE_RENEW_MS,
  LeaseLostError,
  lockHeldTaskInTx,
  refreshJobState,
  refreshJobStateNow,
  releaseTask,
  renewLease,
  staleQueuedTasks,
  TaskMessage,
  taskMessage,
  type ClaimedHost,
  type TaskLease,
} from "../../lib/jobs/tasks";
import type { TaskState } from "../../lib/jobs/state";

export type TaskEnd = Extract<TaskState, "succeeded" | "failed" | "unreachable" | "skipped" | "cancelled" | "pending_reboot">;
export type StopReason = "cancel" | "lease-lost" | "shutdown";

/** An audit event written with the task's end, targeting the task's host. */
export interface TaskAuditEvent {
  action: string;
  details: Record<string, unknown>;
}

/** What a task kind gets for one run on one host. */
export interface TaskHelpers {
  lease: TaskLease;
  host: ClaimedHost;
  /** Job.parameters as stored (the kind parses what it needs, e.g. a rollout id). */
  jobParameters: unknown;
  /** `worker:<id>`: the actor of everything the task records. */
  actor: string;
  /** Aborted when the job is cancelled, the lease is lost or the worker stops; `stopReason()` says which. */
  signal: AbortSignal;
  stopReason(): StopReason | null;
  /** One stamped line in the task log (the live view shows it). Ignored once the lease is lost. */
  log(line: string): Promise<void>;
  /** A transaction that commits only while this attempt still holds the task (else LeaseLostError). */
  guardedTx<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  logger: Logger;
}

export type TaskResult =
  | {
      kind: "finish";
      state: TaskEnd;
      error: string | null;
      /** The task log's last line; a function is read after `write` ran (it may name what was written). */
      summary: string | (() => string);
      /** The kind's results, in the finish transaction after the task row, before the job lock. */
      write?: (tx: Tx) => Promise<void>;
      /** Audit writes that need the finish transaction (after the job lock: see lib/jobs/tasks.ts). */
      audit?: (tx: Tx) => Promise<void>;
      events?: TaskAuditEvent[];
      /** After the commit (notifications); never throws into the runner. */
      afterCommit?: () => void | Promise<void>;
    }
  /** Unfinished work handed back to the queue: the worker is stopping, or the task waits for
   *  something (a maintenance window) and comes back after `retryAfterSeconds`. */
  | { kind: "release"; reason: string; retryAfterSeconds?: number }
  /** Nothing to write: the task or its host is gone. */
  | { kind: "discard"; reason: string };

export interface TaskKind {
  /** Job.kind this runs the tasks of. */
  kind: string;
  queue: string;
  /** Tasks of this kind one worker runs at once. */
  concurrency: number;
  run(helpers: TaskHelpers): Promise<TaskResult>;
}

/** `concurrency` for the kinds that log in to their host (audit, plan, remediate, rollback): SSH and WinRM sessions are heavier than probes, so 8 per worker at most unless asked. */
export function sessionTaskConcurrency(requested: number | undefined): number {
  return requested ?? Math.max(1, Math.min(env.TLSFLEET_WORKER_CONCURRENCY, 8));
}

/** One warning per retry of a database write that hit a dropped connection (lib/db/transient.ts). */
function dbRetryLog(log: Pick<Logger, "warn">, what: string) {
  return (err: unknown, attempt: number) => log.warn({ err: err instanceof Error ? err.message : String(err), attempt }, `${what}: the database connection dropped; retrying`);
}

// maxWait: a task waits for a pooled connection rather than failing its host over our own
// pool being busy (many tasks finishing at once on a loaded machine).
const FINISH_TX = { timeout: 30_000, maxWait: 60_000 };

/** Handles one queue message for `kind`. Every path finishes the task, leaves it to its holder, or re-queues it. */
export async function handleTaskMessage(kind: TaskKind, job: { data: unknown; priority?: number }, ctx: { workerId: string; boss: PgBoss; shutdown: AbortSignal }): Promise<PoolOutcome> {
  const parsed = TaskMessage.safeParse(job.data);
  if (!parsed.success) {
    // Retrying a message that cannot be read would fail the same way: drop it, loudly.
    rootLogger.error({ queue: kind.queue, data: job.data, issues: parsed.error.issues }, "task message does not parse; dropped");
    return "done";
  }
  const claim = await retryTransient(() => claimTask(parsed.data.taskId, ctx.workerId), { onRetry: dbRetryLog(rootLogger, "claim") });
  if (claim.kind === "defer") {
    // The job is at its concurrency cap or the host is busy in another task: come back later.
    // Jitter spreads the retries of many deferred messages. 1-2 s, not longer: a worker that saw
    // deferrals fetches one message per finished task (lib/jobs/pool.ts), so a retry does not spin,
    // and the delay is what the last hosts of a capped job wait for.
    await ctx.boss.insert([taskMessage(kind.queue, { id: parsed.data.taskId, jobId: parsed.data.jobId }, { priority: job.priority ?? 0, startAfterSeconds: 1 + Math.random() })]);
    return "deferred";
  }
  if (claim.kind === "gone") {
    // The task was deleted with its host: this may have been the job's last open task.
    await refreshJobStateNow(parsed.data.jobId);
    return "done";
  }
  if (claim.kind !== "claimed") return "done";
  await runClaimed(kind, claim.lease, claim.host, claim.jobParameters, ctx);
  return "done";
}

async function runClaimed(kind: TaskKind, lease: TaskLease, host: ClaimedHost, jobParameters: unknown, ctx: { workerId: string; boss: PgBoss; shutdown: AbortSignal }): Promise<void> {
  const log = rootLogger.child({ kind: kind.kind, task: lease.taskId, job: lease.jobId, host: host.name, attempt: lease.attempt });
  const stop = new StopOnce<StopReason>();
  const stopWith = stop.stop;
  const onShutdown = () => stopWith("shutdown");
  if (ctx.shutdown.aborted) onShutdown();
  else ctx.shutdown.addEventListener("abort", onShutdown, { once: true });
  const renewal = setInterval(() => {
    renewLease(lease)
      .then((r) => {
        // Not held: another worker took the task over, or the task was deleted with its host.
        if (!r.held) stopWith("lease-lost");
        else if (r.cancelRequested) stopWith("cancel");
      })
      .catch((err: unknown) => log.warn({ err }, "lease renewal failed; retrying at the next tick"));
  }, LEASE_RENEW_MS);

  // Log lines often quote what the host printed: bounded per line and per attempt (task-log.ts).
  const logBudget = new TaskLogBudget();
  const helpers: TaskHelpers = {
    lease,
    host,
    jobParameters,
    actor: `worker:${ctx.workerId}`,
    signal: stop.signal,
    stopReason: () => stop.reason,
    log: async (line) => {
      const text = logBudget.take(stampLine(boundedLogLine(line), new Date()));
      // A line whose UPDATE committed just before the connection dropped may appear twice.
      if (text) await retryTransient(() => appendTaskLog(lease, text), { signal: stop.signal, onRetry: dbRetryLog(log, "task log") });
    },
    guardedTx: (fn) =>
      retryTransient(
        () =>
          prisma.$transaction(async (tx) => {
            await lockHeldTaskInTx(tx, lease);
            return fn(tx);
          }, FINISH_TX),
        { signal: stop.signal, onRetry: dbRetryLog(log, "guarded transaction") },
      ),
    logger: log,
  };

  const lost = async (why: string) => {
    log.warn(why);
    // Lost to another worker, or the host (and so the task) was deleted: then the job may be done.
    await retryTransient(() => refreshJobStateNow(lease.jobId), { onRetry: dbRetryLog(log, "job state") });
  };

  try {
    const result = await kind.run(helpers);
    if (stop.reason === "lease-lost") return await lost("lost the lease; this attempt's results are discarded (another worker owns the task, or its host was deleted)");
    if (result.kind === "discard") return await lost(`task discarded: ${result.reason}`);
    if (result.kind === "release") {
      if (await retryTransient(() => releaseTask(lease, result.reason), { onRetry: dbRetryLog(log, "release") })) {
        // Priority 1: a host handed back goes before hosts that never started.
        await ctx.boss.insert([taskMessage(kind.queue, { id: lease.taskId, jobId: lease.jobId }, { priority: 1, startAfterSeconds: result.retryAfterSeconds })]);
      }
      return;
    }
    // Retried after a dropped connection: if the lost attempt had committed, the task is no longer
    // held (lockHeldTaskInTx throws LeaseLostError) and nothing is written twice.
    await retryTransient(() => prisma.$transaction(async (tx) => {
      // Order matters (lib/jobs/tasks.ts): task row, host row (the kind's write), then the job
      // lock (refreshJobState), then audit events; the job lock is held only for the end.
      // The task row is locked first and written once, at the end (see lockHeldTaskInTx).
      await lockHeldTaskInTx(tx, lease);
      if (result.write) await result.write(tx);
      const summary = typeof result.summary === "function" ? result.summary() : result.summary;
      const error = result.error === null ? null : boundedLogLine(result.error);
      await finishTaskInTx(tx, lease, result.state, error, `${logBudget.closingNote()}${summary ? stampLine(boundedLogLine(summary), new Date()) : ""}`);
      await refreshJobState(tx, lease.jobId);
      if (result.audit) await result.audit(tx);
      for (const e of result.events ?? []) {
        await recordAuditInTx(tx, { actor: helpers.actor, action: e.action, target: `host:${host.name}`, details: { jobId: lease.jobId, ...e.details } });
      }
    }, FINISH_TX), { onRetry: dbRetryLog(log, "finish") });
    if (result.afterCommit) {
      await Promise.resolve()
        .then(result.afterCommit)
        .catch((err: unknown) => log.warn({ err }, "after-commit step failed"));
    }
  } catch (err) {
    if (err instanceof LeaseLostError) return await lost("results discarded: the lease was lost before they could be written");
    // Stopping (shutdown, cancel, lease lost): the reaper or the next worker takes it from here.
    if (stop.reason !== null) throw err;
    // A fault in the kind's code or its write (dropped connections were retried above): recorded
    // on the task now, with its message, instead of leaving the task running until its lease
    // expires, which would blame the worker and run the same fault twice more.
    await failWithFault(lease, log, err, logBudget);
  } finally {
    clearInterval(renewal);
    ctx.shutdown.removeEventListener("abort", onShutdown);
  }
}

/** Finishes a task as failed after an unexpected error, or rethrows it when even that cannot be written. */
async function failWithFault(lease: TaskLease, log: Logger, err: unknown, logBudget: TaskLogBudget): Promise<void> {
  const message = boundedLogLine(`internal error; this attempt's results were not recorded: ${err instanceof Error ? err.message : String(err)}`);
  log.error({ err }, "task failed with an unexpected error; recorded as failed");
  try {
    await retryTransient(() => prisma.$transaction(async (tx) => {
      await lockHeldTaskInTx(tx, lease);
      await finishTaskInTx(tx, lease, "failed", message, `${logBudget.closingNote()}${stampLine(`-> failed: ${message}`, new Date())}`);
      await refreshJobState(tx, lease.jobId);
    }, FINISH_TX), { onRetry: dbRetryLog(log, "finish after a fault") });
  } catch (second) {
    if (second instanceof LeaseLostError) return;
    throw err;
  }
}

export const REAPER_INTERVAL_MS = 5_000;
const STALE_SWEEP_EVERY = 12; // reaper ticks: once a minute
const STALE_QUEUED_SECONDS = 5 * 60;

/**
 * One sweep for every kind: re-sends messages for tasks whose worker died (lease expired) and,
 * once a minute, for queued tasks nobody has touched for five minutes (their message may have
 * been taken by a worker that died before claiming). Runs in every worker; duplicates merge in
 * the queue, and a claim is idempotent.
 */
export async function reapOnce(boss: PgBoss, kinds: readonly TaskKind[], tick: number): Promise<number> {
  const queueOf = new Map(kinds.map((k) => [k.kind, k.queue]));
  const names = [...queueOf.keys()];
  const expired = await expiredLeases(names);
  const stale = tick % STALE_SWEEP_EVERY === 0 ? await staleQueuedTasks(names, STALE_QUEUED_SECONDS) : [];
  const messages = [
    // Priority 1: a host whose worker died goes before hosts that never started.
    ...expired.map((t) => taskMessage(queueOf.get(t.kind)!, t, { priority: 1 })),
    ...stale.map((t) => taskMessage(queueOf.get(t.kind)!, t)),
  ];
  if (messages.length) {
    await boss.insert(messages);
    rootLogger.info({ expiredLeases: expired.length, staleQueued: stale.length }, "re-queued tasks");
  }
  return messages.length;
}

export interface HostTaskRunner {
  /** The pool of one kind (tests kick or inspect it). */
  pool(kind: string): Pool | undefined;
  /** Stops fetching, hands running tasks back (their kinds release them), waits for them. */
  stop(): Promise<void>;
}

/** Starts a pool per task kind and the one reaper; returns the runner's stop. */
export function startHostTaskRunner(boss: PgBoss, opts: { workerId: string; kinds: readonly TaskKind[]; pollIntervalMs?: number }): HostTaskRunner {
  const shutdown = new AbortController();
  // Every running task listens for the shutdown: that is the sum of the pools' sizes by design.
  setMaxListeners(opts.kinds.reduce((n, k) => n + k.concurrency, 10), shutdown.signal);
  const ctx = { workerId: opts.workerId, boss, shutdown: shutdown.signal };
  const pools = new Map(
    opts.kinds.map((kind) => [
      kind.kind,
      startPool(
        boss,
        { queue: kind.queue, concurrency: kind.concurrency, pollIntervalMs: opts.pollIntervalMs ?? 1_000, onError: (err) => rootLogger.error({ err, kind: kind.kind }, "task failed") },
        (job) => handleTaskMessage(kind, job, ctx),
      ),
    ]),
  );
  // Woken when a transaction enqueues messages of one of these queues (lib/jobs/queue.ts
  // TASKS_CHANNEL); after a lost LISTEN connection every pool fetches once.
  const listening = listen(TASKS_CHANNEL, {
    onNotify: (queue) => {
      for (const kind of opts.kinds) if (kind.queue === queue) pools.get(kind.kind)?.kick();
    },
    onResync: () => {
      for (const pool of pools.values()) pool.kick();
    },
  });
  const stopReaper = everyWithoutOverlap(REAPER_INTERVAL_MS, (tick) => reapOnce(boss, opts.kinds, tick), (err) => rootLogger.error({ err }, "task reaper failed"));
  return {
    pool: (kind) => pools.get(kind),
    async stop() {
      listening.close();
      stopReaper();
      shutdown.abort();
      await Promise.all([...pools.values()].map((p) => p.stop()));
    },
  };
}
