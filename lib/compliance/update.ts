import "server-only";
// Recomputes a host's stored status from its latest evidence (the pure evaluateHostStatus does
// the deciding), records the change in StatusHistory, and reports drift: a compliant host that
// started failing, or an excepted one whose exception no longer covers it (expired, revoked, or a
// new finding), gets an audit event "host.drift" and, when configured, a webhook POST.
import http from "node:http";
import https from "node:https";
import { z } from "zod";
import { outboundWireEvidence } from "../outbound/verdict";
import { prisma, type Tx } from "../db";
import { Prisma } from "../generated/prisma/client";
import { logger } from "../log";
import { recordAuditInTx } from "../audit/log";
import { effectiveAllowList, getSetting } from "../settings";
import { parseAllowList, type AllowList } from "../tls/allowlist";
import { checkTarget, checkedLookup, TargetRefusedError, type Resolver } from "../tls/connect-target";
import {
  FAILING_STATUSES,
  evaluateHostStatus,
  isDrift,
  nextStatusTimes,
  DIRECTIONS,
  type ConfigEvidence,
  type ConfigSide,
  type ExceptionEvidence,
  type HostStatusValue,
  type WireEvidence,
} from "./status";
import { TLS_VERSIONS, type Outcome, type TlsVersion } from "../tls/types";

const VERDICTS = ["unreachable", "no-tls", "error", "at_risk", "noncompliant", "compliant"] as const;

// ProbeResult.protocols as written by scans: {"TLSv1": {"outcome": "accepted", "reason": null}, ...}.
// A bare outcome string is accepted too, for rows written by hand or by older code.
const OutcomeSchema = z.enum(["accepted", "rejected", "unknown"]);
const StoredProtocols = z.record(z.string(), z.union([OutcomeSchema, z.object({ outcome: OutcomeSchema, reason: z.string().nullable().optional() })]));

export function wireProtocols(json: unknown): Record<TlsVersion, Outcome> {
  const parsed = StoredProtocols.safeParse(json);
  const out = {} as Record<TlsVersion, Outcome>;
  for (const v of TLS_VERSIONS) {
    const entry = parsed.success ? parsed.data[v] : undefined;
    out[v] = entry === undefined ? "unknown" : typeof entry === "string" ? entry : entry.outcome;
  }
  return out;
}

/** Wire evidence from a stored ProbeResult (and its endpoint); an unknown verdict counts as "error". */
export function wireEvidence(r: { port: number; service: string; probedAt: Date; verdict: string; protocols: unknown; error: string | null }): WireEvidence {
  return {
    port: r.port,
    service: r.service,
    probedAt: r.probedAt,
    verdict: (VERDICTS as readonly string[]).includes(r.verdict) ? (r.verdict as WireEvidence["verdict"]) : "error",
    protocols: wireProtocols(r.protocols),
    error: r.error,
  };
}

// ConfigSnapshot.state is written by the playbooks (agents/playbooks/types.ts ConfigState). Only
// a state that carries the status fields counts as config evidence; anything else (a playbook
// that records raw parameters only) is ignored rather than guessed at.
const SideSchema = z.object({
  direction: z.enum(DIRECTIONS),
  legacyEnabled: z.boolean().nullable(),
  tls12Enabled: z.boolean().nullable(),
  tlsOffered: z.boolean().optional(),
  summary: z.string(),
});
const ConfigState = z.object({
  legacyEnabled: z.boolean().nullable(),
  tls12Enabled: z.boolean().nullable(),
  rebootPending: z.boolean().optional(),
  summary: z.string(),
  sides: z.array(SideSchema).max(8).optional(),
  prerequisites: z.array(z.string().max(1000)).max(8).optional(),
});

// Snapshots written before evidence had a direction: nginx and Dovecot only ever described their
// listeners; a Postfix or SCHANNEL snapshot mixed server and client values, so its verdict cannot
// be split and counts only once re-audited (its reboot flag still counts).
const INBOUND_ONLY_PLAYBOOKS: ReadonlySet<string> = new Set(["nginx", "dovecot"]);

