import type { JobState, TaskState } from "@/lib/jobs/state";
import { StateBadge, stateLook } from "@/app/_components/ui/badge";

// "Done" only for work that finished; hosts never reached read "Not started" or "Cancelled".
const TASK_DONE = { label: "Done", tone: "good" } as const;

export function JobStateBadge({ state, cancelRequested = false }: { state: JobState; cancelRequested?: boolean }) {
  const cancelling = cancelRequested && (state === "running" || state === "queued");
  return <StateBadge state={state} look={cancelling ? { ...stateLook(state), label: "Cancelling…" } : undefined} data-job-state={state} />;
}

export function TaskStateBadge({ state }: { state: TaskState }) {
  return <StateBadge state={state} look={state === "succeeded" ? TASK_DONE : undefined} data-task-state={state} />;
}
