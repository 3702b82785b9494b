import Link from "next/link";
import type { TimelineEntry } from "@/lib/hosts/detail";
import { StatusBadge } from "@/app/_components/ui/status-badge";
import { formatUtc } from "@/lib/time";

const TASK_STATE_STYLE: Record<string, string> = {
  succeeded: "text-green-800",
  failed: "text-red-800",
  unreachable: "text-slate-700",
  cancelled: "text-slate-600",
  pending_reboot: "text-violet-800",
};

/** Status changes and the job tasks that touched this host, newest first. */
export function Timeline({ entries }: { entries: TimelineEntry[] }) {
  if (entries.length === 0) return <p className="text-sm text-slate-600">Nothing has happened to this host yet: no scans, no status changes.</p>;
  return (
    <ol className="relative border-l border-slate-200 pl-5" data-testid="host-timeline">
      {entries.map((e, i) => (
        <li key={i} className="mb-4 last:mb-0">
          <span className={`absolute -left-1.5 mt-1.5 h-3 w-3 rounded-full border-2 border-white ${e.kind === "status" ? "bg-brand-600" : "bg-slate-400"}`} aria-hidden="true" />
          <time className="text-xs text-slate-500" dateTime={e.at.toISOString()}>{formatUtc(e.at)}</time>
          {e.kind === "status" ? (
            <div className="text-sm">
              <div className="flex flex-wrap items-center gap-1.5">
                <span className="text-slate-700">Status</span>
                {e.previous && (
                  <>
                    <StatusBadge status={e.previous} />
                    <span aria-label="changed to">→</span>
                  </>
                )}
                <StatusBadge status={e.status} />
              </div>
              <p className="mt-0.5 text-slate-700">{e.explanation}</p>
            </div>
          ) : (
            <div className="text-sm">
              <Link href={`/jobs/${e.jobId}`} className="font-medium text-brand-700 hover:underline">{e.jobKind} job</Link>{" "}
              <span className="text-slate-700">task</span> <span className={`font-medium ${TASK_STATE_STYLE[e.taskState] ?? "text-slate-800"}`}>{e.taskState.replace("_", " ")}</span>
              {e.finishedAt && <span className="text-xs text-slate-500"> (finished {formatUtc(e.finishedAt)})</span>}
              {e.error && <p className="mt-0.5 text-red-800">{e.error}</p>}
            </div>
          )}
        </li>
      ))}
    </ol>
  );
}
