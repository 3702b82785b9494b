// The rollback task: restore the exact prior values a rollout recorded for one host (values that
// were absent are deleted, others rewritten as they were, including 0xFFFFFFFF written by other
// tools), restart per the rollout's policy, and prove on the wire that the host negotiates what
// it did before the rollout. Playbooks are restored in reverse order of application.
import { recordAuditInTx } from "../../lib/audit/log";
import { QUEUES } from "../../lib/jobs/queue";
import { advanceRolloutSoon } from "../../lib/rollout/controller";
import { HostBefore } from "../../lib/rollout/model";
import { wireMatchesBefore } from "../../lib/rollout/verify";
import type { TlsVersion } from "../../lib/tls/types";
import { playbookById } from "../playbooks";
import type { ConfigState } from "../playbooks/types";
import { TransportError } from "../transport/types";
import type { TaskHelpers, TaskKind, TaskResult } from "./runner";
import { endHost, noteRolloutHost, openSessionFor, probeNow, restartAndWait, rolloutHostTask, type LoadedRolloutHost, type RolloutTaskOptions } from "./rollout-steps";

/** Writes the recorded before-state back; restarts when a restored value needs it (and the policy allows). */
export async function restoreHost(h: TaskHelpers, loaded: LoadedRolloutHost, opts: RolloutTaskOptions): Promise<{ ok: true; pendingReboot: boolean } | { ok: false; reason: string }> {
  const before = HostBefore.parse(loaded.row.before ?? {});
  const ids = loaded.plan.playbooks.map((p) => p.id).filter((id) => before[id]).reverse();
  if (ids.length === 0) return { ok: false, reason: "no before-state was recorded for this host: nothing to restore" };
  const session = await openSessionFor(loaded.host, opts);
  let rebootBy: string | null = null;
  try {
    for (const id of ids) {
      const playbook = playbookById(id);
      if (!playbook) return { ok: false, reason: `the before-state names a playbook this version does not have: ${id}` };
      const restored = await playbook.rollback(session, { ...(before[id] as unknown as ConfigState), raw: [] });
      if (restored.pendingReboot) rebootBy ??= id;
      await h.guardedTx(async (tx) => {
        await noteRolloutHost(tx, loaded.row.id, `${id}: restored ${restored.changes.length} value(s) to their state before the rollout`);
        await recordAuditInTx(tx, { actor: h.actor, action: "rollout.host_restored", target: `host:${loaded.host.name}`, details: { rolloutId: loaded.rolloutId, playbook: id, changes: restored.changes } });
      });
      for (const c of restored.changes) await h.log(`${id}: ${c.path} ${c.value}: ${c.from ?? "(absent)"} -> ${c.to ?? "(deleted)"}`);
    }
    if (rebootBy && loaded.settings.rebootPolicy === "now") {
      await restartAndWait(h, { ...loaded, row: { ...loaded.row, bootIdentity: null } }, session, playbookById(rebootBy)!, opts);
      return { ok: true, pendingReboot: false };
    }
    return { ok: true, pendingReboot: rebootBy !== null };
  } finally {
    await session.close();
  }
}

export function rollbackTask(opts: RolloutTaskOptions = {}): TaskKind {
  return rolloutHostTask("rollback", QUEUES.rollbackTask, opts, async (h, loaded) => {
    let restored;
    try {
      restored = await restoreHost(h, loaded, opts);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const unreachable = err instanceof TransportError && (err.code === "connect" || err.code === "timeout");
      return endHost(h, loaded, { task: unreachable ? "unreachable" : "failed", host: "failed", reason: `rollback failed: ${message}`, line: `-> rollback failed: ${message}`, action: "rollout.host_rollback_failed" });
    }
    if (!restored.ok) return endHost(h, loaded, { task: "failed", host: "failed", reason: `rollback failed: ${restored.reason}`, line: `-> rollback failed: ${restored.reason}`, action: "rollout.host_rollback_failed" });
    if (restored.pendingReboot) {
      return endHost(h, loaded, { task: "pending_reboot", host: "rolled_back", reason: "prior values restored; effective after the next restart (reboot policy: never)", line: "-> rolled back; effective after the host restarts", action: "rollout.host_rolled_back" });
    }
    const wire = await probeNow(h, opts);
    const check = wireMatchesBefore(loaded.plan.wireBefore as Record<string, TlsVersion[]>, wire.endpoints);
    const evidence = { write: async (tx: Parameters<NonNullable<Extract<TaskResult, { kind: "finish" }>["write"]>>[0]) => void (await wire.write(tx, h.lease.jobId)), audit: wire.audit };
    if (!check.ok) return endHost(h, loaded, { task: "failed", host: "failed", reason: `rolled back, but the wire does not match the state before the rollout: ${check.reason}`, line: `-> rollback not verified: ${check.reason}`, action: "rollout.host_rollback_failed" }, evidence);
    const result = endHost(h, loaded, { task: "succeeded", host: "rolled_back", reason: null, line: `-> rolled back and verified: ${check.summary}`, action: "rollout.host_rolled_back" }, evidence);
    return { ...result, afterCommit: () => advanceRolloutSoon(loaded.rolloutId) } as TaskResult;
  });
}
