// A worker's local concurrency for one queue. pg-boss 10 has no per-worker concurrency option:
// work({ batchSize: n }) hands the handler n messages and completes or fails them together, so
// one slow host would hold back the other n-1. This loop fetches only as many messages as there
// are free slots and settles each one on its own, which is what `localConcurrency` does in
// pg-boss 11 (which needs Node 22).
import type PgBoss from "pg-boss";
import { retryTransient } from "../db/transient";

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
  // "Capped": messages came back deferred (their job is at its concurrency cap, or the host is
  // busy). Fetching a full batch again would only defer them again, so until a poll interval
  // passes with nothing finishing (or kick()), each task that really finishes frees one place and
  // fetches one message. The earlier rule (sleep a whole poll interval after any deferral) held a
  // job with a cap of 16 to 16 hosts per poll interval however fast its hosts were (bench:ui
  // --under-load: 16 hosts/s at 1 s polls, tasks of 0.3 s).
  let capped = false;
  let finishedSinceFetch = 0;
  const onError = opts.onError ?? (() => undefined);

  /** Resolves true when woken (a finished handler, kick(), stop()), false after `ms`. */
  const sleep = (ms: number) =>
    new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => done(false), ms);
      const onStop = () => done(true);
      shutdown.signal.addEventListener("abort", onStop, { once: true });
      function done(woken: boolean) {
        clearTimeout(timer);
        shutdown.signal.removeEventListener("abort", onStop);
        if (wake === waker) wake = null;
        resolve(woken);
      }
      const waker = () => done(true);
      wake = waker;
    });

  const handle = (job: PgBoss.JobWithMetadata<unknown>) => {
    let outcome: PoolOutcome | "error" = "error";
    const p = (async () => {
      try {
        outcome = await handler(job, shutdown.signal);
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
      if (outcome === "deferred") {
        // A deferral finishes at once: waking on it would spin on the same deferrals.
        capped = true;
        return;
      }
      finishedSinceFetch++;
      wake?.();
    });
  };

  const loop = (async () => {
    while (!shutdown.signal.aborted) {
      const free = opts.concurrency - running.size;
      const want = capped ? Math.min(free, finishedSinceFetch) : free;
      if (want <= 0) {
        if (!(await sleep(pollMs))) capped = false;
        continue;
      }
      finishedSinceFetch = 0;
      let jobs: PgBoss.JobWithMetadata<unknown>[] = [];
      try {
        jobs = await boss.fetch<unknown>(opts.queue, { batchSize: want, includeMetadata: true });
      } catch (err) {
        onError(err, null);
      }
      if (shutdown.signal.aborted) {
        // Fetched after stop() was called: hand them straight back for another worker.
        if (jobs.length) await boss.fail(opts.queue, jobs.map((j) => j.id)).catch((e: unknown) => onError(e, null));
        break;
      }
      for (const job of jobs) handle(job);
      // Sleep when the queue is drained or every slot is taken; a finishing task ends the sleep.
      if (jobs.length < want || running.size >= opts.concurrency) {
        if (!(await sleep(pollMs))) capped = false;
      }
    }
  })();

  return {
    get active() {
      return running.size;
    },
    kick() {
      // New work was enqueued: fetch a full batch, whatever came back deferred before.
      capped = false;
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
