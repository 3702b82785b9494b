import "server-only";
// Rollouts as users drive them (UI and REST API alike): request (creates the plan job: a dry run
// per host), approve the frozen plan's hash, start, pause, resume, cancel, roll back. Each call
// checks the rollout's state under its lock and writes its audit event in the same transaction.
// Roles are checked by the callers' wrappers (lib/auth/guard.ts); the four-eyes rule, which
// depends on who requested, is checked here.
import { recordAuditInTx } from "../audit/log";
import type { Role } from "../auth/roles";
import { prisma, type Tx } from "../db";
import { Prisma } from "../generated/prisma/client";
import { createJobWithTasks, resolveJobHosts, resumeJobInTx, stopClaimsInTx, type JobTargetValue } from "../jobs/create";
import { QUEUES } from "../jobs/queue";
import { getSetting } from "../settings";
import { advanceRollout, frozenPlan, lockRollout, waveJobId } from "./controller";
import { approvalExpired, decideApproval, planHash, planWaves } from "./rules";
import { RolloutGoals, RolloutSettings, type RolloutGoal, type RolloutSettingsInput } from "./settings";
import { AppError } from "../errors";
import type { Actor } from "../auth/actor";

export class RolloutError extends AppError {
  constructor(
    message: string,
    readonly status = 409,
  ) {
    super(message);
    this.name = "RolloutError";
  }
}

const TX = { timeout: 120_000, maxWait: 15_000 };

