// The worker process: registers a pg-boss handler per job kind. Handlers are added by the
// scan, audit and remediation features; the process itself only knows how to start and stop.
import { hostname } from "node:os";
import { getBoss, stopBoss } from "../lib/jobs/queue";
import { logger } from "../lib/log";
import { registerScanHandlers } from "./scan-task";
import { registerAuditHandlers } from "./audit-task";

export const WORKER_ID = `${hostname()}:${process.pid}`;

export interface WorkerContext {
  workerId: string;
}

/**
 * Starts one feature's handlers. May return a stop function: it runs before pg-boss stops, so a
 * feature can hand unfinished work back to the queue while it still can.
 */
export type HandlerRegistration = (boss: Awaited<ReturnType<typeof getBoss>>, ctx: WorkerContext) => Promise<void | (() => Promise<void>)>;

const registrations: HandlerRegistration[] = [];

export function registerHandlers(fn: HandlerRegistration) {
  registrations.push(fn);
}

// Scans: probe hosts, store evidence, recompute status; plus scheduled rescans and the reaper
// that re-queues tasks of workers that died.
registerHandlers((boss, ctx) => registerScanHandlers(boss, { workerId: ctx.workerId }));

// Config audits: credentialed read-only checks per playbook, ConfigSnapshots, host-key pinning.
registerHandlers((boss, ctx) => registerAuditHandlers(boss, { workerId: ctx.workerId }));

export async function startWorker(opts: { workerId?: string } = {}): Promise<{ stop(): Promise<void> }> {
  const boss = await getBoss();
  const ctx: WorkerContext = { workerId: opts.workerId ?? WORKER_ID };
  const stops: Array<() => Promise<void>> = [];
  for (const register of registrations) {
    const stop = await register(boss, ctx);
    if (stop) stops.push(stop);
  }
  logger.info({ worker: ctx.workerId, handlers: registrations.length }, "worker started");
  return {
    async stop() {
      logger.info({ worker: ctx.workerId }, "worker stopping");
      for (const stop of stops.reverse()) {
        await stop().catch((err: unknown) => logger.error({ err }, "a handler failed to stop cleanly"));
      }
      await stopBoss();
    },
  };
}
