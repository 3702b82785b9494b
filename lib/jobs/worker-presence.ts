import "server-only";
// Per-server connection budgets that hold across worker processes (docs/domain.md "Pacing per
// server"). Each worker keeps a row in WorkerPresence and beats every PRESENCE_BEAT_MS; from the
// live rows it takes its share of every server's budget (worker-share.ts, connection-gate.ts
// serverShare), so no connection asks the database for permission: the gate decides locally, and
// the database is read once per beat, whatever the number of connections. A budget one worker
// learns from a "too many connections" refusal goes to ServerBudget at once and every other worker
// applies it at its next beat.
//
// A new worker starts probing only once every other live worker has seen it and fits the smaller
// share (`ready`), so the sum over the workers never goes over a budget while shares change. A
// worker that dies stops counting PRESENCE_TTL_SECONDS after its last beat; its sockets died with
// it. A worker whose beats fail falls back to one connection per server (ISOLATED_SHARE) before
// the others can have dropped it.
import { prisma } from "../db";
import { env } from "../env";
import { logger } from "../log";
import type { ConnectionGate } from "../tls/connection-gate";
import { everyWithoutOverlap } from "./interval";
import { ISOLATED_SHARE, presenceView, type PresenceRow } from "./worker-share";

/** A worker that has not beaten for this long no longer counts (its task leases run out as fast). */
export const PRESENCE_TTL_SECONDS = env.TLSFLEET_LEASE_SECONDS;
/** At least four beats per TTL, at most one every 2 s. */
export const PRESENCE_BEAT_MS = Math.min(2_000, Math.floor((PRESENCE_TTL_SECONDS * 1000) / 4));
/** Presence rows of workers gone for a day, and expired budgets, are deleted every this many beats. */
const CLEANUP_EVERY = 150;

export interface WorkerPresence {
  /** Resolves when this worker may use its share (every other worker made room), or after `maxWaitMs`. */
  ready(maxWaitMs?: number): Promise<boolean>;
  /** The last view (for logs and tests). */
  workers(): readonly string[];
  /** Stops beating and removes the row: call after the worker's probes have stopped. */
  stop(): Promise<void>;
}

/** One beat: read the live workers and the learned budgets, apply them to `gate`, write this worker's row. */
export async function beat(workerId: string, gate: ConnectionGate): Promise<{ workers: string[]; othersMadeRoom: boolean }> {
  const live = await prisma.$queryRaw<PresenceRow[]>`
    SELECT "workerId", sees, "fitsShare" FROM "WorkerPresence"
    WHERE "heartbeatAt" > now() - make_interval(secs => ${PRESENCE_TTL_SECONDS})`;
  const budgets = await prisma.$queryRaw<Array<{ server: string; limit: number; remainingMs: number }>>`
    SELECT server, "limit", (EXTRACT(EPOCH FROM (until - now())) * 1000)::float8 AS "remainingMs" FROM "ServerBudget" WHERE until > now()`;
  const now = Date.now();
  for (const b of budgets) gate.learn(b.server, b.limit, now + b.remainingMs, now);
  const view = presenceView(live, workerId);
  const before = gate.currentShare();
  gate.setShare(view.share);
  if (before.workers !== view.share.workers || before.rank !== view.share.rank) {
    logger.info({ worker: workerId, workers: view.share.workers, rank: view.share.rank, serverBudget: gate.perServer }, "share of every server's connection budget changed");
  }
  const fits = gate.withinShares();
  await prisma.$executeRaw`
    INSERT INTO "WorkerPresence" ("workerId", "registeredAt", "heartbeatAt", sees, "fitsShare")
    VALUES (${workerId}, now(), now(), ${view.workers}::text[], ${fits})
    ON CONFLICT ("workerId") DO UPDATE SET "heartbeatAt" = now(), sees = EXCLUDED.sees, "fitsShare" = EXCLUDED."fitsShare"`;
  return { workers: view.workers, othersMadeRoom: view.othersMadeRoom };
}

/** Publishes a budget this worker learned, lowering (never raising) one still in force. */
export async function publishLearnedBudget(server: string, limit: number, untilMs: number): Promise<void> {
  const seconds = Math.max(1, (untilMs - Date.now()) / 1000);
  await prisma.$executeRaw`
    INSERT INTO "ServerBudget" (server, "limit", until) VALUES (${server}, ${limit}, now() + make_interval(secs => ${seconds}))
    ON CONFLICT (server) DO UPDATE SET
      "limit" = CASE WHEN "ServerBudget".until > now() THEN LEAST("ServerBudget"."limit", EXCLUDED."limit") ELSE EXCLUDED."limit" END,
      until = GREATEST("ServerBudget".until, EXCLUDED.until)`;
}

/**
 * Registers `workerId` and keeps its share of `gate` in step with the other live workers until
 * stop(). The first beat runs before this resolves, so the share is right from the start.
 */
export async function startWorkerPresence(workerId: string, gate: ConnectionGate): Promise<WorkerPresence> {
  let workers: string[] = [workerId];
  let madeRoom = false;
  let lastOk = Date.now();
  const waiters = new Set<() => void>();
  const round = async (tick: number) => {
    try {
      const r = await beat(workerId, gate);
      lastOk = Date.now();
      workers = r.workers;
      if (r.othersMadeRoom && !madeRoom) {
        madeRoom = true;
        for (const w of waiters) w();
      }
      if (tick % CLEANUP_EVERY === 0) {
        await prisma.$executeRaw`DELETE FROM "WorkerPresence" WHERE "heartbeatAt" < now() - interval '1 day'`;
        await prisma.$executeRaw`DELETE FROM "ServerBudget" WHERE until < now()`;
      }
    } catch (err) {
      // Past half the TTL the others may soon stop counting this worker and take its part.
      if (Date.now() - lastOk > (PRESENCE_TTL_SECONDS * 1000) / 2) gate.setShare(ISOLATED_SHARE);
      throw err;
    }
  };
  gate.onLearned = (server, limit, until) => {
    publishLearnedBudget(server, limit, until).catch((err: unknown) => logger.warn({ err, server, limit }, "could not share a learned server budget"));
  };
  await round(1);
  const stopBeats = everyWithoutOverlap(PRESENCE_BEAT_MS, (tick) => round(tick + 1), (err) => logger.warn({ err }, "worker presence heartbeat failed"));
  return {
    ready(maxWaitMs = 3 * PRESENCE_TTL_SECONDS * 1000) {
      if (madeRoom) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const done = (ok: boolean) => {
          clearTimeout(timer);
          waiters.delete(onReady);
          resolve(ok);
        };
        const onReady = () => done(true);
        const timer = setTimeout(() => done(false), maxWaitMs);
        waiters.add(onReady);
      });
    },
    workers: () => workers,
    async stop() {
      stopBeats();
      gate.onLearned = null;
      await prisma.$executeRaw`DELETE FROM "WorkerPresence" WHERE "workerId" = ${workerId}`;
    },
  };
}
