// Pure date and counting helpers for the compliance trend. Days are UTC calendar days
// ("YYYY-MM-DD"); a day's value is the number of hosts in each status at the end of that day.
import { HOST_STATUSES, type HostStatusValue } from "../compliance/status";

export type DayCounts = Record<HostStatusValue, number>;

export interface TrendDay {
  day: string; // YYYY-MM-DD, UTC
  counts: DayCounts;
  total: number;
}

const DAY_MS = 86_400_000;

export function zeroCounts(): DayCounts {
  return Object.fromEntries(HOST_STATUSES.map((s) => [s, 0])) as DayCounts;
}

export function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Midnight UTC at the start of `day`. */
export function dayStart(day: string): Date {
  return new Date(`${day}T00:00:00.000Z`);
}

/** The instant a day ends (midnight UTC of the next day); a status set at exactly this instant belongs to the next day. */
export function dayEnd(day: string): Date {
  return new Date(dayStart(day).getTime() + DAY_MS);
}

/** The `count` days ending with the day of `now`, oldest first. */
export function lastDays(now: Date, count: number): string[] {
  const today = dayStart(utcDay(now)).getTime();
  return Array.from({ length: count }, (_, i) => utcDay(new Date(today - (count - 1 - i) * DAY_MS)));
}

/**
 * End-of-day counts, walking backwards from the fleet as it is now: the count of a status at the
 * end of day D is today's count minus every change that happened after D ended. `deltas` holds,
 * per UTC day, the net change per status that day (+1 entering a status, -1 leaving it, +1
 * `unknown` for a host created that day). Days must be sorted ascending.
 */
export function countsAtEndOfDays(current: DayCounts, deltas: Map<string, Partial<DayCounts>>, days: string[]): Map<string, DayCounts> {
  const result = new Map<string, DayCounts>();
  if (days.length === 0) return result;
  // Sum of deltas of all days strictly after the day being computed, accumulated newest first.
  const after = zeroCounts();
  const deltaDays = [...deltas.keys()].sort().reverse();
  let next = 0;
  for (let i = days.length - 1; i >= 0; i--) {
    const day = days[i];
    while (next < deltaDays.length && deltaDays[next] > day) {
      const d = deltas.get(deltaDays[next])!;
      for (const s of HOST_STATUSES) after[s] += d[s] ?? 0;
      next++;
    }
    const counts = zeroCounts();
    // Never below zero: StatusHistory written out of order (or a host's first history row
    // predating its createdAt) must not draw negative bars.
    for (const s of HOST_STATUSES) counts[s] = Math.max(0, current[s] - after[s]);
    result.set(day, counts);
  }
  return result;
}

export function totalOf(counts: DayCounts): number {
  return HOST_STATUSES.reduce((n, s) => n + counts[s], 0);
}
