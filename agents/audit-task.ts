// The config audit task: open a credentialed session to one host (SSH or WinRM), run the
// read-only check of every playbook that applies to it, store a ConfigSnapshot per playbook,
// recompute the host's status from wire + config evidence. Runs in worker processes; registered
// in agents/worker.ts.
//
// Crash safety is the scan task's (lib/jobs/tasks.ts: claim under a lease, guarded writes). Each
// playbook's snapshot is written in its own transaction, guarded by the lease, so a snapshot is
// either stored whole or not at all, and an attempt that lost its lease writes nothing more.
//
// Host keys: the credential is decrypted here only, after the allow-list check, and offered only
// after the host has proved its identity. First contact (no pinned key) records the presented
// key as pending for an admin to confirm (audit event host.key_first_seen) and runs the
// read-only checks; a key other than the pinned one is refused before any credential is sent
// (host.key_mismatch), and the new key is kept as pending for an admin to look at.
import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import net from "node:net";
import tls from "node:tls";
import type PgBoss from "pg-boss";
import { prisma } from "../lib/db";
import { env } from "../lib/env";
import { logger } from "../lib/log";
import { recordAuditInTx } from "../lib/audit/log";
import { notifyDrift, recordDriftInTx, updateHostStatusInTx, wireProtocols, type StatusUpdate } from "../lib/compliance/update";
import { secretForWorker } from "../lib/credentials/service";
import { effectiveAllowList } from "../lib/settings";
import { QUEUES } from "../lib/jobs/queue";
import { everyWithoutOverlap } from "../lib/jobs/interval";
import { startPool, type PoolOutcome } from "../lib/jobs/pool";
import { stampLine } from "../lib/jobs/scan-report";
import {
  appendTaskLog,
  claimTask,
  expiredLeases,
  finishTaskInTx,
  LEASE_RENEW_MS,
  LeaseLostError,
  refreshJobState,
  releaseTask,
  renewLease,
  staleQueuedTasks,
  TaskMessage,
  taskMessage,
  type TaskLease,
  type Tx,
} from "../lib/jobs/tasks";
import { isTargetAllowed, type AllowList } from "../lib/tls/allowlist";
import { parseAllowList } from "../lib/tls";
import { playbooksFor } from "./playbooks";
import { describeVersions, LEGACY_VERSIONS, type ProtocolSetting } from "./playbooks/linux-common";
import type { ConfigState, Playbook, RawOutput } from "./playbooks/types";
import type { SchannelState } from "./playbooks/windows-schannel";
import { openSshSession, SshHostKeyMismatchError } from "./transport/ssh";
import { HostKeyMismatchError, TransportError, type RemoteSession } from "./transport/types";
import { openWinRmSession } from "./transport/winrm";

export interface AuditWorkerContext {
  workerId: string;
  boss: PgBoss;
  shutdown: AbortSignal;
  /** Tests shorten it; production uses the transports' defaults. */
  connectTimeoutMs?: number;
}

type StopReason = "cancel" | "lease-lost" | "shutdown";
type TaskEnd = "succeeded" | "failed" | "unreachable" | "skipped" | "cancelled";

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

function versionsVerdict(enabled: ProtocolSetting["enabled"]): string {
  if (enabled === null) return "cannot tell which versions";
  const legacy = enabled.filter((v) => LEGACY_VERSIONS.includes(v));
  if (legacy.length === 2) return "TLS 1.0/1.1 enabled";
  if (legacy.length === 1) return `${legacy[0] === "TLSv1" ? "TLS 1.0" : "TLS 1.1"} enabled`;
  if (!enabled.includes("TLSv1.2")) return "TLS 1.2 disabled";
  return `${describeVersions(enabled)} only`;
}

