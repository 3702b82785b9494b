/**
 * Limits simultaneous probe connections, at three levels:
 * - at most `perHost` to one address (mail servers rate-limit, and postscreen punishes bursts
 *   from one client; docs/domain.md "Probing what a server really negotiates": at most 2);
 * - at most `perServer` to one server, which may listen on many addresses. Postfix's
 *   smtpd_client_connection_count_limit (default 50) and an Exchange receive connector's
 *   MaxInboundConnectionPerSource count one client's sessions over every address the server
 *   answers on. A server is known by the name its SMTP greeting gives (`identify`); until
 *   then each address counts as a server of its own. When a server refuses a connection as
 *   "too many", its budget drops to the sessions it had accepted from us (`refused`), for
 *   `learnedForMs`;
 * - at most `maxTotal` overall, across every endpoint probed by this process.
 * When several worker processes probe the same servers, each takes only its share of every
 * server's budget (`setShare`, `serverShare`), and a budget learned by one of them is honoured by
 * all (`learn`, `onLearned`): the sum over the workers stays within the budget
 * (lib/jobs/worker-presence.ts keeps the shares and the learned budgets in step).
 * docs/domain.md "Pacing per server" says where the numbers come from.
 */
export class ConnectionGate {
  private readonly open = new Map<string, number>();
  private readonly openServers = new Map<string, number>();
  /** The open connections of each address, and which server each one counts against. */
  private readonly live = new Map<string, Set<Connection>>();
  /** address -> the server it belongs to, once a greeting named it. */
  private readonly serverOf = new Map<string, string>();
  /** Servers that said "too many", the budget they showed, and until when it holds. */
  private readonly learned = new Map<string, { limit: number; until: number }>();
  private readonly waiting: { host: string; ticket: number; grant: (release: Slot) => void }[] = [];
  /** Servers that asked us to try again later, and until when they get one connection only. */
  private readonly slowedUntil = new Map<string, number>();
  private total = 0;
  private tickets = 0;
  /** This process's place among the processes sharing the servers' budgets (alone by default). */
  private share: WorkerShare = { workers: 1, rank: 0 };
  /** Called when this process learns a budget from a refusal, so other workers can honour it. */
  onLearned: ((server: string, limit: number, until: number) => void) | null = null;

  constructor(
    readonly perHost = 2,
    readonly maxTotal = 256,
    private serverBudget = DEFAULT_PER_SERVER,
    readonly learnedForMs = 10 * 60_000,
  ) {
    if (!(perHost >= 1) || !(maxTotal >= 1) || !(serverBudget >= 1)) throw new RangeError("connection limits must be at least 1");
  }

  /** A server's budget unless one was learned (DEFAULT_PER_SERVER unless configured), for all workers together. */
  get perServer(): number {
    return this.serverBudget;
  }

  /** Changes the default server budget (a worker's TLSFLEET_PROBE_SERVER_BUDGET). */
  setServerBudget(budget: number): void {
    if (!(budget >= 1)) throw new RangeError("connection limits must be at least 1");
    this.serverBudget = Math.floor(budget);
    this.grantWaiting();
  }

  /**
   * A place in line. An endpoint takes one ticket and uses it for all its connections, so an
   * endpoint already under way gets the next free slot before endpoints that started later:
   * each endpoint finishes (and stops its deadline clock) sooner, instead of every endpoint of a
   * busy address crawling along together.
   */
  ticket(): number {
    return ++this.tickets;
  }

