import { describe, expect, test } from "vitest";
import { countLabel, roundEstimate } from "./count-label";

describe("count labels for estimated host counts", () => {
  test.each([
    [374_123, 370_000],
    [375_000, 380_000],
    [75_321, 75_000],
    [3_712, 3_700],
    [100, 100],
    [99.6, 100],
    [42, 42],
    [0, 0],
  ])("rounds %d to %d (two significant digits)", (n, rounded) => {
    expect(roundEstimate(n)).toBe(rounded);
  });

  test("says an estimate is one, and writes exact counts as they are", () => {
    expect(countLabel(374_123, true)).toBe("about 370,000");
    expect(countLabel(374_123, false)).toBe("374,123");
  });
});
