import "server-only";
// Compliance evidence export (CSV or JSON): one row per host x endpoint x TLS version for the
// host-list filter, now or as of a past instant, streamed in keyset pages of hosts.
//
// Memory: the stream is pull-based with one page queued for the client and at most one page
// being read ahead from Postgres, so a 50,000-host export holds two pages (~2,000 hosts each)
// whatever the fleet size, and a slow client slows the queries instead of piling up rows.
// Postgres builds one JSON record per host (config summary, exceptions, endpoints with their
// latest result at or before the cut) so one text column crosses Prisma per host; rows.ts
// expands it.
//
// Point in time ("as of T"): the hosts that existed at T (created by T and not retired by then,
// whether retired since or not) under the name they had at T, their endpoints that existed at T
// (created by T, not removed by then), each endpoint's newest ProbeResult at or before T, the
// newest ConfigSnapshot per playbook at or before T, exceptions approved by T and not yet expired
// at T, and the host status from the newest StatusHistory row at or before T ("unknown" before its
// first change). An export "now" uses the same reads with T = the moment it started, so rows
// committed while it streams do not change it halfway; its hosts are the inventory's (retired
// ones left out) and the status is HostStatus.
import { z } from "zod";
import { prisma } from "../db";
import { Prisma } from "../generated/prisma/client";
import { csvRow } from "../inventory/csv";
import { encodeCursor, type HostListParamsValue } from "../inventory/filter";
import { filterConditions, pageClauses } from "../inventory/hosts";
import { EVIDENCE_COLUMNS, evidenceCells, type HostEvidenceRecordValue } from "./rows";

// 500 hosts (~4,000 rows, ~1.3 MB of CSV) per page: measured on 50,000 hosts, 2,000-host pages left
// ~80 MB of strings and records alive at once (two pages), over the 300 MB budget of the web process.
const EVIDENCE_PAGE_SIZE = 500;

export const EVIDENCE_FORMATS = ["csv", "json"] as const;
export type EvidenceFormat = (typeof EVIDENCE_FORMATS)[number];

// "2026-11-30", "2026-11-30 00:00", "2026-11-30T00:00:00Z", "2026-11-30 00:00 UTC": always UTC.
const AS_OF = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?))?\s*(?:Z|UTC)?$/i;

export const AsOfParam = z
  .string()
  .trim()
  .regex(AS_OF, 'Write the time as "2026-11-30 00:00 UTC" (UTC, minutes optional)')
  .transform((s) => {
    const [, day, time] = AS_OF.exec(s)!;
    return new Date(`${day}T${time ?? "00:00"}Z`);
  })
  .refine((d) => !Number.isNaN(d.getTime()), "That date does not exist")
  .refine((d) => d.getTime() <= Date.now(), "The as-of time is in the future: there is no evidence for it yet");

/** The export's own query parameters, next to the host list's filter and sort. */
export const EvidenceExportOptions = z.object({
  format: z.enum(EVIDENCE_FORMATS).default("csv"),
  asOf: AsOfParam.optional(),
});

/** The list's filter and sort; `hostIds` narrows it to given hosts (a pack of a rollout). */
export type ExportScope = Pick<HostListParamsValue, "sort" | "dir"> & Omit<Partial<HostListParamsValue>, "cursor" | "limit"> & { hostIds?: string[] };

export interface EvidenceCut {
  /** Evidence newer than this is left out. */
  at: Date;
  /** true: the status comes from StatusHistory at `at`; false: the current HostStatus. */
  historical: boolean;
}

/** The cut of an export: as of the given instant, or "now" (the moment it starts). */
export function evidenceCut(asOf: Date | undefined, now = new Date()): EvidenceCut {
  return asOf ? { at: asOf, historical: true } : { at: now, historical: false };
}

