// Steps the remediate and rollback tasks share: loading a rollout host, restarting a host and
// waiting until it is back (judged by its boot identity, not by a port answering), and proving
// the result on the wire with the prober (the evidence is stored like a scan's).
import { recordAuditInTx } from "../../lib/audit/log";
import { prisma, type Tx } from "../../lib/db";
import { advanceRolloutSoon } from "../../lib/rollout/controller";
import { updateHostStatusInTx, recordDriftInTx, type StatusUpdate } from "../../lib/compliance/update";
import { HostPlan, RolloutJobParameters, type HostPlanValue } from "../../lib/rollout/model";
import { RolloutSettings, type RolloutGoal, type RolloutSettingsValue } from "../../lib/rollout/settings";
import type { EndpointWire } from "../../lib/rollout/verify";
import { effectiveAllowList } from "../../lib/settings";
import { parseAllowList, type ProbeOptions } from "../../lib/tls";
import { isNewBoot, readBootIdentity } from "../playbooks/boot-identity";
import type { Playbook, ConfigState } from "../playbooks/types";
import { openHostSession, type HostConnection } from "../transport/open-session";
import type { RemoteSession } from "../transport/types";
import { sessionTaskConcurrency, type TaskEnd, type TaskHelpers, type TaskKind, type TaskResult } from "./runner";
import { probeHostEndpoints, storeProbeResults } from "./scan";

export interface RolloutTaskOptions {
  concurrency?: number;
  connectTimeoutMs?: number;
  probeOptions?: Pick<ProbeOptions, "timeoutMs" | "deadlineMs">;
  /** Between attempts to reach a restarting host. */
  rebootPollMs?: number;
}

export interface LoadedRolloutHost {
  rolloutId: string;
  goals: RolloutGoal[];
  settings: RolloutSettingsValue;
  host: HostConnection & { id: string; roles: string[] };
  row: { id: string; state: string; before: unknown; after: unknown; bootIdentity: string | null };
  plan: HostPlanValue;
}

/** The rollout, its settings and this host's row and frozen plan; null when any is gone. */
export async function loadRolloutHost(h: TaskHelpers): Promise<LoadedRolloutHost | null> {
  const { rolloutId } = RolloutJobParameters.parse(h.jobParameters);
  const [host, row, rollout] = await Promise.all([
    prisma.host.findUnique({ where: { id: h.lease.hostId } }),
    prisma.rolloutHost.findUnique({ where: { rolloutId_hostId: { rolloutId, hostId: h.lease.hostId } } }),
    prisma.rollout.findUnique({ where: { id: rolloutId }, select: { goals: true, settings: true } }),
  ]);
  if (!host || !row || !rollout) return null;
  const plan = HostPlan.safeParse(row.plan);
  if (!plan.success) return null;
  return { rolloutId, goals: rollout.goals as RolloutGoal[], settings: RolloutSettings.parse(rollout.settings), host, row, plan: plan.data };
}

/**
 * A task kind that works on one host of a rollout (remediate, rollback): each run starts from the
 * host's rollout row and frozen plan; when the host, its rollout or its plan is gone there is
 * nothing left to do and the task is discarded.
 */
export function rolloutHostTask(kind: "remediate" | "rollback", queue: string, opts: RolloutTaskOptions, run: (h: TaskHelpers, loaded: LoadedRolloutHost) => Promise<TaskResult>): TaskKind {
  return {
    kind,
    queue,
    concurrency: sessionTaskConcurrency(opts.concurrency),
    async run(h): Promise<TaskResult> {
      const loaded = await loadRolloutHost(h);
      if (!loaded) return { kind: "discard", reason: "the host, its rollout or its plan is gone" };
      return run(h, loaded);
    },
  };
}

/** Appends a stamped line to the rollout host's own log (its history across plan, apply and rollback). */
export async function noteRolloutHost(db: Pick<Tx, "$executeRaw">, rolloutHostId: string, line: string) {
  await db.$executeRaw`UPDATE "RolloutHost" SET log = log || ${`${new Date().toISOString().slice(0, 19).replace("T", " ")}Z ${line}\n`}, "updatedAt" = now() WHERE id = ${rolloutHostId}::uuid`;
}

export async function openSessionFor(host: HostConnection, opts: RolloutTaskOptions): Promise<RemoteSession> {
  const allowed = await effectiveAllowList();
  return (await openHostSession(host, { allowList: allowed?.list ?? parseAllowList([]), connectTimeoutMs: opts.connectTimeoutMs })).session;
}

