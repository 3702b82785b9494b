// A worker's local concurrency for one queue. pg-boss 10 has no per-worker concurrency option:
// work({ batchSize: n }) hands the handler n messages and completes or fails them together, so
// one slow host would hold back the other n-1. This loop fetches only as many messages as there
// are free slots and settles each one on its own, which is what `localConcurrency` does in
// pg-boss 11 (which needs Node 22).
import type PgBoss from "pg-boss";import { retryTransient } from "../db/transient";


export type PoolOutcome = "done" | "deferred";

export interface PoolOptions {
  queue: string;
  /** Messages handled at the same time by this process. */
  concurrency: number;
  /** Pause between polls when the queue is empty, or when only deferrals came back. */
  pollIntervalMs?: number;
  onError?: (err: unknown, job: PgBoss.JobWithMetadata<unknown> | null) => void;
}

export interface Pool {
  /** Messages being handled right now. */
  readonly active: number;
  /** Fetch now instead of at the next poll (e.g. after enqueueing from this process). */
  kick(): void;
  /** Stops fetching, aborts the handlers' signal, waits for them to settle. */
  stop(): Promise<void>;
}

export function startPool(
  boss: PgBoss,
  opts: PoolOptions,
  handler: (job: PgBoss.JobWithMetadata<unknown>, signal: AbortSignal) => Promise<PoolOutcome>,
): Pool {
  const pollMs = opts.pollIntervalMs ?? 1_000;
  const shutdown = new AbortController();
  const running = new Set<Promise<void>>();
  let wake: (() => void) | null = null;
  let deferredSincePoll = false;
  const onError = opts.onError ?? (() => undefined);

  // `wakeable`: a finishing handler (a free slot) or kick() ends the wait early. Backing off after
  // deferrals is not wakeable: the deferring handlers finish at once and would end it at once.
  const sleep = (ms: number, wakeable = true) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const onStop = () => done();
      shutdown.signal.addEventListener("abort", onStop, { once: true });
      function done() {
        clearTimeout(timer);
        shutdown.signal.removeEventListener("abort", onStop);
        if (wake === done) wake = null;
        resolve();
      }
      if (wakeable) wake = done;
    });

  const handle = (job: PgBoss.JobWithMetadata<unknown>) => {
    const p = (async () => {
      try {
        const outcome = await handler(job, shutdown.signal);
        if (outcome === "deferred") deferredSincePoll = true;
        // The task is already finished in its own table; a dropped connection here must not turn
        // the message into a failure (it would be redelivered after its expiry, harmlessly).
        await retryTransient(() => boss.complete(opts.queue, job.id, { outcome }));
      } catch (err) {
        onError(err, job);
        // pg-boss retries it (retryLimit/backoff of the queue); the task's lease makes a
        // repeated delivery harmless.
        await retryTransient(() => boss.fail(opts.queue, job.id, { message: err instanceof Error ? err.message : String(err) })).catch((e: unknown) => onError(e, job));
      }
    })();
    running.add(p);
    void p.finally(() => {
      running.delete(p);
      wake?.();
    });
  };

  const loop = (async () => {
    while (!shutdown.signal.aborted) {
      const free = opts.concurrency - running.size;
      if (free <= 0) {
        await sleep(pollMs);
        continue;
      }
      let jobs: PgBoss.JobWithMetadata<unknown>[] = [];
      try {
        jobs = await boss.fetch<unknown>(opts.queue, { batchSize: free, includeMetadata: true });
      } catch (err) {
        onError(err, null);
      }
      if (shutdown.signal.aborted) {
        // Fetched after stop() was called: hand them straight back for another worker.
        if (jobs.length) await boss.fail(opts.queue, jobs.map((j) => j.id)).catch((e: unknown) => onError(e, null));
        break;
      }
      for (const job of jobs) handle(job);
      // Sleep when the queue is drained, or when messages only came back deferred (the job is at
      // its cap): fetching again at once would spin on the same deferrals.
      if (deferredSincePoll) {
        deferredSincePoll = false;
        await sleep(pollMs, false);
      } else if (jobs.length < free || running.size >= opts.concurrency) {
        await sleep(pollMs);
      }
    }
  })();

  return {
    get active() {
      return running.size;
    },
    kick() {
      wake?.();
    },
    async stop() {
      shutdown.abort(new Error("worker stopping"));
      wake?.();
      await loop;
      await Promise.allSettled([...running]);
    },
  };
}