/** Creates a rollout and its plan job (read-only checks on every host). Nothing on any host changes. */
export async function requestRollout(actor: Actor, input: { target: JobTargetValue; goals: string[]; settings?: RolloutSettingsInput }): Promise<{ rolloutId: string; planJobId: string; hosts: number }> {
  const goals = RolloutGoals.safeParse(input.goals);
  if (!goals.success) throw new RolloutError(goals.error.issues[0]?.message ?? "Invalid goals", 400);
  const settings = RolloutSettings.safeParse(input.settings ?? {});
  if (!settings.success) throw new RolloutError(`Invalid rollout settings: ${settings.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, 400);
  const { hostIds, stored, summary } = await resolveJobHosts(input.target, (m) => new RolloutError(m, 400), { verb: "remediate" });
  const hosts = await prisma.host.findMany({ where: { id: { in: hostIds } }, select: { id: true, name: true } });
  const rollout = await prisma.$transaction(async (tx) => {
    const r = await tx.rollout.create({
      data: { goals: goals.data, state: "planning", target: stored as never, settings: settings.data as never, requestedById: actor.id, requestedBy: actor.email },
    });
    await tx.rolloutHost.createMany({ data: hosts.map((h) => ({ rolloutId: r.id, hostId: h.id, hostName: h.name, state: "planned", wave: -1 })) });
    const { jobId } = await createJobWithTasks({
      tx,
      kind: "plan",
      queue: QUEUES.planTask,
      actor,
      hostIds,
      stored,
      parameters: { maxConcurrency: settings.data.maxConcurrency, rolloutId: r.id },
      audit: null,
    });
    await tx.rollout.update({ where: { id: r.id }, data: { planJobId: jobId } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "rollout.requested", target: `rollout:${r.id}`, details: { goals: goals.data, target: summary, hosts: hosts.length, settings: settings.data, planJobId: jobId } });
    return { id: r.id, planJobId: jobId };
  }, TX);
  return { rolloutId: rollout.id, planJobId: rollout.planJobId, hosts: hosts.length };
}

async function lockedRollout(tx: Tx, rolloutId: string) {
  await lockRollout(tx, rolloutId);
  const r = await tx.rollout.findUnique({ where: { id: rolloutId } });
  if (!r) throw new RolloutError("No such rollout", 404);
  return r;
}

/** Approves the frozen plan whose hash the approver saw. Four eyes where the plan's rule says so. */
export async function approveRollout(actor: Actor & { role: Role }, rolloutId: string, seenHash: string): Promise<void> {
  const refused = await prisma.$transaction(async (tx): Promise<string | null> => {
    const r = await lockedRollout(tx, rolloutId);
    // The hash is recomputed from the rows, not trusted from the column: a plan edited in the
    // database after planning no longer matches what the approver was shown.
    const current = planHash(await frozenPlan(tx, rolloutId));
    const applicable = await tx.rolloutHost.count({ where: { rolloutId, state: "planned" } });
    const decision = decideApproval({
      requesterId: r.requestedById ?? "",
      approverId: actor.id ?? "",
      approverRole: actor.role,
      requiresSecondAdmin: r.requiresSecondAdmin,
      planHash: current === r.planHash ? current : `${r.planHash}!changed`,
      approvedHash: seenHash,
      planState: r.state,
      applicableHosts: applicable,
    });
    if (!decision.ok) {
      await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "rollout.approval_refused", target: `rollout:${rolloutId}`, details: { reason: decision.reason } });
      // Committed with the refusal's audit event; the caller gets the reason after the commit.
      return decision.reason;
    }
    await tx.rollout.update({ where: { id: rolloutId }, data: { state: "approved", approvedById: actor.id, approvedBy: actor.email, approvedAt: new Date(), approvedHash: seenHash } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "rollout.approved", target: `rollout:${rolloutId}`, details: { planHash: seenHash, hosts: applicable, rule: r.approvalRule } });
    return null;
  }, TX);
  if (refused) throw new RolloutError(refused, 409);
}

/** Starts an approved rollout: assigns the waves (canary first) and lets the controller start wave 0. */
export async function startRollout(actor: Actor, rolloutId: string, now = new Date()): Promise<void> {
  const refused = await prisma.$transaction(async (tx): Promise<string | null> => {
    const r = await lockedRollout(tx, rolloutId);
    if (r.state !== "approved") throw new RolloutError(r.state === "planned" ? "This rollout is not approved yet" : `A ${r.state} rollout cannot be started`);
    const ttl = await getSetting("rolloutApprovalTtlHours", tx);
    if (!r.approvedAt || approvalExpired(r.approvedAt, now, ttl)) {
      // Committed: the plan goes back for approval, and the refusal is on record.
      await tx.rollout.update({ where: { id: rolloutId }, data: { state: "planned", approvedAt: null, approvedBy: null, approvedById: null, approvedHash: null } });
      await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "rollout.approval_expired", target: `rollout:${rolloutId}`, details: { approvedAt: r.approvedAt, ttlHours: ttl } });
      return `The approval expired (approvals are valid for ${ttl} h): ask an admin to approve the plan again`;
    }
    if (r.approvedHash !== r.planHash) throw new RolloutError("The plan changed after it was approved: it needs a new approval");
    const hosts = await tx.rolloutHost.findMany({ where: { rolloutId, state: "planned" }, orderBy: { hostName: "asc" }, select: { id: true, hostId: true, hostName: true } });
    // Two rollouts never change one host at once: refuse, naming the rollout that holds it.
    const held = await tx.$queryRaw<Array<{ hostName: string; rolloutId: string; state: string }>>`
      SELECT rh."hostName", rh."rolloutId"::text AS "rolloutId", r.state::text AS state
      FROM "RolloutHost" rh JOIN "Rollout" r ON r.id = rh."rolloutId"
      WHERE rh."hostId" = ANY(${hosts.map((h) => h.hostId).filter(Boolean)}::uuid[]) AND rh."rolloutId" <> ${rolloutId}::uuid
        AND r.state IN ('running', 'paused', 'halted') AND rh.state NOT IN ('verified', 'failed', 'rolled_back', 'skipped', 'not_started', 'out_of_date', 'planned')
      LIMIT 1`;
    if (held[0]) throw new RolloutError(`${held[0].hostName} is being changed by rollout ${held[0].rolloutId} (${held[0].state}); wait for it to finish or cancel it first`);
    const settings = RolloutSettings.parse(r.settings);
    const waves = planWaves(hosts, { canarySize: settings.canarySize, wave: settings.wave });
    for (const [i, wave] of waves.entries()) await tx.rolloutHost.updateMany({ where: { id: { in: wave.map((h) => h.id) } }, data: { wave: i } });
    await tx.rollout.update({ where: { id: rolloutId }, data: { state: "running", startedAt: now, currentWave: -1 } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "rollout.started", target: `rollout:${rolloutId}`, details: { waves: waves.map((w) => w.length), budget: settings.budget, rebootPolicy: settings.rebootPolicy } });
    return null;
  }, TX);
  if (refused) throw new RolloutError(refused);
  await advanceRollout(rolloutId);
}

/** Pause: the current wave runs to its end; no further wave starts until resumed. */
export async function pauseRollout(actor: Actor, rolloutId: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const r = await lockedRollout(tx, rolloutId);
    if (r.state !== "running") throw new RolloutError(`Only a running rollout can be paused (this one is ${r.state})`);
    await tx.rollout.update({ where: { id: rolloutId }, data: { state: "paused" } });
    // The wave's hosts not started yet stay queued (the claim skips a paused job); hosts already
    // being changed finish their step.
    const jobId = r.currentWave >= 0 ? await waveJobId(tx, rolloutId, r.currentWave) : null;
    if (jobId) await stopClaimsInTx(tx, jobId, "pause");
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "rollout.paused", target: `rollout:${rolloutId}`, details: { wave: r.currentWave } });
  }, TX);
}

export async function resumeRollout(actor: Actor, rolloutId: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const r = await lockedRollout(tx, rolloutId);
    if (r.state !== "paused") throw new RolloutError(`Only a paused rollout can be resumed (this one is ${r.state})`);
    await tx.rollout.update({ where: { id: rolloutId }, data: { state: "running" } });
    const jobId = r.currentWave >= 0 ? await waveJobId(tx, rolloutId, r.currentWave) : null;
    if (jobId) await resumeJobInTx(tx, jobId, QUEUES.remediateTask);
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "rollout.resumed", target: `rollout:${rolloutId}`, details: { wave: r.currentWave } });
  }, TX);
  await advanceRollout(rolloutId);
}

/** Cancel: hosts not started are never started; a host being changed finishes its step. */
export async function cancelRollout(actor: Actor, rolloutId: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const r = await lockedRollout(tx, rolloutId);
    if (["cancelled", "succeeded", "failed"].includes(r.state)) throw new RolloutError(`This rollout is already ${r.state}`);
    const now = new Date();
    for (const jobId of [r.planJobId, r.currentWave >= 0 ? await waveJobId(tx, rolloutId, r.currentWave) : null]) {
      if (jobId) await stopClaimsInTx(tx, jobId, "cancel", now);
    }
    await tx.rolloutHost.updateMany({ where: { rolloutId, state: "planned" }, data: { state: "not_started", reason: "the rollout was cancelled" } });
    await tx.rollout.update({ where: { id: rolloutId }, data: { state: "cancelled", finishedAt: now } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "rollout.cancelled", target: `rollout:${rolloutId}`, details: { previousState: r.state, wave: r.currentWave } });
  }, TX);
}

/** Rolls back hosts (all the rollout changed, or the given ones): exact prior values, then verified on the wire. */
export async function rollbackRollout(actor: Actor, rolloutId: string, hostIds?: string[]): Promise<{ jobId: string; hosts: number }> {
  return prisma.$transaction(async (tx) => {
    const r = await lockedRollout(tx, rolloutId);
    if (r.state === "running") throw new RolloutError("Pause or cancel the rollout before rolling hosts back, so no wave changes them meanwhile");
    const candidates = await tx.rolloutHost.findMany({
      where: { rolloutId, before: { not: Prisma.DbNull }, hostId: hostIds ? { in: hostIds } : { not: null }, state: { notIn: ["rolled_back", "rolling_back"] } },
      select: { id: true, hostId: true, hostName: true },
    });
    if (candidates.length === 0) throw new RolloutError(hostIds ? "Nothing to roll back on this host: the rollout did not change it" : "Nothing to roll back: the rollout has not changed any host");
    const ids = candidates.map((c) => c.hostId!);
    const settings = RolloutSettings.parse(r.settings);
    const { jobId } = await createJobWithTasks({
      tx,
      kind: "rollback",
      queue: QUEUES.rollbackTask,
      actor,
      hostIds: ids,
      stored: { hostIds: ids },
      parameters: { maxConcurrency: settings.maxConcurrency, rolloutId },
      audit: null,
    });
    await tx.rolloutHost.updateMany({ where: { id: { in: candidates.map((c) => c.id) } }, data: { state: "rolling_back" } });
    await recordAuditInTx(tx, { actor: actor.email, actorId: actor.id, action: "rollout.rollback_requested", target: `rollout:${rolloutId}`, details: { hosts: candidates.map((c) => c.hostName), jobId } });
    return { jobId, hosts: ids.length };
  }, TX);
}

export type { RolloutGoal };
