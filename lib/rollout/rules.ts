// The rollout's rules, pure: host states, waves, the failure budget, the four-eyes approval rule,
// the plan hash and the rollout's own state. Table-tested in rules.test.ts.
//
// Compared with Ansible's `serial` + `max_fail_percentage` (whose users complain that
// unreachable hosts are not counted, ansible#7686 / #82834): here an unreachable host is a failed
// host, and the budget is a percentage AND an absolute count, whichever is stricter.
import { createHash } from "node:crypto";

export const ROLLOUT_HOST_STATES = [
  "planned",
  "applying",
  "applied",
  "pending_reboot",
  "waiting_window",
  "rebooting",
  "rebooted",
  "verifying",
  "verified",
  "failed",
  "rolling_back",
  "rolled_back",
  "skipped",
  "not_started",
  "out_of_date",
] as const;
export type RolloutHostState = (typeof ROLLOUT_HOST_STATES)[number];

/**
 * Nothing more will happen to the host in this wave. "pending_reboot" is settled: with the
 * reboot policy "never" the host waits for its owner's restart, and with "now" the task never
 * leaves a host there (it restarts and verifies, or fails).
 */
export function isSettled(state: RolloutHostState): boolean {
  return ["pending_reboot", "verified", "failed", "rolled_back", "skipped", "not_started", "out_of_date"].includes(state);
}

/**
 * Failed (unreachable included: the task records it as failed with the reason) and rolled back
 * after a failed verification count against the budget. "out_of_date" does not: the host was not
 * touched because the plan no longer matched it, which is the plan's safety working, not a
 * failure of the change.
 */
export function countsAgainstBudget(state: RolloutHostState): boolean {
  return state === "failed" || state === "rolled_back";
}

export interface WaveOptions {
  canarySize: number;
  wave: { kind: "count"; size: number } | { kind: "percent"; percent: number };
}

/** Canary first (0: none), then waves of a fixed size or a percentage of all hosts (rounded up, at least 1). */
export function planWaves<T>(hosts: readonly T[], opts: WaveOptions): T[][] {
  const waves: T[][] = [];
  const canary = Math.min(opts.canarySize, hosts.length);
  if (canary > 0) waves.push(hosts.slice(0, canary));
  const size = opts.wave.kind === "count" ? opts.wave.size : Math.max(1, Math.ceil((opts.wave.percent / 100) * hosts.length));
  for (let i = canary; i < hosts.length; i += size) waves.push(hosts.slice(i, i + size));
  return waves;
}

export interface Budget {
  percent: number;
  absolute: number;
}

/** Failures the rollout tolerates: the stricter of the percentage and the absolute count. */
export function allowedFailures(budget: Budget, totalHosts: number): number {
  return Math.min(budget.absolute, Math.floor((budget.percent * totalHosts) / 100));
}

export function waveName(index: number, hasCanary = true): string {
  return index === 0 && hasCanary ? "the canary wave" : `wave ${hasCanary ? index : index + 1}`;
}

export type WaveDecision = { kind: "wait" } | { kind: "next" } | { kind: "done" } | { kind: "halt"; reason: string };

/**
 * After (or during) wave `waveIndex`: halt as soon as failures exceed the budget, even mid-wave
 * (hosts of the wave not started yet are then never started); wait while a host of the wave is
 * not settled; then the next wave, or done after the last.
 */
