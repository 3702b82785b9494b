// Instants as this product writes them for people: UTC to the minute, "2026-11-28 10:02 UTC".
// Status explanations, audit reports, evidence packs, task logs' pages and the UI all use this
// one form, so a time quoted in an explanation is the time shown beside it, on the server and in
// the browser alike (no time zone, no hydration mismatch).

/**
 * `at` is a Date or an ISO 8601 UTC string (a Date that crossed to a client component as JSON);
 * `none` stands in for a time that is not there (not started yet, never seen).
 */
export function formatUtc(at: Date | string | null | undefined, none = "—"): string {
  if (at === null || at === undefined) return none;
  const iso = typeof at === "string" ? at : at.toISOString();
  return `${iso.slice(0, 16).replace("T", " ")} UTC`;
}
