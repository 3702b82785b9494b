import { describe, expect, it } from "vitest";
import { WorkLimiter, WorkLimiterBusy } from "./work-limiter";

function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe("work limiter", () => {
  it("runs at most `concurrency` at once, queues up to maxQueue, refuses the rest at once", async () => {
    const limiter = new WorkLimiter({ concurrency: 2, maxQueue: 3, maxWaitMs: 10_000 });
    const g = gate();
    let peak = 0;
    let active = 0;
    const job = async () => {
      active++;
      peak = Math.max(peak, active);
      await g.opened;
      active--;
      return "done";
    };
    const started = Date.now();
    const results = Array.from({ length: 10 }, () => limiter.run(job).then((v) => v, (e: Error) => e));
    // Let the refusals settle before the running work is released.
    await new Promise((r) => setTimeout(r, 20));
    expect(limiter.stats).toEqual({ running: 2, waiting: 3 });
    g.open();
    const settled = await Promise.all(results);
    expect(settled.filter((r) => r === "done")).toHaveLength(5);
    expect(settled.filter((r) => r instanceof WorkLimiterBusy)).toHaveLength(5);
    expect(peak).toBe(2);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(limiter.stats).toEqual({ running: 0, waiting: 0 });
  });

  it("gives up on a waiter after maxWaitMs and frees the slot after a failure", async () => {
    const limiter = new WorkLimiter({ concurrency: 1, maxQueue: 5, maxWaitMs: 30 });
    const g = gate();
    const first = limiter.run(() => g.opened);
    await expect(limiter.run(async () => "late")).rejects.toBeInstanceOf(WorkLimiterBusy);
    g.open();
    await first;
    await expect(limiter.run(async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(limiter.run(async () => "again")).resolves.toBe("again");
  });
});
