import "server-only";
// The Overview: how many hosts are in each status, which ones break mail flow with Microsoft 365,
// which have been out of compliance the longest, where (by group) the problems are, and how the
// fleet moved over the last weeks. Each part is one SQL statement; getOverview runs them in parallel.
import { prisma } from "../db";
import { Prisma } from "../generated/prisma/client";
import { FAILING_STATUSES, type HostStatusValue } from "../compliance/status";
import { complianceTrend, currentCounts, type TrendDay } from "./trend";

export type StatusCounts = Record<HostStatusValue, number>;

export interface OverviewHostRow {
  id: string;
  name: string;
  address: string;
  group: string | null;
  status: HostStatusValue;
  explanation: string;
  firstFailingAt: Date | null;
}

export interface GroupCompliance {
  /** null: hosts without a group. */
  group: string | null;
  failing: number;
  total: number;
}

export interface Overview {
  counts: StatusCounts;
  total: number;
  atRisk: OverviewHostRow[];
  longestFailing: OverviewHostRow[];
  /** Hosts shown as excepted; their explanation names the finding, the expiry and the justification. */
  excepted: OverviewHostRow[];
  /** `asOf`: when the breakdown was computed, for a large inventory where it is reused for a while (GROUPS_REUSE_ABOVE). */
  byGroup: { groups: GroupCompliance[]; groupCount: number; asOf?: Date };
  trend: TrendDay[];
}

const FAILING = [...FAILING_STATUSES];

/**
 * Hosts of one status (or more: `where` is on HostStatus s only), failing the longest first,
 * then (those with no failing time) by name. Two reads instead of one ORDER BY firstFailingAt
 * NULLS LAST, name: with one, the excepted list (whose hosts mostly have no failing time) walked
 * the whole firstFailingAt index and sorted every excepted host by name, ~1 s at 500,000 hosts.
 * The first read is a range of the (status, firstFailingAt) index. The second runs only when the
 * first does not fill the list; how it reads depends on how common the status is (`share`, from
 * the previous visit's counts): a common one walks the host names and looks up each status until
 * the list is full (a 3% status: ~330 lookups for 10 hosts), a rare one takes its hosts from the
 * index and looks each up by id (as many lookups as it has hosts). LIMIT 1 keeps the lateral
 * subqueries lookups: as joins Postgres hashed all 500,000 hosts for them (420 ms).
 */
async function hostRows(where: Prisma.Sql, limit: number, opts: { withoutFailingTime: boolean; share?: number }): Promise<OverviewHostRow[]> {
  const failing = await prisma.$queryRaw<OverviewHostRow[]>`
    SELECT h."id", h."name", h."address", h."group", s."status"::text AS "status", s."explanation", s."firstFailingAt"
    FROM "HostStatus" s JOIN "Host" h ON h."id" = s."hostId"
    WHERE ${where} AND s."firstFailingAt" IS NOT NULL
    ORDER BY s."firstFailingAt" ASC, h."name" ASC
    LIMIT ${limit}`;
  if (failing.length >= limit || !opts.withoutFailingTime) return failing;
  const rest =
    (opts.share ?? 0) >= COMMON_STATUS_SHARE
      ? await prisma.$queryRaw<OverviewHostRow[]>`
          SELECT h."id", h."name", h."address", h."group", s."status"::text AS "status", s."explanation", s."firstFailingAt"
          FROM "Host" h
          CROSS JOIN LATERAL (SELECT s.* FROM "HostStatus" s WHERE s."hostId" = h."id" AND ${where} AND s."firstFailingAt" IS NULL LIMIT 1) s
          WHERE h."retiredAt" IS NULL
          ORDER BY h."name" ASC
          LIMIT ${limit - failing.length}`
      : await prisma.$queryRaw<OverviewHostRow[]>`
          SELECT h."id", h."name", h."address", h."group", s."status"::text AS "status", s."explanation", s."firstFailingAt"
          FROM "HostStatus" s
          CROSS JOIN LATERAL (SELECT h."id", h."name", h."address", h."group" FROM "Host" h WHERE h."id" = s."hostId" LIMIT 1) h
          WHERE ${where} AND s."firstFailingAt" IS NULL
          ORDER BY h."name" ASC
          LIMIT ${limit - failing.length}`;
  return failing.concat(rest);
}

// A status held by at least this share of the hosts is found faster by walking host names.
const COMMON_STATUS_SHARE = 0.01;

/**
 * "Mail flow at risk": hosts that cannot negotiate TLS 1.2 (or do not offer STARTTLS) on some
 * endpoint. Microsoft 365 only talks TLS 1.2+ since 2021-01-11, so these hosts lose mail now,
 * which is worse than merely accepting TLS 1.0.
 */
export function mailFlowAtRisk(limit = 10, share?: number): Promise<OverviewHostRow[]> {
  return hostRows(Prisma.sql`s."status" = 'at_risk'`, limit, { withoutFailingTime: true, share });
}

/** Hosts failing the longest first (firstFailingAt survives changes between failing statuses). */
export function longestFailing(limit = 10): Promise<OverviewHostRow[]> {
  return hostRows(Prisma.sql`s."status" = ANY(CAST(${FAILING} AS "ComplianceStatus"[]))`, limit, { withoutFailingTime: false });
}

