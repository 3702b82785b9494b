/**
 * Limits simultaneous probe connections: at most `perHost` to one address (mail servers
 * rate-limit, and postscreen punishes bursts from one client; docs/domain.md "Probing what a server really negotiates": at most 2) and
 * at most `total` overall, across every endpoint probed by this process.
 */
export class ConnectionGate {
  private readonly open = new Map<string, number>();
  private readonly waiting: { host: string; ticket: number; grant: (release: () => void) => void }[] = [];
  /** Addresses that asked us to try again later, and until when they get one connection only. */
  private readonly slowedUntil = new Map<string, number>();
  private total = 0;
  private tickets = 0;

  constructor(
    readonly perHost = 2,
    readonly maxTotal = 256,
  ) {
    if (!(perHost >= 1) || !(maxTotal >= 1)) throw new RangeError("connection limits must be at least 1");
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
  acquire(host: string, signal?: AbortSignal, ticket = this.ticket()): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.fits(host)) return Promise.resolve(this.take(host));
    return new Promise((resolve, reject) => {
      const waiter = {
        host,
        ticket,
        grant: (release: () => void) => {
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
   * The server at `host` refused a connection as temporary (SMTP 421 "too many connections",
   * a rate limit): for `ms` it gets one connection at a time from every endpoint of this
   * process, instead of `perHost`, so the retries do not keep it at its limit.
   */
  slowDown(host: string, ms: number, now = Date.now()): void {
    this.slowedUntil.set(host, Math.max(this.slowedUntil.get(host) ?? 0, now + ms));
  }

  /** Connections `host` may have open now (perHost, or 1 while it is slowed down). */
  limitFor(host: string, now = Date.now()): number {
    const until = this.slowedUntil.get(host);
    if (until === undefined) return this.perHost;
    if (until > now) return 1;
    this.slowedUntil.delete(host);
    return this.perHost;
  }

  /** Connections currently open to `host` (for tests and diagnostics). */
  openTo(host: string): number {
    return this.open.get(host) ?? 0;
  }

  get openTotal(): number {
    return this.total;
  }

  private fits(host: string): boolean {
    return this.total < this.maxTotal && (this.open.get(host) ?? 0) < this.limitFor(host);
  }

  private take(host: string): () => void {
    this.total++;
    this.open.set(host, (this.open.get(host) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.open.get(host) ?? 1) - 1;
      if (left === 0) this.open.delete(host);
      else this.open.set(host, left);
      this.grantWaiting();
    };
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

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error("aborted");
}

/** The process-wide gate used unless a caller brings its own. */
export const sharedConnectionGate = new ConnectionGate(2, 256);
