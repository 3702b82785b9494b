import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./passwords";

describe("passwords", () => {
  it("hashes and checks in worker threads while the event loop stays free", async () => {
    const hash = await hashPassword("correct-horse-battery");
    expect(hash).toMatch(/^\$2[aby]\$12\$/);
    // Two checks at cost 12 take ~0.5 s of CPU; a timer every 20 ms must keep firing meanwhile.
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
    expect([right, wrong]).toEqual([true, false]);
    expect(ticks).toBeGreaterThan(3);
    expect(worstGapMs).toBeLessThan(100);
  });
});
