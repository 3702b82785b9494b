import type { JobState, TaskState } from "@/lib/jobs/state";

// One colour and one word per job and task state, on the list and on the job page.
const JOB: Record<JobState, { label: string; className: string }> = {
  pending_approval: { label: "Awaiting approval", className: "bg-violet-100 text-violet-800 ring-violet-600/30" },
  queued: { label: "Queued", className: "bg-slate-100 text-slate-700 ring-slate-400/30" },
  running: { label: "Running", className: "bg-blue-100 text-blue-800 ring-blue-600/30" },
  succeeded: { label: "Succeeded", className: "bg-green-100 text-green-800 ring-green-600/30" },
  failed: { label: "Failed", className: "bg-red-100 text-red-800 ring-red-600/30" },
  cancelled: { label: "Cancelled", className: "bg-slate-200 text-slate-800 ring-slate-500/30" },
  halted: { label: "Halted", className: "bg-orange-100 text-orange-900 ring-orange-600/30" },
};

// "Done" only for work that finished; hosts never reached read "Not started" or "Cancelled".
const TASK: Record<TaskState, { label: string; className: string }> = {
  not_started: { label: "Not started", className: "bg-slate-100 text-slate-600 ring-slate-400/30" },
  queued: { label: "Queued", className: "bg-slate-100 text-slate-700 ring-slate-400/30" },
  running: { label: "Running", className: "bg-blue-100 text-blue-800 ring-blue-600/30" },
  succeeded: { label: "Done", className: "bg-green-100 text-green-800 ring-green-600/30" },
  failed: { label: "Failed", className: "bg-red-100 text-red-800 ring-red-600/30" },
  unreachable: { label: "Unreachable", className: "bg-amber-100 text-amber-900 ring-amber-600/30" },
  cancelled: { label: "Cancelled", className: "bg-slate-200 text-slate-800 ring-slate-500/30" },
  pending_reboot: { label: "Pending reboot", className: "bg-violet-100 text-violet-800 ring-violet-600/30" },
  skipped: { label: "Skipped", className: "bg-slate-100 text-slate-600 ring-slate-400/30" },
};

const base = "inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset";

export function JobStateBadge({ state, cancelRequested = false }: { state: JobState; cancelRequested?: boolean }) {
  const s = JOB[state];
  const label = cancelRequested && (state === "running" || state === "queued") ? "Cancelling…" : s.label;
  return <span className={`${base} ${s.className}`} data-job-state={state}>{label}</span>;
}

export function TaskStateBadge({ state }: { state: TaskState }) {
  const s = TASK[state];
  return <span className={`${base} ${s.className}`} data-task-state={state}>{s.label}</span>;
}
