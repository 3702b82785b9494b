import "server-only";
// The read side of rollouts, as plain JSON (dates as ISO strings) for pages, the live view and
// the REST API alike: the fleet-level summary first (N hosts change, M need a restart, K skipped,
// endpoints that stop accepting TLS 1.0/1.1), then waves and per-host plan, state and log.
import { prisma } from "../db";
import { HostPlan, type HostPlanValue } from "./model";
import { RolloutSettings, type RolloutGoal, type RolloutSettingsValue } from "./settings";
import { isSettled, waveName, type RolloutHostState } from "./rules";
import { waveJobId } from "./controller";

export interface RolloutHostView {
  id: string;
  hostId: string | null;
  hostName: string;
  wave: number;
  state: RolloutHostState;
  reason: string | null;
  rebootNeeded: boolean;
  plan: HostPlanValue | null;
  hasRollbackPoint: boolean;
  log: string;
  updatedAt: string;
}

export interface RolloutWaveView {
  index: number;
  name: string;
  hosts: number;
  settled: number;
  verified: number;
  failed: number;
  jobId: string | null;
}

export interface RolloutView {
  id: string;
  goals: RolloutGoal[];
  state: string;
  settings: RolloutSettingsValue;
  requestedBy: string;
  requestedById: string | null;
  createdAt: string;
  planHash: string | null;
  requiresSecondAdmin: boolean;
  approvalRule: string | null;
  approvedBy: string | null;
  approvedAt: string | null;
  haltReason: string | null;
  currentWave: number;
  planJobId: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  summary: { hosts: number; changing: number; reboots: number; skipped: number; endpointsLosingLegacy: string[]; byState: Partial<Record<RolloutHostState, number>> };
  waves: RolloutWaveView[];
  hosts: RolloutHostView[];
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function getRollout(id: string): Promise<RolloutView | null> {
  const r = await prisma.rollout.findUnique({ where: { id }, include: { hosts: { orderBy: [{ wave: "asc" }, { hostName: "asc" }] } } });
  if (!r) return null;
  const settings = RolloutSettings.parse(r.settings);
  const hosts: RolloutHostView[] = r.hosts.map((h) => {
    const plan = HostPlan.safeParse(h.plan);
    return {
      id: h.id,
      hostId: h.hostId,
      hostName: h.hostName,
      wave: h.wave,
      state: h.state as RolloutHostState,
      reason: h.reason,
      rebootNeeded: h.rebootNeeded,
      plan: plan.success ? plan.data : null,
      hasRollbackPoint: h.before !== null,
      log: h.log,
      updatedAt: h.updatedAt.toISOString(),
    };
  });
  const byState: Partial<Record<RolloutHostState, number>> = {};
  for (const h of hosts) byState[h.state] = (byState[h.state] ?? 0) + 1;
  const changing = hosts.filter((h) => h.plan && h.plan.playbooks.some((p) => p.changes.length > 0) && h.state !== "skipped");
  const waveCount = hosts.reduce((n, h) => Math.max(n, h.wave + 1), 0);
  const waves: RolloutWaveView[] = [];
  for (let i = 0; i < waveCount; i++) {
    const inWave = hosts.filter((h) => h.wave === i);
    waves.push({
      index: i,
      name: waveName(i, settings.canarySize > 0),
      hosts: inWave.length,
      settled: inWave.filter((h) => isSettled(h.state)).length,
      verified: inWave.filter((h) => h.state === "verified").length,
      failed: inWave.filter((h) => h.state === "failed" || h.state === "rolled_back").length,
      jobId: i <= r.currentWave ? await waveJobId(prisma, r.id, i) : null,
    });
  }
  return {
    id: r.id,
    goals: r.goals as RolloutGoal[],
    state: r.state,
    settings,
    requestedBy: r.requestedBy,
    requestedById: r.requestedById,
    createdAt: r.createdAt.toISOString(),
    planHash: r.planHash,
    requiresSecondAdmin: r.requiresSecondAdmin,
    approvalRule: r.approvalRule,
    approvedBy: r.approvedBy,
    approvedAt: iso(r.approvedAt),
    haltReason: r.haltReason,
    currentWave: r.currentWave,
    planJobId: r.planJobId,
    startedAt: iso(r.startedAt),
    finishedAt: iso(r.finishedAt),
    summary: {
      hosts: hosts.length,
      changing: changing.length,
      reboots: changing.filter((h) => h.rebootNeeded).length,
      skipped: hosts.filter((h) => h.state === "skipped").length,
      endpointsLosingLegacy: changing.flatMap((h) => (h.plan?.endpointsLosingLegacy ?? []).map((e) => `${h.hostName} ${e}`)),
      byState,
    },
    waves,
    hosts,
  };
}

export interface RolloutListItem {
  id: string;
  goals: RolloutGoal[];
  state: string;
  requestedBy: string;
  createdAt: string;
  hosts: number;
}

export async function listRollouts(opts: { limit?: number; hostId?: string } = {}): Promise<RolloutListItem[]> {
  const rows = await prisma.rollout.findMany({
    where: opts.hostId ? { hosts: { some: { hostId: opts.hostId } } } : undefined,
    orderBy: { createdAt: "desc" },
    take: Math.min(opts.limit ?? 50, 200),
    include: { _count: { select: { hosts: true } } },
  });
  return rows.map((r) => ({ id: r.id, goals: r.goals as RolloutGoal[], state: r.state, requestedBy: r.requestedBy, createdAt: r.createdAt.toISOString(), hosts: r._count.hosts }));
}

/** A host's remediation history (host page): every rollout it was part of, with its state there. */
export async function hostRemediationHistory(hostId: string) {
  const rows = await prisma.rolloutHost.findMany({ where: { hostId }, include: { rollout: { select: { goals: true, state: true, createdAt: true, requestedBy: true } } }, orderBy: { rollout: { createdAt: "desc" } }, take: 50 });
  return rows.map((r) => ({ rolloutId: r.rolloutId, goals: r.rollout.goals as RolloutGoal[], rolloutState: r.rollout.state, hostState: r.state as RolloutHostState, reason: r.reason, createdAt: r.rollout.createdAt.toISOString(), requestedBy: r.rollout.requestedBy }));
}
