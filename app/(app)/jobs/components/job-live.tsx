"use client";
// The job page's live part: progress bar, per-host rows with their logs, Cancel and Retry. Fed by
// /api/v1/jobs/<id>/events (Server-Sent Events) until the job finishes.
import Link from "next/link";
import { useEffect, useMemo, useState, useTransition } from "react";
import { canCancel, isTerminalJob, type JobState, type ProgressCounts, type TaskState } from "@/lib/jobs/state";
import type { JobSummary, TaskRow } from "@/lib/jobs/views";
import { Alert } from "@/app/_components/ui/alert";
import { Button } from "@/app/_components/ui/button";
import { Card } from "@/app/_components/ui/card";
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

const FILTERS: Array<{ key: string; label: string; states: TaskState[] | null }> = [
  { key: "all", label: "All", states: null },
  { key: "running", label: "Running", states: ["running"] },
  { key: "failed", label: "Failed / unreachable", states: ["failed", "unreachable"] },
  { key: "queued", label: "Queued", states: ["queued", "not_started"] },
  { key: "done", label: "Done", states: ["succeeded", "pending_reboot"] },
  { key: "cancelled", label: "Cancelled", states: ["cancelled", "skipped"] },
];

const PAGE = 200;

export function JobLive({ initialJob, initialTasks, mayCancel, mayRetry }: { initialJob: JobSummary; initialTasks: TaskRow[]; mayCancel: boolean; mayRetry: boolean }) {
  const [live, setLive] = useState<Live>({ state: initialJob.state, cancelRequested: initialJob.cancelRequested, counts: initialJob.counts });
  const [tasks, setTasks] = useState<Map<string, TaskRow>>(() => new Map(initialTasks.map((t) => [t.id, t])));
  // Finished before the page opened and every task is on the page: nothing will change, no stream.
  const finishedAtLoad = isTerminalJob(initialJob.state) && initialTasks.length >= initialJob.counts.total;
  const [stream, setStream] = useState<"connecting" | "live" | "reconnecting" | "closed" | "failed">(finishedAtLoad ? "closed" : "connecting");
  // Bumped after a retry: the stream of a finished job has closed and must be opened again.
  const [generation, setGeneration] = useState(0);
  const [filter, setFilter] = useState("all");
  const [shown, setShown] = useState(PAGE);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [pending, startTransition] = useTransition();

  useEffect(() => {
    if (finishedAtLoad && generation === 0) return;
    const source = new EventSource(`/api/v1/jobs/${initialJob.id}/events`);
    const apply = (e: MessageEvent<string>) => {
      const update = JSON.parse(e.data) as StreamUpdate;
      setLive({ state: update.state, cancelRequested: update.cancelRequested, counts: update.counts });
      if (update.tasks.length) {
        setTasks((prev) => {
          const next = new Map(prev);
          for (const t of update.tasks) next.set(t.id, t);
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
    // EventSource reconnects by itself after a network error, but not after an HTTP error
    // (signed out, job deleted): then it is CLOSED and only a reload helps.
    source.onerror = () => setStream((s) => (s === "closed" || s === "failed" ? s : source.readyState === EventSource.CLOSED ? "failed" : "reconnecting"));
    return () => source.close();
  }, [initialJob.id, generation, finishedAtLoad]);

  const rows = useMemo(() => {
    const states = FILTERS.find((f) => f.key === filter)?.states ?? null;
    return [...tasks.values()].filter((t) => !states || states.includes(t.state)).sort((a, b) => a.hostName.localeCompare(b.hostName));
  }, [tasks, filter]);

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
        <div className="mb-3 flex flex-wrap gap-1" role="group" aria-label="Show hosts">
          {FILTERS.map((f) => (
            <button
              key={f.key}
              type="button"
              aria-pressed={filter === f.key}
              onClick={() => {
                setFilter(f.key);
                setShown(PAGE);
              }}
              className={`rounded-md px-2 py-1 text-xs ${filter === f.key ? "bg-slate-800 text-white" : "bg-slate-100 text-slate-700 hover:bg-slate-200"}`}
            >
              {f.label}
            </button>
          ))}
        </div>
        {rows.length === 0 ? (
          <p className="text-sm text-slate-600">No hosts in this state{tasks.size < live.counts.total ? " yet (still loading)" : ""}.</p>
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
              {rows.slice(0, shown).map((t) => (
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
        {rows.length > shown && (
          <div className="mt-3">
            <Button variant="secondary" onClick={() => setShown((n) => n + PAGE)}>Show {Math.min(PAGE, rows.length - shown)} more of {rows.length - shown}</Button>
          </div>
        )}
      </Card>
    </div>
  );
}
