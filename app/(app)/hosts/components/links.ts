// URLs of the host list for a given filter/sort/page. Pure, so server and client components agree.
import { filterToSearchParams, type HostListParamsValue } from "@/lib/inventory/filter";

export type ListState = Partial<HostListParamsValue>;

/** Query string of a list state; defaults (sort=name, dir=asc, limit=50) are left out. */
export function listQuery(state: ListState, overrides: ListState = {}): string {
  const merged: ListState = { ...state, ...overrides };
  if (!("cursor" in overrides)) delete merged.cursor;
  const sp = filterToSearchParams(merged);
  if (merged.sort === "name") sp.delete("sort");
  if (merged.dir === "asc") sp.delete("dir");
  if (merged.limit === 50) sp.delete("limit");
  return sp.toString();
}

export function hostsHref(state: ListState, overrides: ListState = {}): string {
  const q = listQuery(state, overrides);
  return q ? `/hosts?${q}` : "/hosts";
}

export function exportHref(state: ListState): string {
  const q = listQuery(state, { cursor: undefined, limit: undefined });
  return q ? `/api/v1/hosts/export?${q}` : "/api/v1/hosts/export";
}

/** The compliance evidence export of the list's filter (lib/evidence/export.ts). */
export function evidenceHref(state: ListState, format: "csv" | "json"): string {
  const sp = new URLSearchParams(listQuery(state, { cursor: undefined, limit: undefined }));
  sp.set("format", format);
  return `/api/v1/hosts/evidence?${sp}`;
}

/** Query string the host form adds to the host page's URL after a save that detached the credential. */
export const CREDENTIAL_DETACHED_PARAM = "saved=credential-detached";
