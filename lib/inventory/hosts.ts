import "server-only";
// Host inventory: create/edit/retire with endpoints, and the server-side host list (filters,
// sort, keyset pagination, counts per status) in SQL the 50,000-host indexes can serve.
// "Delete" retires a host (docs/architecture.md "Data model"): its evidence stays.
import { prisma } from "../db";
import { Prisma } from "../generated/prisma/client";
import { recordAuditInTx } from "../audit/log";
import { refreshJobState } from "../jobs/tasks";
import { stampLine } from "../jobs/task-log";
import { can } from "../auth/roles";
import { HOST_STATUSES, type HostStatusValue } from "../compliance/status";
import { outOfScopeMessage, scopeMatch, type ScopedHost } from "../credentials/scope-match";
import { decideCustody, IDENTITY_RESET, type CustodyDecision, type CustodyState } from "./custody";
import { endpointsFor, type EndpointSpec, type HostInputValue, type HostSummary } from "./model";
import { decodeCursor, encodeCursor, type BulkHostTargetValue, type HostFilterValue, type HostListParamsValue } from "./filter";
import { AppError } from "../errors";
import type { Tx } from "../db";
import type { Actor } from "../auth/actor";

export class InventoryError extends AppError {
  constructor(message: string) {
    super(message);
    this.name = "InventoryError";
  }
}

export const isCredentialAdmin = (actor: Pick<Actor, "role">) => can(actor.role, "credentials.manage");


async function credentialIdByName(tx: Tx, name: string | null): Promise<string | null> {
  if (!name) return null;
  const c = await tx.credential.findUnique({ where: { name }, select: { id: true } });
  if (!c) throw new InventoryError(`No credential named "${name}" (create it in Settings > Credentials first)`);
  return c.id;
}

/** Refuses a credential attached (or kept through a move) outside its scope. */
export async function assertCredentialInScope(tx: Tx, credentialId: string, host: ScopedHost): Promise<void> {
  const c = await tx.credential.findUnique({ where: { id: credentialId }, select: { name: true, scopeHosts: true, scopeGroups: true, scopeCidrs: true } });
  if (!c) throw new InventoryError("That credential no longer exists");
  if (!scopeMatch(c, host)) throw new InventoryError(outOfScopeMessage(c.name, host, c));
}

/** Decides the credential for a create or an update by `actor`, refusing what it may not do. */
async function custodyFor(tx: Tx, actor: Actor, before: CustodyState | null, input: HostInputValue): Promise<CustodyDecision> {
  const wanted = { address: input.address, transport: input.transport, port: input.port ?? null, credentialId: await credentialIdByName(tx, input.credentialName) };
  const decision = decideCustody(before, wanted, isCredentialAdmin(actor));
  if (decision.refusal) throw new InventoryError(decision.refusal);
  if (decision.checkScope && decision.credentialId) await assertCredentialInScope(tx, decision.credentialId, { name: input.name, group: input.group ?? null, address: input.address });
  return decision;
}

/** The audit details of a custody change (lib/inventory/custody.ts), or nothing when none. */
export function custodyDetails(d: CustodyDecision, before: { address: string; transport: string; port: number | null; credentialName: string | null } | null) {
  if (!d.changed.length && !d.credentialDropped) return {};
  return { custody: { changed: d.changed, ...(before ? { before } : {}), credentialDropped: d.credentialDropped, identityReset: d.identityReset } };
}

function hostData(input: HostInputValue, credentialId: string | null) {
  return {
    name: input.name,
    address: input.address,
    platform: input.platform,
    roles: input.roles,
    tags: input.tags,
    group: input.group,
    owner: input.owner,
    transport: input.transport,
    port: input.port,
    credentialId,
  };
}

/**
 * Makes the host's live endpoints exactly `wanted`, keeping rows (and their history) that stay.
 * A dropped endpoint is removed (retired), not deleted: its probe results stay as evidence, as of
 * the time it existed (lib/evidence/export.ts); a port added again is a new endpoint.
 */
