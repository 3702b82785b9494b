// Maintenance windows, pure: "Tue and Thu 22:00 for 3 hours, Europe/Warsaw". A rollout whose
// reboot policy is "window" applies a host's change at once and restarts it only while a window is
// open. Times are wall-clock times in the window's IANA time zone, so a window stays at 22:00
// local across a daylight-saving change. A start that falls in a spring-forward gap moves forward
// by the gap (02:30 becomes 03:30), and one that occurs twice in autumn is the later of the two.
import { z } from "zod";

export const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const MaintenanceWindow = z.object({
  /** Days the window opens on (0 = Sunday), in the window's time zone. */
  days: z
    .array(z.number().int().min(0).max(6))
    .min(1, "Choose at least one day for the maintenance window")
    .transform((d) => [...new Set(d)].sort()),
  /** Local opening time, "HH:MM" (24-hour). */
  start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "The window's start is a time like 22:00"),
  durationMinutes: z.number().int().min(15, "A maintenance window lasts at least 15 minutes").max(24 * 60, "A maintenance window lasts at most 24 hours"),
  timeZone: z.string().min(1).refine(isTimeZone, "Not a time zone this server knows (use an IANA name such as Europe/Warsaw or UTC)").default("UTC"),
});
export type MaintenanceWindowValue = z.output<typeof MaintenanceWindow>;

export type WindowState = { open: true; closesAt: Date } | { open: false; opensAt: Date };

const formatters = new Map<string, Intl.DateTimeFormat>();
function partsIn(tz: string, at: number): { y: number; m: number; d: number; h: number; min: number; s: number } {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(at))) if (part.type !== "literal") p[part.type] = Number(part.value);
  return { y: p.year!, m: p.month!, d: p.day!, h: p.hour!, min: p.minute!, s: p.second! };
}

/** Minutes the zone is ahead of UTC at instant `at`. */
function offsetMs(tz: string, at: number): number {
  const p = partsIn(tz, at);
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s) - Math.floor(at / 1000) * 1000;
}

/** The instant of a wall-clock time in `tz` (month 1-12; days may overflow, like Date.UTC). */
export function zonedTime(tz: string, y: number, m: number, d: number, h: number, min: number): Date {
  const wall = Date.UTC(y, m - 1, d, h, min);
  const first = wall - offsetMs(tz, wall);
  const second = wall - offsetMs(tz, first);
  // In a spring-forward gap the two guesses disagree and neither maps back to the wall time:
  // the later one is the first instant after the gap.
  return new Date(Math.max(first, second));
}

/** Whether a window is open at `now`, and until when; or when it opens next (within 8 days). */
export function windowState(w: MaintenanceWindowValue, now: Date): WindowState {
  const [h, min] = w.start.split(":").map(Number) as [number, number];
  const today = partsIn(w.timeZone, now.getTime());
  let next: number | null = null;
  // From yesterday (a window opened last night may still be open) to a week ahead.
  for (let off = -1; off <= 8; off++) {
    const day = new Date(Date.UTC(today.y, today.m - 1, today.d + off));
    if (!w.days.includes(day.getUTCDay())) continue;
    const start = zonedTime(w.timeZone, day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), h, min).getTime();
    const end = start + w.durationMinutes * 60_000;
    if (start <= now.getTime() && now.getTime() < end) return { open: true, closesAt: new Date(end) };
    if (start > now.getTime() && (next === null || start < next)) next = start;
  }
  return { open: false, opensAt: new Date(next!) };
}

/** "Tue, Thu 22:00 for 3 h (Europe/Warsaw)". */
export function describeWindow(w: MaintenanceWindowValue): string {
  const hours = w.durationMinutes % 60 === 0 ? `${w.durationMinutes / 60} h` : `${w.durationMinutes} min`;
  const days = w.days.length === 7 ? "every day" : w.days.map((d) => WEEKDAYS[d]).join(", ");
  return `${days} ${w.start} for ${hours} (${w.timeZone})`;
}
