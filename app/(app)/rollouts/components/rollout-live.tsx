"use client";
// Keeps the rollout page current while something happens on its own (the plan being made, waves
// running, a rollback). While a job does the work (the plan job, the current wave's job), the page
// follows that job's event stream (/api/v1/jobs/:id/events, the one the job page uses) and
// re-renders when a host's task changes; a slow poll covers what no job reports (the next wave
// starting, a rollback job). Nothing runs once the rollout waits for a person or has finished.
import { useRouter } from "next/navigation";
import { useEffect, useRef, useTransition } from "react";

const POLL_MS = 2_000;
/** With a stream open, the poll only has to catch what happens between jobs. */
const POLL_WITH_STREAM_MS = 5_000;

export function RolloutLive({ active, jobId, idleText }: { active: boolean; jobId: string | null; idleText: string }) {
  const router = useRouter();
  const [refreshing, startTransition] = useTransition();
  const busy = useRef(false);
  const again = useRef(false);

  useEffect(() => {
    busy.current = refreshing;
    // A change reported during a render is rendered right after it, not dropped.
    if (!refreshing && again.current) {
      again.current = false;
      startTransition(() => router.refresh());
    }
  }, [refreshing, router]);

  useEffect(() => {
    if (!active) return;
    const refresh = () => {
      if (busy.current) {
        again.current = true;
        return;
      }
      startTransition(() => router.refresh());
    };
    let source: EventSource | null = null;
    if (jobId && typeof EventSource !== "undefined") {
      source = new EventSource(`/api/v1/jobs/${encodeURIComponent(jobId)}/events`);
      source.addEventListener("progress", refresh);
      for (const last of ["end", "gone", "failure"]) {
        source.addEventListener(last, () => {
          source?.close();
          refresh();
        });
      }
    }
    const timer = setInterval(() => {
      // A hidden tab does not poll (the stream, if any, stays open and catches up on return).
      if (document.visibilityState !== "hidden") refresh();
    }, source ? POLL_WITH_STREAM_MS : POLL_MS);
    return () => {
      clearInterval(timer);
      source?.close();
    };
  }, [active, jobId, router]);

  return (
    <span className="text-xs text-slate-600" data-testid="rollout-live" data-job-stream={active && jobId ? jobId : undefined}>
      {active ? (
        <>
          <span className="mr-1 inline-block h-2 w-2 animate-pulse rounded-full bg-blue-500" aria-hidden />
          {jobId ? "Live" : "Live: updates every 2 s"}
        </>
      ) : (
        idleText
      )}
    </span>
  );
}