export async function syncEndpoints(tx: Tx, hostId: string, wanted: EndpointSpec[]) {
  const existing = await tx.endpoint.findMany({ where: { hostId, removedAt: null } });
  const byPort = new Map(existing.map((e) => [e.port, e]));
  const wantedPorts = new Set(wanted.map((e) => e.port));
  const stale = existing.filter((e) => !wantedPorts.has(e.port)).map((e) => e.id);
  if (stale.length) await tx.$executeRaw`UPDATE "Endpoint" SET "removedAt" = now() AT TIME ZONE 'UTC' WHERE id = ANY(CAST(${stale} AS uuid[]))`;
  for (const e of wanted) {
    const live = byPort.get(e.port);
    if (!live) await tx.endpoint.create({ data: { hostId, port: e.port, service: e.service, tlsStart: e.tlsStart } });
    else if (live.service !== e.service || live.tlsStart !== e.tlsStart) await tx.endpoint.update({ where: { id: live.id }, data: { service: e.service, tlsStart: e.tlsStart } });
  }
}

// Two people adding the same name at once both pass the findUnique check; the unique index
// decides, and the loser gets the same message instead of an error id.
function nameClash(name: string) {
  return (err: unknown): never => {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") throw new InventoryError(`A host named ${name} already exists`);
    throw err;
  };
}

export async function createHost(actor: Actor, input: HostInputValue) {
  const host = await createHostTx(actor, input).catch(nameClash(input.name));
  forgetTagAndGroupChoices();
  return host;
}

async function createHostTx(actor: Actor, input: HostInputValue) {
  return prisma.$transaction(async (tx) => {
    if (await activeHostNamed(tx, input.name)) throw new InventoryError(`A host named ${input.name} already exists`);
    const custody = await custodyFor(tx, actor, null, input);
    const host = await tx.host.create({ data: { ...hostData(input, custody.credentialId), status: { create: { status: "unknown", explanation: "Never scanned" } } } });
    await syncEndpoints(tx, host.id, endpointsFor(input));
    await recordAuditInTx(tx, {
      actor: actor.email,
      actorId: actor.id,
      action: "host.create",
      target: `host:${host.name}`,
      details: { address: host.address, roles: host.roles, transport: host.transport, port: host.port, credential: input.credentialName ?? null },
    });
    return host;
  });
}

export async function updateHost(actor: Actor, hostId: string, input: HostInputValue) {
  const host = await updateHostTx(actor, hostId, input).catch(nameClash(input.name));
  forgetTagAndGroupChoices();
  return host;
}

async function updateHostTx(actor: Actor, hostId: string, input: HostInputValue) {
  return prisma.$transaction(async (tx) => {
    const [before] = await tx.$queryRaw<Array<{ name: string; address: string; transport: string; port: number | null; credentialId: string | null; credentialName: string | null; retiredAt: Date | null }>>`
      SELECT h.name, h.address, h.transport::text AS transport, h.port, h."credentialId"::text AS "credentialId", c.name AS "credentialName", h."retiredAt"
      FROM "Host" h LEFT JOIN "Credential" c ON c.id = h."credentialId" WHERE h.id = ${hostId}::uuid FOR UPDATE OF h`;
    if (!before || before.retiredAt) throw new InventoryError("That host no longer exists");
    const clash = await activeHostNamed(tx, input.name);
    if (clash && clash.id !== hostId) throw new InventoryError(`A host named ${input.name} already exists`);
    const custody = await custodyFor(tx, actor, before, input);
    const host = await tx.host.update({
      where: { id: hostId },
      // A new address, transport or port is a new machine as far as the pinned key is concerned.
      data: { ...hostData(input, custody.credentialId), ...(custody.identityReset ? IDENTITY_RESET : {}) },
    });
    await syncEndpoints(tx, host.id, endpointsFor(input));
    await recordAuditInTx(tx, {
      actor: actor.email,
      actorId: actor.id,
      action: "host.update",
      target: `host:${host.name}`,
      details: {
        from: { name: before.name, address: before.address },
        to: { name: host.name, address: host.address },
        ...custodyDetails(custody, { address: before.address, transport: before.transport, port: before.port, credentialName: before.credentialName }),
      },
    });
    return Object.assign(host, { credentialDropped: custody.credentialDropped });
  });
}

