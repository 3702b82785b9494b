/**
 * Grey placeholder rows where a table will be, while its page loads: one bar per width in
 * `columns`, then a lighter one for the rest of the row. Decoration only (no text, no roles): the
 * loading page says "Loading …" itself.
 */
export function SkeletonTable({ rows, columns }: { rows: number; columns: string[] }) {
  return (
    <div className="overflow-hidden rounded-lg border border-slate-200 bg-white">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="flex gap-4 border-b border-slate-100 px-3 py-3">
          {columns.map((width, j) => (
            <div key={j} className={`h-4 ${width} animate-pulse rounded bg-slate-200`} />
          ))}
          <div className="h-4 flex-1 animate-pulse rounded bg-slate-100" />
        </div>
      ))}
    </div>
  );
}
