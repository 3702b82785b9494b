// The days of an evidence pack's trend chart. Pure.

// Trend points at most; a longer period is sampled every few days.
const TREND_POINTS = 60;

/** UTC days from the period's start to today, at most TREND_POINTS of them (always ending today). */
export function trendDays(from: Date, to: Date, points = TREND_POINTS): string[] {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const start = Date.parse(`${day(from)}T00:00:00Z`);
  const end = Date.parse(`${day(to)}T00:00:00Z`);
  const total = Math.round((end - start) / 86_400_000) + 1;
  const step = Math.max(1, Math.ceil(total / points));
  const days: string[] = [];
  for (let t = end; t >= start; t -= step * 86_400_000) days.unshift(day(new Date(t)));
  return days;
}
