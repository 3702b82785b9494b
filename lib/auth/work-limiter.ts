// A small semaphore with a bounded queue. bcryptjs hashes on the event loop (about 250 ms of CPU
// per check at cost 12 here), so a sign-in flood that ran every check at once would starve every
// other request of the web process. At most `concurrency` run; `maxQueue` more wait at most
// `maxWaitMs`; anything beyond is refused at once with WorkLimiterBusy instead of piling up.

export class WorkLimiterBusy extends Error {
  constructor() {
    super("Too many password checks are running: try again in a few seconds");
    this.name = "WorkLimiterBusy";
  }
}

interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class WorkLimiter {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly opts: { concurrency: number; maxQueue: number; maxWaitMs: number }) {}

  get stats() {
    return { running: this.running, waiting: this.waiting.length };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.opts.concurrency) {
      this.running++;
      return Promise.resolve();
    }
    if (this.waiting.length >= this.opts.maxQueue) return Promise.reject(new WorkLimiterBusy());
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = this.waiting.indexOf(waiter);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new WorkLimiterBusy());
        }, this.opts.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private release() {
    const next = this.waiting.shift();
    if (next) {
      // The slot passes straight to the next waiter: `running` stays the same.
      clearTimeout(next.timer);
      next.resolve();
    } else this.running--;
  }
}