/** Hosts an approved exception currently covers. */
export function exceptedHosts(limit = 10, share?: number): Promise<OverviewHostRow[]> {
  return hostRows(Prisma.sql`s."status" = 'excepted'`, limit, { withoutFailingTime: true, share });
}

/**
 * Failing hosts per group, worst first; `groupCount` is the number of groups before the limit.
 * Two statements in parallel instead of one join of every host with its status: the totals come
 * from the Host.group index alone and only failing hosts are joined. Measured on 50,000 hosts under
 * load: 13 ms and 68 ms side by side, against 231 ms for the single 50,000-row join.
 */
export async function nonComplianceByGroup(limit = 12): Promise<{ groups: GroupCompliance[]; groupCount: number }> {
  const [totals, failing] = await Promise.all([
    prisma.$queryRaw<Array<{ group: string | null; total: number }>>`SELECT "group", count(*)::int AS total FROM "Host" WHERE "retiredAt" IS NULL GROUP BY "group"`,
    prisma.$queryRaw<Array<{ group: string | null; failing: number }>>`
      SELECT h."group", count(*)::int AS failing
      FROM "HostStatus" s JOIN "Host" h ON h."id" = s."hostId"
      WHERE s."status" = ANY(CAST(${FAILING} AS "ComplianceStatus"[]))
      GROUP BY h."group"`,
  ]);
  const failingByGroup = new Map(failing.map((f) => [f.group, f.failing]));
  const groups = totals.map((t) => ({ group: t.group, failing: failingByGroup.get(t.group) ?? 0, total: t.total }));
  groups.sort(
    (a, b) =>
      b.failing - a.failing ||
      b.failing / b.total - a.failing / a.total ||
      (a.group === null ? 1 : b.group === null ? -1 : a.group < b.group ? -1 : a.group > b.group ? 1 : 0),
  );
  return { groups: groups.slice(0, limit), groupCount: groups.length };
}

/**
 * Above this many hosts the group breakdown is reused for up to GROUPS_FRESH_MS instead of being
 * computed on every visit. It reads every host (totals per group) and joins every failing host
 * with its group: at 500,000 hosts that is ~250 ms and ~400 ms of a 2-core machine, more than the
 * rest of the Overview together. The page says when it was computed.
 */
export const GROUPS_REUSE_ABOVE = 50_000;
const GROUPS_FRESH_MS = 30_000;
// A visit after this long waits for a new breakdown instead of being shown the old one.
const GROUPS_MAX_AGE_MS = 5 * 60_000;

type GroupBreakdown = { groups: GroupCompliance[]; groupCount: number; asOf: Date };
let groupCache: { value: GroupBreakdown; refreshing: Promise<GroupBreakdown> | null } | null = null;
let lastTotal: number | null = null;
// The previous visit's counts: they only choose how a list is read (hostRows), never what it says.
let lastCounts: StatusCounts | null = null;

/** Drops the reused group breakdown (tests; nothing else needs to: it ages out). */
export function forgetGroupBreakdown() {
  groupCache = null;
  lastTotal = null;
  lastCounts = null;
}

function computeGroups(): Promise<GroupBreakdown> {
  const asOf = new Date();
  const refresh = nonComplianceByGroup().then((g) => {
    const value = { ...g, asOf };
    groupCache = { value, refreshing: null };
    return value;
  });
  refresh.catch(() => {
    if (groupCache?.refreshing === refresh) groupCache.refreshing = null;
  });
  if (groupCache) groupCache.refreshing = refresh;
  return refresh;
}

/**
 * The breakdown computed at most every GROUPS_FRESH_MS: a visit shortly after the last one is
 * shown that one, and a visit after it (up to GROUPS_MAX_AGE_MS) is too, while a new one is
 * computed for the next visitor, so no visitor waits except the first after a quiet spell.
 */
async function reusedGroups(now: number): Promise<GroupBreakdown> {
  if (!groupCache) return computeGroups();
  const age = now - groupCache.value.asOf.getTime();
  if (age > GROUPS_MAX_AGE_MS) return groupCache.refreshing ?? computeGroups();
  if (age > GROUPS_FRESH_MS && !groupCache.refreshing) void computeGroups().catch(() => undefined);
  return groupCache.value;
}

export async function getOverview(opts: { now?: Date; trendDays?: number; listLimit?: number; groupsReuseAbove?: number } = {}): Promise<Overview> {
  const limit = opts.listLimit ?? 10;
  const reuseAbove = opts.groupsReuseAbove ?? GROUPS_REUSE_ABOVE;
  const current = currentCounts();
  const shareOf = (status: HostStatusValue) => (lastCounts && lastTotal ? lastCounts[status] / lastTotal : undefined);
  // Whether the inventory is large is known from the previous visit's counts, so that the
  // breakdown still starts in parallel with the rest (the first visit after a start computes it).
  const byGroupPromise = (lastTotal ?? 0) > reuseAbove ? reusedGroups(Date.now()) : nonComplianceByGroup();
  const [counts, atRisk, longest, excepted, byGroup, trend] = await Promise.all([
    current,
    mailFlowAtRisk(limit, shareOf("at_risk")),
    longestFailing(limit),
    exceptedHosts(limit, shareOf("excepted")),
    byGroupPromise,
    complianceTrend({ now: opts.now, days: opts.trendDays, current }),
  ]);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  lastTotal = total;
  lastCounts = counts;
  return { counts, total, atRisk, longestFailing: longest, excepted, byGroup, trend };
}
