// Fuzz of every parser of remote output, fixed seed and a modest count so the unit suite stays
// fast; `node --import tsx scripts/fuzz.ts --iterations 20000` runs many more and the
// multi-megabyte pathological inputs (results in RELIABILITY.md).
import { describe, expect, it } from "vitest";
import { fuzzTarget, TARGETS } from "./harness";

const SEED = 20261207;
const ITERATIONS = 400;
// Per input. Linear parsers take milliseconds here; the bound is loose because the test machine
// is shared, and tight enough to catch a backtracking blow-up (those take minutes).
const BOUND_MS = 5_000;

describe("fuzzing the parsers of remote output (seeded)", () => {
  it.each(TARGETS.map((t) => [t.name, t] as const))("%s: no crash, every input within the bound", (_name, target) => {
    const report = fuzzTarget(target, { iterations: ITERATIONS, seed: SEED, boundMs: BOUND_MS, pathological: "light" });
    expect(report.crashes).toEqual([]);
    expect(report.slow).toEqual([]);
    expect(report.inputs).toBeGreaterThanOrEqual(ITERATIONS);
  }, 60_000);

  it("generates the same inputs for the same seed (a failure can be replayed)", () => {
    const a = fuzzTarget(TARGETS[0]!, { iterations: 30, seed: 7, boundMs: BOUND_MS, pathological: "none" });
    const b = fuzzTarget(TARGETS[0]!, { iterations: 30, seed: 7, boundMs: BOUND_MS, pathological: "none" });
    expect(a.expectedErrors).toBe(b.expectedErrors);
    expect(a.inputs).toBe(b.inputs);
  });
});
