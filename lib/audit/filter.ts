// The Audit page's filter and page position, as URL search params (pure: the page, the CSV route
// and the links share it). Times are UTC; `before`/`after` are chain positions (keyset cursors).
import { z } from "zod";

const text = z
  .string()
  .trim()
  .max(500)
  .optional()
  .transform((v) => (v ? v : undefined));

// <input type="datetime-local"> sends "2026-12-07T10:00" (no zone): read as UTC, as labelled.
const utcTime = z
  .string()
  .trim()
  .optional()
  .transform((v, ctx) => {
    if (!v) return undefined;
    const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
    if (Number.isNaN(d.getTime())) {
      ctx.addIssue({ code: "custom", message: `"${v}" is not a time (use 2026-12-07T10:00)` });
      return z.NEVER;
    }
    return d;
  });

const position = z
  .string()
  .regex(/^\d{1,19}$/)
  .optional()
  .transform((v) => (v === undefined ? undefined : BigInt(v)));

export const AuditListParams = z.object({
  actor: text,
  action: text,
  target: text,
  from: utcTime,
  to: utcTime,
  before: position,
  after: position,
});

export type AuditFilter = Omit<z.output<typeof AuditListParams>, "before" | "after">;
export type AuditListParamsValue = z.output<typeof AuditListParams>;

export function parseAuditListParams(input: URLSearchParams | Record<string, string | string[] | undefined>) {
  const entries = input instanceof URLSearchParams ? Object.fromEntries(input) : Object.fromEntries(Object.entries(input).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  return AuditListParams.safeParse(entries);
}

/** `YYYY-MM-DDTHH:MM` in UTC, for datetime-local inputs and links. */
export function utcInputValue(d: Date | undefined): string {
  return d ? d.toISOString().slice(0, 16) : "";
}

export function auditQuery(params: Partial<AuditListParamsValue>): string {
  const sp = new URLSearchParams();
  for (const key of ["actor", "action", "target"] as const) if (params[key]) sp.set(key, params[key]);
  if (params.from) sp.set("from", utcInputValue(params.from));
  if (params.to) sp.set("to", utcInputValue(params.to));
  if (params.before !== undefined) sp.set("before", params.before.toString());
  if (params.after !== undefined) sp.set("after", params.after.toString());
  return sp.toString();
}

export function isEmptyAuditFilter(f: AuditFilter): boolean {
  return !f.actor && !f.action && !f.target && !f.from && !f.to;
}
