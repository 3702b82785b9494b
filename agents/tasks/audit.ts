// The config audit task: open a credentialed session to one host (agents/transport/open-session),
// run the read-only check of every playbook that applies to it, store a ConfigSnapshot per
// playbook, recompute the host's status from wire + config evidence. Each snapshot is written in
// its own lease-guarded transaction, so it is stored whole or not at all, and an attempt that
// lost its lease writes nothing more.
//
// Host keys (docs/security.md "Host identity"): first contact (no pinned key) reads the key
// without authenticating and records it as pending for an admin to confirm (host.key_first_seen);
// the task fails with what to do, and no credential is sent. A host an admin set to trust on first
// use gets that key pinned (host.key_pinned_first_use) and is audited. A key other than the pinned
// or pending one is refused before any credential is sent (host.key_mismatch); it is kept as
// pending only when nothing is pending yet, never swapped in for a pending key.
import { prisma } from "../../lib/db";
import { formatUtc } from "../../lib/time";
import { recordAuditInTx } from "../../lib/audit/log";
import { notifyDrift, recordDriftInTx, updateHostStatusInTx, type StatusUpdate } from "../../lib/compliance/update";
import { QUEUES } from "../../lib/jobs/queue";
import { effectiveAllowList } from "../../lib/settings";
import { parseAllowList } from "../../lib/tls";
import { playbooksFor } from "../playbooks";
import { WINDOWS_BOOT_TIME_JITTER_MS } from "../playbooks/boot-identity";
import type { ConfigState, Playbook, RawOutput } from "../playbooks/types";
import { recordPendingKey } from "../../lib/hosts/host-keys";
import { CredentialScopeError, openHostSession, PendingKeyMismatchError, TargetRefusedError, type OpenedSession } from "../transport/open-session";
import { SshHostKeyMismatchError } from "../transport/ssh";
import { HostKeyMismatchError, HostKeyUnconfirmedError, TransportError, type RemoteSession } from "../transport/types";
import { sessionTaskConcurrency, type TaskAuditEvent, type TaskEnd, type TaskHelpers, type TaskKind, type TaskResult } from "./runner";

/** Raw command outputs kept with a snapshot for the audit trail; beyond this they are cut. */
export const MAX_RAW_CHARS = 256 * 1024;

/** The raw outputs of one check, one block per command, capped at MAX_RAW_CHARS. Pure. */
export function concatRaw(raw: readonly RawOutput[], max = MAX_RAW_CHARS): string {
  let out = "";
  for (const r of raw) {
    out += `$ ${r.argv.join(" ")}\n[exit ${r.exitCode ?? "none"}]\n${r.stdout}${r.stdout.endsWith("\n") || r.stdout === "" ? "" : "\n"}`;
    if (r.stderr) out += `[stderr]\n${r.stderr}${r.stderr.endsWith("\n") ? "" : "\n"}`;
    if (out.length > max) {
      const note = `\n[truncated: the raw outputs exceeded ${max} characters]\n`;
      return out.slice(0, max - note.length) + note;
    }
  }
  return out;
}

// ---- a change that waits for its restart ----------------------------------------------------
//
// For playbooks whose values take effect only after a restart the host does not flag
// (Playbook.effectiveAfterRestart: SCHANNEL), a change shows as "the values differ from the
// last snapshot". It was made at some time T after that snapshot; it is in effect once a check
// sees the host booted after T, and not before, whatever the wire shows (a Client or .NET change
// never shows on the inbound wire). T is the rollout's apply when it was ours; otherwise the last
// snapshot's time when the host has not booted since (a later boot is then after T too), and when
// it has, this check's time: which came first is unknowable, so a further boot is waited for.

const CHANGE_KEY = "changeAwaitingReboot";

interface AwaitingReboot {
  since: string;
  reason: string;
}


/** When a rollout last wrote this playbook's values on the host after `after`, or null. */
async function rolloutAppliedAt(hostName: string, playbookId: string, after: Date): Promise<Date | null> {
  const row = await prisma.auditEvent.findFirst({
    where: { action: "rollout.host_applied", target: `host:${hostName}`, at: { gt: after }, details: { path: ["playbook"], equals: playbookId } },
    orderBy: { seq: "desc" },
    select: { at: true },
  });
  return row?.at ?? null;
}