/** Task log lines for one playbook's state, in the operator's terms. Pure. */
export function describeState(state: ConfigState & { settings?: ProtocolSetting[] }): string[] {
  const id = state.playbookId;
  if (id === "windows-schannel") {
    const s = state as unknown as SchannelState;
    const dword = (v: number | null) => (v === null ? "absent" : String(v));
    const lines = (["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"] as const).map((v) => {
      const p = s.protocols?.[v];
      const hc = s.healthChecker?.versions?.[v]?.configuration ?? "?";
      if (!p) return `${id}: ${v}: not read`;
      return `${id}: ${v} Server: Enabled=${dword(p.Server.Enabled)}, DisabledByDefault=${dword(p.Server.DisabledByDefault)}; Client: Enabled=${dword(p.Client.Enabled)}, DisabledByDefault=${dword(p.Client.DisabledByDefault)} -> HealthChecker: ${hc}`;
    });
    return [...lines, `${id}: ${state.summary}`];
  }
  const settings = Array.isArray(state.settings) ? state.settings : [];
  const lines = settings.map((st) => `${id}: ${st.scope ? `${st.scope}: ` : ""}${st.setting} = ${st.value ?? "(default)"}${st.source === "explicit" ? "" : ` (${st.source})`} -> ${versionsVerdict(st.enabled)}`);
  return lines.length ? lines : [`${id}: ${state.summary}`];
}

// ---- Windows: a change that waits for its reboot -------------------------------------------
//
// Windows flags servicing reboots, not registry edits: a SCHANNEL change (ours or anyone's) only
// shows up as "the values differ from what we saw last time". It stays pending until the wire
// serves what the registry says, which is how a restart is observed from outside.

const CHANGE_KEY = "changeAwaitingReboot";

function managedValues(state: SchannelState): string {
  return JSON.stringify({ protocols: state.protocols, dotnet: state.dotnet });
}

interface AwaitingReboot {
  since: string;
  reason: string;
}

async function schannelChangeAwaitingReboot(hostId: string, state: SchannelState): Promise<AwaitingReboot | null> {
  const prev = await prisma.configSnapshot.findFirst({ where: { hostId, playbook: "windows-schannel" }, orderBy: [{ takenAt: "desc" }, { id: "desc" }], select: { takenAt: true, state: true } });
  if (!prev || !prev.state || typeof prev.state !== "object") return null;
  const before = prev.state as unknown as SchannelState & { [CHANGE_KEY]?: AwaitingReboot | null };
  if (before.protocols && managedValues(before) !== managedValues(state)) {
    return { since: new Date().toISOString(), reason: `SCHANNEL/.NET values changed since the audit of ${prev.takenAt.toISOString().slice(0, 16).replace("T", " ")} UTC; not effective until the host restarts` };
  }
  const carried = before[CHANGE_KEY];
  if (!carried) return null;
  // Restarted since? Then a probe taken after the change serves what the registry says.
  const probes = await prisma.$queryRaw<Array<{ protocols: unknown; verdict: string }>>`
    SELECT DISTINCT ON (r."endpointId") r.protocols, r.verdict
    FROM "ProbeResult" r JOIN "Endpoint" e ON e.id = r."endpointId"
    WHERE e."hostId" = ${hostId}::uuid AND r."probedAt" > ${new Date(carried.since)}
    ORDER BY r."endpointId", r."probedAt" DESC`;
  const wire = { "TLS 1.0": "TLSv1", "TLS 1.1": "TLSv1.1", "TLS 1.2": "TLSv1.2" } as const;
  const agrees = probes.some((p) => {
    if (p.verdict === "unreachable" || p.verdict === "error") return false;
    const seen = wireProtocols(p.protocols);
    return (Object.keys(wire) as Array<keyof typeof wire>).every((v) => seen[wire[v]] === "unknown" || (seen[wire[v]] === "accepted") === state.effective[v].server);
  });
  return agrees ? null : carried;
}

// ---- sessions ------------------------------------------------------------------------------

interface HostRow {
  id: string;
  name: string;
  address: string;
  platform: "windows" | "linux" | "other";
  roles: string[];
  transport: "ssh" | "winrm" | "none";
  port: number | null;
  credentialId: string | null;
  pinnedKey: string | null;
  pinnedKeyPending: string | null;
  pinnedAt: Date | null;
}

interface OpenedSession {
  session: RemoteSession;
  /** What the host presented (SSH fingerprint, WinRM certificate SHA-256), null over WinRM/HTTP. */
  presented: string | null;
  /** True: matched the pinned key. */
  pinned: boolean;
}

