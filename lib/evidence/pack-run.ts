import "server-only";
// Generates one evidence pack (run by the worker, agents/tasks/evidence-pack.ts): claims the row,
// records the audit chain head it is cut from, reads the evidence of the pack's hosts now and at
// the start of the period (the same reads as the compliance export), the trend, exceptions and
// rollout changes, draws the PDF, and stores it. Progress goes to the row as it goes.
// Idempotent: a retried message (the worker died) starts the pack again from the beginning.
import { createHash, randomUUID } from "node:crypto";
import { latestCheckpoint } from "../audit/verify";
import { prisma } from "../db";
import { recordAudit } from "../audit/log";
import { HOST_STATUSES } from "../compliance/status";
import { flattenState } from "../hosts/evidence";
import { logger } from "../log";
import { evidenceCut, evidenceRecords, type ExportScope } from "./export";
import { evidenceRows, type EvidenceRow, type HostEvidenceRecordValue } from "./rows";
import { protocolLabel, TLS_VERSION_LABEL } from "../tls/types";
import { renderPackPdf, type PackChange, type PackData, type PackException, type PackInventoryRow, type PackTrendPoint } from "./pack-pdf";
import { packHostIds, PackScope, type PackScopeValue } from "./packs";
import { trendDays } from "./trend-days";
import { formatUtc } from "../time";

// How often progress is written at most: a 5,000-host pack must not cost 10,000 row updates.
const PROGRESS_EVERY_MS = 500;

const LEGACY = new Set([TLS_VERSION_LABEL.TLSv1, TLS_VERSION_LABEL["TLSv1.1"]]);
const acceptsLegacy = (rows: EvidenceRow[]) => rows.some((r) => LEGACY.has(r.version) && r.outcome === "accepted");