export async function changeAwaitingRestart(host: { id: string; name: string }, playbook: Playbook<ConfigState>, state: ConfigState): Promise<AwaitingReboot | null> {
  const tracking = playbook.effectiveAfterRestart;
  if (!tracking) return null;
  const prev = await prisma.configSnapshot.findFirst({ where: { hostId: host.id, playbook: playbook.id }, orderBy: [{ takenAt: "desc" }, { id: "desc" }], select: { takenAt: true, state: true } });
  if (!prev || !prev.state || typeof prev.state !== "object") return null;
  const before = prev.state as unknown as ConfigState & { [CHANGE_KEY]?: AwaitingReboot | null };
  const bootText = tracking.lastBootAt(state);
  const boot = bootText ? new Date(bootText) : null;
  const bootedAfter = (t: Date) => boot !== null && boot.getTime() - t.getTime() > WINDOWS_BOOT_TIME_JITTER_MS;
  const unknownBoot = boot ? "" : "; the boot time could not be read, so it stays pending until it can";
  const previous = tracking.managedValues(before);
  if (previous && previous !== tracking.managedValues(state)) {
    const applied = await rolloutAppliedAt(host.name, playbook.id, prev.takenAt);
    const ambiguous = applied === null && bootedAfter(prev.takenAt);
    const since = applied ?? (ambiguous ? new Date(state.collectedAt) : prev.takenAt);
    if (bootedAfter(since)) return null;
    const when = applied ? `applied by a rollout at ${formatUtc(applied)}` : `changed since the audit of ${formatUtc(prev.takenAt)}`;
    const order = ambiguous ? ` (the host restarted at ${formatUtc(boot!)}, before or after the change: a further restart is needed to be sure)` : "";
    return { since: since.toISOString(), reason: `${tracking.what} ${when}${order}; not effective until the host restarts${unknownBoot}` };
  }
  const carried = before[CHANGE_KEY];
  if (!carried) return null;
  return bootedAfter(new Date(carried.since)) ? null : { ...carried, reason: carried.reason.replace(/; the boot time could not be read.*$/, "") + unknownBoot };
}

// ---- the task ------------------------------------------------------------------------------

function finish(state: TaskEnd, error: string | null, events: TaskAuditEvent[] = []): TaskResult {
  return { kind: "finish", state, error, summary: `${state === "skipped" ? "skipped" : `-> ${state}`}${error ? `: ${error}` : ""}`, events };
}

/** The task's end when opening the session failed, with the pin bookkeeping the failure needs. */
async function sessionFailure(h: TaskHelpers, hostId: string, err: unknown): Promise<TaskResult> {
  if (err instanceof TargetRefusedError) {
    const allowed = await effectiveAllowList();
    return finish("failed", err.message, [{ action: "audit.target_refused", details: { address: err.address, allowedTargets: allowed ? `${allowed.source}: ${allowed.list.entries.join(", ")}` : "none configured" } }]);
  }
  if (err instanceof CredentialScopeError) {
    return finish("failed", err.message, [{ action: "audit.credential_out_of_scope", details: { reason: err.message } }]);
  }
  if (err instanceof HostKeyUnconfirmedError) {
    const recorded = await recordPendingKey(hostId, err.presented);
    return finish("failed", err.message, [{ action: "host.key_first_seen", details: { identity: err.identity, key: err.presented, recordedAsPending: recorded } }]);
  }
  if (err instanceof HostKeyMismatchError) {
    const against = err instanceof PendingKeyMismatchError ? "pending" : "pinned";
    // A changed pinned key is kept for an admin to look at, unless a key is already waiting.
    const recorded = against === "pinned" ? await recordPendingKey(hostId, err.actual) : false;
    return finish("failed", err.message, [
      {
        action: "host.key_mismatch",
        details: { identity: err.identity, against, expected: err.expected, presented: err.actual, recordedAsPending: recorded, authenticationAttempted: err instanceof SshHostKeyMismatchError ? err.authenticationAttempted : false },
      },
    ]);
  }
  if (err instanceof TransportError) return finish(err.code === "connect" || err.code === "timeout" ? "unreachable" : "failed", err.message);
  throw err;
}

export function auditTask(opts: { concurrency?: number; connectTimeoutMs?: number } = {}): TaskKind {
  return {
    kind: "audit",
    queue: QUEUES.auditTask,
    concurrency: sessionTaskConcurrency(opts.concurrency),
    async run(h): Promise<TaskResult> {
      const host = await prisma.host.findUnique({
        where: { id: h.lease.hostId },
        select: {
          id: true, name: true, group: true, address: true, platform: true, roles: true, transport: true, port: true, credentialId: true,
          pinnedKey: true, pinnedKeyPending: true, pinnedAt: true, trustOnFirstUse: true, allowWinrmHttp: true, legacyTls: true,
        },
      });
      if (!host) return { kind: "discard", reason: "the host was deleted" };
      if (host.transport === "none" || !host.credentialId) {
        return finish("skipped", host.transport === "none" ? "no credential: set one on the host (and its transport, ssh or winrm)" : "no credential: set one on the host");
      }
      const playbooks = playbooksFor(host);
      if (playbooks.length === 0) return finish("skipped", `no playbook applies to a ${host.platform} host with roles [${host.roles.join(", ")}]: set its platform and roles on the host`);

      const allowed = await effectiveAllowList();
      await h.log(`connecting to ${host.name} (${host.address}) over ${host.transport}${host.port ? ` port ${host.port}` : ""}; playbooks: ${playbooks.map((p) => p.id).join(", ")}`);
      let opened: OpenedSession;
      try {
        opened = await openHostSession(host, { allowList: allowed?.list ?? parseAllowList([]), connectTimeoutMs: opts.connectTimeoutMs });
      } catch (err) {
        return sessionFailure(h, host.id, err);
      }
      const session: RemoteSession = opened.session;
      // Closing the session ends a running command at once; the playbook's check then throws.
      const closeOnStop = () => void session.close();
      if (h.signal.aborted) closeOnStop();
      else h.signal.addEventListener("abort", closeOnStop, { once: true });
      try {
        return await checkAll(h, host, playbooks, opened);
      } finally {
        h.signal.removeEventListener("abort", closeOnStop);
        await session.close();
      }
    },
  };
}

