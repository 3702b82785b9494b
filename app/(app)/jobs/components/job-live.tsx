"use client";
// The job page's live part: progress bar, one page of per-host rows with their logs, Cancel and
// Retry. The server renders the counts and the page; /api/v1/jobs/<id>/events (Server-Sent
// Events) then sends the counts and changes to the rows on this page only (watch=), resuming from
// the render (since=) so nothing between render and connect is lost. A 10,000-host job costs the
// browser 100 rows, and the database one shared read per change (lib/jobs/feed.ts).
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useRef, useState, useTransition } from "react";
import { canCancel, inTaskFilter, isTerminalJob, type JobState, type ProgressCounts, type TaskFilter } from "@/lib/jobs/state";
import type { JobSummary, TaskPage, TaskRow } from "@/lib/jobs/views";
import { Alert } from "@/app/_components/ui/alert";
import { Button } from "@/app/_components/ui/button";
import { Card, EmptyState } from "@/app/_components/ui/card";
import { cancelJobAction, retryFailedAction } from "../actions";
import { JobStateBadge, TaskStateBadge } from "./job-badges";
import { ProgressBar } from "./progress-bar";
import { formatDuration } from "./format";
import { formatUtc } from "@/lib/time";

interface Live {
  state: JobState;
  cancelRequested: boolean;
  counts: ProgressCounts;
}

type StreamUpdate = Live & { tasks: TaskRow[] };

const FILTERS: Array<{ key: TaskFilter; label: string }> = [
  { key: "all", label: "All" },
  { key: "running", label: "Running" },
  { key: "failed", label: "Failed / unreachable" },
  { key: "queued", label: "Queued" },
  { key: "done", label: "Done" },
  { key: "cancelled", label: "Cancelled" },
];

/** `?state=&page=` of this job page, without the defaults. */
function pageHref(jobId: string, filter: TaskFilter, page: number): string {
  const q = new URLSearchParams();
  if (filter !== "all") q.set("state", filter);
  if (page > 1) q.set("page", String(page));
  const qs = q.toString();
  return `/jobs/${jobId}${qs ? `?${qs}` : ""}`;
}

/** First, last, and the two either side of the current page; gaps as null. */
function pageNumbers(current: number, last: number): Array<number | null> {
  const keep = new Set([1, last, current - 2, current - 1, current, current + 1, current + 2].filter((n) => n >= 1 && n <= last));
  const sorted = [...keep].sort((a, b) => a - b);
  const out: Array<number | null> = [];
  sorted.forEach((n, i) => {
    if (i > 0 && n - sorted[i - 1]! > 1) out.push(null);
    out.push(n);
  });
  return out;
}

