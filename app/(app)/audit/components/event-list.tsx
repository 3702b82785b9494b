import type { AuditEventRow } from "@/lib/audit/list";

const short = (hash: string) => `${hash.slice(0, 12)}…`;

/**
 * One disclosure per event (summary line, then its details and its place in the chain): Tab
 * reaches each summary, Enter or Space opens it.
 */
export function EventList({ events }: { events: AuditEventRow[] }) {
  return (
    <ol aria-label="Audit events" className="divide-y divide-slate-200 rounded-lg border border-slate-200 bg-white shadow-sm">
      {events.map((e) => (
        <li key={e.seq.toString()} data-testid="audit-event">
          <details className="group">
            <summary className="grid cursor-pointer grid-cols-[5rem_11rem_1fr] gap-x-3 gap-y-1 px-4 py-2 text-sm hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-inset focus-visible:ring-brand-500 md:grid-cols-[5rem_11rem_14rem_12rem_1fr]">
              <span className="font-mono text-slate-500">#{e.seq.toString()}</span>
              <time dateTime={e.at.toISOString()} className="text-slate-700">
                {e.at.toISOString().slice(0, 19).replace("T", " ")} UTC
              </time>
              <span className="truncate text-slate-900" title={e.actor}>
                {e.actor}
              </span>
              <span className="font-medium text-slate-900">{e.action}</span>
              <span className="truncate text-slate-700" title={e.target ?? ""}>
                {e.target ?? "—"}
              </span>
            </summary>
            <div className="grid gap-3 bg-slate-50 px-4 py-3 text-sm lg:grid-cols-2">
              <section aria-label="Details">
                <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-600">Details</h3>
                <pre className="mt-1 max-h-80 overflow-auto whitespace-pre-wrap break-all rounded border border-slate-200 bg-white p-2 font-mono text-xs text-slate-800">
                  {e.details === null ? "(none)" : JSON.stringify(e.details, null, 2)}
                </pre>
              </section>
              <section aria-label="Place in the chain">
                <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-600">Place in the chain</h3>
                <dl className="mt-1 grid grid-cols-[7rem_1fr] gap-x-2 gap-y-1 text-xs">
                  <dt className="text-slate-600">Sequence</dt>
                  <dd className="font-mono">#{e.seq.toString()} (id {e.id.toString()})</dd>
                  <dt className="text-slate-600">Hash</dt>
                  <dd className="break-all font-mono" title={e.hash}>
                    {e.hash}
                  </dd>
                  <dt className="text-slate-600">Previous hash</dt>
                  <dd className="break-all font-mono" title={e.prevHash}>
                    {e.seq === 1n ? `${short(e.prevHash)} (start of the chain)` : e.prevHash}
                  </dd>
                  <dt className="text-slate-600">Actor id</dt>
                  <dd className="font-mono">{e.actorId ?? "—"}</dd>
                </dl>
              </section>
            </div>
          </details>
        </li>
      ))}
    </ol>
  );
}
