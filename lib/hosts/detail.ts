import "server-only";
// Everything the host page shows, read from one database snapshot: identity, the latest wire evidence per
// endpoint, the latest config evidence per playbook, and the history of status changes and job
// tasks (exceptions: lib/exceptions/service.ts exceptionsForHost). Credential material is never selected, only its name and kind.
import { outboundWireEvidence } from "../outbound/verdict";
import { prisma } from "../db";
import { directionVerdicts, type ConfigEvidence, type Direction, type DirectionVerdict, type HostStatusValue } from "../compliance/status";
import { configEvidence, wireEvidence } from "../compliance/update";
import type { StartTlsState, Verdict } from "../tls/types";
import { flattenState, parseCertificate, parseProtocols, type CertificateView, type ConfigValue, type ProtocolMatrix } from "./evidence";
import type { Tx } from "../db";
import type { HostSummary, HostTrust } from "../inventory/model";

export interface EndpointEvidence {
  id: string;
  port: number;
  service: string;
  tlsStart: "starttls" | "implicit";
  probe: {
    probedAt: Date;
    starttls: StartTlsState | string;
    verdict: Verdict | string;
    error: string | null;
    durationMs: number | null;
    jobId: string | null;
    protocols: ProtocolMatrix;
    certificate: CertificateView | null;
  } | null;
}

export interface ConfigEvidenceView {
  playbook: string;
  takenAt: Date;
  rebootPending: boolean;
  jobId: string | null;
  summary: string | null;
  values: Array<[string, ConfigValue]>;
  /** The playbook's parsed state as stored (credential material never reaches a snapshot), for
   *  rendering in the operator's terms (SCHANNEL per version, Postfix parameters, ...). */
  state: unknown;
}

export type TimelineEntry =
  | { kind: "status"; at: Date; status: HostStatusValue; previous: HostStatusValue | null; explanation: string }
  | { kind: "task"; at: Date; jobId: string; jobKind: string; jobState: string; taskState: string; error: string | null; finishedAt: Date | null };

