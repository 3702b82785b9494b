// The remediate task: one host of one rollout wave. Per host: re-read the configuration and
// refuse if it is not what the plan was made from ("plan out of date"); store the before-state
// first (a crash after it leaves a rollback point); apply; restart per the rollout's policy and
// wait for a new boot; verify every endpoint on the wire. The host is "verified" only when the
// wire shows the goal; a host that was never reached is never a success.
//
// A takeover after a crash (the lease ran out) sees the stored before-state and continues: a
// playbook whose values are already the goal is not written again, so no host is applied twice.
import { recordAuditInTx } from "../../lib/audit/log";
import { QUEUES } from "../../lib/jobs/queue";
import { HostBefore, sameChanges } from "../../lib/rollout/model";
import { wireMeetsGoals } from "../../lib/rollout/verify";
import { describeWindow, windowState } from "../../lib/rollout/window";
import { formatUtc } from "../../lib/time";
import { playbookById } from "../playbooks";
import type { ConfigState } from "../playbooks/types";
import { TransportError, type RemoteSession } from "../transport/types";
import { restoreHost } from "./rollback";
import type { TaskHelpers, TaskKind, TaskResult } from "./runner";
import { endHost, noteRolloutHost, openSessionFor, probeNow, restartAndWait, rolloutHostTask, waitForNewBoot, type LoadedRolloutHost, type RolloutTaskOptions } from "./rollout-steps";

const stripRaw = (s: ConfigState) => {
  const { raw: _raw, ...rest } = s;
  return rest;
};

function identityChanged(loaded: LoadedRolloutHost): string | null {
  const i = loaded.plan.identity;
  const h = loaded.host;
  if (i.address !== h.address) return `re-addressed since the plan (${i.address} -> ${h.address})`;
  if (i.transport !== h.transport || i.port !== h.port) return `its transport changed since the plan (${i.transport}:${i.port ?? "default"} -> ${h.transport}:${h.port ?? "default"})`;
  if (i.pinnedKey !== h.pinnedKey) return "its pinned key changed since the plan";
  return null;
}

