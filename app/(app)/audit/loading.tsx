export default function AuditLoading() {
  return (
    <div className="flex flex-col gap-4" aria-busy="true" aria-live="polite">
      <div className="h-8 w-32 animate-pulse rounded bg-slate-200" />
      <span className="sr-only">Loading audit events…</span>
      <div className="h-16 animate-pulse rounded-lg border border-slate-200 bg-white" />
      <div className="h-14 animate-pulse rounded-lg border border-slate-200 bg-white" />
      <div className="h-96 animate-pulse rounded-lg border border-slate-200 bg-white" />
    </div>
  );
}
