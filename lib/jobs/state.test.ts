import { describe, expect, it } from "vitest";
import {
  canCancel,
  canRetryFailed,
  decideClaim,
  deriveJobState,
  emptyTaskCounts,
  finishedFraction,
  progressCounts,
  type ClaimInput,
  type JobState,
  type TaskCounts,
} from "./state";

const counts = (c: Partial<TaskCounts>): TaskCounts => ({ ...emptyTaskCounts(), ...c });

describe("deriveJobState", () => {
  const table: Array<[string, JobState, Partial<TaskCounts>, boolean, JobState]> = [
    ["nothing picked up yet", "queued", { queued: 5 }, false, "queued"],
    ["one task running", "queued", { queued: 4, running: 1 }, false, "running"],
    ["some finished, rest queued", "running", { queued: 2, succeeded: 3 }, false, "running"],
    ["all succeeded", "running", { succeeded: 5 }, false, "succeeded"],
    ["unreachable hosts do not fail a scan", "running", { succeeded: 3, unreachable: 2 }, false, "succeeded"],
    ["any failed task fails the job", "running", { succeeded: 4, failed: 1 }, false, "failed"],
    ["cancel waits for running tasks", "running", { running: 2, cancelled: 3 }, true, "running"],
    ["cancel with every task stopped", "running", { succeeded: 2, cancelled: 3 }, true, "cancelled"],
    ["cancelled even when a task had failed", "running", { failed: 1, cancelled: 3 }, true, "cancelled"],
    ["cancel that came too late changes nothing", "running", { succeeded: 5 }, true, "succeeded"],
    ["a retried job runs again", "failed", { succeeded: 4, queued: 1 }, false, "running"],
    ["not started tasks keep a job open", "running", { not_started: 2, succeeded: 1 }, false, "running"],
    ["skipped hosts are not failures", "running", { succeeded: 1, skipped: 2 }, false, "succeeded"],
    ["approval is decided elsewhere", "pending_approval", { queued: 3 }, false, "pending_approval"],
    ["halted stays halted", "halted", { succeeded: 1, not_started: 3 }, false, "halted"],
    ["an empty job has nothing left to do", "queued", {}, false, "succeeded"],
  ];
  it.each(table)("%s", (_name, current, c, cancelRequested, expected) => {
    expect(deriveJobState({ current, counts: counts(c), cancelRequested })).toBe(expected);
  });
});

describe("progressCounts", () => {
  it("never counts a host that was not reached as done", () => {
    const p = progressCounts(counts({ succeeded: 2, pending_reboot: 1, not_started: 3, skipped: 1, cancelled: 4, queued: 1 }));
    expect(p).toEqual({ queued: 1, running: 0, done: 3, failed: 0, unreachable: 0, cancelled: 4, not_started: 4, total: 12 });
  });
  it("reports the finished fraction for the bar", () => {
    expect(finishedFraction(progressCounts(counts({ succeeded: 1, running: 1, queued: 2 })))).toBe(0.25);
    expect(finishedFraction(progressCounts(counts({})))).toBe(1);
  });
});

describe("cancel and retry availability", () => {
  it.each([
    ["queued", true],
    ["running", true],
    ["succeeded", false],
    ["failed", false],
    ["cancelled", false],
  ] as const)("cancel of a %s job: %s", (state, expected) => expect(canCancel(state)).toBe(expected));

  it("offers retry only for a finished job with failed or unreachable hosts", () => {
    expect(canRetryFailed("failed", counts({ failed: 1 }))).toBe(true);
    expect(canRetryFailed("succeeded", counts({ unreachable: 2 }))).toBe(true);
    expect(canRetryFailed("succeeded", counts({ succeeded: 2 }))).toBe(false);
    expect(canRetryFailed("running", counts({ failed: 1, running: 1 }))).toBe(false);
    expect(canRetryFailed("cancelled", counts({ cancelled: 2, failed: 1 }))).toBe(false);
  });
});

describe("decideClaim", () => {
  const base: ClaimInput = { state: "queued", leaseLive: false, cancelRequested: false, runningInJob: 0, maxConcurrency: 16, hostBusy: false, leaseExpiries: 0, maxLeaseExpiries: 3 };
  const table: Array<[string, Partial<ClaimInput>, ReturnType<typeof decideClaim>]> = [
    ["a queued task is claimed", {}, { kind: "claim", takeover: false }],
    ["a finished task is never run twice", { state: "succeeded" }, { kind: "skip", reason: "terminal" }],
    ["an unreachable task is finished too", { state: "unreachable" }, { kind: "skip", reason: "terminal" }],
    ["a task under a live lease belongs to its worker", { state: "running", leaseLive: true }, { kind: "skip", reason: "held" }],
    ["an expired lease is taken over", { state: "running", leaseLive: false }, { kind: "claim", takeover: true }],
    ["a cancelled job does not start new tasks", { cancelRequested: true }, { kind: "cancel" }],
    ["a dead worker's task in a cancelled job is cancelled", { state: "running", cancelRequested: true }, { kind: "cancel" }],
    ["the job's cap holds", { runningInJob: 16 }, { kind: "defer", reason: "job-cap" }],
    ["below the cap it runs", { runningInJob: 15 }, { kind: "claim", takeover: false }],
    ["one task per host across jobs", { hostBusy: true }, { kind: "defer", reason: "host-busy" }],
    ["not-started tasks wait for their wave", { state: "not_started" }, { kind: "skip", reason: "not-queued" }],
    ["a paused job starts no new host", { paused: true }, { kind: "skip", reason: "paused" }],
    ["a paused job's host whose worker died is taken over (it had started)", { paused: true, state: "running" }, { kind: "claim", takeover: true }],
    ["cancel wins over pause", { paused: true, cancelRequested: true }, { kind: "cancel" }],
    ["a lease that ran out the second time is taken over once more", { state: "running", leaseExpiries: 2 }, { kind: "claim", takeover: true }],
    ["a lease that ran out the third time: the task is given up", { state: "running", leaseExpiries: 3 }, { kind: "give-up", attempts: 3 }],
    ["given up even when the job is at its cap (no waiting for a slot to fail it)", { state: "running", leaseExpiries: 3, runningInJob: 16 }, { kind: "give-up", attempts: 3 }],
    ["a cancel wins over giving up", { state: "running", leaseExpiries: 3, cancelRequested: true }, { kind: "cancel" }],
    ["a queued task handed back many times still runs (a release is not a lost lease)", { state: "queued", leaseExpiries: 2 }, { kind: "claim", takeover: false }],
  ];
  it.each(table)("%s", (_name, input, expected) => {
    expect(decideClaim({ ...base, ...input })).toEqual(expected);
  });
});
