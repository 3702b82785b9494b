import { afterEach, describe, expect, it, vi } from "vitest";
import { everyWithoutOverlap } from "./interval";

afterEach(() => vi.useRealTimers());

describe("everyWithoutOverlap", () => {
  it("skips ticks while a slow round is still running, and reports errors without stopping", async () => {
    vi.useFakeTimers();
    const started: number[] = [];
    const errors: unknown[] = [];
    let release!: () => void;
    const stop = everyWithoutOverlap(
      100,
      (tick) => {
        started.push(tick);
        if (tick === 1) return new Promise<void>((r) => (release = r));
        return Promise.reject(new Error(`round ${tick} failed`));
      },
      (err) => errors.push(err),
    );
    await vi.advanceTimersByTimeAsync(350); // ticks at 100, 200, 300: round 1 still running
    expect(started).toEqual([1]);
    release();
    await vi.advanceTimersByTimeAsync(100);
    expect(started).toEqual([1, 2]);
    expect(errors).toHaveLength(1);
    stop();
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toEqual([1, 2]);
  });
});