export interface HostDetail {
  host: HostSummary & HostTrust & {
    transport: string;
    port: number | null;
    credential: { name: string; kind: string } | null;
    osName: string | null;
    osBuild: string | null;
    createdAt: Date;
    /** Set when the host was deleted: out of the inventory, its evidence kept. */
    retiredAt: Date | null;
  };
  status: { status: HostStatusValue; explanation: string; firstFailingAt: Date | null; lastChangedAt: Date; lastScanAt: Date | null };
  endpoints: EndpointEvidence[];
  config: ConfigEvidenceView[];
  /** Both mail directions as the status function sees them: what decides each, its findings, and
   *  the config findings the wire contradicts (advisory). */
  directions: Record<Direction, DirectionVerdict>;
  timeline: TimelineEntry[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HISTORY_LIMIT = 50;

interface LatestProbeRow {
  endpointId: string;
  probedAt: Date;
  starttls: string;
  verdict: string;
  error: string | null;
  durationMs: number | null;
  jobId: string | null;
  protocols: unknown;
  ciphers: unknown;
  certificate: unknown;
}


/** The newest probe result of each endpoint of a host: one index probe per endpoint. */
function latestProbes(tx: Tx, hostId: string) {
  return tx.$queryRaw<LatestProbeRow[]>`
    SELECT e."id" AS "endpointId", p."probedAt", p."starttls", p."verdict", p."error", p."durationMs", p."jobId"::text AS "jobId",
           p."protocols", p."ciphers", p."certificate"
    FROM "Endpoint" e
    JOIN LATERAL (
      SELECT * FROM "ProbeResult" r WHERE r."endpointId" = e."id" ORDER BY r."probedAt" DESC, r."id" DESC LIMIT 1
    ) p ON TRUE
    WHERE e."hostId" = CAST(${hostId} AS uuid) AND e."removedAt" IS NULL`;
}

/** The newest snapshot of each playbook (DISTINCT ON walks the (hostId, takenAt) index). */
function latestSnapshots(tx: Tx, hostId: string) {
  return tx.$queryRaw<Array<{ playbook: string; takenAt: Date; rebootPending: boolean; jobId: string | null; state: unknown }>>`
    SELECT DISTINCT ON ("playbook") "playbook", "takenAt", "rebootPending", "jobId"::text AS "jobId", "state"
    FROM "ConfigSnapshot"
    WHERE "hostId" = CAST(${hostId} AS uuid)
    ORDER BY "playbook", "takenAt" DESC, "id" DESC`;
}

function summaryOf(state: unknown): string | null {
  if (state && typeof state === "object" && !Array.isArray(state)) {
    const s = (state as Record<string, unknown>).summary;
    if (typeof s === "string") return s;
  }
  return null;
}

// One snapshot for the whole page: read in parallel on separate connections, a scan committing
// in between showed the new status above a matrix still saying "not probed yet".
const SNAPSHOT = { isolationLevel: "RepeatableRead" as const };

export async function getHostDetail(hostId: string): Promise<HostDetail | null> {
  if (!UUID.test(hostId)) return null;
  const [host, probes, snapshots, history, tasks, exceptions, outboundCheck] = await prisma.$transaction(async (tx) => [
    await tx.host.findUnique({
      where: { id: hostId },
      select: {
        id: true, name: true, address: true, platform: true, roles: true, tags: true, group: true, owner: true, transport: true, port: true,
        pinnedKey: true, pinnedKeyPending: true, pinnedAt: true, trustOnFirstUse: true, allowWinrmHttp: true, legacyTls: true, osName: true, osBuild: true, createdAt: true, retiredAt: true,
        credential: { select: { name: true, kind: true } },
        status: true,
        endpoints: { where: { removedAt: null }, orderBy: { port: "asc" }, select: { id: true, port: true, service: true, tlsStart: true } },
      },
    }),
    await latestProbes(tx, hostId),
    await latestSnapshots(tx, hostId),
    await tx.statusHistory.findMany({ where: { hostId }, orderBy: [{ at: "desc" }, { id: "desc" }], take: HISTORY_LIMIT }),
    await tx.jobTask.findMany({
      where: { hostId },
      orderBy: { job: { createdAt: "desc" } },
      take: HISTORY_LIMIT,
      select: { state: true, error: true, startedAt: true, finishedAt: true, job: { select: { id: true, kind: true, state: true, createdAt: true } } },
    }),
    // For the directions only: the exceptions the status function sees (the page lists them from lib/exceptions).
    await tx.exception.findMany({ where: { hostId, revokedAt: null, rejectedAt: null }, orderBy: { expiresAt: "desc" }, take: 20 }),
    await tx.outboundCheck.findFirst({ where: { hostId }, orderBy: { checkedAt: "desc" }, select: { checkedAt: true, outcome: true, negotiated: true } }),
  ] as const, SNAPSHOT);
  if (!host) return null;

  const probeByEndpoint = new Map(probes.map((p) => [p.endpointId, p]));
  const endpoints: EndpointEvidence[] = host.endpoints.map((e) => {
    const p = probeByEndpoint.get(e.id);
    return {
      ...e,
      probe: p
        ? {
            probedAt: p.probedAt,
            starttls: p.starttls,
            verdict: p.verdict,
            error: p.error,
            durationMs: p.durationMs,
            jobId: p.jobId,
            protocols: parseProtocols(p.protocols, p.ciphers),
            certificate: parseCertificate(p.certificate),
          }
        : null,
    };
  });

  const timeline: TimelineEntry[] = [
    ...history.map((h) => ({ kind: "status" as const, at: h.at, status: h.status as HostStatusValue, previous: (h.previous ?? null) as HostStatusValue | null, explanation: h.explanation })),
    ...tasks.map((t) => ({
      kind: "task" as const,
      at: t.startedAt ?? t.job.createdAt,
      jobId: t.job.id,
      jobKind: t.job.kind,
      jobState: t.job.state,
      taskState: t.state,
      error: t.error,
      finishedAt: t.finishedAt,
    })),
  ].sort((a, b) => b.at.getTime() - a.at.getTime());

  const outboundEvidence = outboundCheck ? outboundWireEvidence(outboundCheck) : null;
  const directions = directionVerdicts({
    wire: host.endpoints.flatMap((e) => {
      const p = probeByEndpoint.get(e.id);
      return p ? [wireEvidence({ port: e.port, service: e.service, probedAt: p.probedAt, verdict: p.verdict, protocols: p.protocols, error: p.error })] : [];
    }).concat(outboundEvidence ? [outboundEvidence] : []),
    config: snapshots.map((s) => configEvidence(s)).filter((c): c is ConfigEvidence => c !== null),
    exceptions: exceptions.map((x) => ({ endpointPort: x.endpointPort, version: x.version, expiresAt: x.expiresAt, approved: x.approvedAt !== null && x.approvedById !== null, justification: x.justification })),
    now: new Date(),
  });

  const { status, credential, endpoints: _e, ...identity } = host;
  return {
    host: { ...identity, platform: host.platform, transport: host.transport, credential: credential ? { name: credential.name, kind: credential.kind } : null },
    status: status
      ? { status: status.status as HostStatusValue, explanation: status.explanation, firstFailingAt: status.firstFailingAt, lastChangedAt: status.lastChangedAt, lastScanAt: status.lastScanAt }
      : { status: "unknown", explanation: "Never scanned", firstFailingAt: null, lastChangedAt: host.createdAt, lastScanAt: null },
    endpoints,
    config: snapshots.map((s) => ({ playbook: s.playbook, takenAt: s.takenAt, rebootPending: s.rebootPending, jobId: s.jobId, summary: summaryOf(s.state), values: flattenState(s.state), state: s.state })),
    directions,
    timeline,
  };
}