function activeHostNamed(tx: Tx, name: string) {
  return tx.host.findFirst({ where: { name, retiredAt: null }, select: { id: true } });
}

const TASK_CANCELLED_BY_RETIREMENT = "the host was deleted (retired) while this task was open";

/**
 * Retires hosts: they leave the inventory (list, counts, scans, rollouts, status) and free their
 * names, and everything recorded about them stays, keyed by their id. Their open tasks are
 * cancelled (a worker holding one loses its lease and stops) and the jobs refreshed, so a job
 * whose last host goes still finishes. Task rows are locked before host rows, the order in which
 * a finishing task locks them (lib/jobs/tasks.ts).
 */
async function retireInTx(tx: Tx, hostIds: Prisma.Sql): Promise<string[]> {
  const open = await tx.$queryRaw<Array<{ id: string; jobId: string }>>`
    SELECT t.id::text, t."jobId"::text AS "jobId" FROM "JobTask" t JOIN "Host" h ON h.id = t."hostId"
    WHERE h.id IN (${hostIds}) AND h."retiredAt" IS NULL AND t.state IN ('queued', 'running', 'not_started')
    ORDER BY t.id FOR UPDATE OF t`;
  const retired = await tx.$queryRaw<Array<{ id: string; name: string }>>`
    UPDATE "Host" SET "retiredAt" = now() AT TIME ZONE 'UTC', "updatedAt" = now() AT TIME ZONE 'UTC'
    WHERE id IN (${hostIds}) AND "retiredAt" IS NULL RETURNING id::text, name`;
  if (!retired.length) return [];
  const ids = retired.map((h) => h.id);
  // The current status is the inventory's; the status history stays.
  await tx.$executeRaw`DELETE FROM "HostStatus" WHERE "hostId" = ANY(CAST(${ids} AS uuid[]))`;
  if (open.length) {
    await tx.$executeRaw`
      UPDATE "JobTask" SET state = 'cancelled', "finishedAt" = now(), "lockedBy" = NULL, "lockedUntil" = NULL, error = ${TASK_CANCELLED_BY_RETIREMENT},
        log = log || ${stampLine(TASK_CANCELLED_BY_RETIREMENT)}, "updatedAt" = clock_timestamp()
      WHERE id = ANY(CAST(${open.map((t) => t.id)} AS uuid[]))`;
    for (const jobId of [...new Set(open.map((t) => t.jobId))].sort()) await refreshJobState(tx, jobId);
  }
  return retired.map((h) => h.name);
}

/**
 * Deletes (retires) hosts in one statement: "select all matching" can mean 50,000 ids, more than
 * Postgres' 65,535 bind parameters as an IN list.
 */
export async function deleteHosts(actor: Actor, hostIds: string[]) {
  if (!hostIds.length) return 0;
  return prisma.$transaction(
    async (tx) => {
      const names = await retireInTx(tx, Prisma.sql`SELECT unnest(CAST(${hostIds} AS uuid[]))`);
      await recordDeletion(tx, actor, names, null);
      return names.length;
    },
    { timeout: 120_000 },
  );
}