/** SHA-256 thumbprint of the certificate the WinRM HTTPS listener presents; nothing else is sent. */
function winrmCertificateThumbprint(address: string, port: number, timeoutMs: number, hostLabel: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // A host that still needs the fix may only speak TLS 1.0/1.1 on 5986 too (HTTP.sys uses
    // SCHANNEL); OpenSSL 3 offers those only at security level 0. Only the certificate is read.
    const socket = tls.connect({ host: address, port, rejectUnauthorized: false, servername: net.isIP(address) ? undefined : address, minVersion: "TLSv1", ciphers: "ALL:@SECLEVEL=0" });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TransportError(hostLabel, `WinRM on ${hostLabel} did not complete a TLS handshake within ${Math.round(timeoutMs / 1000)} s.`, { code: "timeout" }));
    }, timeoutMs);
    socket.once("secureConnect", () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      socket.destroy();
      if (!cert?.raw) return reject(new TransportError(hostLabel, `WinRM on ${hostLabel} presented no certificate.`, { code: "protocol" }));
      resolve(createHash("sha256").update(cert.raw).digest("hex"));
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(new TransportError(hostLabel, `Cannot reach WinRM on ${hostLabel}: ${err.message}`, { code: "connect", cause: err }));
    });
  });
}

class AuditRefusal extends Error {
  constructor(
    message: string,
    readonly end: TaskEnd,
  ) {
    super(message);
  }
}

async function openSession(host: HostRow, allowList: AllowList, ctx: AuditWorkerContext): Promise<OpenedSession> {
  const secret = await secretForWorker(host.credentialId!).catch((err: unknown) => {
    throw new AuditRefusal(err instanceof Error && (err as { userFacing?: boolean }).userFacing ? err.message : "The host's credential cannot be decrypted with the configured keys", "failed");
  });
  if (host.transport === "ssh") {
    if (secret.kind !== "ssh_key" && secret.kind !== "ssh_password") {
      throw new AuditRefusal(`The host's transport is SSH but its credential is a ${secret.kind.replace("_", " ")} credential: assign an SSH credential on the host`, "failed");
    }
    const port = host.port ?? 22;
    const s = await openSshSession({
      host: host.address,
      port,
      hostLabel: `${host.name} (${host.address}${port === 22 ? "" : `:${port}`})`,
      credential: secret.kind === "ssh_key" ? { kind: "ssh-key", username: secret.username, privateKey: secret.secret } : { kind: "ssh-password", username: secret.username, password: secret.secret },
      remoteOs: host.platform === "windows" ? "windows" : "linux",
      pinnedFingerprint: host.pinnedKey,
      pinnedAt: host.pinnedAt,
      allowList,
      ...(ctx.connectTimeoutMs ? { connectTimeoutMs: ctx.connectTimeoutMs } : {}),
    });
    return { session: s, presented: s.hostKeyFingerprint, pinned: s.hostKeyPinned };
  }
  if (secret.kind !== "winrm_ntlm" && secret.kind !== "winrm_basic") {
    throw new AuditRefusal(`The host's transport is WinRM but its credential is a ${secret.kind.replace("_", " ")} credential: assign a WinRM credential on the host`, "failed");
  }
  const port = host.port ?? 5986;
  // 5985 is WinRM's HTTP listener (NTLM with message encryption); anything else is HTTPS.
  const transport = port === 5985 ? "http" : "https";
  const hostLabel = `${host.name} (${host.address}:${port})`;
  const auth = secret.kind === "winrm_basic" ? { kind: "basic" as const, username: secret.username, password: secret.secret } : { kind: "ntlm" as const, username: secret.username, password: secret.secret };
  let presented: string | null = null;
  let pin = host.pinnedKey;
  if (transport === "https" && !pin) {
    if (!isTargetAllowed(host.address, allowList)) throw new TransportError(hostLabel, `${hostLabel} is outside the allowed targets (Settings > Allowed targets); no connection was made.`, { code: "config" });
    // First contact: trust this certificate for this read-only session, record it as pending.
    presented = await winrmCertificateThumbprint(host.address, port, ctx.connectTimeoutMs ?? 10_000, hostLabel);
    pin = presented;
  }
  const session = await openWinRmSession({
    host: host.address,
    port,
    transport,
    auth,
    hostLabel,
    allowList,
    // Always pinned (confirmed, or this first contact's certificate for read-only checks), so a
    // TLS 1.0 management channel to a host that still needs the fix is still authenticated.
    ...(transport === "https" ? { tls: { thumbprint: pin!, minVersion: "TLSv1" as const } } : {}),
    ...(ctx.connectTimeoutMs ? { connectTimeoutMs: ctx.connectTimeoutMs } : {}),
  });
  if (transport === "https" && host.pinnedKey) presented = host.pinnedKey;
  return { session, presented, pinned: transport === "https" && !!host.pinnedKey };
}