export function JobLive({ initialJob, page, filter, mayCancel, mayRetry }: { initialJob: JobSummary; page: TaskPage; filter: TaskFilter; mayCancel: boolean; mayRetry: boolean }) {
  const router = useRouter();
  const [live, setLive] = useState<Live>({ state: initialJob.state, cancelRequested: initialJob.cancelRequested, counts: initialJob.counts });
  const [tasks, setTasks] = useState<Map<string, TaskRow>>(() => new Map(page.rows.map((t) => [t.id, t])));
  // Finished before the page was read: nothing will change, no stream.
  const finishedAtLoad = isTerminalJob(initialJob.state);
  const [stream, setStream] = useState<"connecting" | "live" | "reconnecting" | "closed" | "failed">(finishedAtLoad ? "closed" : "connecting");
  // Bumped after a retry: the stream of a finished job has closed and must be opened again.
  const [generation, setGeneration] = useState(0);
  // The last event's id: a stream opened again (after a retry) resumes from there.
  const resumeFrom = useRef(page.readAt);
  const [stale, setStale] = useState(false);
  const loadedCounts = useRef(JSON.stringify(initialJob.counts));
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [pending, startTransition] = useTransition();
  const watch = useMemo(() => page.rows.map((t) => t.id).join(","), [page.rows]);

  useEffect(() => {
    if (finishedAtLoad && generation === 0) return;
    const q = new URLSearchParams({ since: String(resumeFrom.current) });
    if (watch) q.set("watch", watch);
    const source = new EventSource(`/api/v1/jobs/${initialJob.id}/events?${q}`);
    const apply = (e: MessageEvent<string>) => {
      if (e.lastEventId) resumeFrom.current = Number(e.lastEventId);
      const update = JSON.parse(e.data) as StreamUpdate;
      // Under a filter, a count that moved means hosts came into or left the list.
      const counts = JSON.stringify(update.counts);
      if (filter !== "all" && counts !== loadedCounts.current) setStale(true);
      setLive({ state: update.state, cancelRequested: update.cancelRequested, counts: update.counts });
      if (update.tasks.length) {
        setTasks((prev) => {
          const next = new Map(prev);
          for (const t of update.tasks) if (next.has(t.id)) next.set(t.id, t);
          return next;
        });
      }
    };
    source.onopen = () => setStream("live");
    source.addEventListener("progress", (e) => {
      setStream("live");
      apply(e as MessageEvent<string>);
    });
    source.addEventListener("end", (e) => {
      apply(e as MessageEvent<string>);
      setStream("closed");
      source.close();
    });
    source.addEventListener("failure", () => {
      setStream("failed");
      source.close();
    });
    source.addEventListener("gone", () => {
      setStream("failed");
      source.close();
    });
    // EventSource reconnects by itself after a network error (sending Last-Event-ID, so the
    // stream resumes), but not after an HTTP error (signed out, job deleted): then it is CLOSED
    // and only a reload helps.
    source.onerror = () => setStream((s) => (s === "closed" || s === "failed" ? s : source.readyState === EventSource.CLOSED ? "failed" : "reconnecting"));
    return () => source.close();
  }, [initialJob.id, generation, finishedAtLoad, watch, filter]);

  // The page's rows in the server's order (host name); a row keeps its place when its state moves.
  const rows = useMemo(() => page.rows.map((t) => tasks.get(t.id) ?? t), [page.rows, tasks]);
  const leftFilter = rows.some((t) => !inTaskFilter(filter, t.state));
  const lastPage = Math.max(1, Math.ceil(page.total / page.pageSize));
  const firstRow = (page.page - 1) * page.pageSize + 1;

  const showCancel = mayCancel && canCancel(live.state) && !live.cancelRequested;
  const showRetry = mayRetry && (live.state === "succeeded" || live.state === "failed") && live.counts.failed + live.counts.unreachable > 0;

  const run = (fn: () => Promise<{ ok: boolean; error?: string; message?: string }>, after?: () => void) =>
    startTransition(async () => {
      const res = await fn();
      setMessage(res.ok ? { ok: true, text: res.message ?? "Done" } : { ok: false, text: res.error ?? "Failed" });
      if (res.ok) after?.();
    });

  return (
    <div className="flex flex-col gap-4">
      <Card
        title="Progress"
        actions={
          <div className="flex items-center gap-2">
            <span className="text-xs text-slate-500" aria-live="polite" data-testid="stream-state">
              {stream === "live" ? "Live" : stream === "reconnecting" ? "Reconnecting…" : stream === "connecting" ? "Connecting…" : stream === "failed" ? "Live updates stopped: reload the page" : "Final"}
            </span>
            <JobStateBadge state={live.state} cancelRequested={live.cancelRequested} />
          </div>
        }
      >
        <ProgressBar counts={live.counts} />
        {(showCancel || showRetry) && (
          <div className="mt-3 flex gap-2">
            {showCancel && (
              <Button variant="danger" disabled={pending} onClick={() => run(() => cancelJobAction({ jobId: initialJob.id }))}>
                Cancel
              </Button>
            )}
            {showRetry && (
              <Button
                variant="secondary"
                disabled={pending}
                onClick={() =>
                  run(
                    () => retryFailedAction({ jobId: initialJob.id }),
                    () => {
                      setLive((l) => ({ ...l, state: "running" }));
                      setGeneration((g) => g + 1);
                    },
                  )
                }
              >
                Retry failed hosts only ({live.counts.failed + live.counts.unreachable})
              </Button>
            )}
          </div>
        )}
        {message && (
          <div className="mt-3">
            <Alert kind={message.ok ? "success" : "error"}>{message.text}</Alert>
          </div>
        )}
      </Card>

      <Card title={`Hosts (${live.counts.total})`}>
        <nav className="mb-3 flex flex-wrap gap-1" aria-label="Show hosts">
          {FILTERS.map((f) => (
            <Link
              key={f.key}
              href={pageHref(initialJob.id, f.key, 1)}
              aria-current={filter === f.key ? "page" : undefined}
              className={`rounded-md px-2 py-1 text-xs ${filter === f.key ? "bg-slate-800 text-white" : "bg-slate-100 text-slate-700 hover:bg-slate-200"}`}
            >
              {f.label}
            </Link>
          ))}
        </nav>
        {(stale || leftFilter) && (
          <p className="mb-3 text-xs text-slate-700" role="status">
            Hosts moved into or out of this list since it was loaded.{" "}
            <button type="button" className="text-brand-600 underline" onClick={() => startTransition(() => router.refresh())}>
              Refresh the list
            </button>
          </p>
        )}
        {rows.length === 0 ? (
          live.counts.total === 0 ? (
            <EmptyState title="This job has no hosts">Its selection matched no hosts when it was created. Start a new one from the Hosts page.</EmptyState>
          ) : (
            <EmptyState title={`No hosts are ${FILTERS.find((f) => f.key === filter)?.label.toLowerCase() ?? "in this state"} yet`}>
              <Link className="text-brand-600 underline" href={pageHref(initialJob.id, "all", 1)}>Show all {live.counts.total} hosts</Link>
            </EmptyState>
          )
        ) : (
          <table className="w-full text-left text-sm">
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th scope="col" className="py-2 pr-3">Host</th>
                <th scope="col" className="pr-3">State</th>
                <th scope="col" className="pr-3">Attempt</th>
                <th scope="col" className="pr-3">Started</th>
                <th scope="col" className="pr-3">Took</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id} className="border-t border-slate-100 align-top" data-task-host={t.hostName}>
                  <td className="py-2 pr-3">
                    <Link className="font-medium text-brand-600 underline" href={`/hosts/${t.hostId}`}>{t.hostName}</Link>
                    <div className="text-xs text-slate-600">{t.address}</div>
                  </td>
                  <td className="py-2 pr-3"><TaskStateBadge state={t.state} /></td>
                  <td className="py-2 pr-3 tabular-nums">{t.attempt || "—"}</td>
                  <td className="py-2 pr-3 whitespace-nowrap">{formatUtc(t.startedAt)}</td>
                  <td className="py-2 pr-3 whitespace-nowrap tabular-nums">{t.state === "running" ? "running" : formatDuration(t.startedAt, t.finishedAt)}</td>
                  <td className="py-2">
                    {t.error && <p className="mb-1 text-xs text-red-800">{t.error}</p>}
                    {t.log ? (
                      <details>
                        <summary className="cursor-pointer text-xs text-slate-700">Log ({t.log.trimEnd().split("\n").length} lines)</summary>
                        <pre className="mt-1 max-h-64 overflow-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs text-slate-800">{t.log}</pre>
                      </details>
                    ) : (
                      <span className="text-xs text-slate-500">No log yet</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {lastPage > 1 && (
          <nav className="mt-3 flex flex-wrap items-center gap-1 text-xs text-slate-700" aria-label="Pages of hosts" data-testid="task-pager">
            <span className="mr-2">
              Hosts {firstRow}–{firstRow + rows.length - 1} of {page.total}
            </span>
            {page.page > 1 && (
              <Link className="rounded px-2 py-1 text-brand-600 underline" href={pageHref(initialJob.id, filter, page.page - 1)} rel="prev">
                Previous
              </Link>
            )}
            {pageNumbers(page.page, lastPage).map((n, i) =>
              n === null ? (
                <span key={`gap-${i}`} aria-hidden>…</span>
              ) : (
                <Link
                  key={n}
                  href={pageHref(initialJob.id, filter, n)}
                  aria-label={`Page ${n}`}
                  aria-current={n === page.page ? "page" : undefined}
                  className={`rounded px-2 py-1 tabular-nums ${n === page.page ? "bg-slate-800 text-white" : "text-brand-600 underline"}`}
                >
                  {n}
                </Link>
              ),
            )}
            {page.page < lastPage && (
              <Link className="rounded px-2 py-1 text-brand-600 underline" href={pageHref(initialJob.id, filter, page.page + 1)} rel="next">
                Next
              </Link>
            )}
          </nav>
        )}
      </Card>
    </div>
  );
}