/** Deletes (retires) every host matching a filter (bulk "Delete" after "select all N matching"). */
export async function deleteHostsMatching(actor: Actor, filter: HostFilterValue) {
  return prisma.$transaction(
    async (tx) => {
      const names = await retireInTx(tx, Prisma.sql`SELECT h."id" FROM "Host" h JOIN "HostStatus" s ON s."hostId" = h."id" WHERE ${filterConditions(filter)}`);
      await recordDeletion(tx, actor, names, filter);
      return names.length;
    },
    { timeout: 120_000 },
  );
}

/** Bulk delete for the grid: ticked ids, a filter, or all hosts. */
export async function deleteHostTargets(actor: Actor, target: BulkHostTargetValue): Promise<number> {
  if (target.hostIds) return deleteHosts(actor, target.hostIds);
  return deleteHostsMatching(actor, target.filter ?? {});
}

async function recordDeletion(tx: Tx, actor: Actor, names: string[], filter: HostFilterValue | null) {
  if (!names.length) return;
  forgetTagAndGroupChoices();
  names.sort();
  await recordAuditInTx(tx, {
    actor: actor.email,
    actorId: actor.id,
    action: "host.delete",
    target: names.length === 1 ? `host:${names[0]}` : `hosts:${names.length}`,
    details: { count: names.length, retired: true, ...(filter ? { filter } : {}), names: names.slice(0, 1000), namesTruncated: names.length > 1000 },
  });
}

export async function getHost(hostId: string) {
  return prisma.host.findUnique({
    where: { id: hostId },
    include: { endpoints: { where: { removedAt: null }, orderBy: { port: "asc" } }, status: true, credential: { select: { id: true, name: true, kind: true } } },
  });
}

// ---- the host list -------------------------------------------------------------------------

interface SortSpec {
  /** The typed sort expression: a plain column where possible, so its index can serve the order. */
  expr: Prisma.Sql;
  /** The same value as text, for the cursor. */
  text: Prisma.Sql;
  /** The cursor's text back to the expression's type. */
  fromText: (v: string) => Prisma.Sql;
  /** Whether the expression can be NULL: NULLs sort last in both directions ("never scanned" at the end). */
  nullable: boolean;
}

