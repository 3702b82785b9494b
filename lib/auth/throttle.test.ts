import { describe, expect, it } from "vitest";
import { MAX_FAILURES, throttleState, WINDOW_MS } from "./throttle";

const now = new Date("2026-11-28T12:00:00Z");
const ago = (ms: number) => new Date(now.getTime() - ms);
const fail = (ms: number) => ({ succeeded: false, at: ago(ms) });

describe("sign-in throttle", () => {
  it.each([
    ["no attempts", [], false],
    ["four failures", [fail(1000), fail(2000), fail(3000), fail(4000)], false],
    ["five failures in the window", Array.from({ length: MAX_FAILURES }, (_, i) => fail(1000 * (i + 1))), true],
    ["five failures, one outside the window", [fail(1000), fail(2000), fail(3000), fail(4000), fail(WINDOW_MS + 1)], false],
    ["five failures before a success", [{ succeeded: true, at: ago(500) }, ...Array.from({ length: 5 }, (_, i) => fail(1000 * (i + 1)))], false],
  ])("%s -> locked=%s", (_name, attempts, locked) => {
    expect(throttleState(attempts, now).locked).toBe(locked);
  });

  it("tells how long until the oldest counted failure leaves the window", () => {
    const attempts = Array.from({ length: 5 }, (_, i) => fail(60_000 * (i + 1)));
    expect(throttleState(attempts, now).retryAfterSeconds).toBe((WINDOW_MS - 300_000) / 1000);
  });
});
