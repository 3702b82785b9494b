/**
 * Pacing for servers that answer "try again later" (an SMTP 4yz reply before TLS: Postfix's
 * `421 4.7.0 host Error: too many connections from <client>` past
 * smtpd_client_connection_count_limit, or a connection-rate limit). Such a refusal says nothing
 * about TLS, so it is neither a version's answer nor its one retry: the connection is made again
 * after a growing pause, until the endpoint has waited `windowMs` since the first refusal. Only
 * then does the version end unknown, with the server's own words.
 */
export class TryLater {
  private first: number | null = null;
  private refusals = 0;

  constructor(
    private readonly windowMs: number,
    private readonly baseMs = 250,
    private readonly maxMs = 4_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** The pause before the next attempt after a refusal at `now`; null once the window is spent. */
  next(now = Date.now()): number | null {
    this.first ??= now;
    const pause = Math.min(this.maxMs, this.baseMs * 2 ** this.refusals);
    this.refusals++;
    if (now + pause - this.first > this.windowMs) return null;
    // Up to a quarter less, so endpoints refused together do not all come back together.
    return Math.round(pause * (1 - this.random() / 4));
  }

  /** Refusals so far (for the reason text). */
  get count(): number {
    return this.refusals;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