// Worst first when ascending: a list sorted by status opens on the hosts to fix.
const STATUS_RANK = Prisma.sql`array_position(ARRAY['noncompliant','at_risk','mismatch','pending_reboot','error','unreachable','unknown','excepted','compliant']::text[], s."status"::text)`;
// Microseconds, so a cursor never rounds a timestamp onto its neighbour.
const timestampText = (col: Prisma.Sql) => Prisma.sql`to_char(${col}, 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

const SORTS: Record<HostListParamsValue["sort"], SortSpec> = {
  name: { expr: Prisma.sql`h."name"`, text: Prisma.sql`h."name"`, fromText: (v) => Prisma.sql`${v}`, nullable: false },
  status: { expr: STATUS_RANK, text: Prisma.sql`${STATUS_RANK}::text`, fromText: (v) => Prisma.sql`CAST(${v} AS int)`, nullable: false },
  group: { expr: Prisma.sql`h."group"`, text: Prisma.sql`h."group"`, fromText: (v) => Prisma.sql`${v}`, nullable: true },
  lastScanAt: { expr: Prisma.sql`s."lastScanAt"`, text: timestampText(Prisma.sql`s."lastScanAt"`), fromText: (v) => Prisma.sql`CAST(${v} AS timestamp)`, nullable: true },
  firstFailingAt: { expr: Prisma.sql`s."firstFailingAt"`, text: timestampText(Prisma.sql`s."firstFailingAt"`), fromText: (v) => Prisma.sql`CAST(${v} AS timestamp)`, nullable: true },
};

function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** WHERE conditions for a filter; `withStatus: false` for the per-status counts. */
export function filterConditions(f: HostFilterValue, withStatus = true): Prisma.Sql {
  // Retired hosts have no HostStatus row, so the join already drops them; said here too for the
  // queries that read "Host" alone.
  const parts: Prisma.Sql[] = [Prisma.sql`h."retiredAt" IS NULL`];
  if (withStatus && f.status?.length) parts.push(Prisma.sql`s."status" = ANY(CAST(${f.status} AS "ComplianceStatus"[]))`);
  if (f.tag) parts.push(Prisma.sql`h."tags" @> ARRAY[${f.tag}]::text[]`);
  if (f.role) parts.push(Prisma.sql`h."roles" @> ARRAY[${f.role}]::text[]`);
  if (f.group) parts.push(Prisma.sql`h."group" = ${f.group}`);
  if (f.platform) parts.push(Prisma.sql`h."platform" = CAST(${f.platform} AS "Platform")`);
  if (f.q) parts.push(Prisma.sql`(h."name" ILIKE ${likePattern(f.q)} OR h."address" ILIKE ${likePattern(f.q)} OR h."owner" ILIKE ${likePattern(f.q)})`);
  return Prisma.join(parts, " AND ");
}

export interface HostListRow extends HostSummary {
  status: HostStatusValue;
  explanation: string;
  firstFailingAt: Date | null;
  lastScanAt: Date | null;
  lastChangedAt: Date;
}

export interface HostListPage {
  rows: HostListRow[];
  nextCursor: string | null;
  counts: Record<HostStatusValue, number>;
  total: number;
  /** The counts (and so the total) are estimates from a sample (see countsForList). */
  approximate: boolean;
}

/**
 * Keyset condition and ORDER BY for one page of the host list (shared by the grid and the
 * export). The order is (sort value, id), NULL sort values last; the cursor holds the last row's
 * pair, so a page starts exactly after it however many rows tie on the sort value.
 */
export function pageClauses(params: Pick<HostListParamsValue, "sort" | "dir" | "cursor">) {
  const sort = SORTS[params.sort];
  const desc = params.dir === "desc";
  const cursor = params.cursor ? decodeCursor(params.cursor) : null;
  if (params.cursor && !cursor) throw new InventoryError("That page link is no longer valid; start from the first page");
  const after = desc ? Prisma.raw("<") : Prisma.raw(">");
  let keyset = Prisma.empty;
  if (cursor && cursor.sortValue === null) {
    // Already in the trailing NULL block: only the id moves on.
    keyset = sort.nullable ? Prisma.sql`AND ${sort.expr} IS NULL AND h."id" ${after} CAST(${cursor.id} AS uuid)` : Prisma.sql`AND FALSE`;
  } else if (cursor) {
    const past = Prisma.sql`(${sort.expr}, h."id") ${after} (${sort.fromText(cursor.sortValue!)}, CAST(${cursor.id} AS uuid))`;
    keyset = sort.nullable ? Prisma.sql`AND (${sort.expr} IS NULL OR ${past})` : Prisma.sql`AND ${past}`;
  }
  const dir = desc ? Prisma.raw("DESC") : Prisma.raw("ASC");
  const order = Prisma.sql`${sort.expr} ${dir} NULLS LAST, h."id" ${dir}`;
  return { cursorValue: sort.text, keyset, order };
}

/**
 * One page in pageClauses' order, read so that an index can serve a nullable sort in both
 * directions. "NULLs last" in a descending order is DESC NULLS LAST, which a btree index scanned
 * backwards does not give (it gives NULLS FIRST), so Postgres sorted every matching row: at
 * 500,000 hosts "tag=prod, sort by last scan desc" top-N sorted 333,000 joined rows (630 ms).
 * Read as the non-NULL rows first (either direction walks an index on the column) and then, only
 * when those run out before the page is full, the NULL block in id order.
 * `select` is `SELECT <columns, with sort_value and id> FROM ... WHERE <filter>`; the page adds
 * `AND <keyset> ORDER BY ... LIMIT`.
 */
export async function keysetPage<T>(params: Pick<HostListParamsValue, "sort" | "dir" | "cursor">, select: Prisma.Sql, limit: number): Promise<T[]> {
  const sort = SORTS[params.sort];
  if (!sort.nullable) {
    const { keyset, order } = pageClauses(params);
    return prisma.$queryRaw<T[]>`${select} ${keyset} ORDER BY ${order} LIMIT ${limit}`;
  }
  const desc = params.dir === "desc";
  const cursor = params.cursor ? decodeCursor(params.cursor) : null;
  if (params.cursor && !cursor) throw new InventoryError("That page link is no longer valid; start from the first page");
  const after = desc ? Prisma.raw("<") : Prisma.raw(">");
  const dir = desc ? Prisma.raw("DESC") : Prisma.raw("ASC");
  let rows: T[] = [];
  if (!cursor || cursor.sortValue !== null) {
    const past = cursor ? Prisma.sql`AND (${sort.expr}, h."id") ${after} (${sort.fromText(cursor.sortValue!)}, CAST(${cursor.id} AS uuid))` : Prisma.empty;
    // No NULLS LAST: there are no NULLs here, and the default is what an index walk gives either way.
    rows = await prisma.$queryRaw<T[]>`${select} AND ${sort.expr} IS NOT NULL ${past} ORDER BY ${sort.expr} ${dir}, h."id" ${dir} LIMIT ${limit}`;
    if (rows.length === limit) return rows;
  }
  const nullsAfter = cursor?.sortValue === null ? Prisma.sql`AND h."id" ${after} CAST(${cursor.id} AS uuid)` : Prisma.empty;
  const nulls = await prisma.$queryRaw<T[]>`${select} AND ${sort.expr} IS NULL ${nullsAfter} ORDER BY h."id" ${dir} LIMIT ${limit - rows.length}`;
  return rows.concat(nulls);
}

export async function listHosts(params: HostListParamsValue, opts: { exactCounts?: boolean } = {}): Promise<HostListPage> {
  const where = filterConditions(params);
  const { cursorValue } = pageClauses({ sort: params.sort, dir: params.dir });

  const [rows, { counts, approximate }] = await Promise.all([
    keysetPage<HostListRow & { sort_value: string | null }>(
      params,
      Prisma.sql`
        SELECT h."id", h."name", h."address", h."platform"::text AS "platform", h."roles", h."tags", h."group", h."owner",
               s."status"::text AS "status", s."explanation", s."firstFailingAt", s."lastScanAt", s."lastChangedAt",
               ${cursorValue} AS sort_value
        FROM "Host" h JOIN "HostStatus" s ON s."hostId" = h."id"
        WHERE ${where}`,
      params.limit + 1,
    ),
    opts.exactCounts ? countByStatus(params).then((counts) => ({ counts, approximate: false })) : countsForList(params),
  ]);
  const more = rows.length > params.limit;
  const page = more ? rows.slice(0, params.limit) : rows;
  const last = page[page.length - 1];
  const statusFilter = params.status?.length ? new Set(params.status) : null;
  const total = Object.entries(counts).reduce((n, [s, c]) => n + (statusFilter && !statusFilter.has(s as HostStatusValue) ? 0 : c), 0);
  return {
    rows: page.map(({ sort_value: _sv, ...r }) => r),
    nextCursor: more && last ? encodeCursor(last.sort_value, last.id) : null,
    counts,
    total,
    approximate,
  };
}

/** Hosts per status for a filter (ignoring its status part, so the status chips show all counts). */
export async function countByStatus(f: HostFilterValue): Promise<Record<HostStatusValue, number>> {
  // Without a host-side condition the status index alone answers (10 ms instead of a 50,000-row
  // join); every HostStatus row belongs to an inventory host (retiring a host removes its row), so
  // the numbers are the same.
  const rows = hasHostSideFilter(f)
    ? await prisma.$queryRaw<Array<{ status: HostStatusValue; n: bigint }>>`
        SELECT s."status"::text AS "status", count(*) AS n
        FROM "Host" h JOIN "HostStatus" s ON s."hostId" = h."id"
        WHERE ${filterConditions(f, false)}
        GROUP BY s."status"`
    : await prisma.$queryRaw<Array<{ status: HostStatusValue; n: bigint }>>`SELECT s."status"::text AS "status", count(*) AS n FROM "HostStatus" s GROUP BY s."status"`;
  return countsFrom(rows);
}

const hasHostSideFilter = (f: HostFilterValue) => Boolean(f.tag || f.role || f.group || f.platform || f.q);

function countsFrom(rows: Array<{ status: HostStatusValue; n: bigint | number }>): Record<HostStatusValue, number> {
  const counts = Object.fromEntries(HOST_STATUSES.map((s) => [s, 0])) as Record<HostStatusValue, number>;
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

/**
 * A host-side filter (tag, role, group, platform, search) matching more hosts than this gets
 * estimated counts. Counting exactly joins every matching host with its status: at 500,000 hosts
 * "tag=mail" (375,000 hosts) took ~600 ms of a 2-core machine on every page of the list, where an
 * estimate from a 5,000-host sample takes ~10-20 ms and is within a few percent. Below it, and for
 * any inventory of at most this many hosts, counts stay exact.
 */
export const EXACT_COUNT_LIMIT = 50_000;
const COUNT_SAMPLE_HOSTS = 5_000;

/**
 * The list's counts per status: countByStatus's, or estimates (`approximate: true`) when the
 * inventory has more than EXACT_COUNT_LIMIT hosts and the filter is by status only, or a
 * host-side filter matches more than that many. The estimate reads a fixed sample of
 * Host's pages (TABLESAMPLE SYSTEM ... REPEATABLE, so reloading the page shows the same numbers
 * while the table is unchanged) and scales by HostStatus' row count from the last ANALYZE.
 */
export async function countsForList(f: HostFilterValue, opts: { exactCountLimit?: number } = {}): Promise<{ counts: Record<HostStatusValue, number>; approximate: boolean }> {
  const limit = opts.exactCountLimit ?? EXACT_COUNT_LIMIT;
  const exact = async () => ({ counts: await countByStatus(f), approximate: false });
  const [size] = await prisma.$queryRaw<Array<{ hosts: number; statuses: number }>>`
    SELECT (SELECT reltuples FROM pg_class WHERE oid = '"Host"'::regclass)::float8 AS hosts,
           (SELECT reltuples FROM pg_class WHERE oid = '"HostStatus"'::regclass)::float8 AS statuses`;
  // reltuples is -1 before the first ANALYZE of a table, 0 for a new one.
  if (!size || size.hosts <= limit || size.statuses <= limit) return exact();
  const percent = Math.min(100, (100 * COUNT_SAMPLE_HOSTS) / size.hosts);
  if (!hasHostSideFilter(f)) {
    // Every host, by status: the exact count is an index-only scan of all HostStatus rows (70-100
    // ms at 500,000 hosts); a sample of its pages needs no lookups at all.
    const sample = await prisma.$queryRaw<Array<{ status: HostStatusValue; n: bigint }>>`
      SELECT s."status"::text AS "status", count(*) AS n FROM "HostStatus" s TABLESAMPLE SYSTEM (CAST(${percent} AS real)) REPEATABLE (12) GROUP BY 1`;
    const sampled = sample.reduce((a, r) => a + Number(r.n), 0);
    if (sampled === 0) return exact();
    return { counts: countsFrom(sample.map((r) => ({ status: r.status, n: Math.round((Number(r.n) * size.statuses) / sampled) }))), approximate: true };
  }
  // The status is looked up per sampled host (LIMIT 1 keeps the lateral subquery from becoming a
  // join, for which Postgres hashed all of HostStatus: 100 ms instead of a few thousand
  // primary-key probes).
  const sample = await prisma.$queryRaw<Array<{ status: HostStatusValue; n: bigint; sampled: bigint }>>`
    SELECT s."status"::text AS "status", count(*) FILTER (WHERE ${filterConditions(f, false)}) AS n, count(*) AS sampled
    FROM "Host" h TABLESAMPLE SYSTEM (CAST(${percent} AS real)) REPEATABLE (12)
    CROSS JOIN LATERAL (SELECT s."status" FROM "HostStatus" s WHERE s."hostId" = h."id" LIMIT 1) s
    GROUP BY 1`;
  const sampled = sample.reduce((a, r) => a + Number(r.sampled), 0);
  const matched = sample.reduce((a, r) => a + Number(r.n), 0);
  if (sampled === 0 || (matched * size.statuses) / sampled <= limit) return exact();
  const scale = size.statuses / sampled;
  return { counts: countsFrom(sample.map((r) => ({ status: r.status, n: Math.round(Number(r.n) * scale) }))), approximate: true };
}

/** Every host id matching a filter: "select all matching", scans of a filter, bulk actions. */
export async function hostIdsMatching(f: HostFilterValue, max = 100_000): Promise<string[]> {
  const rows = await prisma.$queryRaw<Array<{ id: string }>>`
    SELECT h."id" FROM "Host" h JOIN "HostStatus" s ON s."hostId" = h."id"
    WHERE ${filterConditions(f)} ORDER BY h."name" LIMIT ${max}`;
  return rows.map((r) => r.id);
}

// The filter form's tag and group choices: a scan of every host's tags (630 ms at 500,000 hosts),
// so kept for a short while instead of being recomputed on each page view. Once older than that,
// the kept value is still shown while a new one is read for the next view, so no page view waits
// for the scan except the first. Changes made through this process drop it at once.
const CHOICES_TTL_MS = 30_000;
let choicesCache: { at: number; value: Promise<{ tags: string[]; groups: string[] }>; refreshing: boolean } | null = null;

export function forgetTagAndGroupChoices() {
  choicesCache = null;
}

function readTagAndGroupChoices(): Promise<{ tags: string[]; groups: string[] }> {
  return Promise.all([
    prisma.$queryRaw<Array<{ tag: string }>>`SELECT DISTINCT unnest("tags") AS tag FROM "Host" WHERE "retiredAt" IS NULL ORDER BY 1 LIMIT 500`,
    prisma.$queryRaw<Array<{ group: string }>>`SELECT DISTINCT "group" FROM "Host" WHERE "group" IS NOT NULL AND "retiredAt" IS NULL ORDER BY 1 LIMIT 500`,
  ]).then(([tags, groups]) => ({ tags: tags.map((t) => t.tag), groups: groups.map((g) => g.group) }));
}

export function distinctTagsAndGroups(): Promise<{ tags: string[]; groups: string[] }> {
  const kept = choicesCache;
  if (kept && Date.now() - kept.at < CHOICES_TTL_MS) return kept.value;
  if (kept && !kept.refreshing) {
    kept.refreshing = true;
    readTagAndGroupChoices().then(
      (fresh) => {
        if (choicesCache === kept) choicesCache = { at: Date.now(), value: Promise.resolve(fresh), refreshing: false };
      },
      () => {
        if (choicesCache === kept) kept.refreshing = false;
      },
    );
  }
  if (kept) return kept.value;
  const value = readTagAndGroupChoices();
  const entry = { at: Date.now(), value, refreshing: false };
  choicesCache = entry;
  value.catch(() => {
    if (choicesCache === entry) choicesCache = null;
  });
  return value;
}

/** Credential names and ids for the host form's picker (never the secret). */
export async function credentialChoices(): Promise<Array<{ id: string; name: string; kind: string }>> {
  return prisma.credential.findMany({ select: { id: true, name: true, kind: true }, orderBy: { name: "asc" } });
}
