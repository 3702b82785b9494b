import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./passwords";

describe("passwords", () => {
  it("hashes and checks in worker threads while the event loop stays free", async () => {
    const hash = await hashPassword("correct-horse-battery");
    expect(hash).toMatch(/^\$2[aby]\$12\$/);
    // Two checks at cost 12 take ~0.5 s of CPU; a timer every 20 ms must keep firing meanwhile.
    // Run on the event loop, each check would stall it for its whole duration (the longest gap
    // at least half the time both took); in worker threads the gaps stay a small part of it,
    // however loaded the machine is (a fixed bound in ms failed on a busy 2-core machine).
    const started = Date.now();
    let ticks = 0;
    let worstGapMs = 0;
    let last = Date.now();
    const timer = setInterval(() => {
      worstGapMs = Math.max(worstGapMs, Date.now() - last);
      last = Date.now();
      ticks++;
    }, 20);
    const [right, wrong] = await Promise.all([verifyPassword("correct-horse-battery", hash), verifyPassword("wrong", hash)]);
    clearInterval(timer);
    const elapsed = Date.now() - started;
    expect([right, wrong]).toEqual([true, false]);
    expect(ticks).toBeGreaterThan(3);
    expect(worstGapMs).toBeLessThan(Math.max(100, elapsed / 4));
  }, 60_000);
});
