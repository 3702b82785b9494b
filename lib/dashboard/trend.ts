import "server-only";
// The compliance trend: hosts per status at the end of each of the last N UTC days.
//
// Replaying StatusHistory for every host and day (50,000 hosts x 30 days) costs seconds. Instead
// the end-of-day counts are derived backwards from today's HostStatus counts and the status
// changes since then (one indexed range scan on StatusHistory.at), and a day that has closed is
// written to ComplianceDaily once, so later visits read at most a few hundred rows.
// Past days in ComplianceDaily keep hosts that were deleted later (they did exist that day); days
// computed fresh only know the hosts that still exist. Both are counted as of the end of the day.
import { prisma } from "../db";
import { HOST_STATUSES, type HostStatusValue } from "../compliance/status";
import { countsAtEndOfDays, dayEnd, dayStart, lastDays, totalOf, zeroCounts, type DayCounts, type TrendDay } from "./trend-days";

export type { TrendDay } from "./trend-days";

// A scan that straddles midnight may write its history row (timestamped before midnight) a little
// after it: a day is frozen into ComplianceDaily only this long after it ended.
const CLOSE_AFTER_MS = 15 * 60_000;

/** Net change per status for every UTC day after `since`, for hosts still in the inventory (not retired). */
async function dailyDeltas(since: Date): Promise<Map<string, Partial<DayCounts>>> {
  const rows = await prisma.$queryRaw<Array<{ day: string; status: HostStatusValue; delta: number }>>`
    WITH changes AS (
      SELECT sh."at", sh."status"::text AS "status",
             -- The status it left: the previous row of the same host, else the row's own record of
             -- it, else unknown (every host starts out never scanned).
             COALESCE(lag(sh."status"::text) OVER (PARTITION BY sh."hostId" ORDER BY sh."at", sh."id"), sh."previous"::text, 'unknown') AS "left"
      FROM "StatusHistory" sh
      WHERE sh."at" >= ${since} AND EXISTS (SELECT 1 FROM "Host" h WHERE h."id" = sh."hostId" AND h."retiredAt" IS NULL)
    ),
    moves AS (
      SELECT "at", "status", 1 AS d FROM changes WHERE "status" <> "left"
      UNION ALL SELECT "at", "left", -1 FROM changes WHERE "status" <> "left"
      UNION ALL SELECT "createdAt", 'unknown', 1 FROM "Host" WHERE "createdAt" >= ${since} AND "retiredAt" IS NULL
    )
    SELECT to_char("at", 'YYYY-MM-DD') AS "day", "status", sum(d)::int AS "delta"
    FROM moves GROUP BY 1, 2`;
  const deltas = new Map<string, Partial<DayCounts>>();
  for (const r of rows) {
    const d = deltas.get(r.day) ?? {};
    d[r.status] = (d[r.status] ?? 0) + r.delta;
    deltas.set(r.day, d);
  }
  return deltas;
}

/** Hosts per status right now (HostStatus has exactly one row per host). */
export async function currentCounts(): Promise<DayCounts> {
  const rows = await prisma.$queryRaw<Array<{ status: HostStatusValue; n: number }>>`
    SELECT "status"::text AS "status", count(*)::int AS n FROM "HostStatus" GROUP BY "status"`;
  const counts = zeroCounts();
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}

/**
 * Computes end-of-day counts for `days` (ascending) from today's counts and the changes since the
 * first day ended. When that is still in the future (only today asked) there are no changes to
 * undo, and the query, which scans Host.createdAt, is skipped.
 */
export async function computeDays(days: string[], opts: { now?: Date; current?: Promise<DayCounts> } = {}): Promise<Map<string, DayCounts>> {
  if (days.length === 0) return new Map();
  const since = dayEnd(days[0]);
  const [current, deltas] = await Promise.all([
    opts.current ?? currentCounts(),
    since.getTime() > (opts.now ?? new Date()).getTime() ? new Map<string, Partial<DayCounts>>() : dailyDeltas(since),
  ]);
  return countsAtEndOfDays(current, deltas, days);
}

async function cachedDays(from: string, to: string): Promise<Map<string, DayCounts>> {
  const rows = await prisma.complianceDaily.findMany({ where: { day: { gte: dayStart(from), lte: dayStart(to) } } });
  const byDay = new Map<string, DayCounts>();
  for (const r of rows) {
    const day = r.day.toISOString().slice(0, 10);
    const counts = byDay.get(day) ?? zeroCounts();
    counts[r.status as HostStatusValue] = r.hosts;
    byDay.set(day, counts);
  }
  // A day counts as cached only when every status row is there (they are written together).
  const rowsPerDay = new Map<string, number>();
  for (const r of rows) {
    const day = r.day.toISOString().slice(0, 10);
    rowsPerDay.set(day, (rowsPerDay.get(day) ?? 0) + 1);
  }
  for (const [day, n] of rowsPerDay) if (n < HOST_STATUSES.length) byDay.delete(day);
  return byDay;
}

async function freeze(days: Map<string, DayCounts>) {
  if (days.size === 0) return;
  const data = [...days].flatMap(([day, counts]) => HOST_STATUSES.map((status) => ({ day: dayStart(day), status, hosts: counts[status] })));
  // Two visitors may freeze the same day at once: the first write wins, the values are equal anyway.
  await prisma.complianceDaily.createMany({ data, skipDuplicates: true });
}

/**
 * Hosts per status at the end of each of the last `days` UTC days, oldest first; today's value is
 * the fleet right now. Leading days before the first host existed are left out.
 */
export async function complianceTrend(opts: { days?: number; now?: Date; current?: Promise<DayCounts> } = {}): Promise<TrendDay[]> {
  const now = opts.now ?? new Date();
  const days = lastDays(now, Math.min(Math.max(opts.days ?? 30, 1), 366));
  const cached = await cachedDays(days[0], days[days.length - 1]);
  const missing = days.filter((d) => !cached.has(d));
  const computed = await computeDays(missing, { now, current: opts.current });
  const closed = new Map([...computed].filter(([day]) => dayEnd(day).getTime() + CLOSE_AFTER_MS <= now.getTime()));
  await freeze(closed);

  const series = days.map((day) => {
    const counts = cached.get(day) ?? computed.get(day) ?? zeroCounts();
    return { day, counts, total: totalOf(counts) };
  });
  const first = series.findIndex((d) => d.total > 0);
  return first < 0 ? [] : series.slice(first);
}
