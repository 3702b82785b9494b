import { performance } from "node:perf_hooks";

/**
 * The per-endpoint deadline, spent only while the endpoint has a connection open: time spent
 * queueing for a per-host slot behind other endpoints of the same address is not this
 * endpoint's doing and must not turn its versions into "deadline" unknowns.
 */
export class DeadlineBudget {
  private remainingMs: number;
  private active = 0;
  private since = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    totalMs: number,
    private readonly onExpired: () => void,
  ) {
    this.remainingMs = totalMs;
  }

  connectionStarted(): void {
    if (this.active++ > 0) return;
    this.since = performance.now();
    this.timer = setTimeout(this.onExpired, Math.max(0, this.remainingMs));
  }

  connectionEnded(): void {
    if (--this.active > 0) return;
    clearTimeout(this.timer);
    this.remainingMs -= performance.now() - this.since;
    if (this.remainingMs <= 0) this.onExpired();
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}