/** Config evidence from a ConfigSnapshot row, or null when its state does not say enough. */
export function configEvidence(row: { playbook: string; takenAt: Date; state: unknown; rebootPending: boolean }): ConfigEvidence | null {
  const state = ConfigState.safeParse(row.state);
  if (!state.success) return null;
  const { legacyEnabled, tls12Enabled, summary } = state.data;
  const sides: ConfigSide[] = state.data.sides ?? (INBOUND_ONLY_PLAYBOOKS.has(row.playbook) ? [{ direction: "inbound", legacyEnabled, tls12Enabled, summary }] : []);
  return {
    playbook: row.playbook,
    takenAt: row.takenAt,
    sides,
    rebootPending: row.rebootPending || state.data.rebootPending === true,
    summary,
    prerequisites: state.data.prerequisites ?? [],
  };
}

export interface StatusUpdate {
  hostId: string;
  hostName: string;
  previous: HostStatusValue | null;
  status: HostStatusValue;
  explanation: string;
  changed: boolean;
  drift: boolean;
}

// Timestamps come back as JSON text without a zone (the columns are `timestamp(3)`, in UTC).
const utc = (text: string) => new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text}Z`);
const iso = (d: Date | null) => (d ? d.toISOString() : null);

interface EvidenceRow {
  status: HostStatusValue | null;
  firstFailingAt: Date | null;
  lastChangedAt: Date | null;
  wire: Array<{ port: number; service: string; probedAt: string; verdict: string; protocols: unknown; error: string | null }>;
  config: Array<{ playbook: string; takenAt: string; state: unknown; rebootPending: boolean }>;
  exceptions: Array<{ endpointPort: number | null; version: string | null; expiresAt: string; approvedAt: string | null; approvedById: string | null; justification: string }>;
  outbound: { checkedAt: string; outcome: string; negotiated: string | null } | null;
}

/**
 * Recomputes and stores the host's status inside the caller's transaction (so the evidence that
 * caused it and the status commit together). `scannedAt` sets lastScanAt. The drift audit event
 * is written here unless `auditDrift: false`; the webhook must wait for the commit: call
 * notifyDrift() afterwards. Runs after every scanned host, so it is a handful of raw statements
 * rather than ORM calls (measured: Prisma's per-query cost dominated a scan's CPU time).
 */
export async function updateHostStatusInTx(
  tx: Tx,
  hostId: string,
  opts: { scannedAt?: Date; actor?: string; now?: Date; /** false: the caller records it with recordDriftInTx() (lock order) */ auditDrift?: boolean } = {},
): Promise<StatusUpdate | null> {
  const now = opts.now ?? new Date();
  // A retired host has no status (lib/inventory/hosts.ts); a scan that was finishing as it was
  // retired writes none. Row lock first, in its own statement: remediation, scans and exception approvals may all
  // recompute the same host, and the reads below must see what the previous holder committed.
  const [host] = await tx.$queryRaw<Array<{ name: string }>>`SELECT name FROM "Host" WHERE id = ${hostId}::uuid AND "retiredAt" IS NULL FOR UPDATE`;
  if (!host) return null;
  // Latest result per endpoint, latest snapshot per playbook, unexpired exceptions, previous status.
  const [ev] = await tx.$queryRaw<EvidenceRow[]>`
    SELECT s.status::text AS status, s."firstFailingAt", s."lastChangedAt",
      COALESCE((SELECT json_agg(w) FROM (
        SELECT DISTINCT ON (r."endpointId") e.port, e.service, r."probedAt", r.verdict, r.protocols, r.error
        FROM "ProbeResult" r JOIN "Endpoint" e ON e.id = r."endpointId"
        WHERE e."hostId" = ${hostId}::uuid AND e."removedAt" IS NULL
        ORDER BY r."endpointId", r."probedAt" DESC, r.id DESC) w), '[]'::json) AS wire,
      COALESCE((SELECT json_agg(c) FROM (
        SELECT DISTINCT ON (playbook) playbook, "takenAt", state, "rebootPending"
        FROM "ConfigSnapshot" WHERE "hostId" = ${hostId}::uuid
        ORDER BY playbook, "takenAt" DESC, id DESC) c), '[]'::json) AS config,
      COALESCE((SELECT json_agg(x) FROM (
        SELECT "endpointPort", version, "expiresAt", "approvedAt", "approvedById", justification
        FROM "Exception" WHERE "hostId" = ${hostId}::uuid AND "revokedAt" IS NULL AND "rejectedAt" IS NULL AND "expiresAt" > CAST(${now.toISOString()} AS timestamptz) AT TIME ZONE 'UTC') x), '[]'::json) AS exceptions,
      (SELECT row_to_json(o) FROM (
        SELECT "checkedAt", outcome, negotiated FROM "OutboundCheck" WHERE "hostId" = ${hostId}::uuid
        ORDER BY "checkedAt" DESC LIMIT 1) o) AS outbound
    FROM (SELECT 1) one LEFT JOIN "HostStatus" s ON s."hostId" = ${hostId}::uuid`;
  const outbound = ev!.outbound ? outboundWireEvidence({ ...ev!.outbound, checkedAt: utc(ev!.outbound.checkedAt) }) : null;
  const wire: WireEvidence[] = [...ev!.wire.map((r) => wireEvidence({ ...r, probedAt: utc(r.probedAt) })), ...(outbound ? [outbound] : [])];
  const config = ev!.config.map((r) => configEvidence({ ...r, takenAt: utc(r.takenAt) })).filter((c): c is ConfigEvidence => c !== null);
  const exceptions: ExceptionEvidence[] = ev!.exceptions.map((e) => ({
    endpointPort: e.endpointPort,
    version: e.version,
    expiresAt: utc(e.expiresAt),
    approved: e.approvedAt !== null && e.approvedById !== null,
    justification: e.justification,
  }));
  const result = evaluateHostStatus({ wire, config, exceptions, now });
  const previous = ev!.status ? { status: ev!.status, firstFailingAt: ev!.firstFailingAt, lastChangedAt: ev!.lastChangedAt ?? now } : null;
  const times = nextStatusTimes(previous, result.status, now);
  const at = (d: Date | null) => Prisma.sql`CAST(${iso(d)} AS timestamptz) AT TIME ZONE 'UTC'`;
  await tx.$executeRaw`
    INSERT INTO "HostStatus" ("hostId", status, explanation, "firstFailingAt", "lastChangedAt", "lastScanAt")
    VALUES (${hostId}::uuid, CAST(${result.status} AS "ComplianceStatus"), ${result.explanation}, ${at(times.firstFailingAt)}, ${at(times.lastChangedAt)}, ${at(opts.scannedAt ?? null)})
    ON CONFLICT ("hostId") DO UPDATE SET status = EXCLUDED.status, explanation = EXCLUDED.explanation, "firstFailingAt" = EXCLUDED."firstFailingAt",
      "lastChangedAt" = EXCLUDED."lastChangedAt", "lastScanAt" = COALESCE(EXCLUDED."lastScanAt", "HostStatus"."lastScanAt")`;
  if (times.changed) {
    await tx.$executeRaw`
      INSERT INTO "StatusHistory" ("hostId", at, status, previous, explanation)
      VALUES (${hostId}::uuid, ${at(now)}, CAST(${result.status} AS "ComplianceStatus"), CAST(${previous?.status ?? null} AS "ComplianceStatus"), ${result.explanation})`;
  }
  const update: StatusUpdate = { hostId, hostName: host.name, previous: previous?.status ?? null, status: result.status, explanation: result.explanation, changed: times.changed, drift: isDrift(previous?.status, result.status) || leftException(previous?.status, result.status) };
  if (opts.auditDrift !== false) await recordDriftInTx(tx, update, opts.actor ?? "system");
  return update;
}

/** An excepted host back to failing: its exception expired or was revoked, or a finding it does not name appeared. */
function leftException(previous: HostStatusValue | null | undefined, next: HostStatusValue): boolean {
  return previous === "excepted" && FAILING_STATUSES.has(next);
}

/** The "host.drift" audit event for an update that drifted (no-op otherwise). */
export async function recordDriftInTx(tx: Tx, update: StatusUpdate, actor: string) {
  if (!update.drift) return;
  await recordAuditInTx(tx, {
    actor,
    action: "host.drift",
    target: `host:${update.hostName}`,
    details: { from: update.previous, to: update.status, explanation: update.explanation },
  });
}

/** Standalone variant: its own transaction, and the drift webhook after the commit. */
export async function updateHostStatus(hostId: string, opts: { scannedAt?: Date; actor?: string } = {}): Promise<StatusUpdate | null> {
  const update = await prisma.$transaction((tx) => updateHostStatusInTx(tx, hostId, opts));
  if (update?.drift) notifyDrift(update);
  return update;
}

export const DRIFT_WEBHOOK_TIMEOUT_MS = 5_000;

/**
 * POSTs a drift event to the configured webhook. Fire-and-forget: a slow or broken receiver must
 * never hold up a scan, so the promise is returned only for tests and failures are logged.
 *
 * The receiver is a connection like any other: its name is resolved once, every address is
 * checked against the allowed targets and the built-in deny list (lib/tls/connect-target.ts),
 * and the request goes to that checked address with the URL's name in Host and SNI.
 */
export function notifyDrift(update: StatusUpdate, opts: { resolver?: Resolver } = {}): Promise<void> {
  return (async () => {
    const url = await getSetting("driftWebhookUrl");
    if (!url) return;
    const body = {
      event: "host.drift",
      host: { id: update.hostId, name: update.hostName },
      from: update.previous,
      to: update.status,
      explanation: update.explanation,
      at: new Date().toISOString(),
    };
    const allowed = await effectiveAllowList();
    const status = await postJson(new URL(url), body, { allowList: allowed?.list ?? parseAllowList([]), resolver: opts.resolver, timeoutMs: DRIFT_WEBHOOK_TIMEOUT_MS });
    if (status < 200 || status > 299) logger.warn({ host: update.hostName, status }, "drift webhook answered with an error status");
  })().catch((err: unknown) => {
    // The URL may carry a token in its path or query: log the reason, never the URL.
    if (err instanceof TargetRefusedError) logger.warn({ host: update.hostName, reason: err.message }, "drift webhook refused: its address is not an allowed target");
    else logger.warn({ err, host: update.hostName }, "drift webhook failed");
  });
}

/** One POST to the checked address of `url`; resolves with the status code. Redirects are not followed. */
async function postJson(url: URL, body: unknown, opts: { allowList: AllowList; resolver?: Resolver; timeoutMs: number }): Promise<number> {
  const target = await checkTarget(url.hostname, { allowList: opts.allowList, resolver: opts.resolver, timeoutMs: opts.timeoutMs });
  const payload = Buffer.from(JSON.stringify(body));
  const request = url.protocol === "https:" ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      // The socket goes to the checked address; the name stays in Host, SNI and the certificate check.
      lookup: checkedLookup(target),
      agent: false,
      headers: { "content-type": "application/json", "content-length": String(payload.length), "user-agent": "tlsfleet-drift-webhook" },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)), opts.timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    req.once("error", fail);
    req.once("response", (res) => {
      res.resume();
      res.once("end", () => {
        clearTimeout(timer);
        resolve(res.statusCode ?? 0);
      });
      res.once("error", fail);
    });
    req.end(payload);
  });
}