/**
 * Restarts the host through the playbook that needs it and waits until a new session reads a
 * different boot identity. Throws when the host is not back within the settings' timeout.
 */
export async function restartAndWait(h: TaskHelpers, loaded: LoadedRolloutHost, session: RemoteSession, playbook: Playbook<ConfigState>, opts: RolloutTaskOptions): Promise<void> {
  const before = loaded.row.bootIdentity ?? (await readBootIdentity(session));
  await h.guardedTx((tx) => tx.rolloutHost.update({ where: { id: loaded.row.id }, data: { state: "rebooting", bootIdentity: before } }));
  await h.log(`restarting ${loaded.host.name} (boot ${before})`);
  await playbook.reboot!(session, { delaySeconds: 0, message: `tlsfleet rollout ${loaded.rolloutId}: TLS configuration change` });
  await session.close();
  await waitForNewBoot(h, loaded, before, opts);
}

export async function waitForNewBoot(h: TaskHelpers, loaded: LoadedRolloutHost, before: string, opts: RolloutTaskOptions): Promise<void> {
  const deadline = Date.now() + loaded.settings.rebootTimeoutSeconds * 1000;
  let lastError = "no answer yet";
  while (Date.now() < deadline) {
    if (h.signal.aborted) throw new Error(`stopped while waiting for ${loaded.host.name} to restart`);
    await new Promise((r) => setTimeout(r, opts.rebootPollMs ?? 3_000));
    try {
      const s = await openSessionFor(loaded.host, opts);
      try {
        const now = await readBootIdentity(s);
        if (isNewBoot(before, now)) {
          await h.log(`back after the restart (boot ${now})`);
          return;
        }
        lastError = "still the same boot (the restart has not happened yet)";
      } finally {
        await s.close();
      }
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
  }
  throw new Error(`${loaded.host.name} did not come back within ${loaded.settings.rebootTimeoutSeconds} s of the restart (${lastError})`);
}

export interface WireVerification {
  endpoints: EndpointWire[];
  /** Writes the probe results and the host's status in the task's finish transaction. */
  write(tx: Tx, jobId: string): Promise<StatusUpdate | null>;
  audit(tx: Tx): Promise<void>;
}

/** Probes every endpoint of the host now; the results become evidence when the task finishes. */
export async function probeNow(h: TaskHelpers, opts: RolloutTaskOptions): Promise<WireVerification> {
  const allowed = await effectiveAllowList();
  const finished = await probeHostEndpoints(h, opts.probeOptions, allowed?.list ?? parseAllowList([]));
  let update: StatusUpdate | null = null;
  return {
    endpoints: finished
      .sort((a, b) => a.endpoint.port - b.endpoint.port)
      .map((f) => ({ label: `${f.endpoint.port}/${f.endpoint.service}`, verdict: f.report.verdict, protocols: f.report.protocols })),
    async write(tx, jobId) {
      if (!finished.length) return null;
      await storeProbeResults(tx, jobId, finished);
      update = await updateHostStatusInTx(tx, h.host.id, { scannedAt: new Date(), actor: h.actor, auditDrift: false });
      return update;
    },
    async audit(tx) {
      if (update) await recordDriftInTx(tx, update, h.actor);
    },
  };
}

/** Ends the task and sets the rollout host's state, reason and log line in the same transaction. */
export function endHost(h: TaskHelpers, loaded: LoadedRolloutHost, end: { task: TaskEnd; host: string; reason: string | null; line: string; action?: string }, extra: Partial<Extract<TaskResult, { kind: "finish" }>> = {}): TaskResult {
  return {
    kind: "finish",
    state: end.task,
    error: end.task === "succeeded" || end.task === "pending_reboot" ? null : end.reason,
    summary: end.line,
    ...extra,
    write: async (tx) => {
      await extra.write?.(tx);
      await tx.rolloutHost.update({ where: { id: loaded.row.id }, data: { state: end.host, reason: end.reason } });
      await noteRolloutHost(tx, loaded.row.id, end.line);
    },
    audit: async (tx) => {
      await extra.audit?.(tx);
      if (end.action) await recordAuditInTx(tx, { actor: h.actor, action: end.action, target: `host:${loaded.host.name}`, details: { rolloutId: loaded.rolloutId, jobId: h.lease.jobId, state: end.host, reason: end.reason } });
    },
    afterCommit: () => advanceRolloutSoon(loaded.rolloutId),
  };
}

