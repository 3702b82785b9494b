// Which share of every server's connection budget a worker takes, from what the presence table
// (lib/jobs/worker-presence.ts) says about the live workers. Pure, so the split and the moment a
// new worker may start probing are table-tested (worker-share.test.ts).
import type { WorkerShare } from "../tls/connection-gate";

/** One live worker's last heartbeat. */
export interface PresenceRow {
  workerId: string;
  /** The live workers it saw at that beat (itself included). */
  sees: readonly string[];
  /** Its open connections fitted the share that view gave it. */
  fitsShare: boolean;
}

export interface PresenceView {
  /** Live workers, this one included, in the order every worker ranks them. */
  workers: string[];
  share: WorkerShare;
  /**
   * Every other live worker has seen this one and fits the smaller share that gave it: only then
   * may this worker use its own share without the sum going over a budget. (Before that, another
   * worker may still be using the share it took when this one was not counted yet.)
   */
  othersMadeRoom: boolean;
}

export function presenceView(live: readonly PresenceRow[], me: string): PresenceView {
  const workers = [...new Set([...live.map((r) => r.workerId), me])].sort();
  const others = live.filter((r) => r.workerId !== me);
  return {
    workers,
    share: { workers: workers.length, rank: workers.indexOf(me) },
    othersMadeRoom: others.every((r) => r.fitsShare && r.sees.includes(me)),
  };
}

/**
 * The share of a worker that cannot reach the database (its heartbeats fail): the others stop
 * counting it once its presence expires and take its part, so it keeps one connection per server,
 * the least that lets its probes finish (connection-gate.ts serverShare never goes below 1).
 */
export const ISOLATED_SHARE: WorkerShare = { workers: Number.MAX_SAFE_INTEGER, rank: Number.MAX_SAFE_INTEGER - 1 };
