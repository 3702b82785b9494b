// The outbound check task: make one host send one message to the outbound check sink through
// its own mail software, and record what the sink saw as wire evidence for the outbound (client)
// direction (docs/outbound-check.md).
//
// Postfix: `sendmail` to tlsfleet-check-<token>@[sink address], an address literal, so the
// host's own smtp client delivers it to the sink on port 25 with the host's smtp_tls_* settings
// and no DNS or transport change. The message is removed from the host's queue afterwards when it
// is still there (a refused handshake leaves it deferred).
//
// Windows: a PowerShell script makes the connection itself with SslStream and the machine's
// SCHANNEL + .NET defaults (outbound-windows.ts), to the sink's address and port (any port: no
// mail software routes it). The script returns when its one connection is over.
import { randomBytes } from "node:crypto";
import { notifyDrift, recordDriftInTx, updateHostStatusInTx, type StatusUpdate } from "../../lib/compliance/update";
import { prisma } from "../../lib/db";
import { env } from "../../lib/env";
import { observationsFor } from "../../lib/outbound/observations";
import { outboundSettled, outboundVerdict, type ObservedConnection, type OutboundVerdict } from "../../lib/outbound/verdict";
import { QUEUES } from "../../lib/jobs/queue";
import { effectiveAllowList } from "../../lib/settings";
import { parseAllowList } from "../../lib/tls";
import { openHostSession } from "../transport/open-session";
import { describeWindowsReport, sendFromWindows, UnsafeScriptValueError } from "./outbound-windows";
import { TransportError, type RemoteSession } from "../transport/types";
import type { TaskHelpers, TaskKind, TaskResult } from "./runner";

export interface OutboundTaskOptions {
  concurrency?: number;
  /** How long to wait for the host's connection(s) to reach the sink. Default 60 s. */
  waitMs?: number;
  pollMs?: number;
}

/** The address and port hosts send to: TLSFLEET_OUTBOUND_SINK_ADDRESS, else the listen address. */
export function sinkTarget(): { address: string; port: number } | null {
  const listen = env.TLSFLEET_OUTBOUND_SINK_LISTEN;
  if (!listen) return null;
  const i = listen.lastIndexOf(":");
  const port = Number(listen.slice(i + 1));
  const address = (env.TLSFLEET_OUTBOUND_SINK_ADDRESS ?? listen.slice(0, i)).replace(/^\[|\]$/g, "");
  return { address, port };
}

function finish(state: "failed" | "skipped" | "unreachable", error: string): TaskResult {
  return { kind: "finish", state, error, summary: `-> ${state}: ${error}` };
}

export function outboundTask(opts: OutboundTaskOptions = {}): TaskKind {
  return {
    kind: "outbound_check",
    queue: QUEUES.outboundTask,
    concurrency: opts.concurrency ?? env.TLSFLEET_WORKER_CONCURRENCY,
    run: (h) => runOutboundCheck(h, opts),
  };
}

/** How one platform makes its host connect to the sink, and when what the sink saw is final. */
interface Sender {
  /** Makes the host send; `failed` says why it could not (the task fails with it). */
  send(session: RemoteSession, token: string): Promise<{ failed: string } | { waitMs: number; noConnectionHint?: string }>;
  settled(seen: readonly ObservedConnection[]): boolean;
  /** Also take connections from the host's address since the check began (not only the token's). */
  byAddress: boolean;
  cleanup?(session: RemoteSession, token: string): Promise<void>;
}

type Sink = NonNullable<ReturnType<typeof sinkTarget>>;

function postfixSender(h: TaskHelpers, hostName: string, sink: Sink, waitMs: number): Sender {
  return {
    async send(session, token) {
      const recipient = `tlsfleet-check-${token}@[${sink.address}]`;
      await h.log(`sending one message to ${recipient} through the host's Postfix (sendmail)`);
      const message = `Subject: tlsfleet outbound TLS check ${token}\nX-Tlsfleet-Check: ${token}\n\nThis message tests which TLS versions this host's mail client offers. It is not delivered anywhere.\n`;
      const sent = await session.exec(["sendmail", "-oi", "--", recipient], { stdin: message, timeoutMs: 30_000 });
      if (sent.exitCode !== 0) return { failed: `sendmail failed on ${hostName} (exit code ${sent.exitCode ?? "none"}): ${(sent.stderr.trim() || sent.stdout.trim()).slice(0, 300) || "no message"}` };
      return { waitMs };
    },
    settled: outboundSettled,
    byAddress: true,
    cleanup: (session, token) => removeFromQueue(h, session, token),
  };
}

function windowsSender(h: TaskHelpers, sink: Sink, waitMs: number): Sender {
  return {
    async send(session, token) {
      await h.log(`connecting from the host to the sink ${sink.address}:${sink.port} with PowerShell (SslStream with the machine's SCHANNEL and .NET defaults)`);
      const { report, problem } = await sendFromWindows(session, sink, token, h.signal);
      if (!report) return { failed: problem ?? "no report" };
      const said = describeWindowsReport(report);
      await h.log(said);
      // The script has returned, so its one connection is over: no later one will come. When it
      // could not even connect, the sink has nothing to say.
      return { waitMs: report.step === "connect" && report.error !== null ? 0 : waitMs, noConnectionHint: said };
    },
    // The script's connection has ended (it returned), so the first record of it is the whole story.
    settled: (seen) => seen.length > 0,
    // The token is the EHLO name, sent before STARTTLS: no other host's connection is taken.
    byAddress: false,
  };
}