function normalizedPin(key: string | null): string | null {
  if (!key) return null;
  return /^[0-9a-f:\s]+$/i.test(key) ? key.replace(/[\s:]/g, "").toLowerCase() : key.trim();
}

// ---- the task ------------------------------------------------------------------------------

/** Fails inside a transaction unless this attempt still holds the task (LeaseLostError rolls back). */
async function assertLeaseInTx(tx: Tx, lease: TaskLease) {
  const n = await tx.$executeRaw`
    UPDATE "JobTask" SET "updatedAt" = clock_timestamp()
    WHERE id = ${lease.taskId}::uuid AND "lockedBy" = ${lease.workerId} AND attempt = ${lease.attempt} AND state = 'running'`;
  if (n !== 1) throw new LeaseLostError(lease);
}

export async function handleAuditMessage(job: { data: unknown; priority?: number }, ctx: AuditWorkerContext): Promise<PoolOutcome> {
  const parsed = TaskMessage.safeParse(job.data);
  if (!parsed.success) {
    logger.error({ data: job.data, issues: parsed.error.issues }, "audit-task message does not parse; dropped");
    return "done";
  }
  const claim = await claimTask(parsed.data.taskId, ctx.workerId);
  if (claim.kind === "defer") {
    await ctx.boss.insert([taskMessage(QUEUES.auditTask, { id: parsed.data.taskId, jobId: parsed.data.jobId }, { priority: job.priority ?? 0, startAfterSeconds: 2 + Math.random() * 3 })]);
    return "deferred";
  }
  if (claim.kind !== "claimed") return "done";
  await runClaimedAudit(claim.lease, ctx);
  return "done";
}

