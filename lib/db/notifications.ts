import "server-only";
// PostgreSQL LISTEN for a process (the web app's live job feeds, a worker's task wake-ups): one
// dedicated connection, shared by every channel and every listener in the process, opened on the
// first listen() and closed when the last listener leaves. It is not a pool connection: a LISTEN holds its session for as long as it listens, and
// Prisma's pool hands sessions out per query.
//
// NOTIFY is fire-and-forget: what is sent while the connection is down is lost. So after a
// reconnect every listener's `onResync` runs, and callers treat it as "anything may have changed".
import pg from "pg";
import { env } from "../env";
import { logger } from "../log";

export interface ChannelListener {
  /** A NOTIFY on the channel, with its payload ("" when none). */
  onNotify(payload: string): void;
  /** The connection was lost and is back (or LISTEN started late): notifications may be missed. */
  onResync(): void;
}

export interface Listening {
  /** Resolves once LISTEN is in place on the server (never rejects: failures are retried). */
  ready: Promise<void>;
  close(): void;
}

const BACKOFF_MIN_MS = 250;
const BACKOFF_MAX_MS = 10_000;

interface ListenerEntry extends ChannelListener {
  markReady: () => void;
  isReady: boolean;
}

interface State {
  channels: Map<string, Set<ListenerEntry>>;
  client: pg.Client | null;
  connecting: boolean;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  backoffMs: number;
  /** Bumped per connection, so events of an old client are ignored. */
  generation: number;
}

// On globalThis so that Next's dev server, which re-evaluates modules on edits, keeps one connection.
const globalState = globalThis as unknown as { __tlsfleetNotifications?: State };
const state: State = (globalState.__tlsfleetNotifications ??= {
  channels: new Map(),
  client: null,
  connecting: false,
  retryTimer: undefined,
  backoffMs: BACKOFF_MIN_MS,
  generation: 0,
});

function allEntries(): ListenerEntry[] {
  return [...state.channels.values()].flatMap((s) => [...s]);
}

function dropClient(): void {
  const client = state.client;
  state.client = null;
  state.generation++;
  if (client) void client.end().catch(() => undefined);
}

function scheduleReconnect(): void {
  if (state.retryTimer || state.channels.size === 0) return;
  const delay = state.backoffMs;
  state.backoffMs = Math.min(state.backoffMs * 2, BACKOFF_MAX_MS);
  state.retryTimer = setTimeout(() => {
    state.retryTimer = undefined;
    void connect(true);
  }, delay);
  state.retryTimer.unref?.();
}

async function connect(isReconnect: boolean): Promise<void> {
  if (state.client || state.connecting || state.channels.size === 0) return;
  const connectionString = env.DATABASE_URL;
  if (!connectionString) {
    logger.error("DATABASE_URL is not set: live job updates fall back to the slow poll");
    return;
  }
  state.connecting = true;
  const generation = ++state.generation;
  const client = new pg.Client({ connectionString, keepAlive: true, application_name: "tlsfleet-listen" });
  const lost = (err?: unknown) => {
    if (generation !== state.generation) return;
    logger.warn({ err }, "the database notification connection was lost; reconnecting");
    dropClient();
    scheduleReconnect();
  };
  client.on("error", lost);
  client.on("end", () => lost());
  client.on("notification", (msg) => {
    if (generation !== state.generation) return;
    for (const l of state.channels.get(msg.channel) ?? []) l.onNotify(msg.payload ?? "");
  });
  try {
    await client.connect();
    // Channels may be added while this runs; each gets its LISTEN before listeners are told ready.
    const listened = new Set<string>();
    for (let missing = [...state.channels.keys()]; missing.length > 0; missing = [...state.channels.keys()].filter((c) => !listened.has(c))) {
      for (const channel of missing) {
        await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
        listened.add(channel);
      }
    }
  } catch (err) {
    state.connecting = false;
    void client.end().catch(() => undefined);
    if (generation === state.generation) {
      logger.warn({ err }, "could not LISTEN for database notifications; retrying");
      state.generation++;
      scheduleReconnect();
    }
    return;
  }
  state.connecting = false;
  if (generation !== state.generation) {
    // Every listener left while this connection was being opened.
    void client.end().catch(() => undefined);
    return;
  }
  state.client = client;
  state.backoffMs = BACKOFF_MIN_MS;
  if (state.channels.size === 0) {
    dropClient();
    return;
  }
  for (const l of allEntries()) {
    const wasReady = l.isReady;
    l.markReady();
    // Whatever happened while nobody listened is unknown: everyone re-reads.
    if (isReconnect || wasReady) l.onResync();
  }
}

/** Follows `channel` on the process's LISTEN connection until `close()`. */
export function listen(channel: string, listener: ChannelListener): Listening {
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const entry: ListenerEntry = {
    ...listener,
    isReady: false,
    markReady: () => {
      entry.isReady = true;
      markReady();
    },
  };
  let set = state.channels.get(channel);
  const newChannel = !set;
  if (!set) state.channels.set(channel, (set = new Set()));
  set.add(entry);
  const client = state.client;
  if (client && newChannel) {
    client.query(`LISTEN ${client.escapeIdentifier(channel)}`).then(
      () => entry.markReady(),
      (err: unknown) => {
        logger.warn({ err, channel }, "LISTEN failed; reconnecting");
        dropClient();
        scheduleReconnect();
      },
    );
  } else if (client) {
    entry.markReady();
  } else {
    void connect(false);
  }
  let closed = false;
  return {
    ready,
    close() {
      if (closed) return;
      closed = true;
      const listeners = state.channels.get(channel);
      listeners?.delete(entry);
      if (listeners && listeners.size === 0) {
        state.channels.delete(channel);
        const c = state.client;
        if (c && state.channels.size > 0) void c.query(`UNLISTEN ${c.escapeIdentifier(channel)}`).catch(() => undefined);
      }
      if (state.channels.size === 0) {
        clearTimeout(state.retryTimer);
        state.retryTimer = undefined;
        dropClient();
      }
    },
  };
}

/** The server process id of the LISTEN connection, or null when not connected (tests). */
export function listenerBackendPid(): number | null {
  const client = state.client as (pg.Client & { processID?: number }) | null;
  return client?.processID ?? null;
}