  /**
   * Resolves with a release function once a slot is free; rejects if `signal` aborts first.
   * Waiters are served lowest ticket first (default: a fresh ticket, i.e. first come first served).
   */
  acquire(host: string, signal?: AbortSignal, ticket = this.ticket()): Promise<Slot> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.fits(host)) return Promise.resolve(this.take(host));
    return new Promise((resolve, reject) => {
      const waiter = {
        host,
        ticket,
        grant: (release: Slot) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(release);
        },
      };
      const onAbort = () => {
        const index = this.waiting.indexOf(waiter);
        if (index >= 0) this.waiting.splice(index, 1);
        reject(abortReason(signal!));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /**
   * `address` belongs to the server `name` (an SMTP greeting's domain, RFC 5321 4.3.1). From the
   * next connection on, every address of that server shares its budget.
   */
  identify(address: string, name: string): void {
    const server = `name:${name.toLowerCase()}`;
    if (this.serverOf.get(address) === server) return;
    this.serverOf.set(address, server);
    // Connections already open to the address now count against the server they turned out to be.
    for (const connection of this.live.get(address) ?? []) {
      decrement(this.openServers, connection.server);
      this.openServers.set(server, (this.openServers.get(server) ?? 0) + 1);
      connection.server = server;
    }
  }

  /**
   * The server behind `address` refused a connection as "too many": it allows no more sessions
   * than it had accepted from us and not yet seen end (those greeted on slots still held: see
   * Slot.accepted), so that is its budget (1 at the least) for `learnedForMs`. Counting what was
   * open instead would overshoot: more connections may be on their way in when a refusal arrives.
   * A limit learned once is only ever lowered until it expires.
   */
  refused(address: string, now = Date.now()): void {
    const server = this.serverKey(address);
    let accepted = 0;
    for (const ofAddress of this.live.values()) for (const c of ofAddress) if (c.server === server && c.accepted) accepted++;
    const limit = Math.max(1, accepted);
    const known = this.learned.get(server);
    const lower = known && known.until > now ? Math.min(known.limit, limit) : limit;
    this.learned.set(server, { limit: lower, until: now + this.learnedForMs });
    this.onLearned?.(server, lower, now + this.learnedForMs);
  }

  /**
   * A budget for `server` (a key as `onLearned` gave it) that another worker learned: honoured
   * until `until`, only ever lowering a budget already learned here meanwhile.
   */
  learn(server: string, limit: number, until: number, now = Date.now()): void {
    if (!(until > now) || !(limit >= 1)) return;
    const known = this.learned.get(server);
    if (known && known.until > now && known.limit <= limit) return;
    this.learned.set(server, { limit: Math.floor(limit), until });
  }

  /**
   * This process is one of `workers` sharing every server, at `rank` (0-based, the same order in
   * every worker): from now on it opens at most serverShare(budget, workers, rank) connections to
   * each server. A larger share lets waiting connections in at once.
   */
  setShare(share: WorkerShare): void {
    if (!(share.workers >= 1) || !(share.rank >= 0)) throw new RangeError("a share needs at least one worker and a rank from 0");
    this.share = { workers: Math.floor(share.workers), rank: Math.floor(share.rank) };
    this.grantWaiting();
  }

  currentShare(): WorkerShare {
    return { ...this.share };
  }

  /** True when no server has more connections open from this process than its share allows now. */
  withinShares(now = Date.now()): boolean {
    for (const [server, open] of this.openServers) if (open > this.serverLimit(server, now)) return false;
    return true;
  }

  /**
   * The server behind `host` refused a connection as temporary (SMTP 421 "too many connections",
   * a rate limit): for `ms` it gets one connection at a time from every endpoint of this
   * process, on all its addresses, so the retries do not keep it at its limit.
   */
  slowDown(host: string, ms: number, now = Date.now()): void {
    const server = this.serverKey(host);
    this.slowedUntil.set(server, Math.max(this.slowedUntil.get(server) ?? 0, now + ms));
  }

  /** Connections `host` may have open now (perHost, or 1 while its server is slowed down). */
  limitFor(host: string, now = Date.now()): number {
    return Math.min(this.perHost, this.serverLimit(this.serverKey(host), now));
  }

  /** Connections the server behind `host` may have open now, over all its addresses. */
  serverLimitFor(host: string, now = Date.now()): number {
    return this.serverLimit(this.serverKey(host), now);
  }

  /** Connections currently open to the server behind `host`, over all its addresses. */
  openToServer(host: string): number {
    return this.openServers.get(this.serverKey(host)) ?? 0;
  }

  /** Connections currently open to `host` (for tests and diagnostics). */
  openTo(host: string): number {
    return this.open.get(host) ?? 0;
  }

  get openTotal(): number {
    return this.total;
  }

  private serverKey(address: string): string {
    return this.serverOf.get(address) ?? `address:${address}`;
  }

  private serverLimit(server: string, now: number): number {
    const slowed = this.slowedUntil.get(server);
    if (slowed !== undefined && slowed <= now) this.slowedUntil.delete(server);
    else if (slowed !== undefined) return 1;
    const known = this.learned.get(server);
    if (known && known.until <= now) this.learned.delete(server);
    const budget = known && known.until > now ? Math.min(known.limit, this.serverBudget) : this.serverBudget;
    return serverShare(budget, this.share.workers, this.share.rank);
  }

  private fits(host: string): boolean {
    if (this.total >= this.maxTotal) return false;
    const now = Date.now();
    const server = this.serverKey(host);
    return (this.open.get(host) ?? 0) < this.limitFor(host, now) && (this.openServers.get(server) ?? 0) < this.serverLimit(server, now);
  }

  private take(host: string): Slot {
    const connection: Connection = { server: this.serverKey(host), accepted: false };
    this.total++;
    this.open.set(host, (this.open.get(host) ?? 0) + 1);
    this.openServers.set(connection.server, (this.openServers.get(connection.server) ?? 0) + 1);
    const ofHost = this.live.get(host) ?? new Set();
    ofHost.add(connection);
    this.live.set(host, ofHost);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.total--;
      decrement(this.open, host);
      decrement(this.openServers, connection.server);
      ofHost.delete(connection);
      if (ofHost.size === 0 && this.live.get(host) === ofHost) this.live.delete(host);
      this.grantWaiting();
    };
    return Object.assign(release, {
      accepted: () => {
        connection.accepted = true;
      },
    });
  }

  // Lowest ticket among the waiters that fit; a waiter whose host is at its limit never blocks
  // waiters for other hosts.
  private grantWaiting(): void {
    while (this.total < this.maxTotal) {
      let best = -1;
      for (let i = 0; i < this.waiting.length; i++) {
        const waiter = this.waiting[i]!;
        if ((best < 0 || waiter.ticket < this.waiting[best]!.ticket) && this.fits(waiter.host)) best = i;
      }
      if (best < 0) return;
      const [waiter] = this.waiting.splice(best, 1);
      waiter!.grant(this.take(waiter!.host));
    }
  }
}