async function checkAll(
  h: TaskHelpers,
  host: { id: string; name: string; transport: string; pinnedAt: Date | null },
  playbooks: Playbook<ConfigState>[],
  opened: OpenedSession,
): Promise<TaskResult> {
  const events: TaskAuditEvent[] = [];
  const keyWord = host.transport === "ssh" ? "host key" : "certificate";
  if (opened.pinnedOnFirstUse) {
    events.push({ action: "host.key_pinned_first_use", details: { transport: host.transport, key: opened.presented } });
    await h.log(`first contact: ${keyWord} ${opened.presented} pinned (the host is set to trust on first use by an admin); every later contact must present it`);
  } else if (opened.pinned) {
    await h.log(`${keyWord} matches the pinned one${host.pinnedAt ? ` (pinned ${host.pinnedAt.toISOString().slice(0, 10)})` : ""}`);
  } else {
    await h.log("WinRM over HTTP (allowed for this host by an admin): no certificate to check");
  }

  let stored = 0;
  let rebootPending = false;
  const failures: string[] = [];
  let lostConnection = false;
  for (const playbook of playbooks) {
    if (h.stopReason()) break;
    let state: ConfigState;
    try {
      state = await playbook.check(opened.session);
    } catch (err) {
      if (h.stopReason()) break;
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof TransportError && (err.code === "connect" || err.code === "timeout")) lostConnection = true;
      failures.push(`${playbook.id}: ${msg}`);
      await h.log(`${playbook.id}: check failed: ${msg}`);
      continue;
    }
    const awaiting = await changeAwaitingRestart(host, playbook, state);
    const pending = state.rebootPending || awaiting !== null;
    const { raw, ...parsed } = state;
    const snapshotState = { ...parsed, rebootPending: pending, ...(playbook.effectiveAfterRestart ? { [CHANGE_KEY]: awaiting, hostRebootIndicators: state.rebootPending } : {}) };
    await h.guardedTx((tx) =>
      tx.configSnapshot.create({
        data: { hostId: host.id, jobId: h.lease.jobId, takenAt: new Date(state.collectedAt), playbook: playbook.id, state: snapshotState as never, raw: concatRaw(raw), rebootPending: pending },
      }),
    );
    stored++;
    for (const line of playbook.describe(state)) await h.log(line);
    if (pending) {
      rebootPending = true;
      await h.log(`${playbook.id}: reboot pending: ${awaiting ? awaiting.reason : "the host reports a pending restart (servicing indicators)"}`);
    }
  }

  const stop = h.stopReason();
  if (stop === "shutdown" && stored < playbooks.length) {
    // Pin bookkeeping already happened; its audit event must not be lost with the release.
    if (events.length) {
      await prisma.$transaction(async (tx) => {
        for (const e of events) await recordAuditInTx(tx, { actor: h.actor, action: e.action, target: `host:${host.name}`, details: { jobId: h.lease.jobId, ...e.details } });
      });
    }
    return { kind: "release", reason: "worker stopping" };
  }
  let end: TaskEnd;
  let error: string | null = null;
  if (stop === "cancel" && stored < playbooks.length) end = "cancelled";
  else if (failures.length === 0) end = "succeeded";
  else {
    end = stored === 0 && lostConnection ? "unreachable" : "failed";
    error = `${failures.length} of ${playbooks.length} playbook check(s) failed: ${failures.join("; ")}`;
  }
  let update: StatusUpdate | null = null;
  return {
    kind: "finish",
    state: end,
    error,
    write: async (tx) => {
      if (stored > 0) update = await updateHostStatusInTx(tx, host.id, { actor: h.actor, auditDrift: false });
    },
    summary: () => {
      const u = update as StatusUpdate | null;
      return `-> ${end}${error ? `: ${error}` : ""}; ${stored} snapshot(s) stored${rebootPending ? ", reboot pending" : ""}${u ? `; host status ${u.status}: ${u.explanation}` : ""}`;
    },
    audit: async (tx) => {
      if (update) await recordDriftInTx(tx, update, h.actor);
    },
    events,
    afterCommit: () => {
      const u = update as StatusUpdate | null;
      if (u?.drift) void notifyDrift(u);
    },
  };
}
