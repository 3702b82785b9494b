import type { RolloutHostState, RolloutState } from "@/lib/rollout/rules";

// One colour and one word per rollout state and per host state within a rollout, on the rollout
// list, the rollout page and the host page's remediation history.
const ROLLOUT: Record<RolloutState, { label: string; className: string }> = {
  planning: { label: "Making plan", className: "bg-blue-100 text-blue-800 ring-blue-600/30" },
  planned: { label: "Awaiting approval", className: "bg-violet-100 text-violet-800 ring-violet-600/30" },
  approved: { label: "Approved", className: "bg-sky-100 text-sky-800 ring-sky-600/30" },
  running: { label: "Running", className: "bg-blue-100 text-blue-800 ring-blue-600/30" },
  paused: { label: "Paused", className: "bg-amber-100 text-amber-900 ring-amber-600/30" },
  halted: { label: "Halted", className: "bg-orange-100 text-orange-900 ring-orange-600/30" },
  cancelled: { label: "Cancelled", className: "bg-slate-200 text-slate-800 ring-slate-500/30" },
  succeeded: { label: "Succeeded", className: "bg-green-100 text-green-800 ring-green-600/30" },
  failed: { label: "Failed", className: "bg-red-100 text-red-800 ring-red-600/30" },
};

const HOST: Record<RolloutHostState, { label: string; className: string }> = {
  planned: { label: "Planned", className: "bg-slate-100 text-slate-700 ring-slate-400/30" },
  applying: { label: "Applying", className: "bg-blue-100 text-blue-800 ring-blue-600/30" },
  applied: { label: "Applied", className: "bg-blue-100 text-blue-800 ring-blue-600/30" },
  pending_reboot: { label: "Pending reboot", className: "bg-violet-100 text-violet-800 ring-violet-600/30" },
  waiting_window: { label: "Waiting for window", className: "bg-violet-100 text-violet-800 ring-violet-600/30" },
  rebooting: { label: "Restarting", className: "bg-blue-100 text-blue-800 ring-blue-600/30" },
  rebooted: { label: "Restarted", className: "bg-blue-100 text-blue-800 ring-blue-600/30" },
  verifying: { label: "Verifying", className: "bg-blue-100 text-blue-800 ring-blue-600/30" },
  verified: { label: "Verified", className: "bg-green-100 text-green-800 ring-green-600/30" },
  failed: { label: "Failed", className: "bg-red-100 text-red-800 ring-red-600/30" },
  rolling_back: { label: "Rolling back", className: "bg-amber-100 text-amber-900 ring-amber-600/30" },
  rolled_back: { label: "Rolled back", className: "bg-slate-200 text-slate-800 ring-slate-500/30" },
  skipped: { label: "Skipped", className: "bg-slate-100 text-slate-600 ring-slate-400/30" },
  not_started: { label: "Not started", className: "bg-slate-100 text-slate-600 ring-slate-400/30" },
  out_of_date: { label: "Plan out of date", className: "bg-amber-100 text-amber-900 ring-amber-600/30" },
};

const UNKNOWN = { className: "bg-slate-100 text-slate-600 ring-slate-400/30" };
const base = "inline-flex items-center whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset";

export function RolloutStateBadge({ state }: { state: string }) {
  const s = ROLLOUT[state as RolloutState] ?? { ...UNKNOWN, label: state };
  return <span className={`${base} ${s.className}`} data-rollout-state={state}>{s.label}</span>;
}

/** `checking`: the plan is still being made and this host has not been checked yet. */
export function RolloutHostStateBadge({ state, checking = false }: { state: string; checking?: boolean }) {
  const s = checking ? { label: "Checking…", className: "bg-blue-100 text-blue-800 ring-blue-600/30" } : (HOST[state as RolloutHostState] ?? { ...UNKNOWN, label: state });
  return <span className={`${base} ${s.className}`} data-rollout-host-state={checking ? "checking" : state}>{s.label}</span>;
}

/** Rollout states in which something still happens without anyone pressing a button. */
export function isLiveRollout(state: string): boolean {
  return state === "planning" || state === "running" || state === "paused";
}
