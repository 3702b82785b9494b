import "server-only";
// Streamed CSV export of a filtered host list. Pages of EXPORT_PAGE_SIZE rows are read with the
// same keyset as the grid and written as they arrive, so 50,000 hosts never sit in memory at
// once and the download starts before the last page is read. The stream is pull-based: a slow
// client slows the queries down instead of letting them pile up in memory.
import { Prisma } from "../generated/prisma/client";
import { csvRow } from "./csv";
import { encodeCursor, type HostListParamsValue } from "./filter";
import { filterConditions, keysetPage, pageClauses } from "./hosts";
import { IMPORT_COLUMNS } from "./import-rows";

const EXPORT_PAGE_SIZE = 2000;

/** Inventory columns first (the file imports back as is), then the compliance result. */
export const EXPORT_COLUMNS = [...IMPORT_COLUMNS, "status", "explanation", "firstFailingAt", "lastScanAt"] as const;

// One JSON array per host, built by Postgres: three columns cross Prisma's result conversion
// instead of fifteen typed ones, which halves the garbage an export leaves for V8 to collect
// (measured on 50,000 hosts: the web process peaked ~60 MB lower). Escaping stays in csvRow.
interface ExportRow {
  id: string;
  sort_value: string | null;
  cells: string;
}

type ExportParams = Pick<HostListParamsValue, "sort" | "dir"> & Omit<Partial<HostListParamsValue>, "cursor" | "limit">;

// Timestamps are stored as UTC without a zone (Prisma's DateTime); written as ISO 8601 with Z.
const iso = (column: Prisma.Sql) => Prisma.sql`to_char(${column}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

async function exportPage(params: ExportParams, cursor: string | undefined, pageSize: number): Promise<ExportRow[]> {
  const { cursorValue } = pageClauses({ sort: params.sort, dir: params.dir });
  // The array's order is EXPORT_COLUMNS' order.
  return keysetPage<ExportRow>(
    { sort: params.sort, dir: params.dir, cursor },
    Prisma.sql`
      SELECT h."id"::text AS "id", ${cursorValue} AS sort_value,
             json_build_array(
               h."name", h."address", h."platform", array_to_string(h."roles", ';'), array_to_string(h."tags", ';'), h."group", h."owner",
               h."transport", h."port", c."name",
               (SELECT string_agg(e."port"::text || '/' || e."service", ';' ORDER BY e."port") FROM "Endpoint" e WHERE e."hostId" = h."id" AND e."removedAt" IS NULL),
               s."status", s."explanation", ${iso(Prisma.sql`s."firstFailingAt"`)}, ${iso(Prisma.sql`s."lastScanAt"`)}
             )::text AS "cells"
      FROM "Host" h
      JOIN "HostStatus" s ON s."hostId" = h."id"
      LEFT JOIN "Credential" c ON c."id" = h."credentialId"
      WHERE ${filterConditions(params)}`,
    pageSize,
  );
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
          let text = "";
          for (const r of rows) text += csvRow(JSON.parse(r.cells) as unknown[]);
          controller.enqueue(encoder.encode(text));
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
export function exportFileName(params: Partial<HostListParamsValue>, now = new Date(), file: { kind: string; ext: string } = { kind: "hosts", ext: "csv" }): string {
  const stamp = now.toISOString().slice(0, 16).replace(/:/g, "").concat("Z");
  const parts = [params.status?.join("+"), params.tag, params.group, params.platform, params.role, params.q].filter(Boolean).map((p) => String(p).replace(/[^A-Za-z0-9_.+-]+/g, "_").slice(0, 40));
  return `tlsfleet-${file.kind}-${parts.length ? `${parts.join("-")}-` : ""}${stamp}.${file.ext}`;
}
