import { StateBadge } from "@/app/_components/ui/badge";

// On the rollout list, the rollout page and the host page's remediation history. A planned
// rollout waits for an admin; a planned host (within a rollout) only waits for its wave.
const AWAITING_APPROVAL = { label: "Awaiting approval", tone: "pending" } as const;
const CHECKING = { label: "Checking…", tone: "active" } as const;

export function RolloutStateBadge({ state }: { state: string }) {
  return <StateBadge state={state} look={state === "planned" ? AWAITING_APPROVAL : undefined} data-rollout-state={state} />;
}

/** `checking`: the plan is still being made and this host has not been checked yet. */
export function RolloutHostStateBadge({ state, checking = false }: { state: string; checking?: boolean }) {
  return <StateBadge state={state} look={checking ? CHECKING : undefined} data-rollout-host-state={checking ? "checking" : state} />;
}

/** Rollout states in which something still happens without anyone pressing a button. */
export function isLiveRollout(state: string): boolean {
  return state === "planning" || state === "running" || state === "paused";
}