async function runOutboundCheck(h: TaskHelpers, opts: OutboundTaskOptions): Promise<TaskResult> {
  const host = await prisma.host.findUnique({ where: { id: h.host.id } });
  if (!host) return { kind: "discard", reason: "host deleted" };
  const sink = sinkTarget();
  if (!sink) return finish("failed", "no outbound check sink is configured: set TLSFLEET_OUTBOUND_SINK_LISTEN on a worker (docs/outbound-check.md)");
  const waitMs = opts.waitMs ?? 60_000;
  let sender: Sender;
  if (host.platform === "windows") {
    if (host.transport === "none") return finish("skipped", "the outbound check of a Windows host needs WinRM or SSH (set the host's transport and credential)");
    sender = windowsSender(h, sink, waitMs);
  } else {
    if (!host.roles.includes("postfix")) return finish("skipped", "no Postfix on this host (role postfix): nothing sends mail from it");
    if (host.transport !== "ssh") return finish("skipped", "the outbound check of a Postfix host needs SSH (set the host's transport and credential)");
    if (sink.port !== 25) return finish("failed", `the sink listens on port ${sink.port}; Postfix delivers to an address literal on port 25 only`);
    sender = postfixSender(h, host.name, sink, waitMs);
  }

  const allowed = await effectiveAllowList();
  let session: RemoteSession;
  try {
    session = (await openHostSession(host, { allowList: allowed?.list ?? parseAllowList([]) })).session;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return finish(err instanceof TransportError && (err.code === "connect" || err.code === "timeout") ? "unreachable" : "failed", message);
  }
  const token = randomBytes(8).toString("hex");
  const sinkLabel = `${sink.address}:${sink.port}`;
  const since = new Date(Date.now() - 1_000);
  let verdict: OutboundVerdict;
  try {
    let sent: Awaited<ReturnType<Sender["send"]>>;
    try {
      sent = await sender.send(session, token);
    } catch (err) {
      if (!(err instanceof UnsafeScriptValueError)) throw err;
      sent = { failed: err.message };
    }
    if ("failed" in sent) return finish("failed", sent.failed);
    const deadline = Date.now() + sent.waitMs;
    let seen = await observationsFor(token, sender.byAddress ? [host.address] : [], since);
    while (!sender.settled(seen) && Date.now() < deadline && !h.signal.aborted) {
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
      seen = await observationsFor(token, sender.byAddress ? [host.address] : [], since);
    }
    if (h.stopReason() === "shutdown") return { kind: "release", reason: "worker stopping" };
    verdict = outboundVerdict(seen, sinkLabel, Math.round(sent.waitMs / 1000), sent.noConnectionHint);
    await h.log(`${seen.length} connection(s) seen by the sink: ${verdict.detail}`);
    await sender.cleanup?.(session, token);
  } finally {
    await session.close();
  }
  const checkedAt = new Date();
  let update: StatusUpdate | null = null;
  return {
    kind: "finish",
    state: verdict.outcome === "no_connection" ? "failed" : "succeeded",
    error: verdict.outcome === "no_connection" ? verdict.detail : null,
    summary: () => {
      const u = update as StatusUpdate | null;
      return `-> ${verdict.outcome}: ${verdict.detail}${u ? `; host status ${u.status}: ${u.explanation}` : ""}`;
    },
    // The check is wire evidence of the outbound direction: the host's status is recomputed with it.
    write: async (tx) => {
      await tx.outboundCheck.create({ data: { hostId: host.id, jobId: h.lease.jobId, checkedAt, sink: sinkLabel, outcome: verdict.outcome, negotiated: verdict.negotiated, offered: verdict.offered, detail: verdict.detail } });
      update = await updateHostStatusInTx(tx, host.id, { actor: h.actor, auditDrift: false });
    },
    audit: async (tx) => {
      if (update) await recordDriftInTx(tx, update, h.actor);
    },
    afterCommit: () => {
      const u = update as StatusUpdate | null;
      if (u?.drift) void notifyDrift(u);
    },
  };
}

/** Deletes the check message when Postfix still holds it (deferred after a refused handshake). */
async function removeFromQueue(h: TaskHelpers, s: RemoteSession, token: string): Promise<void> {
  const listed = await s.exec(["postqueue", "-j"], { timeoutMs: 30_000, maxOutputBytes: 4 * 1024 * 1024, onOutputLimit: "truncate" });
  const ids: string[] = [];
  for (const line of listed.stdout.split("\n")) {
    if (!line.includes(token)) continue;
    try {
      const entry = JSON.parse(line) as { queue_id?: unknown; recipients?: Array<{ address?: unknown }> };
      if (typeof entry.queue_id === "string" && /^[0-9A-Za-z]+$/.test(entry.queue_id) && entry.recipients?.some((r) => typeof r.address === "string" && r.address.startsWith(`tlsfleet-check-${token}@`))) ids.push(entry.queue_id);
    } catch {
      // not a queue entry
    }
  }
  for (const id of ids) {
    const r = await s.exec(["postsuper", "-d", id], { timeoutMs: 30_000 });
    await h.log(r.exitCode === 0 ? `removed the check message ${id} from the host's queue` : `could not remove the check message ${id} from the host's queue: ${r.stderr.trim().slice(0, 200)}`);
  }
}
