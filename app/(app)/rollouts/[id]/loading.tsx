import { SkeletonTable } from "@/app/_components/ui/skeleton";

// Mirrors the rollout page: the summary first, then approval and controls, waves, hosts.
export default function Loading() {
  return (
    <div className="flex flex-col gap-4" aria-busy="true">
      <p className="sr-only" role="status">Loading rollout…</p>
      <div className="h-4 w-24 animate-pulse rounded bg-slate-200" />
      <div className="h-8 w-96 max-w-full animate-pulse rounded bg-slate-200" />
      <div className="h-20 animate-pulse rounded-lg bg-slate-200" />
      <div className="grid grid-cols-1 gap-4 xl:grid-cols-2">
        <div className="h-48 animate-pulse rounded-lg bg-slate-200" />
        <div className="h-48 animate-pulse rounded-lg bg-slate-200" />
      </div>
      <div className="h-32 animate-pulse rounded-lg bg-slate-100" />
      <SkeletonTable rows={6} columns={["w-40", "w-20"]} />
    </div>
  );
}
