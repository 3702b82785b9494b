import { describe, expect, it } from "vitest";
import { ACCOUNT_LIMIT, ADDRESS_LIMIT, AUDIT_REFUSED_EVERY, throttleDecision, type CounterState } from "./throttle";

const address = (attempts: number, secondsLeft = 600): CounterState => ({ kind: "address", attempts, secondsLeft });
const account = (attempts: number, secondsLeft = 600): CounterState => ({ kind: "account", attempts, secondsLeft });

describe("sign-in throttle", () => {
  it.each([
    ["first attempt", [address(1), account(1)], false],
    [`attempt ${ADDRESS_LIMIT} from one address`, [address(ADDRESS_LIMIT), account(ADDRESS_LIMIT)], false],
    [`attempt ${ADDRESS_LIMIT + 1} from one address`, [address(ADDRESS_LIMIT + 1), account(ADDRESS_LIMIT + 1)], true],
    [`attempt ${ACCOUNT_LIMIT} on the account, each from a new address`, [address(1), account(ACCOUNT_LIMIT)], false],
    [`attempt ${ACCOUNT_LIMIT + 1} on the account, from a new address`, [address(1), account(ACCOUNT_LIMIT + 1)], true],
  ])("%s -> locked=%s", (_name, counters, locked) => {
    expect(throttleDecision(counters).locked).toBe(locked);
  });

  it("waits for the window of the counter that is over its limit", () => {
    expect(throttleDecision([address(ADDRESS_LIMIT + 1, 120.2), account(3, 890)]).retryAfterSeconds).toBe(121);
    expect(throttleDecision([address(1, 10), account(ACCOUNT_LIMIT + 1, 300)]).retryAfterSeconds).toBe(300);
    expect(throttleDecision([address(ADDRESS_LIMIT + 1, 0)]).retryAfterSeconds).toBe(1);
  });

  it("audits the first refusal of a window and then one in every AUDIT_REFUSED_EVERY", () => {
    const audited = Array.from({ length: 60 }, (_, i) => throttleDecision([address(ADDRESS_LIMIT + 1 + i), account(1)]))
      .map((d, i) => (d.audit ? i + 1 : 0))
      .filter(Boolean);
    expect(audited).toEqual([1, AUDIT_REFUSED_EVERY, 2 * AUDIT_REFUSED_EVERY]);
    expect(throttleDecision([address(ADDRESS_LIMIT + 7)]).refusedInWindow).toBe(7);
  });
});
