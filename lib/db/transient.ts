// Errors that mean "the database went away for a moment" (a restart, a failover, a dropped
// connection), as opposed to errors in what was asked. Work that hits one is retried in place
// rather than abandoned: an abandoned task waits for its lease to run out, and counts towards the
// poison-task guard, for a restart that took a second.
//
// Shapes, as the drivers in use report them (seen against a PostgreSQL 15 restarted with
// `pg_ctl restart -m fast`, and a port with nothing listening):
//   Prisma with @prisma/adapter-pg: PrismaClientKnownRequestError, code P1001 (not reachable) or
//     P2010 (raw query) with meta.driverAdapterError.cause { kind: "postgres", code: "57P01" } or
//     { kind: "DatabaseNotReachable" }
//   pg / pg-boss: DatabaseError with code "57P03" ("the database system is starting up"), or
//     Error "Connection terminated unexpectedly", or a socket error with code ECONNREFUSED; a
//     pooled client whose socket died under an open transaction: "Client has encountered a
//     connection error and is not queryable".
// SQLSTATE classes: PostgreSQL manual, Appendix A "PostgreSQL Error Codes".

const SQLSTATES = new Set([
  "57P01", // admin_shutdown (fast shutdown or restart)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, shutting down, in recovery)
  "08000", // connection_exception
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08003", // connection_does_not_exist
  "08006", // connection_failure
]);
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);
// Prisma: P1001 can't reach, P1002 timed out reaching, P1017 server closed the connection.
const PRISMA_CODES = new Set(["P1001", "P1002", "P1017"]);
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout"]);
const MESSAGES = /Connection terminated unexpectedly|Connection terminated|has encountered a connection error and is not queryable|the database system is (starting up|shutting down|in recovery mode)|server closed the connection unexpectedly/;

function* causes(err: unknown): Generator<Record<string, unknown>> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length) {
    const e = queue.shift();
    if (!e || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const o = e as Record<string, unknown>;
    yield o;
    queue.push(o.cause, (o.meta as Record<string, unknown> | undefined)?.driverAdapterError);
  }
}

export function isTransientDbError(err: unknown): boolean {
  for (const o of causes(err)) {
    const code = typeof o.code === "string" ? o.code : undefined;
    const original = typeof o.originalCode === "string" ? o.originalCode : undefined;
    if (code && (SQLSTATES.has(code) || SOCKET_CODES.has(code) || PRISMA_CODES.has(code))) return true;
    if (original && SQLSTATES.has(original)) return true;
    if (typeof o.kind === "string" && ADAPTER_KINDS.has(o.kind)) return true;
    if (typeof o.message === "string" && MESSAGES.test(o.message)) return true;
  }
  return false;
}

export interface RetryOptions {
  /** Give up after this long (the last error is thrown). */
  maxMs?: number;
  signal?: AbortSignal;
  onRetry?: (err: unknown, attempt: number) => void;
}

/**
 * Runs fn, again after a transient database error (backoff 250 ms doubling to 4 s, for up to
 * maxMs, default 60 s). Other errors are thrown at once. fn must be safe to run twice: a
 * transaction whose COMMIT was lost in the drop may have committed (callers guard with the task
 * lease, which the first run already released).
 */
export async function retryTransient<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.maxMs ?? 60_000);
  let delay = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isTransientDbError(err) || Date.now() + delay > deadline || opts.signal?.aborted) throw err;
      opts.onRetry?.(err, attempt);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 4_000);
    }
  }
}
