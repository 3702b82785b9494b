import "server-only";
// Server-Sent Events responses (docs/api.md "Event streams"). Every stream of the API opens here,
// so every stream counts against its user's cap and re-checks its credential while it is open:
// a stream outlives the request's authorization check by hours, and sign-out, a revoked token or
// a lowered role must reach it too.
import { env } from "../env";
import type { RoutePrincipal } from "../auth/guard";
import { problem, PROBLEM_TYPES } from "./problem";

export interface EventSink {
  /** Writes raw event-stream text ("event: x\ndata: {...}\n\n"); ignored once closed. */
  write(text: string): void;
  close(): void;
  readonly closed: boolean;
  /** When something was last written (for keep-alive comments). */
  readonly lastWrite: number;
}

/** Streams open per user in this process. */
const openStreams = new Map<string, number>();

export function openStreamCount(userId: string): number {
  return openStreams.get(userId) ?? 0;
}

const encoder = new TextEncoder();

/**
 * An event-stream response for `principal`, or 429 problem+json when the user already holds
 * TLSFLEET_STREAMS_PER_USER streams. `start` gets the sink and returns its cleanup (timers),
 * called once when the stream closes for any reason: the client went away, `close()`, or the
 * credential no longer allows the route (checked every TLSFLEET_STREAM_RECHECK_MS).
 */
export function eventStream(principal: RoutePrincipal, req: Request, start: (sink: EventSink) => (() => void) | void): Response {
  const userId = principal.user.id;
  const limit = env.TLSFLEET_STREAMS_PER_USER;
  const held = openStreamCount(userId);
  if (held >= limit) {
    return problem(429, `You already have ${held} live progress streams open, the most one user may have at once. Close a page that follows a job and try again.`, {
      type: PROBLEM_TYPES.tooManyStreams,
      headers: { "retry-after": "30" },
      extensions: { limit },
    });
  }
  openStreams.set(userId, held + 1);

  let closed = false;
  let lastWrite = Date.now();
  let recheckTimer: ReturnType<typeof setTimeout> | undefined;
  let cleanup: (() => void) | void;
  let controllerRef: ReadableStreamDefaultController<Uint8Array> | undefined;

  const finish = () => {
    if (closed) return;
    closed = true;
    clearTimeout(recheckTimer);
    req.signal.removeEventListener("abort", finish);
    const n = openStreamCount(userId) - 1;
    if (n > 0) openStreams.set(userId, n);
    else openStreams.delete(userId);
    try {
      cleanup?.();
    } finally {
      try {
        controllerRef?.close();
      } catch {
        // the client went away first
      }
    }
  };

  const sink: EventSink = {
    write(text) {
      if (closed || !controllerRef) return;
      controllerRef.enqueue(encoder.encode(text));
      lastWrite = Date.now();
    },
    close: finish,
    get closed() {
      return closed;
    },
    get lastWrite() {
      return lastWrite;
    },
  };

  const recheck = async () => {
    if (closed) return;
    let allowed: boolean;
    try {
      allowed = await principal.stillAllowed();
    } catch {
      // Fail closed: a stream whose credential cannot be checked is not kept open on trust.
      allowed = false;
    }
    if (closed) return;
    if (!allowed) {
      sink.write(`event: failure\ndata: ${JSON.stringify({ error: "Your session or API token no longer allows this stream: sign in again." })}\n\n`);
      finish();
      return;
    }
    recheckTimer = setTimeout(() => void recheck(), env.TLSFLEET_STREAM_RECHECK_MS);
  };

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controllerRef = controller;
      if (req.signal.aborted) return finish();
      req.signal.addEventListener("abort", finish, { once: true });
      // Tell EventSource to wait 3 s before reconnecting after a network error.
      sink.write("retry: 3000\n\n");
      recheckTimer = setTimeout(() => void recheck(), env.TLSFLEET_STREAM_RECHECK_MS);
      cleanup = start(sink);
    },
    cancel() {
      finish();
    },
  });

  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx and similar proxies buffer responses unless told not to.
      "x-accel-buffering": "no",
    },
  });
}