/** Where a process stands among the worker processes sharing every server's budget. */
export interface WorkerShare {
  /** Live workers, this one included. */
  workers: number;
  /** This worker's place among them, 0-based. */
  rank: number;
}

/**
 * The connections worker `rank` of `workers` may open to a server with `budget`: an even split,
 * the remainder going to the lowest ranks, so the shares add up to the budget exactly. Never
 * below 1: a worker with no share at all would wait on that server until its budget expires (a
 * learned one: 10 minutes) and time its probes out, so with fewer connections in the budget than
 * there are workers the sum is the number of workers instead (the server refuses the extra ones
 * as "too many", and try-later slows every worker down to one connection to it).
 */
export function serverShare(budget: number, workers: number, rank: number): number {
  const even = Math.floor(budget / workers);
  return Math.max(1, even + (rank < budget % workers ? 1 : 0));
}

/** A held connection slot: call it to release the slot (once the socket is gone). */
export type Slot = (() => void) & {
  /** The server accepted this connection as a session (an SMTP 220 greeting): it counts it. */
  accepted(): void;
};

interface Connection {
  server: string;
  accepted: boolean;
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 1) - 1;
  if (left === 0) counts.delete(key);
  else counts.set(key, left);
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("aborted");
}

/**
 * Below Postfix's default of 50 sessions per client, with room for the sessions Postfix still
 * counts for a moment after we closed them (smtpd reports a disconnect to anvil after the fact),
 * so a default-configured Postfix does not have to refuse us; lower limits (a tighter Postfix, an
 * Exchange connector's per-source limit) are learned from the first refusal. Not lower: through
 * 50 ms of round trip an SMTP connection takes about 250 ms, so this budget is also the most a
 * one-server, many-address fleet is probed with (docs/domain.md "Pacing per server").
 */
export const DEFAULT_PER_SERVER = 40;

/** The process-wide gate used unless a caller brings its own. */
export const sharedConnectionGate = new ConnectionGate(2, 256);
