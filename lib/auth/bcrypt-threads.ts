// bcrypt off the event loop. bcryptjs is JavaScript: run in the web process's main thread, each
// check is ~250 ms of CPU there (cost 12), in 100 ms slices, and every other request waits
// between slices (lib/auth/passwords.test.ts measures the timer gap: under 100 ms with threads,
// at least a slice without). Seen once during a 40-request sign-in flood with the checks
// in-thread: /api/health answered after 8.5 s, on a loaded machine, not a controlled comparison.
// So the checks run in worker threads, one per slot of the password-work limiter
// (passwords.ts), which is what bounds them.
import { Worker } from "node:worker_threads";
import bcrypt from "bcryptjs";

// Evaluated in the worker, which resolves bcryptjs from the working directory (the project root
// for `tlsfleet start`, tests and the Docker image alike).
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const bcrypt = require("bcryptjs");
parentPort.on("message", ({ op, password, arg }) => {
  try {
    parentPort.postMessage({ ok: true, value: op === "hash" ? bcrypt.hashSync(password, arg) : bcrypt.compareSync(password, arg) });
  } catch (err) {
    parentPort.postMessage({ ok: false, error: String((err && err.message) || err) });
  }
});`;

type Job = { op: "hash"; password: string; arg: number } | { op: "compare"; password: string; arg: string };

const idle: Worker[] = [];
let threadsUnavailable = false;

function spawnWorker(): Worker | null {
  if (threadsUnavailable) return null;
  try {
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    return worker;
  } catch (err) {
    threadsUnavailable = true;
    console.warn(`tlsfleet: password hashing runs on the main thread (no worker thread: ${(err as Error).message})`);
    return null;
  }
}

function inThread(job: Job): Promise<string | boolean> {
  return job.op === "hash" ? bcrypt.hash(job.password, job.arg) : bcrypt.compare(job.password, job.arg);
}

/** Runs one bcrypt job in an idle worker thread (a new one if none is idle). The caller bounds concurrency. */
function run(job: Job): Promise<string | boolean> {
  const worker = idle.pop() ?? spawnWorker();
  if (!worker) return inThread(job);
  return new Promise((resolve, reject) => {
    const done = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.unref();
    };
    const onMessage = (m: { ok: boolean; value?: string | boolean; error?: string }) => {
      done();
      idle.push(worker);
      if (m.ok) resolve(m.value as string | boolean);
      else reject(new Error(m.error));
    };
    // A worker that failed (e.g. bcryptjs not found from the working directory) is dropped; the
    // job is done on the main thread instead, so sign-in keeps working.
    const onError = (err: Error) => {
      done();
      void worker.terminate();
      threadsUnavailable = true;
      console.warn(`tlsfleet: password hashing runs on the main thread (worker thread failed: ${err.message})`);
      inThread(job).then(resolve, reject);
    };
    worker.on("message", onMessage);
    worker.once("error", onError);
    // Referenced while busy, so a CLI command awaiting a hash does not exit under it.
    worker.ref();
    worker.postMessage(job);
  });
}

export const bcryptHash = (password: string, cost: number) => run({ op: "hash", password, arg: cost }) as Promise<string>;
export const bcryptCompare = (password: string, hash: string) => run({ op: "compare", password, arg: hash }) as Promise<boolean>;
