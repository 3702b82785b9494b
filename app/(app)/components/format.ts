// Display helpers shared by the Overview and the host page. Times: lib/time.ts formatUtc, the form
// status explanations name them in ("at 2026-11-28 10:02 UTC"), so the two never disagree.

export function formatDay(d: Date): string {
  return d.toLocaleDateString("en-US", { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
}

/** "3 days", "5 hours", "12 minutes": how long ago `d` was, coarsely. */
export function durationSince(d: Date, now: Date = new Date()): string {
  const ms = Math.max(0, now.getTime() - d.getTime());
  const minutes = Math.floor(ms / 60_000);
  const hours = Math.floor(minutes / 60);
  const days = Math.floor(hours / 24);
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  if (days >= 1) return unit(days, "day");
  if (hours >= 1) return unit(hours, "hour");
  return unit(Math.max(1, minutes), "minute");
}

export const number = (n: number) => n.toLocaleString("en-US");
