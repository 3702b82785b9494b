// pg-boss on the same Postgres: the durable queue between the web app (which enqueues) and any
// number of worker processes (which execute). One pg-boss job per host task, so retries and
// crash recovery are per host.
import PgBoss from "pg-boss";
import type { Tx } from "../db";
import { env } from "../env";

export const QUEUES = {
  scanTask: "scan-task",
  auditTask: "audit-task",
  planTask: "plan-task",
  remediateTask: "remediate-task",
  rollbackTask: "rollback-task",
  outboundTask: "outbound-task",
  scheduler: "scheduled-rescan",
  evidencePack: "evidence-pack",
} as const;

type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/**
 * NOTIFY channel whose payload is a queue name: sent in the transaction that enqueues task
 * messages, so it is delivered when they commit, and workers fetch at once instead of at their
 * next poll (1 s by default: a scan, and every rollout wave, started up to a second late). The
 * poll stays: a notification missed while a worker's LISTEN connection is down costs only that.
 */
export const TASKS_CHANNEL = "tlsfleet_tasks";

export async function notifyQueueInTx(tx: Tx, queue: string): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${TASKS_CHANNEL}, ${queue})`;
}

// Per-queue options, applied when the queue is first created (pg-boss 10 cannot change a queue's
// policy afterwards). scan-task uses the "short" policy: at most one *waiting* message per
// singletonKey (one key per JobTask), so the reaper and deferrals can re-send a task's message
// freely without ever queueing it twice. The expiry is only the backstop for a dead worker: the
// JobTask lease (lib/jobs/tasks.ts) recovers its task within seconds.
const QUEUE_OPTIONS: Partial<Record<QueueName, Omit<PgBoss.Queue, "name">>> = {
  [QUEUES.scanTask]: { policy: "short", retryLimit: 5, retryDelay: 10, retryBackoff: true, expireInSeconds: 15 * 60 },
  // Config audits: same task-lease model as scans (lib/jobs/tasks.ts), so the same policy.
  [QUEUES.auditTask]: { policy: "short", retryLimit: 5, retryDelay: 10, retryBackoff: true, expireInSeconds: 15 * 60 },
  // Rollout tasks (lib/rollout): same task-lease model; a remediation is idempotent per host
  // (the before-state is stored first), so a repeated delivery is harmless here too.
  [QUEUES.planTask]: { policy: "short", retryLimit: 5, retryDelay: 10, retryBackoff: true, expireInSeconds: 15 * 60 },
  [QUEUES.remediateTask]: { policy: "short", retryLimit: 5, retryDelay: 10, retryBackoff: true, expireInSeconds: 60 * 60 },
  [QUEUES.rollbackTask]: { policy: "short", retryLimit: 5, retryDelay: 10, retryBackoff: true, expireInSeconds: 60 * 60 },
  // Outbound checks: one message from the host to the sink per task; same task-lease model.
  [QUEUES.outboundTask]: { policy: "short", retryLimit: 5, retryDelay: 10, retryBackoff: true, expireInSeconds: 15 * 60 },
  // One scheduled rescan at a time; a tick that finds the previous one still queued is dropped.
  [QUEUES.scheduler]: { policy: "short", retryLimit: 2, retryDelay: 60, expireInSeconds: 10 * 60 },
  // One message per evidence pack (singletonKey = pack id). A worker that dies mid-pack lets the
  // message expire and be retried; the pack is regenerated from the start (lib/evidence/pack-run.ts).
  [QUEUES.evidencePack]: { policy: "short", retryLimit: 2, retryDelay: 30, expireInSeconds: 30 * 60 },
};

const BOSS_SCHEMA = "pgboss";

let boss: PgBoss | undefined;
let starting: Promise<PgBoss> | undefined;

export function getBoss(): Promise<PgBoss> {
  if (boss) return Promise.resolve(boss);
  starting ??= (async () => {
    if (!env.DATABASE_URL) throw new Error("DATABASE_URL is not set");
    const b = new PgBoss({ connectionString: env.DATABASE_URL, schema: BOSS_SCHEMA, max: 4, application_name: "tlsfleet" });
    b.on("error", (err) => console.error("pg-boss:", err.message));
    await b.start();
    for (const name of Object.values(QUEUES)) {
      await b.createQueue(name, { name, ...QUEUE_OPTIONS[name] });
      const wanted = QUEUE_OPTIONS[name]?.policy;
      const existing = wanted ? await b.getQueue(name) : null;
      // Still correct with another policy (claims are idempotent), only duplicate messages are no longer merged.
      if (existing && existing.policy !== wanted) console.warn(`pg-boss: queue ${name} has policy ${existing.policy}, expected ${wanted}; recreate it to merge duplicate messages`);
    }
    boss = b;
    return b;
  })();
  return starting;
}

/**
 * pg-boss's `db` option bound to a Prisma interactive transaction: messages inserted through it
 * commit or roll back with the rows that need them (a job's tasks and their queue messages are
 * created atomically, so no task can exist without its message or the other way round).
 */
export function bossDbForTx(tx: { $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T> }): PgBoss.Db {
  return {
    async executeSql(text: string, values: unknown[] = []) {
      // pg-boss leaves unset defaults as undefined; the driver adapter wants explicit nulls.
      const rows = await tx.$queryRawUnsafe<unknown[]>(text, ...values.map((v) => (v === undefined ? null : v)));
      return { rows: Array.isArray(rows) ? rows : [] };
    },
  };
}

/**
 * Deletes a job's messages that no worker has fetched yet (a cancelled job's queued tasks), in
 * the caller's transaction. The only place tlsfleet reads pg-boss's tables directly: the
 * `pgboss.job` layout (name, state, data) is stable across pg-boss 10.x.
 */
export async function deleteWaitingMessages(tx: { $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number> }, queue: string, jobId: string): Promise<number> {
  return tx.$executeRawUnsafe(`DELETE FROM ${BOSS_SCHEMA}.job WHERE name = $1 AND state IN ('created', 'retry') AND data->>'jobId' = $2`, queue, jobId);
}

export async function stopBoss(): Promise<void> {
  const b = boss;
  boss = undefined;
  starting = undefined;
  if (b) await b.stop({ graceful: true, timeout: 10_000 });
}
