import type { ProgressCounts } from "@/lib/jobs/state";

// Segments in the order work moves through them; each names its count for screen readers too.
const SEGMENTS: Array<{ key: keyof Omit<ProgressCounts, "total">; label: string; className: string }> = [
  { key: "done", label: "done", className: "bg-green-600" },
  { key: "failed", label: "failed", className: "bg-red-600" },
  { key: "unreachable", label: "unreachable", className: "bg-amber-500" },
  { key: "cancelled", label: "cancelled", className: "bg-slate-500" },
  { key: "not_started", label: "not started", className: "bg-slate-300" },
  { key: "running", label: "running", className: "bg-blue-500 animate-pulse" },
  { key: "queued", label: "queued", className: "bg-slate-200" },
];

export function ProgressBar({ counts, compact = false }: { counts: ProgressCounts; compact?: boolean }) {
  const total = Math.max(counts.total, 1);
  const finished = counts.done + counts.failed + counts.unreachable + counts.cancelled + counts.not_started;
  const summary = SEGMENTS.filter((s) => counts[s.key] > 0).map((s) => `${counts[s.key]} ${s.label}`).join(", ");
  return (
    <div className="flex flex-col gap-1">
      <div
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={counts.total}
        aria-valuenow={finished}
        aria-valuetext={`${finished} of ${counts.total} hosts finished: ${summary || "nothing yet"}`}
        className={`flex w-full overflow-hidden rounded-full bg-slate-100 ${compact ? "h-2" : "h-3"}`}
      >
        {SEGMENTS.map((s) =>
          counts[s.key] > 0 ? <div key={s.key} className={s.className} style={{ width: `${(counts[s.key] / total) * 100}%` }} title={`${counts[s.key]} ${s.label}`} /> : null,
        )}
      </div>
      {!compact && (
        <ul className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-700" aria-label="Hosts per state" data-testid="progress-counts">
          {(["queued", "running", "done", "failed", "unreachable", "cancelled", "not_started"] as const).map((key) => (
            <li key={key} data-count={key}>
              <span className={`mr-1 inline-block h-2 w-2 rounded-full ${SEGMENTS.find((s) => s.key === key)!.className.split(" ")[0]}`} aria-hidden />
              {key === "not_started" ? "not started" : key} <span className="font-semibold tabular-nums">{counts[key]}</span>
            </li>
          ))}
        </ul>
      )}
      {compact && <span className="text-xs tabular-nums text-slate-600">{finished}/{counts.total}{counts.failed + counts.unreachable > 0 ? ` · ${counts.failed + counts.unreachable} failed/unreachable` : ""}</span>}
    </div>
  );
}