export function decideAfterWave(i: {
  waveIndex: number;
  waves: number;
  waveStates: readonly RolloutHostState[];
  waveReasons?: ReadonlyArray<string | null>;
  failuresSoFar: number;
  totalHosts: number;
  budget: Budget;
  hasCanary?: boolean;
}): WaveDecision {
  const failedHere = i.waveStates.filter(countsAgainstBudget).length;
  const allowed = allowedFailures(i.budget, i.totalHosts);
  if (i.failuresSoFar + failedHere > allowed) {
    const unreachable = (i.waveReasons ?? []).filter((r, k) => countsAgainstBudget(i.waveStates[k]!) && r?.startsWith("unreachable")).length;
    const earlier = i.failuresSoFar > 0 ? `, ${i.failuresSoFar} in earlier waves` : "";
    return {
      kind: "halt",
      reason: `${failedHere} of ${i.waveStates.length} hosts in ${waveName(i.waveIndex, i.hasCanary ?? true)} failed${unreachable ? ` (${unreachable} unreachable)` : ""}${earlier}; budget ${allowed} (${i.budget.percent}% of ${i.totalHosts}, at most ${i.budget.absolute})`,
    };
  }
  if (!i.waveStates.every(isSettled)) return { kind: "wait" };
  return i.waveIndex + 1 < i.waves ? { kind: "next" } : { kind: "done" };
}

/** When a second admin (not the requester) must approve. */
export function approvalRule(i: { hostCount: number; hostTags: ReadonlyArray<readonly string[]>; settings: { secondAdminAboveHosts: number; productionTag: string } }): { secondAdmin: boolean; reason: string } {
  const tag = i.settings.productionTag.toLowerCase();
  const production = i.hostTags.filter((tags) => tags.some((t) => t.toLowerCase() === tag)).length;
  const reasons: string[] = [];
  if (i.hostCount > i.settings.secondAdminAboveHosts) reasons.push(`it changes ${i.hostCount} hosts (more than ${i.settings.secondAdminAboveHosts})`);
  if (production > 0) reasons.push(`${production} host(s) tagged "${i.settings.productionTag}"`);
  return reasons.length
    ? { secondAdmin: true, reason: `An admin other than the requester must approve: ${reasons.join(" and ")}` }
    : { secondAdmin: false, reason: `Any admin may approve (${i.hostCount} host(s), none tagged "${i.settings.productionTag}")` };
}

export function decideApproval(i: {
  requesterId: string;
  approverId: string;
  approverRole: "viewer" | "operator" | "admin";
  requiresSecondAdmin: boolean;
  planHash: string;
  approvedHash: string;
  planState: string;
  applicableHosts: number;
}): { ok: true } | { ok: false; reason: string } {
  if (i.approverRole !== "admin") return { ok: false, reason: "Only an admin may approve a rollout" };
  if (i.planState === "planning") return { ok: false, reason: "The plan is still being made: wait until every host is checked" };
  if (i.planState !== "planned") return { ok: false, reason: `A ${i.planState} rollout cannot be approved` };
  if (i.applicableHosts === 0) return { ok: false, reason: "Nothing to approve: no host in this plan will change" };
  if (i.requiresSecondAdmin && i.approverId === i.requesterId) return { ok: false, reason: "You requested this rollout: an admin other than the requester must approve it" };
  if (i.planHash !== i.approvedHash) return { ok: false, reason: "The plan changed since you opened it: reload the page and review it again" };
  return { ok: true };
}

export function approvalExpired(approvedAt: Date, now: Date, ttlHours = 24): boolean {
  return now.getTime() - approvedAt.getTime() > ttlHours * 3_600_000;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === "object" && !(v instanceof Date)) {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .sort()
        .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
    );
  }
  return v instanceof Date ? v.toISOString() : v;
}

/** sha256 (hex) of the plan as canonical JSON: key order never changes it, any value does. */
export function planHash(plan: unknown): string {
  return createHash("sha256").update(JSON.stringify(canonical(plan))).digest("hex");
}

export type RolloutState = "planning" | "planned" | "approved" | "running" | "paused" | "halted" | "cancelled" | "succeeded" | "failed";

/**
 * The state of a rollout whose waves are all done: failed when any host failed (or was rolled
 * back after failing), succeeded otherwise (verified, or pending its owner's restart; skipped and
 * out-of-date hosts are listed, not failures).
 */
export function finishedRolloutState(hostStates: readonly RolloutHostState[]): Extract<RolloutState, "succeeded" | "failed"> {
  return hostStates.some(countsAgainstBudget) ? "failed" : "succeeded";
}