async function runClaimedAudit(lease: TaskLease, ctx: AuditWorkerContext): Promise<void> {
  const host: HostRow | null = await prisma.host.findUnique({
    where: { id: lease.hostId },
    select: { id: true, name: true, address: true, platform: true, roles: true, transport: true, port: true, credentialId: true, pinnedKey: true, pinnedKeyPending: true, pinnedAt: true },
  });
  if (!host) return;
  const actor = `worker:${ctx.workerId}`;
  const log = (line: string) => appendTaskLog(lease, stampLine(line, new Date()));

  let stopReason: StopReason | null = null;
  let session: RemoteSession | null = null;
  const stopWith = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    // Closing the session ends a running command at once; the playbook's check then throws.
    void session?.close();
  };
  const onShutdown = () => stopWith("shutdown");
  if (ctx.shutdown.aborted) onShutdown();
  else ctx.shutdown.addEventListener("abort", onShutdown, { once: true });
  const renewal = setInterval(() => {
    renewLease(lease)
      .then((r) => {
        if (!r.held) stopWith("lease-lost");
        else if (r.cancelRequested) stopWith("cancel");
      })
      .catch((err: unknown) => logger.warn({ err, task: lease.taskId }, "lease renewal failed; retrying at the next tick"));
  }, LEASE_RENEW_MS);

  /** Ends the task; with snapshots stored, recomputes the host's status in the same transaction. */
  const finish = async (end: TaskEnd, error: string | null, summary: string, opts: { recompute?: boolean; events?: Array<{ action: string; details: Record<string, unknown> }> } = {}) => {
    let update: StatusUpdate | null = null;
    await prisma.$transaction(
      async (tx) => {
        await finishTaskInTx(tx, lease, end, error, stampLine(summary, new Date()));
        if (opts.recompute) update = await updateHostStatusInTx(tx, host.id, { actor, auditDrift: false });
        await refreshJobState(tx, lease.jobId);
        if (update) await recordDriftInTx(tx, update, actor);
        for (const e of opts.events ?? []) await recordAuditInTx(tx, { actor, action: e.action, target: `host:${host.name}`, details: { jobId: lease.jobId, ...e.details } });
      },
      { timeout: 30_000, maxWait: 15_000 },
    );
    const u = update as StatusUpdate | null;
    if (u?.drift) void notifyDrift(u);
    return u;
  };

  try {
    if (host.transport === "none" || !host.credentialId) {
      const why = host.transport === "none" ? "no credential: set one on the host (and its transport, ssh or winrm)" : "no credential: set one on the host";
      await finish("skipped", why, `skipped: ${why}`);
      return;
    }
    const playbooks: Playbook<ConfigState>[] = playbooksFor(host);
    if (playbooks.length === 0) {
      const why = `no playbook applies to a ${host.platform} host with roles [${host.roles.join(", ")}]: set its platform and roles on the host`;
      await finish("skipped", why, `skipped: ${why}`);
      return;
    }
    const allowed = await effectiveAllowList();
    const allowList = allowed?.list ?? parseAllowList([]);
    if (!isTargetAllowed(host.address, allowList)) {
      const why = `${host.address} is outside the allowed targets (Settings > Allowed targets); no connection was made`;
      await finish("failed", why, `-> failed: ${why}`, {
        events: [{ action: "audit.target_refused", details: { address: host.address, allowedTargets: allowed ? `${allowed.source}: ${allowed.list.entries.join(", ")}` : "none configured" } }],
      });
      return;
    }

    await log(`connecting to ${host.name} (${host.address}) over ${host.transport}${host.port ? ` port ${host.port}` : ""}; playbooks: ${playbooks.map((p) => p.id).join(", ")}`);
    let opened: OpenedSession;
    try {
      opened = await openSession(host, allowList, ctx);
    } catch (err) {
      if (err instanceof AuditRefusal) {
        await finish(err.end, err.message, `-> ${err.end}: ${err.message}`);
        return;
      }
      if (err instanceof HostKeyMismatchError) {
        const actual = err.actual;
        await prisma.host.update({ where: { id: host.id }, data: { pinnedKeyPending: actual } });
        await finish("failed", err.message, `-> failed: ${err.message}`, {
          events: [{ action: "host.key_mismatch", details: { identity: err.identity, expected: err.expected, presented: actual, authenticationAttempted: err instanceof SshHostKeyMismatchError ? err.authenticationAttempted : false } }],
        });
        return;
      }
      if (err instanceof TransportError) {
        const end: TaskEnd = err.code === "connect" || err.code === "timeout" ? "unreachable" : "failed";
        await finish(end, err.message, `-> ${end}: ${err.message}`);
        return;
      }
      throw err;
    }
    session = opened.session;
    if (stopReason) void session.close();

    const events: Array<{ action: string; details: Record<string, unknown> }> = [];
    if (opened.presented && !opened.pinned) {
      // First contact: trust on first use is recorded, never silent. Only read-only checks follow.
      if (normalizedPin(host.pinnedKeyPending) !== normalizedPin(opened.presented)) {
        await prisma.host.update({ where: { id: host.id }, data: { pinnedKeyPending: opened.presented } });
      }
      events.push({ action: "host.key_first_seen", details: { transport: host.transport, key: opened.presented } });
      await log(`first contact: ${host.transport === "ssh" ? "host key" : "certificate"} ${opened.presented} recorded as pending; an admin confirms it on the host page (only read-only checks run until then)`);
    } else if (opened.pinned) {
      await log(`${host.transport === "ssh" ? "host key" : "certificate"} matches the pinned one${host.pinnedAt ? ` (pinned ${host.pinnedAt.toISOString().slice(0, 10)})` : ""}`);
    }

    let stored = 0;
    let rebootPending = false;
    const failures: string[] = [];
    let lostConnection: TransportError | null = null;
    for (const playbook of playbooks) {
      if (stopReason) break;
      let state: ConfigState;
      try {
        state = await playbook.check(session);
      } catch (err) {
        if (stopReason) break;
        const msg = err instanceof Error ? err.message : String(err);
        if (err instanceof TransportError && (err.code === "connect" || err.code === "timeout")) lostConnection = err;
        failures.push(`${playbook.id}: ${msg}`);
        await log(`${playbook.id}: check failed: ${msg}`);
        continue;
      }
      let awaiting: AwaitingReboot | null = null;
      if (playbook.id === "windows-schannel") awaiting = await schannelChangeAwaitingReboot(host.id, state as SchannelState);
      const pending = state.rebootPending || awaiting !== null;
      const { raw, ...parsed } = state;
      const snapshotState = { ...parsed, rebootPending: pending, ...(playbook.id === "windows-schannel" ? { [CHANGE_KEY]: awaiting, hostRebootIndicators: state.rebootPending } : {}) };
      await prisma.$transaction(async (tx) => {
        await assertLeaseInTx(tx, lease);
        await tx.configSnapshot.create({
          data: { hostId: host.id, jobId: lease.jobId, takenAt: new Date(state.collectedAt), playbook: playbook.id, state: snapshotState as never, raw: concatRaw(raw), rebootPending: pending },
        });
      });
      stored++;
      for (const line of describeState(state)) await log(line);
      if (pending) {
        rebootPending = true;
        await log(`${playbook.id}: reboot pending: ${awaiting ? awaiting.reason : "the host reports a pending restart (servicing indicators)"}`);
      }
    }
    await session.close();

    if (stopReason === "lease-lost") return;
    if (stopReason === "shutdown" && stored < playbooks.length) {
      if (await releaseTask(lease, "worker stopping")) await ctx.boss.insert([taskMessage(QUEUES.auditTask, { id: lease.taskId, jobId: lease.jobId }, { priority: 1 })]);
      // Pin bookkeeping already happened; its audit event must not be lost with the release.
      if (events.length) await prisma.$transaction(async (tx) => { for (const e of events) await recordAuditInTx(tx, { actor, action: e.action, target: `host:${host.name}`, details: { jobId: lease.jobId, ...e.details } }); });
      return;
    }
    let end: TaskEnd;
    let error: string | null = null;
    if (stopReason === "cancel" && stored < playbooks.length) {
      end = "cancelled";
    } else if (failures.length === 0) {
      end = "succeeded";
    } else {
      end = stored === 0 && lostConnection ? "unreachable" : "failed";
      error = `${failures.length} of ${playbooks.length} playbook check(s) failed: ${failures.join("; ")}`;
    }
    const update = await finish(end, error, "", { recompute: stored > 0, events });
    const u = update as StatusUpdate | null;
    const tail = `-> ${end}${error ? `: ${error}` : ""}; ${stored} snapshot(s) stored${rebootPending ? ", reboot pending" : ""}${u ? `; host status ${u.status}: ${u.explanation}` : ""}`;
    // The task row is final now; the summary line goes in with a plain append (no lease any more).
    await prisma.$executeRaw`UPDATE "JobTask" SET log = log || ${stampLine(tail, new Date())} WHERE id = ${lease.taskId}::uuid`;
  } catch (err) {
    if (err instanceof LeaseLostError) {
      logger.warn({ task: lease.taskId, attempt: lease.attempt }, "audit results discarded: the lease was lost");
      return;
    }
    throw err;
  } finally {
    clearInterval(renewal);
    ctx.shutdown.removeEventListener("abort", onShutdown);
    await session?.close();
  }
}