function progress(packId: string) {
  let last = 0;
  return async (stage: string, hostsDone: number, force = false) => {
    const now = Date.now();
    if (!force && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    await prisma.evidencePack.update({ where: { id: packId }, data: { stage, hostsDone } });
  };
}

/** The pack's hosts now (the inventory's), with their evidence. */
async function readNow(hostIds: string[], now: Date, onPage: (n: number) => Promise<void>): Promise<HostEvidenceRecordValue[]> {
  const out: HostEvidenceRecordValue[] = [];
  for await (const page of evidenceRecords({ sort: "name", dir: "asc", hostIds }, evidenceCut(undefined, now), 500)) {
    out.push(...page);
    await onPage(out.length);
  }
  return out;
}

interface PeriodStart {
  hosts: number;
  legacy: number;
  /** Every host of the pack then, retired since or not. */
  hostIds: string[];
  /** Config evidence then, by host id. */
  config: Map<string, string | null>;
}

/**
 * The pack's hosts at the start of the period, as the as-of export reads them: a filter's matches
 * then (on the status then, the name then), or a rollout's hosts that existed then, including
 * hosts retired since. Counted page by page: only ids and config summaries are kept.
 */
async function readPeriodStart(scope: PackScopeValue, rolloutHostIds: string[], periodStart: Date): Promise<PeriodStart> {
  const exportScope: ExportScope = scope.kind === "filter" ? { sort: "name", dir: "asc", ...scope.filter } : { sort: "name", dir: "asc", hostIds: rolloutHostIds };
  const out: PeriodStart = { hosts: 0, legacy: 0, hostIds: [], config: new Map() };
  for await (const page of evidenceRecords(exportScope, { at: periodStart, historical: true }, 500)) {
    for (const rec of page) {
      out.hosts += 1;
      if (acceptsLegacy(evidenceRows(rec))) out.legacy += 1;
      out.hostIds.push(rec.id);
      out.config.set(rec.id, rec.config);
    }
  }
  return out;
}

/**
 * Per day: hosts whose latest handshake by the end of that day accepted TLS 1.0 or 1.1, and hosts
 * that existed then, of the pack's hosts now and at the start of the period (a host retired
 * meanwhile counts on the days it existed; its removed endpoints on the days they existed).
 */
async function trend(hostIds: string[], days: string[], now: Date): Promise<PackTrendPoint[]> {
  const rows = await prisma.$queryRaw<Array<{ day: string; legacy: number; hosts: number }>>`
    WITH days AS (
      SELECT d AS "day", LEAST((CAST(d AS date) + 1)::timestamp, CAST(${now.toISOString()} AS timestamptz) AT TIME ZONE 'UTC') AS "end"
      FROM unnest(CAST(${days} AS text[])) d)
    SELECT days."day",
      (SELECT count(*)::int FROM "Host" h WHERE h."id" = ANY(CAST(${hostIds} AS uuid[])) AND h."createdAt" < days."end"
         AND (h."retiredAt" IS NULL OR h."retiredAt" >= days."end")) AS "hosts",
      (SELECT count(DISTINCT e."hostId")::int FROM "Endpoint" e JOIN "Host" h ON h."id" = e."hostId"
         JOIN LATERAL (SELECT p."protocols" FROM "ProbeResult" p WHERE p."endpointId" = e."id" AND p."probedAt" < days."end" ORDER BY p."probedAt" DESC, p."id" DESC LIMIT 1) r ON TRUE
         WHERE e."hostId" = ANY(CAST(${hostIds} AS uuid[]))
           AND (h."retiredAt" IS NULL OR h."retiredAt" >= days."end") AND (e."removedAt" IS NULL OR e."removedAt" >= days."end")
           AND (r."protocols"->'TLSv1'->>'outcome' = 'accepted' OR r."protocols"->'TLSv1.1'->>'outcome' = 'accepted'
                OR r."protocols"->>'TLSv1' = 'accepted' OR r."protocols"->>'TLSv1.1' = 'accepted')) AS "legacy"
    FROM days ORDER BY days."day"`;
  return rows;
}

function exceptionScope(port: number | null, version: string | null): string {
  const v = version === null ? null : protocolLabel(version);
  return `${port === null ? "all endpoints" : `port ${port}`}, ${v ?? "all versions"}`;
}

async function exceptionsOf(hostIds: string[], periodStart: Date, now: Date): Promise<PackException[]> {
  const rows = await prisma.$queryRaw<Array<{ host: string; endpointPort: number | null; version: string | null; justification: string; expiresAt: Date; approvedAt: Date | null; requestedBy: string | null; approvedBy: string | null }>>`
    SELECT h."name" AS "host", x."endpointPort", x."version", x."justification", x."expiresAt", x."approvedAt",
           COALESCE(r."email", x."requestedById"::text) AS "requestedBy", COALESCE(a."email", x."approvedById"::text) AS "approvedBy"
    FROM "Exception" x JOIN "Host" h ON h."id" = x."hostId"
    LEFT JOIN "User" r ON r."id" = x."requestedById" LEFT JOIN "User" a ON a."id" = x."approvedById"
    WHERE x."hostId" = ANY(CAST(${hostIds} AS uuid[])) AND (x."expiresAt" >= ${periodStart} OR x."approvedAt" IS NULL)
    ORDER BY h."name", x."createdAt"`;
  return rows.map((r) => ({
    host: r.host,
    scope: exceptionScope(r.endpointPort, r.version),
    justification: r.justification,
    expiresAt: r.expiresAt,
    requestedBy: r.requestedBy ?? "?",
    approvedBy: r.approvedAt ? r.approvedBy : null,
    approvedAt: r.approvedAt,
    state: !r.approvedAt ? "awaiting approval" : r.expiresAt <= now ? "expired" : "active",
  }));
}

const stateLines = (state: unknown) => flattenState(state, 8).map(([k, v]) => `${k}: ${v === null ? "(none)" : String(v)}`);

/** Rollout changes of these hosts: every host of the rollout, or each host's rollouts in the period. */
async function changesOf(scope: PackScopeValue, hostIds: string[], periodStart: Date): Promise<Map<string, PackChange[]>> {
  const rows = await prisma.rolloutHost.findMany({
    where: scope.kind === "rollout" ? { rolloutId: scope.rolloutId } : { hostId: { in: hostIds }, rollout: { createdAt: { gte: periodStart } } },
    include: { rollout: true },
    orderBy: [{ rollout: { createdAt: "asc" } }],
  });
  const out = new Map<string, PackChange[]>();
  for (const h of rows) {
    const r = h.rollout;
    const change: PackChange = {
      rollout: `${r.goals.join(" + ")} requested ${r.createdAt.toISOString().slice(0, 10)}`,
      rolloutState: r.state,
      requestedBy: r.requestedBy,
      approvedBy: r.approvedBy,
      approvedAt: r.approvedAt,
      hostState: h.state,
      before: stateLines(h.before),
      after: stateLines(h.after),
    };
    out.set(h.hostName, [...(out.get(h.hostName) ?? []), change]);
  }
  return out;
}

function inventoryOf(hostRows: Array<{ host: string; rows: EvidenceRow[] }>): PackInventoryRow[] {
  const out: PackInventoryRow[] = [];
  for (const { host, rows } of hostRows) {
    const byEndpoint = new Map<string, EvidenceRow[]>();
    for (const r of rows) if (r.endpoint) byEndpoint.set(r.endpoint, [...(byEndpoint.get(r.endpoint) ?? []), r]);
    for (const [endpoint, eps] of byEndpoint) {
      const accepted = eps.filter((r) => r.outcome === "accepted");
      out.push({
        host,
        endpoint,
        accepted: eps[0].probedAt ? accepted.map((r) => r.version).join(", ") || "none" : "not probed",
        ciphers: accepted.map((r) => `${r.version}: ${r.cipher || "?"}`).join("\n"),
        probedAt: formatUtc(eps[0].probedAt, ""),
      });
    }
  }
  return out;
}

/** The newest audit event: the chain head the pack is cut from. */
/** The signed checkpoint the pack is cut from (`tlsfleet audit verify` ties it to the log), else
 *  the chain head when nothing was signed yet. */
async function chainHead(): Promise<PackData["chain"]> {
  const checkpoint = await latestCheckpoint();
  if (checkpoint) return { kind: "checkpoint", label: `checkpoint ${checkpoint.number} (event ${checkpoint.seq})`, id: checkpoint.seq.toString(), hash: checkpoint.hash, at: checkpoint.at };
  const head = await prisma.auditEvent.findFirst({ orderBy: { id: "desc" }, select: { id: true, hash: true, at: true } });
  return head ? { kind: "head", label: `#${head.id}`, id: head.id.toString(), hash: head.hash, at: head.at } : null;
}

/** Gathers everything the PDF shows. */
export async function gatherPack(pack: { id: string; title: string; scope: unknown; periodStart: Date; requestedBy: string }, now: Date, report?: (stage: string, done: number) => Promise<void>): Promise<PackData> {
  const scope = PackScope.parse(pack.scope);
  const chain = await chainHead();
  const hostIds = await packHostIds(scope);
  const nowRecords = await readNow(hostIds, now, (n) => report?.("Reading evidence", n) ?? Promise.resolve());
  const then = await readPeriodStart(scope, hostIds, pack.periodStart);
  await report?.("Reading history", nowRecords.length);
  const [trendPoints, exceptions, changes, rollout] = await Promise.all([
    trend([...new Set([...nowRecords.map((r) => r.id), ...then.hostIds])], trendDays(pack.periodStart, now), now),
    exceptionsOf(hostIds, pack.periodStart, now),
    changesOf(scope, hostIds, pack.periodStart),
    scope.kind === "rollout" ? prisma.rollout.findUnique({ where: { id: scope.rolloutId } }) : Promise.resolve(null),
  ]);
  const hosts = nowRecords.map((rec) => ({ rec, rows: evidenceRows(rec) }));
  const byStatus = Object.fromEntries(HOST_STATUSES.map((s) => [s, 0])) as Record<string, number>;
  for (const { rec } of hosts) byStatus[rec.status] = (byStatus[rec.status] ?? 0) + 1;
  return {
    id: pack.id,
    title: pack.title,
    generatedAt: now,
    periodStart: pack.periodStart,
    requestedBy: pack.requestedBy,
    summary: {
      hosts: hosts.length,
      hostsThen: then.hosts,
      legacyNow: hosts.filter((h) => acceptsLegacy(h.rows)).length,
      legacyThen: then.legacy,
      byStatus,
    },
    trend: trendPoints,
    rollout: rollout && { id: rollout.id, goals: rollout.goals, state: rollout.state, requestedBy: rollout.requestedBy, approvedBy: rollout.approvedBy, approvedAt: rollout.approvedAt, planHash: rollout.planHash },
    exceptions,
    inventory: inventoryOf(hosts.map((h) => ({ host: h.rec.host, rows: h.rows }))),
    hosts: hosts.map(({ rec, rows }) => ({
      name: rec.host,
      address: rec.address,
      status: rec.status,
      explanation: rec.explanation,
      configThen: then.config.get(rec.id) ?? null,
      configNow: rec.config,
      rows,
      changes: changes.get(rec.host) ?? [],
    })),
    chain,
  };
}

/** Runs one pack to the end: succeeded with its PDF, or failed with a reason. */
export async function runEvidencePack(packId: string, now = new Date()): Promise<"succeeded" | "failed" | "skipped"> {
  // Claim: a finished pack is not redone (a duplicate delivery); a running one was a dead worker's.
  const claimed = await prisma.evidencePack.updateMany({ where: { id: packId, state: { in: ["queued", "running"] } }, data: { state: "running", startedAt: now, stage: "Starting", hostsDone: 0, error: null } });
  if (claimed.count === 0) return "skipped";
  const pack = await prisma.evidencePack.findUniqueOrThrow({ where: { id: packId } });
  const report = progress(packId);
  try {
    const data = await gatherPack(pack, now, (stage, n) => report(stage, n));
    await report("Drawing pages", 0, true);
    const pdf = await renderPackPdf(data, (n) => report("Drawing pages", n));
    const sha = createHash("sha256").update(pdf).digest("hex");
    await prisma.evidencePack.update({
      where: { id: packId },
      data: {
        state: "succeeded",
        stage: "Done",
        hostsTotal: data.hosts.length,
        hostsDone: data.hosts.length,
        pdf: new Uint8Array(pdf),
        pdfSha256: sha,
        auditEventId: data.chain ? BigInt(data.chain.id) : null,
        auditHash: data.chain?.hash ?? null,
        cutAt: now,
        finishedAt: new Date(),
      },
    });
    await recordAudit({ actor: "worker", action: "evidence.pack_generated", target: `evidence-pack:${packId}`, details: { title: pack.title, hosts: data.hosts.length, bytes: pdf.length, sha256: sha, cutFromEvent: data.chain?.id ?? null, cutFromHash: data.chain?.hash ?? null } });
    return "succeeded";
  } catch (err) {
    const id = randomUUID().slice(0, 8);
    logger.error({ err, packId, errorId: id }, "evidence pack failed");
    await prisma.evidencePack.update({ where: { id: packId }, data: { state: "failed", stage: "Failed", error: `Generation failed (error id ${id}); the details are in the worker log`, finishedAt: new Date() } });
    return "failed";
  }
}
