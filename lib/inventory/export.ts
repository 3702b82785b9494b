import "server-only";
// Streamed CSV export of a filtered host list. Pages of EXPORT_PAGE_SIZE rows are read with the
// same keyset as the grid and written as they arrive, so 50,000 hosts never sit in memory at
// once and the download starts before the last page is read. The stream is pull-based: a slow
// client slows the queries down instead of letting them pile up in memory.
import { prisma } from "../db";
import { Prisma } from "../generated/prisma/client";
import { csvRow } from "./csv";
import { encodeCursor, type HostListParamsValue } from "./filter";
import { filterConditions, pageClauses } from "./hosts";
import { IMPORT_COLUMNS } from "./import-rows";

const EXPORT_PAGE_SIZE = 2000;

/** Inventory columns first (the file imports back as is), then the compliance result. */
export const EXPORT_COLUMNS = [...IMPORT_COLUMNS, "status", "explanation", "firstFailingAt", "lastScanAt"] as const;

interface ExportRow {
  id: string;
  name: string;
  address: string;
  platform: string;
  roles: string[];
  tags: string[];
  group: string | null;
  owner: string | null;
  transport: string;
  port: number | null;
  credential: string | null;
  endpoints: string | null;
  status: string;
  explanation: string;
  firstFailingAt: Date | null;
  lastScanAt: Date | null;
  sort_value: string | null;
}

type ExportParams = Pick<HostListParamsValue, "sort" | "dir"> & Omit<Partial<HostListParamsValue>, "cursor" | "limit">;

async function exportPage(params: ExportParams, cursor: string | undefined, pageSize: number): Promise<ExportRow[]> {
  const { sortExpr, keyset, order } = pageClauses({ sort: params.sort, dir: params.dir, cursor });
  return prisma.$queryRaw<ExportRow[]>`
    SELECT h."id", h."name", h."address", h."platform"::text AS "platform", h."roles", h."tags", h."group", h."owner",
           h."transport"::text AS "transport", h."port", c."name" AS "credential",
           (SELECT string_agg(e."port"::text || '/' || e."service", ';' ORDER BY e."port") FROM "Endpoint" e WHERE e."hostId" = h."id") AS "endpoints",
           s."status"::text AS "status", s."explanation", s."firstFailingAt", s."lastScanAt",
           ${sortExpr} AS sort_value
    FROM "Host" h
    JOIN "HostStatus" s ON s."hostId" = h."id"
    LEFT JOIN "Credential" c ON c."id" = h."credentialId"
    WHERE ${filterConditions(params)} ${keyset}
    ORDER BY ${order}
    LIMIT ${Prisma.raw(String(pageSize))}`;
}

function toCsv(r: ExportRow): string {
  return csvRow([r.name, r.address, r.platform, r.roles.join(";"), r.tags.join(";"), r.group, r.owner, r.transport, r.port, r.credential, r.endpoints, r.status, r.explanation, r.firstFailingAt, r.lastScanAt]);
}

/** The CSV file as a byte stream: header, then one row per host in the list's order. */
export function hostsCsvStream(params: ExportParams, opts: { pageSize?: number } = {}): ReadableStream<Uint8Array> {
  const pageSize = opts.pageSize ?? EXPORT_PAGE_SIZE;
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let started = false;
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!started) {
          started = true;
          // A UTF-8 BOM so Excel shows owners like "Müller" correctly; our importer drops it.
          controller.enqueue(encoder.encode(`\uFEFF${csvRow(EXPORT_COLUMNS)}`));
          return;
        }
        if (done) return;
        const rows = await exportPage(params, cursor, pageSize);
        if (rows.length) {
          controller.enqueue(encoder.encode(rows.map(toCsv).join("")));
          const last = rows[rows.length - 1];
          cursor = encodeCursor(last.sort_value, last.id);
        }
        if (rows.length < pageSize) {
          done = true;
          controller.close();
        }
      },
    },
    // Buffer at most one page ahead of the client.
    { highWaterMark: 1 },
  );
}

/** "tlsfleet-hosts-2026-11-28T1002Z.csv", plus the filter when there is one. */
export function exportFileName(params: Partial<HostListParamsValue>, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 16).replace(/:/g, "").concat("Z");
  const parts = [params.status?.join("+"), params.tag, params.group, params.platform, params.role, params.q].filter(Boolean).map((p) => String(p).replace(/[^A-Za-z0-9_.+-]+/g, "_").slice(0, 40));
  return `tlsfleet-hosts-${parts.length ? `${parts.join("-")}-` : ""}${stamp}.csv`;
}
