import "server-only";
// The audit trail as a list: filtered by exact actor, action and target and a UTC time range,
// newest first, paged by chain position (keyset on `seq`), never by OFFSET. Each filter column
// has an index on (column, seq), so a page reads about one page of index entries whatever the
// table's size (tests/integration/audit-list.test.ts checks the plans on 300,000 events).
import { prisma } from "../db";
import { Prisma } from "../generated/prisma/client";
import { csvRow } from "../inventory/csv";
import type { AuditFilter, AuditListParamsValue } from "./filter";
import { auditChainStatus } from "./verify";
import type { ChainEvent } from "./chain";

export const AUDIT_PAGE_SIZE = 50;
const EXPORT_PAGE_SIZE = 2000;

/** An event as the database returns it: a chain event whose id is the bigint column. */
export interface AuditEventRow extends ChainEvent {
  id: bigint;
}

export function auditWhere(f: AuditFilter, keyset?: { before?: bigint; after?: bigint }): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (f.actor) parts.push(Prisma.sql`"actor" = ${f.actor}`);
  if (f.action) parts.push(Prisma.sql`"action" = ${f.action}`);
  if (f.target) parts.push(Prisma.sql`"target" = ${f.target}`);
  if (f.from) parts.push(Prisma.sql`"at" >= ${f.from}`);
  if (f.to) parts.push(Prisma.sql`"at" < ${f.to}`);
  if (keyset?.before !== undefined) parts.push(Prisma.sql`"seq" < ${keyset.before}`);
  if (keyset?.after !== undefined) parts.push(Prisma.sql`"seq" > ${keyset.after}`);
  return parts.length ? Prisma.sql`WHERE ${Prisma.join(parts, " AND ")}` : Prisma.empty;
}

/** The page query itself (exported so the plan test explains exactly what the page runs). */
export function auditPageSql(params: AuditFilter & { before?: bigint; after?: bigint }, limit: number): Prisma.Sql {
  const ascending = params.after !== undefined && params.before === undefined;
  return Prisma.sql`
    SELECT "id", "seq", "at", "actor", "actorId", "action", "target", "details", "prevHash", "hash"
    FROM "AuditEvent" ${auditWhere(params, { before: params.before, after: params.after })}
    ORDER BY "seq" ${ascending ? Prisma.raw("ASC") : Prisma.raw("DESC")}
    LIMIT ${limit}`;
}

export interface AuditPage {
  events: AuditEventRow[];
  /** Cursor of the next older page (`before=`), or null at the first event. */
  older: bigint | null;
  /** Cursor of the next newer page (`after=`), or null at the newest. */
  newer: bigint | null;
}

export async function listAuditEvents(params: AuditListParamsValue, limit = AUDIT_PAGE_SIZE): Promise<AuditPage> {
  const ascending = params.after !== undefined && params.before === undefined;
  const rows = await prisma.$queryRaw<AuditEventRow[]>(auditPageSql(params, limit + 1));
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  const events = ascending ? page.reverse() : page;
  const first = events[0];
  const last = events.at(-1);
  const pagedBack = params.before !== undefined;
  return {
    events,
    older: last && (ascending || more) ? last.seq : null,
    newer: first && (pagedBack || (ascending && more)) ? first.seq : null,
  };
}

export const AUDIT_CSV_COLUMNS = ["seq", "id", "at", "actor", "actorId", "action", "target", "details", "prevHash", "hash"] as const;

/** The filtered events as CSV, newest first, streamed page by page (pull-based). */
export function auditCsvStream(filter: AuditFilter, opts: { pageSize?: number } = {}): ReadableStream<Uint8Array> {
  const pageSize = opts.pageSize ?? EXPORT_PAGE_SIZE;
  const encoder = new TextEncoder();
  let before: bigint | undefined;
  let started = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!started) {
        started = true;
        controller.enqueue(encoder.encode(`\uFEFF${csvRow(AUDIT_CSV_COLUMNS)}`));
        return;
      }
      const rows = await prisma.$queryRaw<AuditEventRow[]>(auditPageSql({ ...filter, before }, pageSize));
      if (rows.length) {
        let text = "";
        for (const r of rows) text += csvRow([r.seq.toString(), r.id.toString(), r.at.toISOString(), r.actor, r.actorId, r.action, r.target, r.details === null ? "" : JSON.stringify(r.details), r.prevHash, r.hash]);
        controller.enqueue(encoder.encode(text));
        before = rows[rows.length - 1].seq;
      }
      if (rows.length < pageSize) controller.close();
    },
  });
}

/** Everything the Audit page shows: one page of events and the chain's status, in parallel. */
export async function auditPageData(params: AuditListParamsValue) {
  const [page, status] = await Promise.all([listAuditEvents(params), auditChainStatus()]);
  return { page, status };
}