export function remediateTask(opts: RolloutTaskOptions = {}): TaskKind {
  return rolloutHostTask("remediate", QUEUES.remediateTask, opts, async (h, loaded) => {
    const changed = identityChanged(loaded);
    if (changed && !loaded.row.before) return endHost(h, loaded, { task: "skipped", host: "out_of_date", reason: `plan out of date: ${changed}; make a new plan`, line: `not changed: plan out of date (${changed})`, action: "rollout.host_out_of_date" });

    // A takeover of a host that was restarting: only the wait remains.
    if (loaded.row.state === "rebooting" && loaded.row.bootIdentity) {
      await h.log(`resuming: ${loaded.host.name} was restarting when the previous attempt stopped`);
      try {
        await waitForNewBoot(h, loaded, loaded.row.bootIdentity, opts);
      } catch (err) {
        return failHost(h, loaded, err);
      }
      return verify(h, loaded, opts, true);
    }

    let session: RemoteSession;
    try {
      session = await openSessionFor(loaded.host, opts);
    } catch (err) {
      return failHost(h, loaded, err);
    }
    let pendingReboot = false;
    let rebootBy: string | null = null;
    const before = HostBefore.parse(loaded.row.before ?? {});
    const after: Record<string, unknown> = (loaded.row.after as Record<string, unknown> | null) ?? {};
    try {
      for (const planned of loaded.plan.playbooks) {
        if (planned.changes.length === 0) continue;
        const playbook = playbookById(planned.id);
        if (!playbook) return endHost(h, loaded, { task: "failed", host: "failed", reason: `the plan names a playbook this version does not have: ${planned.id}`, line: "failed: unknown playbook" });
        if (h.stopReason()) break;
        const state = await playbook.check(session);
        const current = loaded.goals.flatMap((g) => playbook.plan(state, g));
        if (before[planned.id]) {
          // A previous attempt stored the before-state and may have written some values.
          if (current.length === 0) {
            await h.log(`${planned.id}: already at the goal (applied ${loaded.row.state === "waiting_window" ? "before the wait for the maintenance window" : "by the previous attempt"}); nothing written`);
            pendingReboot ||= planned.rebootNeeded;
            rebootBy ??= planned.rebootNeeded ? planned.id : null;
            continue;
          }
        } else if (!sameChanges(current, planned.changes)) {
          const now = current.map((c) => `${c.value}: ${c.from ?? "(absent)"} -> ${c.to ?? "(delete)"}`).join("; ") || "nothing";
          return endHost(h, loaded, { task: "skipped", host: "out_of_date", reason: `plan out of date: ${planned.id} on the host differs from the plan (it would now change ${now}); make a new plan`, line: `not changed: plan out of date (${planned.id})`, action: "rollout.host_out_of_date" });
        } else {
          // The rollback point first: if the worker dies during apply, rollback still knows the prior values.
          before[planned.id] = stripRaw(state);
          await h.guardedTx((tx) => tx.rolloutHost.update({ where: { id: loaded.row.id }, data: { before: before as never, state: "applying" } }));
        }
        // Against the state just read: a second read would cost every host another check.
        const applied = await playbook.apply(session, current, { before: state });
        after[planned.id] = stripRaw(applied.after);
        pendingReboot ||= applied.pendingReboot;
        if (applied.pendingReboot) rebootBy ??= planned.id;
        // "applied", never "pending_reboot" here: that state is settled, and a wave must not move
        // on while this host is about to be restarted; the end of the task sets it when it stays.
        await h.guardedTx(async (tx) => {
          await tx.rolloutHost.update({ where: { id: loaded.row.id }, data: { after: after as never, state: "applied" } });
          await noteRolloutHost(tx, loaded.row.id, `${planned.id}: applied ${applied.changes.length} change(s)${applied.pendingReboot ? "; effective after a restart" : ""}`);
          await recordAuditInTx(tx, { actor: h.actor, action: "rollout.host_applied", target: `host:${loaded.host.name}`, details: { rolloutId: loaded.rolloutId, playbook: planned.id, changes: applied.changes } });
        });
        for (const c of applied.changes) await h.log(`${planned.id}: ${c.path} ${c.value}: ${c.from ?? "(absent)"} -> ${c.to ?? "(deleted)"}`);
      }
      if (h.stopReason() === "shutdown") return { kind: "release", reason: "worker stopping" };
      if (pendingReboot && rebootBy) {
        if (loaded.settings.rebootPolicy === "never") {
          await session.close();
          return endHost(h, loaded, { task: "pending_reboot", host: "pending_reboot", reason: "applied; effective after the next restart (reboot policy: never)", line: "-> pending reboot: the change takes effect after the host restarts", action: "rollout.host_pending_reboot" });
        }
        if (loaded.settings.rebootPolicy === "window") {
          const waiting = await untilWindow(h, loaded);
          if (waiting) {
            await session.close();
            return waiting;
          }
        }
        await restartAndWait(h, loaded, session, playbookById(rebootBy)!, opts);
        await h.guardedTx(async (tx) => {
          await tx.rolloutHost.update({ where: { id: loaded.row.id }, data: { state: "rebooted" } });
          await recordAuditInTx(tx, { actor: h.actor, action: "rollout.host_rebooted", target: `host:${loaded.host.name}`, details: { rolloutId: loaded.rolloutId } });
        });
      }
    } catch (err) {
      return failHost(h, loaded, err);
    } finally {
      await session.close();
    }
    return verify(h, loaded, opts, pendingReboot);
  });
}

/** Longest a task waiting for its window sleeps in the queue before it looks again. */
const WINDOW_RECHECK_SECONDS = 60 * 60;

