// The host-list filter: parsed from URL search params (pages, API, saved filters, "select all
// matching") and turned into one SQL WHERE clause, so every place that means "these hosts"
// selects exactly the same rows.
import { z } from "zod";
import { HOST_STATUSES } from "../compliance/status";
import { HOST_ROLES, PLATFORMS } from "./model";

const csv = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v), z.array(item).max(20)).optional();

export const HostFilter = z.object({
  status: csv(z.enum(HOST_STATUSES)),
  tag: z.string().trim().toLowerCase().max(64).optional(),
  group: z.string().trim().max(100).optional(),
  platform: z.enum(PLATFORMS).optional(),
  role: z.enum(HOST_ROLES).optional(),
  q: z.string().trim().max(100).optional(),
});
export type HostFilterValue = z.output<typeof HostFilter>;

export const SORT_KEYS = ["name", "status", "group", "lastScanAt", "firstFailingAt"] as const;
export const HostListParams = HostFilter.extend({
  sort: z.enum(SORT_KEYS).default("name"),
  dir: z.enum(["asc", "desc"]).default("asc"),
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type HostListParamsValue = z.output<typeof HostListParams>;

/** Parse URLSearchParams or a plain record; empty strings mean "not set". */
export function parseHostListParams(input: URLSearchParams | Record<string, string | string[] | undefined>) {
  return HostListParams.safeParse(hostListRecord(input));
}

/** The record HostListParams parses, from URLSearchParams or a plain record. */
export function hostListRecord(input: URLSearchParams | Record<string, string | string[] | undefined>): Record<string, string> {
  // Repeated keys (checkboxes: status=a&status=b) add up instead of the last one winning.
  const values: Record<string, string[]> = {};
  const entries = input instanceof URLSearchParams ? [...input.entries()] : Object.entries(input);
  for (const [k, v] of entries) {
    for (const value of Array.isArray(v) ? v : [v]) if (value !== undefined && value !== "") (values[k] ??= []).push(value);
  }
  const record: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) record[k] = k === "status" ? v.join(",") : v[v.length - 1];
  return record;
}

export function filterToSearchParams(f: Partial<HostListParamsValue>): URLSearchParams {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) continue;
    sp.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  return sp;
}

export function isEmptyFilter(f: HostFilterValue): boolean {
  return !f.status?.length && !f.tag && !f.group && !f.platform && !f.role && !f.q;
}

/** Keyset cursor: the sort value and id of the last row of the previous page. */
export function encodeCursor(sortValue: string | null, id: string): string {
  return Buffer.from(JSON.stringify([sortValue, id])).toString("base64url");
}

export function decodeCursor(cursor: string): { sortValue: string | null; id: string } | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && (typeof v[0] === "string" || v[0] === null) && typeof v[1] === "string" && /^[0-9a-f-]{36}$/.test(v[1])) {
      return { sortValue: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  return null;
}

/**
 * The hosts a bulk action applies to: the ids ticked on a page, or everything matching a filter
 * ("select all N matching"), or, with `all`, every host. Exactly one of the three.
 */
export const BulkHostTarget = z
  .object({
    hostIds: z.array(z.uuid()).min(1, "Select at least one host").max(100_000).optional(),
    filter: HostFilter.optional(),
    all: z.literal(true).optional(),
  })
  .refine((t) => [t.hostIds, t.filter, t.all].filter((x) => x !== undefined).length === 1, { message: "Choose hosts by id, by filter, or all" });
export type BulkHostTargetValue = z.output<typeof BulkHostTarget>;
