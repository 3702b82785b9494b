import type { JobState, TaskState } from "@/lib/jobs/state";
import type { RolloutHostState, RolloutState } from "@/lib/rollout/rules";

type DataAttributes = { [name: `data-${string}`]: string | undefined };

/** The one pill every state is shown in (host status, job, task, rollout, host in a rollout); `colour` is its bg/text/ring classes. */
export function Badge({ colour, children, ...data }: { colour: string; children: React.ReactNode } & DataAttributes) {
  return (
    <span {...data} className={`inline-flex items-center whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${colour}`}>
      {children}
    </span>
  );
}

/** What a colour says about a piece of work, the same on jobs, tasks and rollouts. */
const TONE = {
  quiet: "bg-slate-100 text-slate-600 ring-slate-400/30", // nothing was done: not started, skipped, unknown
  waiting: "bg-slate-100 text-slate-700 ring-slate-400/30", // in line: queued, planned
  active: "bg-blue-100 text-blue-800 ring-blue-600/30", // happening now
  good: "bg-green-100 text-green-800 ring-green-600/30",
  bad: "bg-red-100 text-red-800 ring-red-600/30",
  ended: "bg-slate-200 text-slate-800 ring-slate-500/30", // stopped by someone, or undone
  stopped: "bg-orange-100 text-orange-900 ring-orange-600/30", // stopped by its failure budget
  caution: "bg-amber-100 text-amber-900 ring-amber-600/30", // needs a look, or a hold
  pending: "bg-violet-100 text-violet-800 ring-violet-600/30", // waits for a person or a restart
  approved: "bg-sky-100 text-sky-800 ring-sky-600/30",
} as const;

export interface StateLook {
  label: string;
  tone: keyof typeof TONE;
}

type WorkState = JobState | TaskState | RolloutState | RolloutHostState;

// One word and one colour per state of work on hosts: a state of the same name reads the same on a
// job, a task, a rollout and a host in a rollout. The few places that word it otherwise (a task
// that succeeded is "Done", a planned rollout "Awaiting approval") say so next to their badge.
const LOOK: Record<WorkState, StateLook> = {
  pending_approval: { label: "Awaiting approval", tone: "pending" },
  planning: { label: "Making plan", tone: "active" },
  planned: { label: "Planned", tone: "waiting" },
  approved: { label: "Approved", tone: "approved" },
  not_started: { label: "Not started", tone: "quiet" },
  queued: { label: "Queued", tone: "waiting" },
  running: { label: "Running", tone: "active" },
  paused: { label: "Paused", tone: "caution" },
  applying: { label: "Applying", tone: "active" },
  applied: { label: "Applied", tone: "active" },
  pending_reboot: { label: "Pending reboot", tone: "pending" },
  waiting_window: { label: "Waiting for window", tone: "pending" },
  rebooting: { label: "Restarting", tone: "active" },
  rebooted: { label: "Restarted", tone: "active" },
  verifying: { label: "Verifying", tone: "active" },
  verified: { label: "Verified", tone: "good" },
  succeeded: { label: "Succeeded", tone: "good" },
  failed: { label: "Failed", tone: "bad" },
  unreachable: { label: "Unreachable", tone: "caution" },
  halted: { label: "Halted", tone: "stopped" },
  cancelled: { label: "Cancelled", tone: "ended" },
  rolling_back: { label: "Rolling back", tone: "caution" },
  rolled_back: { label: "Rolled back", tone: "ended" },
  out_of_date: { label: "Plan out of date", tone: "caution" },
  skipped: { label: "Skipped", tone: "quiet" },
};

/** A state this build does not know (a newer worker's) shows its raw name, quietly. */
export function stateLook(state: string): StateLook {
  return LOOK[state as WorkState] ?? { label: state, tone: "quiet" };
}

/** A job, task, rollout or rollout-host state; `look` overrides the shared word (and colour) where a page words it otherwise. */
export function StateBadge({ state, look = stateLook(state), ...data }: { state: string; look?: StateLook } & DataAttributes) {
  return (
    <Badge colour={TONE[look.tone]} {...data}>
      {look.label}
    </Badge>
  );
}