export const AUDIT_REAPER_INTERVAL_MS = 5_000;

/** Re-sends messages of audit tasks whose worker died, and of queued tasks nobody touched. */
export async function reapAuditsOnce(boss: PgBoss, tick: number): Promise<number> {
  const expired = await expiredLeases("audit");
  const stale = tick % 12 === 0 ? await staleQueuedTasks("audit", 5 * 60) : [];
  const messages = [...expired.map((t) => taskMessage(QUEUES.auditTask, t, { priority: 1 })), ...stale.map((t) => taskMessage(QUEUES.auditTask, t))];
  if (messages.length) await boss.insert(messages);
  return messages.length;
}

/** Starts this worker's audit machinery; returns its stop function. */
export async function registerAuditHandlers(
  boss: PgBoss,
  opts: { workerId: string; concurrency?: number; pollIntervalMs?: number; connectTimeoutMs?: number },
): Promise<() => Promise<void>> {
  const shutdown = new AbortController();
  const concurrency = opts.concurrency ?? Math.max(1, Math.min(env.TLSFLEET_WORKER_CONCURRENCY, 8));
  setMaxListeners(concurrency + 10, shutdown.signal);
  const ctx: AuditWorkerContext = { workerId: opts.workerId, boss, shutdown: shutdown.signal, connectTimeoutMs: opts.connectTimeoutMs };
  const pool = startPool(
    boss,
    { queue: QUEUES.auditTask, concurrency, pollIntervalMs: opts.pollIntervalMs ?? 1_000, onError: (err) => logger.error({ err }, "audit task failed") },
    (job) => handleAuditMessage(job, ctx),
  );
  const stopReaper = everyWithoutOverlap(AUDIT_REAPER_INTERVAL_MS, (tick) => reapAuditsOnce(boss, tick), (err) => logger.error({ err }, "audit reaper failed"));
  return async () => {
    stopReaper();
    shutdown.abort();
    await pool.stop();
  };
}
