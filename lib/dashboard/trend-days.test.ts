import { describe, expect, it } from "vitest";
import { countsAtEndOfDays, dayEnd, lastDays, utcDay, zeroCounts, type DayCounts } from "./trend-days";

const counts = (c: Partial<DayCounts>): DayCounts => ({ ...zeroCounts(), ...c });

describe("trend days", () => {
  it("lists the last N UTC days, oldest first, whatever the local hour", () => {
    expect(lastDays(new Date("2026-03-01T23:59:59Z"), 3)).toEqual(["2026-02-27", "2026-02-28", "2026-03-01"]);
    expect(utcDay(new Date("2026-11-28T00:00:00Z"))).toBe("2026-11-28");
    expect(dayEnd("2026-12-31").toISOString()).toBe("2027-01-01T00:00:00.000Z");
  });

  it("derives each end-of-day count by undoing the changes made after that day", () => {
    const now = counts({ compliant: 8, noncompliant: 2 });
    // On the 27th three hosts were fixed; on the 26th five new hosts were added and scanned noncompliant.
    const deltas = new Map<string, Partial<DayCounts>>([
      ["2026-11-27", { compliant: 3, noncompliant: -3 }],
      ["2026-11-26", { unknown: 0, noncompliant: 5 }],
    ]);
    const result = countsAtEndOfDays(now, deltas, ["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-28"]);
    expect(result.get("2026-11-28")).toEqual(now);
    expect(result.get("2026-11-27")).toEqual(now);
    expect(result.get("2026-11-26")).toEqual(counts({ compliant: 5, noncompliant: 5 }));
    expect(result.get("2026-11-25")).toEqual(counts({ compliant: 5, noncompliant: 0 }));
  });

  it("never reports a negative count, even from inconsistent history", () => {
    const result = countsAtEndOfDays(counts({ compliant: 1 }), new Map([["2026-11-28", { compliant: 4 }]]), ["2026-11-27"]);
    expect(result.get("2026-11-27")!.compliant).toBe(0);
  });
});