/**
 * With the reboot policy "window": null when the window is open (restart now); otherwise the host
 * is marked waiting, and the task goes back to the queue until the window opens (the wave waits
 * with it, since a waiting host is not settled).
 */
async function untilWindow(h: TaskHelpers, loaded: LoadedRolloutHost): Promise<TaskResult | null> {
  const window = loaded.settings.maintenanceWindow!;
  const now = new Date();
  const state = windowState(window, now);
  if (state.open) {
    if (loaded.row.state === "waiting_window") await h.log(`the maintenance window is open (until ${formatUtc(state.closesAt)}): restarting`);
    return null;
  }
  const opens = formatUtc(state.opensAt);
  if (loaded.row.state !== "waiting_window") {
    await h.guardedTx(async (tx) => {
      await tx.rolloutHost.update({ where: { id: loaded.row.id }, data: { state: "waiting_window" } });
      await noteRolloutHost(tx, loaded.row.id, `applied; the restart waits for the maintenance window (${describeWindow(window)}), next at ${opens}`);
      await recordAuditInTx(tx, { actor: h.actor, action: "rollout.host_waiting_window", target: `host:${loaded.host.name}`, details: { rolloutId: loaded.rolloutId, opensAt: state.opensAt.toISOString() } });
    });
    await h.log(`-> waiting for the maintenance window: the restart starts at ${opens}`);
  }
  const seconds = Math.ceil((state.opensAt.getTime() - now.getTime()) / 1000);
  return { kind: "release", reason: `waiting for the maintenance window (opens ${opens})`, retryAfterSeconds: Math.max(1, Math.min(seconds, WINDOW_RECHECK_SECONDS)) };
}


async function verify(h: TaskHelpers, loaded: LoadedRolloutHost, opts: RolloutTaskOptions, rebooted: boolean): Promise<TaskResult> {
  await h.guardedTx((tx) => tx.rolloutHost.update({ where: { id: loaded.row.id }, data: { state: "verifying" } }));
  const wire = await probeNow(h, opts);
  if (h.stopReason() === "shutdown") return { kind: "release", reason: "worker stopping" };
  const check = wireMeetsGoals(loaded.goals, wire.endpoints);
  const evidence = { write: async (tx: Parameters<NonNullable<Extract<TaskResult, { kind: "finish" }>["write"]>>[0]) => void (await wire.write(tx, h.lease.jobId)), audit: wire.audit };
  if (check.ok) return endHost(h, loaded, { task: "succeeded", host: "verified", reason: null, line: `-> verified${rebooted ? " after the restart" : ""}: ${check.summary}`, action: "rollout.host_verified" }, evidence);
  if (loaded.settings.rollbackOnFailure && loaded.row.before !== null) {
    await h.log(`verification failed (${check.reason}); rolling back (rollback on failure is on)`);
    const restored = await restoreHost(h, loaded, opts).catch((err: unknown) => ({ ok: false as const, reason: err instanceof Error ? err.message : String(err) }));
    if (restored.ok) return endHost(h, loaded, { task: "failed", host: "rolled_back", reason: `verification failed (${check.reason}); rolled back`, line: `-> rolled back: verification failed (${check.reason})`, action: "rollout.host_rolled_back" }, evidence);
  }
  return endHost(h, loaded, { task: "failed", host: "failed", reason: `verification failed: ${check.reason}`, line: `-> failed verification: ${check.reason}`, action: "rollout.host_failed" }, evidence);
}

function failHost(h: TaskHelpers, loaded: LoadedRolloutHost, err: unknown): TaskResult {
  const message = err instanceof Error ? err.message : String(err);
  const unreachable = err instanceof TransportError && (err.code === "connect" || err.code === "timeout");
  return endHost(h, loaded, {
    task: unreachable ? "unreachable" : "failed",
    host: "failed",
    reason: unreachable ? `unreachable: ${message}` : message,
    line: `-> ${unreachable ? "unreachable" : "failed"}: ${message}`,
    action: "rollout.host_failed",
  });
}
