// An abort that keeps its first reason. A run can be stopped for several reasons that race (a
// cancel and then a deadline, a lost lease and then a shutdown); what it reports afterwards must be
// the one that actually stopped it, so later stops change nothing.

export class StopOnce<R extends string> {
  private readonly controller = new AbortController();
  private first: R | null = null;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why it was stopped; null while it runs. */
  get reason(): R | null {
    return this.first;
  }

  /** Aborts the signal with `reason`, unless it was stopped already. */
  readonly stop = (reason: R): void => {
    if (this.first) return;
    this.first = reason;
    this.controller.abort(new Error(reason));
  };
}
