// The host list's evidence buttons: compliance CSV / JSON of the current filter (now, or as of a
// past instant rebuilt from the history) and the PDF evidence pack.
import type { HostFilterValue } from "@/lib/inventory/filter";
import { PackButton } from "@/app/(app)/evidence/components/pack-button";
import { evidenceHref, listQuery, type ListState } from "./links";

const linkButton = "inline-flex items-center rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100";

export function EvidenceExports({ state, filter }: { state: ListState; filter: HostFilterValue }) {
  const hidden = [...new URLSearchParams(listQuery(state, { cursor: undefined, limit: undefined })).entries()];
  return (
    <div className="flex flex-wrap items-center gap-2" aria-label="Evidence exports" role="group">
      <a href={evidenceHref(state, "csv")} download className={linkButton}>
        Compliance CSV
      </a>
      <a href={evidenceHref(state, "json")} download className={linkButton}>
        Compliance JSON
      </a>
      <details className="relative">
        <summary className={`${linkButton} cursor-pointer list-none`}>As of…</summary>
        <form action="/api/v1/hosts/evidence" method="get" className="absolute right-0 z-10 mt-1 flex w-72 flex-col gap-2 rounded-md border border-slate-200 bg-white p-3 text-sm shadow-lg">
          {hidden.map(([k, v]) => (
            <input key={k} type="hidden" name={k} value={v} />
          ))}
          <label className="flex flex-col gap-1 text-xs font-medium text-slate-700">
            Evidence as of (UTC)
            <input name="asOf" required placeholder="2026-11-30 00:00 UTC" pattern="\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?\s*(Z|UTC)?" className="rounded-md border border-slate-300 px-2 py-1.5 text-sm" />
          </label>
          <div className="flex gap-2">
            <button type="submit" name="format" value="csv" className={linkButton}>
              CSV as of
            </button>
            <button type="submit" name="format" value="json" className={linkButton}>
              JSON as of
            </button>
          </div>
        </form>
      </details>
      <PackButton scope={{ kind: "filter", filter }} />
    </div>
  );
}
