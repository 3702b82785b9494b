import "server-only";
// The rollout controller: moves a rollout forward when its current phase is done. Planning ends
// when the plan job is terminal (the plan is frozen and hashed); a running rollout starts its
// next wave only when every host of the current wave is settled (verified, failed, ...), and halts
// as soon as failures exceed the budget, even mid-wave (the wave's hosts not started yet are then
// never started). Idempotent and serialised per rollout (advisory lock), so it can be called from
// every worker's sweep and after every task without double-starting a wave; a crashed worker or a
// restarted database only delays it until the next sweep.
import { recordAuditInTx } from "../audit/log";
import { prisma, type Tx } from "../db";
import { createJobWithTasks, stopClaimsInTx } from "../jobs/create";
import { QUEUES } from "../jobs/queue";
import { logger } from "../log";
import { getSetting } from "../settings";
import { approvalRule, countsAgainstBudget, decideAfterWave, finishedRolloutState, planHash, type RolloutHostState } from "./rules";
import { RolloutSettings } from "./settings";

const ROLLOUT_LOCK = 7_351_201;

async function lockRollout(tx: Tx, rolloutId: string) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ROLLOUT_LOCK}::int, hashtext(CAST(${rolloutId} AS uuid)::text))`;
}

/** The frozen plan as it is hashed and approved: per host (by name) its state, reason and plan. */
export async function frozenPlan(db: Pick<Tx, "rolloutHost">, rolloutId: string) {
  const hosts = await db.rolloutHost.findMany({ where: { rolloutId }, orderBy: { hostName: "asc" }, select: { hostId: true, hostName: true, state: true, reason: true, plan: true, rebootNeeded: true } });
  return hosts.map((h) => ({ hostId: h.hostId, hostName: h.hostName, state: h.state, reason: h.reason, rebootNeeded: h.rebootNeeded, plan: h.plan }));
}

async function finishPlanning(tx: Tx, rollout: { id: string; planJobId: string | null; settings: unknown }) {
  if (!rollout.planJobId) return;
  const job = await tx.job.findUnique({ where: { id: rollout.planJobId }, select: { state: true } });
  if (job && !["succeeded", "failed", "cancelled", "halted"].includes(job.state)) return;
  // A host whose plan task never produced a plan (its task failed, was cancelled, or its host
  // was deleted) is skipped, with what its task said.
  const unplanned = await tx.$queryRaw<Array<{ id: string; error: string | null; taskState: string | null }>>`
    SELECT rh.id::text, t.error, CASE WHEN h."retiredAt" IS NULL THEN t.state::text END AS "taskState"
    FROM "RolloutHost" rh LEFT JOIN "JobTask" t ON t."jobId" = ${rollout.planJobId}::uuid AND t."hostId" = rh."hostId"
    LEFT JOIN "Host" h ON h.id = rh."hostId"
    WHERE rh."rolloutId" = ${rollout.id}::uuid AND rh.state = 'planned' AND rh.plan IS NULL`;
  for (const u of unplanned) {
    const reason = u.taskState === null ? "the host was deleted while the plan was made" : `could not be planned (${u.taskState}${u.error ? `: ${u.error}` : ""})`;
    await tx.rolloutHost.update({ where: { id: u.id }, data: { state: "skipped", reason } });
  }
  const plan = await frozenPlan(tx, rollout.id);
  const changing = plan.filter((h) => h.state === "planned");
  const tags = changing.length ? (await tx.host.findMany({ where: { id: { in: changing.map((h) => h.hostId!).filter(Boolean) } }, select: { tags: true } })).map((h) => h.tags) : [];
  const rule = approvalRule({
    hostCount: changing.length,
    hostTags: tags,
    settings: { secondAdminAboveHosts: await getSetting("rolloutSecondAdminAboveHosts"), productionTag: await getSetting("rolloutProductionTag") },
  });
  const hash = planHash(plan);
  await tx.rollout.update({ where: { id: rollout.id }, data: { state: "planned", planHash: hash, requiresSecondAdmin: rule.secondAdmin, approvalRule: rule.reason } });
  await recordAuditInTx(tx, {
    actor: "system",
    action: "rollout.planned",
    target: `rollout:${rollout.id}`,
    details: { planHash: hash, changing: changing.length, skipped: plan.length - changing.length, reboots: changing.filter((h) => h.rebootNeeded).length, approval: rule.reason },
  });
}

/** Creates the job that works on wave `n`; the wave's hosts move from planned to queued work. */
async function startWave(tx: Tx, rollout: { id: string; settings: unknown; requestedById: string | null; requestedBy: string }, n: number): Promise<boolean> {
  // A retired host is never changed (advanceRunning skips it first; this holds even if it did not).
  const hosts = await tx.rolloutHost.findMany({ where: { rolloutId: rollout.id, wave: n, state: "planned", host: { retiredAt: null } }, select: { hostId: true, hostName: true } });
  const ids = hosts.map((h) => h.hostId).filter((id): id is string => id !== null);
  if (ids.length === 0) return false;
  const settings = RolloutSettings.parse(rollout.settings);
  const { jobId } = await createJobWithTasks({
    tx,
    kind: "remediate",
    queue: QUEUES.remediateTask,
    actor: { id: rollout.requestedById, email: rollout.requestedBy },
    hostIds: ids,
    stored: { hostIds: ids },
    parameters: { maxConcurrency: settings.maxConcurrency, rolloutId: rollout.id, wave: n },
    audit: null,
  });
  await tx.rollout.update({ where: { id: rollout.id }, data: { currentWave: n } });
  await recordAuditInTx(tx, { actor: "system", action: "rollout.wave_started", target: `rollout:${rollout.id}`, details: { wave: n, label: n === 0 ? "canary" : `wave ${n}`, hosts: hosts.map((h) => h.hostName), jobId } });
  return true;
}

/** The remediate job of wave `n`, if it was started. */
export async function waveJobId(db: Pick<Tx, "$queryRaw">, rolloutId: string, n: number): Promise<string | null> {
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM "Job" WHERE kind = 'remediate' AND parameters->>'rolloutId' = ${rolloutId} AND (parameters->>'wave')::int = ${n} ORDER BY "createdAt" DESC LIMIT 1`;
  return rows[0]?.id ?? null;
}

