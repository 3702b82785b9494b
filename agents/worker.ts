// The worker process: registers a pg-boss handler per job kind. Handlers are added by the
// scan, audit and remediation features; the process itself only knows how to start and stop.
import { hostname } from "node:os";
import { getBoss, stopBoss } from "../lib/jobs/queue";
import { logger } from "../lib/log";

export const WORKER_ID = `${hostname()}:${process.pid}`;

export type HandlerRegistration = (boss: Awaited<ReturnType<typeof getBoss>>) => Promise<void>;

const registrations: HandlerRegistration[] = [];

export function registerHandlers(fn: HandlerRegistration) {
  registrations.push(fn);
}

export async function startWorker(): Promise<{ stop(): Promise<void> }> {
  const boss = await getBoss();
  for (const register of registrations) await register(boss);
  logger.info({ worker: WORKER_ID, handlers: registrations.length }, "worker started");
  return {
    async stop() {
      logger.info({ worker: WORKER_ID }, "worker stopping");
      await stopBoss();
    },
  };
}
