import { describe, expect, it } from "vitest";
import { allowedFailures, approvalExpired, approvalRule, decideAfterWave, decideApproval, finishedRolloutState, planHash, planWaves, type RolloutHostState } from "./rules";

describe("planWaves", () => {
  const hosts = Array.from({ length: 10 }, (_, i) => `h${i}`);
  it.each([
    ["canary 1, then 25% waves (rounded up)", { canarySize: 1, wave: { kind: "percent", percent: 25 } }, [1, 3, 3, 3]],
    ["no canary, fixed size 4", { canarySize: 0, wave: { kind: "count", size: 4 } }, [4, 4, 2]],
    ["canary larger than the fleet", { canarySize: 20, wave: { kind: "count", size: 4 } }, [10]],
    ["1% of 10 is still one host per wave", { canarySize: 1, wave: { kind: "percent", percent: 1 } }, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
  ] as const)("%s", (_n, opts, sizes) => {
    const waves = planWaves(hosts, opts);
    expect(waves.map((w) => w.length)).toEqual(sizes);
    expect(waves.flat()).toEqual(hosts);
  });
  it("an empty selection has no waves", () => expect(planWaves([], { canarySize: 1, wave: { kind: "count", size: 2 } })).toEqual([]));
});

describe("allowedFailures: the stricter of percentage and count", () => {
  it.each([
    [{ percent: 10, absolute: 2 }, 100, 2],
    [{ percent: 10, absolute: 5 }, 20, 2],
    [{ percent: 100, absolute: 0 }, 2, 0],
    [{ percent: 50, absolute: 1 }, 2, 1],
  ])("%o of %i hosts -> %i", (budget, total, n) => expect(allowedFailures(budget, total)).toBe(n));
});

describe("decideAfterWave", () => {
  const base = { waveIndex: 2, waves: 4, failuresSoFar: 0, totalHosts: 20, budget: { percent: 10, absolute: 2 } };
  const s = (...xs: RolloutHostState[]) => xs;
  it.each([
    ["waits while a host is still being changed", { waveStates: s("verified", "applying") }, { kind: "wait" }],
    ["pending reboot is settled", { waveStates: s("verified", "pending_reboot") }, { kind: "next" }],
    ["out of date is not a failure", { waveStates: s("out_of_date", "verified") }, { kind: "next" }],
    ["the last wave ends the rollout", { waveIndex: 3, waveStates: s("verified") }, { kind: "done" }],
  ] as const)("%s", (_n, i, want) => expect(decideAfterWave({ ...base, ...i })).toEqual(want));

  it("halts mid-wave as soon as the budget is exceeded, naming unreachable hosts", () => {
    const d = decideAfterWave({ ...base, waveStates: s("failed", "failed", "failed", "applying"), waveReasons: ["unreachable: no route", "verification failed", "x", null] });
    expect(d).toEqual({ kind: "halt", reason: "3 of 4 hosts in wave 2 failed (1 unreachable); budget 2 (10% of 20, at most 2)" });
  });
  it("counts failures of earlier waves", () => {
    const d = decideAfterWave({ ...base, failuresSoFar: 2, waveStates: s("failed", "verified") });
    expect(d.kind === "halt" && d.reason).toBe("1 of 2 hosts in wave 2 failed, 2 in earlier waves; budget 2 (10% of 20, at most 2)");
  });
  it("calls the first wave the canary wave", () => {
    const d = decideAfterWave({ ...base, waveIndex: 0, budget: { percent: 100, absolute: 0 }, waveStates: s("failed") });
    expect(d.kind === "halt" && d.reason).toMatch(/^1 of 1 hosts in the canary wave failed/);
  });
});

describe("approval", () => {
  const settings = { secondAdminAboveHosts: 1, productionTag: "production" };
  it.each([
    [1, [[]], false, /Any admin may approve/],
    [2, [[], []], true, /changes 2 hosts \(more than 1\)/],
    [1, [["Production"]], true, /1 host\(s\) tagged "production"/],
  ] as const)("%i host(s) with tags %j -> second admin %s", (hostCount, hostTags, second, text) => {
    const r = approvalRule({ hostCount, hostTags, settings });
    expect(r.secondAdmin).toBe(second);
    expect(r.reason).toMatch(text);
  });

  const ok = { requesterId: "a", approverId: "b", approverRole: "admin" as const, requiresSecondAdmin: true, planHash: "h", approvedHash: "h", planState: "planned", applicableHosts: 2 };
  it.each([
    ["a second admin", {}, null],
    ["the requester when four eyes are required", { approverId: "a" }, /other than the requester/],
    ["the requester when they are not", { approverId: "a", requiresSecondAdmin: false }, null],
    ["an operator", { approverRole: "operator" as const }, /Only an admin/],
    ["a stale hash", { approvedHash: "old" }, /plan changed since you opened it/],
    ["a plan with no applicable host", { applicableHosts: 0 }, /Nothing to approve/],
    ["a plan still being made", { planState: "planning" }, /still being made/],
  ])("%s", (_n, change, refusal) => {
    const d = decideApproval({ ...ok, ...change });
    if (refusal === null) expect(d).toEqual({ ok: true });
    else expect(!d.ok && d.reason).toMatch(refusal);
  });
  it("expires after the TTL", () => {
    const at = new Date("2026-12-01T00:00:00Z");
    expect(approvalExpired(at, new Date("2026-12-01T23:59:00Z"), 24)).toBe(false);
    expect(approvalExpired(at, new Date("2026-12-02T00:01:00Z"), 24)).toBe(true);
  });
});

describe("planHash", () => {
  it("ignores key order and undefined, and changes with any value", () => {
    const a = planHash({ hosts: [{ name: "mx1", plan: { to: 0, from: 1 } }], extra: undefined });
    expect(planHash({ hosts: [{ plan: { from: 1, to: 0 }, name: "mx1" }] })).toBe(a);
    expect(planHash({ hosts: [{ name: "mx1", plan: { to: 1, from: 1 } }] })).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("finishedRolloutState", () => {
  it.each([
    [["verified", "skipped", "out_of_date", "pending_reboot"], "succeeded"],
    [["verified", "failed"], "failed"],
    [["rolled_back"], "failed"],
  ] as const)("%j -> %s", (states, want) => expect(finishedRolloutState(states)).toBe(want));
});
