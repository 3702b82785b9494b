// Job and task state machines: pure functions, table-tested in state.test.ts. The database
// stores the result; these decide it, so every writer (claim, finish, cancel, retry, reaper)
// agrees on what a job's state is.
//
// The rule operators care about most (Rundeck #4632; docs/architecture.md "The probe's verdict"): a host that was never reached
// is "not started" or "cancelled", never "done".

export const TASK_STATES = ["not_started", "queued", "running", "succeeded", "failed", "unreachable", "cancelled", "pending_reboot", "skipped"] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const JOB_STATES = ["pending_approval", "queued", "running", "succeeded", "failed", "cancelled", "halted"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** A task in one of these will not run again unless someone asks (retry-failed). */
export const TERMINAL_TASK_STATES: ReadonlySet<TaskState> = new Set(["succeeded", "failed", "unreachable", "cancelled", "pending_reboot", "skipped"]);
export const TERMINAL_JOB_STATES: ReadonlySet<JobState> = new Set(["succeeded", "failed", "cancelled", "halted"]);
/** What "Retry failed hosts only" re-runs. Cancelled and never-started hosts are not failures. */
export const RETRYABLE_TASK_STATES: readonly TaskState[] = ["failed", "unreachable"];

/** The job page's host filters (`?state=`); each is one or more task states. */
export const TASK_FILTERS = {
  all: null,
  running: ["running"],
  failed: ["failed", "unreachable"],
  queued: ["queued", "not_started"],
  done: ["succeeded", "pending_reboot"],
  cancelled: ["cancelled", "skipped"],
} as const satisfies Record<string, readonly TaskState[] | null>;
export type TaskFilter = keyof typeof TASK_FILTERS;

export function inTaskFilter(filter: TaskFilter, state: TaskState): boolean {
  const states: readonly TaskState[] | null = TASK_FILTERS[filter];
  return states === null || states.includes(state);
}

export type TaskCounts = Record<TaskState, number>;

export function emptyTaskCounts(): TaskCounts {
  return Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as TaskCounts;
}

export function isTerminalTask(state: TaskState): boolean {
  return TERMINAL_TASK_STATES.has(state);
}

export function isTerminalJob(state: JobState): boolean {
  return TERMINAL_JOB_STATES.has(state);
}

export interface JobStateInput {
  current: JobState;
  counts: TaskCounts;
  /** Someone pressed Cancel (Job.cancelledAt is set). */
  cancelRequested: boolean;
}

/**
 * The job's state from its tasks.
 * - Approval and halting are decisions made elsewhere (the rollout planner); they stick.
 * - While any task is queued, running or not started, the job is queued (nothing picked up yet)
 *   or running. A cancelled job whose tasks are still running stays "running" until they stop
 *   at their next check, so the live view keeps showing them.
 * - Once every task is terminal: cancelled if the cancel actually stopped a task, failed if any
 *   task failed, succeeded otherwise. Unreachable hosts do not fail a scan: the scan did its work
 *   and the host's status says "unreachable" (they still count for "retry failed hosts only").
 */
export function deriveJobState({ current, counts, cancelRequested }: JobStateInput): JobState {
  if (current === "pending_approval" || current === "halted") return current;
  const open = counts.queued + counts.running + counts.not_started;
  if (open > 0) {
    const anyStarted = counts.running > 0 || TASK_STATES.some((s) => isTerminalTask(s) && counts[s] > 0);
    return anyStarted ? "running" : "queued";
  }
  if (cancelRequested && counts.cancelled > 0) return "cancelled";
  if (counts.failed > 0) return "failed";
  return "succeeded";
}

/** The seven numbers the progress bar and the event stream show. */
export interface ProgressCounts {
  queued: number;
  running: number;
  /** Finished its work: succeeded (or, for remediation, applied and waiting for a reboot). */
  done: number;
  failed: number;
  unreachable: number;
  cancelled: number;
  /** Never reached: not started or skipped. */
  not_started: number;
  total: number;
}

export function progressCounts(c: TaskCounts): ProgressCounts {
  const p = {
    queued: c.queued,
    running: c.running,
    done: c.succeeded + c.pending_reboot,
    failed: c.failed,
    unreachable: c.unreachable,
    cancelled: c.cancelled,
    not_started: c.not_started + c.skipped,
  };
  return { ...p, total: Object.values(p).reduce((a, b) => a + b, 0) };
}

/** Fraction of tasks that will not change any more (for the bar), 0..1. */
export function finishedFraction(p: ProgressCounts): number {
  return p.total === 0 ? 1 : (p.done + p.failed + p.unreachable + p.cancelled + p.not_started) / p.total;
}

export function canCancel(state: JobState): boolean {
  return state === "queued" || state === "running" || state === "pending_approval";
}

export function canRetryFailed(state: JobState, counts: TaskCounts): boolean {
  return (state === "succeeded" || state === "failed") && RETRYABLE_TASK_STATES.some((s) => counts[s] > 0);
}

/** What a worker holding a queue message for a task may do with it. */
export type ClaimDecision =
  /** Run it (attempt + 1). `takeover` when the previous holder's lease ran out. */
  | { kind: "claim"; takeover: boolean }
  /** Nothing to do: finished already, or another worker holds a live lease. Drop the message. */
  | { kind: "skip"; reason: "terminal" | "held" | "not-queued" | "paused" }
  /** The job was cancelled before this task started: mark it cancelled. */
  | { kind: "cancel" }
  /** Not now (job at its concurrency cap, or the host busy in another task): try again later. */
  | { kind: "defer"; reason: "job-cap" | "host-busy" }
  /** A poison task: its lease ran out on attempt after attempt (each worker that took it stopped
   *  answering, e.g. its event loop blocked on what the host sent). Fail it instead of passing it
   *  on to the next worker. */
  | { kind: "give-up"; attempts: number };

export interface ClaimInput {
  state: TaskState;
  /** The current lease is still valid (lockedUntil in the future). */
  leaseLive: boolean;
  cancelRequested: boolean;
  /** Other tasks of this job running under a live lease. */
  runningInJob: number;
  maxConcurrency: number;
  /** Another task (any job) runs on this host under a live lease. */
  hostBusy: boolean;
  /** The job is paused: tasks not started stay queued (their message is dropped; resuming re-sends it). */
  paused?: boolean;
  /** Times the task's lease ran out, counting the one a claim of a "running" task sees now
   *  (JobTask.leaseExpiries + 1 then), and how many a task gets before it is given up. Not
   *  JobTask.attempt: a task handed back on purpose (worker shutdown, a host waiting for its
   *  maintenance window) is claimed again without anything having gone wrong. */
  leaseExpiries: number;
  maxLeaseExpiries: number;
}

export function decideClaim(i: ClaimInput): ClaimDecision {
  if (isTerminalTask(i.state)) return { kind: "skip", reason: "terminal" };
  if (i.state === "running" && i.leaseLive) return { kind: "skip", reason: "held" };
  if (i.state !== "queued" && i.state !== "running") return { kind: "skip", reason: "not-queued" };
  // A running task whose worker died is not "started" as far as a cancel is concerned: its work
  // was lost with the worker, so it is cancelled rather than run again.
  if (i.cancelRequested) return { kind: "cancel" };
  // A task that had started (its worker died) is taken over even while paused: pausing stops new
  // hosts, not a host halfway through its change.
  if (i.paused && i.state === "queued") return { kind: "skip", reason: "paused" };
  if (i.state === "running" && i.leaseExpiries >= i.maxLeaseExpiries) return { kind: "give-up", attempts: i.leaseExpiries };
  if (i.runningInJob >= i.maxConcurrency) return { kind: "defer", reason: "job-cap" };
  if (i.hostBusy) return { kind: "defer", reason: "host-busy" };
  return { kind: "claim", takeover: i.state === "running" };
}
