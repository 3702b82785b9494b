import Link from "next/link";
import type { OverviewHostRow } from "@/lib/dashboard/overview";
import { StatusBadge } from "@/app/_components/ui/status-badge";
import { durationSince, formatDay } from "./format";

/** A short list of hosts with their status line, e.g. "Mail flow at risk" or "Out of compliance the longest". */
export function HostRankList({ rows, showSince, empty, now }: { rows: OverviewHostRow[]; showSince?: boolean; empty: string; now: Date }) {
  if (rows.length === 0) return <p className="text-sm text-slate-600">{empty}</p>;
  return (
    <ol className="divide-y divide-slate-100">
      {rows.map((r) => (
        <li key={r.id} className="flex items-start justify-between gap-3 py-2">
          <div className="min-w-0">
            <div className="flex flex-wrap items-center gap-2">
              <Link href={`/hosts/${r.id}`} className="font-medium text-brand-700 hover:underline">{r.name}</Link>
              <StatusBadge status={r.status} />
              {r.group && <span className="text-xs text-slate-500">{r.group}</span>}
            </div>
            <p className="mt-0.5 text-sm text-slate-700">{r.explanation}</p>
          </div>
          {showSince && r.firstFailingAt && (
            <div className="shrink-0 text-right text-xs text-slate-600" title={`Out of compliance since ${r.firstFailingAt.toISOString()}`}>
              <div className="font-semibold text-slate-800">{durationSince(r.firstFailingAt, now)}</div>
              <div>since {formatDay(r.firstFailingAt)}</div>
            </div>
          )}
        </li>
      ))}
    </ol>
  );
}