async function advanceRunning(tx: Tx, rollout: { id: string; settings: unknown; currentWave: number; requestedById: string | null; requestedBy: string }) {
  const settings = RolloutSettings.parse(rollout.settings);
  const all = await tx.rolloutHost.findMany({ where: { rolloutId: rollout.id }, select: { wave: true, state: true, reason: true } });
  const inWaves = all.filter((h) => h.wave >= 0);
  const waves = inWaves.length ? Math.max(...inWaves.map((h) => h.wave)) + 1 : 0;
  let n = rollout.currentWave;
  // A host deleted (retired) mid-rollout, its task cancelled with it, is skipped with that reason,
  // so its wave settles. hostId NULL: a host deleted before hosts were retired instead.
  const gone = await tx.rolloutHost.updateMany({
    where: { rolloutId: rollout.id, OR: [{ hostId: null }, { host: { retiredAt: { not: null } } }], wave: { gte: Math.max(n, 0) }, state: { in: ["planned", "applying", "applied", "rebooting", "rebooted", "verifying"] } },
    data: { state: "skipped", reason: "the host was deleted during the rollout" },
  });
  if (gone.count > 0) return advanceRunning(tx, rollout);
  // A host whose task ended without the task code settling it (given up by the poison-task
  // guard, cancelled while running) fails with the task's reason, so its wave settles.
  if (n >= 0) {
    const jobId = await waveJobId(tx, rollout.id, n);
    const stuck = jobId
      ? await tx.$executeRaw`
          UPDATE "RolloutHost" rh SET state = 'failed', reason = COALESCE(t.error, 'its task ended ' || t.state::text), "updatedAt" = now()
          FROM "JobTask" t
          WHERE t."jobId" = ${jobId}::uuid AND t."hostId" = rh."hostId" AND rh."rolloutId" = ${rollout.id}::uuid AND rh.wave = ${n}
            AND t.state IN ('failed', 'cancelled') AND rh.state IN ('applying', 'applied', 'rebooting', 'rebooted', 'verifying', 'waiting_window')`
      : 0;
    if (stuck > 0) return advanceRunning(tx, rollout);
  }
  if (n < 0) {
    if (!(await startWave(tx, rollout, 0))) await finishRollout(tx, rollout.id);
    return;
  }
  const earlier = inWaves.filter((h) => h.wave < n);
  const decision = decideAfterWave({
    waveIndex: n,
    waves,
    waveStates: inWaves.filter((h) => h.wave === n).map((h) => h.state as RolloutHostState),
    waveReasons: inWaves.filter((h) => h.wave === n).map((h) => h.reason),
    failuresSoFar: earlier.filter((h) => countsAgainstBudget(h.state as RolloutHostState)).length,
    totalHosts: inWaves.length,
    budget: settings.budget,
    hasCanary: settings.canarySize > 0,
  });
  if (decision.kind === "wait") return;
  if (decision.kind === "halt") {
    await tx.rollout.update({ where: { id: rollout.id }, data: { state: "halted", haltReason: decision.reason, finishedAt: new Date() } });
    // The wave's hosts not started yet are never started: the job's cancel leaves them "not started".
    const jobId = await waveJobId(tx, rollout.id, n);
    if (jobId) await stopClaimsInTx(tx, jobId, "cancel");
    await tx.rolloutHost.updateMany({ where: { rolloutId: rollout.id, state: "planned", wave: { gt: n } }, data: { state: "not_started", reason: "the rollout halted before this wave" } });
    await recordAuditInTx(tx, { actor: "system", action: "rollout.halted", target: `rollout:${rollout.id}`, details: { wave: n, reason: decision.reason } });
    return;
  }
  // next or done: start the next wave that has hosts, or finish.
  while (decision.kind === "next" && n + 1 < waves) {
    n++;
    if (await startWave(tx, rollout, n)) return;
  }
  await finishRollout(tx, rollout.id);
}