const iso = (column: Prisma.Sql) => Prisma.sql`to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
// Timestamp columns hold UTC without a zone.
const utcParam = (d: Date) => Prisma.sql`(CAST(${d.toISOString()} AS timestamptz) AT TIME ZONE 'UTC')`;

/**
 * The hosts read as `h`. Now: the inventory (the list's filter leaves retired hosts out). As of T:
 * every host that existed at T, retired since or not, under the name it had then; the other
 * columns are the host's current ones (a retired host's last ones), as they are not kept per
 * instant. `retiredAt` reads NULL (nobody was retired at T), so the list's filter and sorts apply
 * unchanged, to the name of then.
 *
 * Driven by HostName (a trigger on "Host" writes one row per name and period, from its creation
 * to its retirement, without overlaps): the rows valid at T are exactly one per host that existed
 * then. The subquery is flattened, so a name-sorted page walks HostName_name_hostId_idx instead of
 * sorting every host per page (measured on 50,000 hosts: 0.5 s per page with a sort).
 */
function hostSource(cut: EvidenceCut): Prisma.Sql {
  if (!cut.historical) return Prisma.sql`"Host" h`;
  const at = utcParam(cut.at);
  return Prisma.sql`(
    SELECT n."hostId" AS "id", n."name", h0."address", h0."owner", h0."group", h0."tags", h0."roles", h0."platform",
           h0."createdAt", NULL::timestamp AS "retiredAt"
    FROM "HostName" n JOIN "Host" h0 ON h0."id" = n."hostId"
    WHERE n."from" <= ${at} AND (n."until" IS NULL OR n."until" > ${at})
      AND h0."createdAt" <= ${at} AND (h0."retiredAt" IS NULL OR h0."retiredAt" > ${at})) h`;
}

/** The status source joined as `s`: the same columns as HostStatus, so the list's filter and sorts apply. */
function statusSource(cut: EvidenceCut): Prisma.Sql {
  if (!cut.historical) return Prisma.sql`JOIN "HostStatus" s ON s."hostId" = h."id"`;
  return Prisma.sql`CROSS JOIN LATERAL (
      SELECT COALESCE(x."status", 'unknown'::"ComplianceStatus") AS "status",
             COALESCE(x."explanation", 'No status recorded yet at that time') AS "explanation",
             NULL::timestamp AS "firstFailingAt", NULL::timestamp AS "lastScanAt"
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (
        SELECT sh."status", sh."explanation" FROM "StatusHistory" sh
        WHERE sh."hostId" = h."id" AND sh."at" <= ${utcParam(cut.at)}
        ORDER BY sh."at" DESC, sh."id" DESC LIMIT 1) x ON TRUE) s`;
}

/** The JSON record of one host (rows.ts HostEvidenceRecordValue), evidence up to the cut. */
function hostRecord(cut: EvidenceCut): Prisma.Sql {
  const at = utcParam(cut.at);
  return Prisma.sql`json_build_object(
    'id', h."id", 'host', h."name", 'address', h."address", 'group', h."group", 'status', s."status", 'explanation', s."explanation",
    'config', (
      SELECT string_agg(c."playbook" || ' at ' || ${iso(Prisma.sql`c."takenAt"`)} || ': ' || COALESCE(c."state"->>'summary', '(no summary)')
                        || CASE WHEN c."rebootPending" THEN ' (reboot pending)' ELSE '' END, '; ' ORDER BY c."playbook")
      FROM (SELECT DISTINCT ON (cs."playbook") cs."playbook", cs."takenAt", cs."state", cs."rebootPending"
            FROM "ConfigSnapshot" cs WHERE cs."hostId" = h."id" AND cs."takenAt" <= ${at}
            ORDER BY cs."playbook", cs."takenAt" DESC, cs."id" DESC) c),
    'exceptions', (
      SELECT json_agg(json_build_object('port', x."endpointPort", 'version', x."version", 'justification', x."justification",
                                        'expiresAt', ${iso(Prisma.sql`x."expiresAt"`)}, 'approvedBy', u."email") ORDER BY x."createdAt")
      FROM "Exception" x LEFT JOIN "User" u ON u."id" = x."approvedById"
      WHERE x."hostId" = h."id" AND x."approvedById" IS NOT NULL AND x."approvedAt" <= ${at} AND x."expiresAt" > ${at}),
    'endpoints', (
      SELECT json_agg(json_build_object('port', e."port", 'service', e."service", 'probedAt', ${iso(Prisma.sql`r."probedAt"`)},
                                        'verdict', r."verdict", 'protocols', r."protocols", 'ciphers', r."ciphers", 'error', r."error") ORDER BY e."port")
      FROM "Endpoint" e
      LEFT JOIN LATERAL (
        SELECT p."probedAt", p."verdict", p."protocols", p."ciphers", p."error" FROM "ProbeResult" p
        WHERE p."endpointId" = e."id" AND p."probedAt" <= ${at}
        ORDER BY p."probedAt" DESC, p."id" DESC LIMIT 1) r ON TRUE
      WHERE e."hostId" = h."id" AND e."createdAt" <= ${at} AND (e."removedAt" IS NULL OR e."removedAt" > ${at}))
  )::text`;
}

interface PageRow {
  id: string;
  sort_value: string | null;
  record: string;
}

export interface EvidencePage {
  records: HostEvidenceRecordValue[];
  /** The cursor after this page, or null when it was the last. */
  next: string | null;
}

/** One keyset page of host records in the list's order. */
export async function evidencePage(scope: ExportScope, cut: EvidenceCut, cursor: string | undefined, pageSize = EVIDENCE_PAGE_SIZE): Promise<EvidencePage> {
  // A past status has no lastScanAt / firstFailingAt to sort by: those lists come out by name.
  const sort = cut.historical && (scope.sort === "lastScanAt" || scope.sort === "firstFailingAt") ? "name" : scope.sort;
  const { cursorValue, keyset, order } = pageClauses({ sort, dir: scope.dir, cursor });
  const rows = await prisma.$queryRaw<PageRow[]>`
    SELECT h."id"::text AS "id", ${cursorValue} AS sort_value, ${hostRecord(cut)} AS "record"
    FROM ${hostSource(cut)} ${statusSource(cut)}
    WHERE ${filterConditions(scope)} AND h."createdAt" <= ${utcParam(cut.at)} ${scope.hostIds ? Prisma.sql`AND h."id" = ANY(CAST(${scope.hostIds} AS uuid[]))` : Prisma.empty} ${keyset}
    ORDER BY ${order}
    LIMIT ${Prisma.raw(String(pageSize))}`;
  const last = rows[rows.length - 1];
  return {
    records: rows.map((r) => JSON.parse(r.record) as HostEvidenceRecordValue),
    next: rows.length === pageSize && last ? encodeCursor(last.sort_value, last.id) : null,
  };
}

/** Every host record of the scope, page by page (for the PDF pack, which writes as it reads). */
export async function* evidenceRecords(scope: ExportScope, cut: EvidenceCut, pageSize = EVIDENCE_PAGE_SIZE): AsyncGenerator<HostEvidenceRecordValue[]> {
  let cursor: string | undefined;
  for (;;) {
    const page = await evidencePage(scope, cut, cursor, pageSize);
    if (page.records.length) yield page.records;
    if (!page.next) return;
    cursor = page.next;
  }
}

interface Framing {
  head: string;
  rows(rows: string[][], first: boolean): string;
  tail: string;
}

function csvFraming(): Framing {
  return {
    // A UTF-8 BOM so Excel shows owners like "Müller" correctly.
    head: `\uFEFF${csvRow(EVIDENCE_COLUMNS)}`,
    rows(rows) {
      let text = "";
      for (const r of rows) text += csvRow(r);
      return text;
    },
    tail: "",
  };
}

// Rows as arrays in `columns` order (a 15-key object per row would double the file).
function jsonFraming(scope: ExportScope, cut: EvidenceCut, generatedAt: Date): Framing {
  const { sort: _s, dir: _d, hostIds: _h, ...filter } = scope;
  const head = `{"generatedAt":${JSON.stringify(generatedAt.toISOString())},"asOf":${JSON.stringify(cut.historical ? cut.at.toISOString() : null)},"filter":${JSON.stringify(filter)},"columns":${JSON.stringify(EVIDENCE_COLUMNS)},"rows":[`;
  return {
    head,
    rows(rows, first) {
      let text = "";
      rows.forEach((r, i) => {
        text += `${first && i === 0 ? "\n" : ",\n"}${JSON.stringify(r)}`;
      });
      return text;
    },
    tail: "\n]}\n",
  };
}

/** The export as a byte stream: header, rows in the list's order, footer. */
export function evidenceStream(scope: ExportScope, format: EvidenceFormat, cut: EvidenceCut, opts: { pageSize?: number; now?: Date } = {}): ReadableStream<Uint8Array> {
  const pageSize = opts.pageSize ?? EVIDENCE_PAGE_SIZE;
  const framing = format === "csv" ? csvFraming() : jsonFraming(scope, cut, opts.now ?? new Date());
  const encoder = new TextEncoder();
  let next: Promise<EvidencePage> | null = null;
  let first = true;
  const fetchPage = (cursor: string | undefined) => {
    const p = evidencePage(scope, cut, cursor, pageSize);
    // A client that goes away leaves the read-ahead unawaited; its failure is not news.
    p.catch(() => undefined);
    return p;
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        controller.enqueue(encoder.encode(framing.head));
        next = fetchPage(undefined);
      },
      async pull(controller) {
        if (!next) return;
        const page = await next;
        // Read the next page while this one is encoded and sent: Postgres and Node overlap.
        next = page.next ? fetchPage(page.next) : null;
        let text = "";
        for (const rec of page.records) {
          const rows = evidenceCells(rec);
          text += framing.rows(rows, first);
          if (rows.length) first = false;
        }
        if (!next) text += framing.tail;
        if (text) controller.enqueue(encoder.encode(text));
        if (!next) controller.close();
      },
      cancel() {
        next = null;
      },
    },
    // One encoded page waits for the client at most.
    { highWaterMark: 1 },
  );
}