async function finishRollout(tx: Tx, rolloutId: string) {
  const hosts = await tx.rolloutHost.findMany({ where: { rolloutId }, select: { state: true } });
  const state = finishedRolloutState(hosts.map((h) => h.state as RolloutHostState));
  await tx.rollout.update({ where: { id: rolloutId }, data: { state, finishedAt: new Date() } });
  await recordAuditInTx(tx, { actor: "system", action: "rollout.finished", target: `rollout:${rolloutId}`, details: { state } });
}

/**
 * Moves one rollout forward if its current phase is done. Safe to call any time, from anywhere.
 * With `wait: false` it gives way when another advance of the same rollout holds the lock (that
 * one sees the same rows, or the sweep's next pass does): 50 hosts finishing at once must not
 * queue 50 transactions on one lock (measured on the 50-host bench: they ran past Prisma's 60 s
 * transaction timeout).
 */
export async function advanceRollout(rolloutId: string, opts: { wait?: boolean } = {}): Promise<void> {
  await prisma.$transaction(
    async (tx) => {
      if (opts.wait === false) {
        const [got] = await tx.$queryRaw<Array<{ ok: boolean }>>`SELECT pg_try_advisory_xact_lock(${ROLLOUT_LOCK}::int, hashtext(CAST(${rolloutId} AS uuid)::text)) AS ok`;
        if (!got?.ok) return;
      } else {
        await lockRollout(tx, rolloutId);
      }
      const r = await tx.rollout.findUnique({ where: { id: rolloutId } });
      if (!r) return;
      if (r.state === "planning") await finishPlanning(tx, r);
      else if (r.state === "running") await advanceRunning(tx, r);
    },
    { timeout: 60_000, maxWait: 15_000 },
  );
}

const soon = new Map<string, "running" | "again">();

/**
 * Fire-and-forget advance after a task finished, coalesced per rollout in this process: while one
 * runs, further calls make it run once more after it (so the last task's finish is never missed),
 * and it gives way to another process's advance (the sweep catches anything this misses).
 */
export function advanceRolloutSoon(rolloutId: string): void {
  if (soon.has(rolloutId)) {
    soon.set(rolloutId, "again");
    return;
  }
  soon.set(rolloutId, "running");
  void (async () => {
    try {
      do {
        soon.set(rolloutId, "running");
        await advanceRollout(rolloutId, { wait: false });
      } while (soon.get(rolloutId) === "again");
    } catch (err) {
      logger.warn({ err, rolloutId }, "could not advance the rollout; the next sweep will");
    } finally {
      soon.delete(rolloutId);
    }
  })();
}

/** Every worker runs this every few seconds: rollouts still planning or running. */
export async function sweepRollouts(): Promise<number> {
  const active = await prisma.rollout.findMany({ where: { state: { in: ["planning", "running"] } }, select: { id: true }, take: 200, orderBy: { updatedAt: "asc" } });
  for (const r of active) await advanceRollout(r.id);
  return active.length;
}

export { lockRollout };
