"use server";
// Rollout mutations from the UI, each through authorizedAction (session, role, zod input). The
// lib functions check the rollout's state under its lock, the four-eyes rule, and write their
// audit events in the same transaction as the change. Returning (not redirecting) lets the
// client navigate or refresh; a redirect thrown inside the wrapper would be reported as a failure.
import { z } from "zod";
import { authorizedAction } from "@/lib/auth/guard";
import type { SessionUser } from "@/lib/auth/session";
import { JobTargetInput } from "@/lib/jobs/create";
import { approveRollout, cancelRollout, pauseRollout, requestRollout, resumeRollout, rollbackRollout, startRollout } from "@/lib/rollout/service";
import { RolloutGoals, RolloutSettings } from "@/lib/rollout/settings";

const revalidate = ["/rollouts"];

const RolloutIdInput = z.object({ rolloutId: z.uuid() });

/**
 * Requests a rollout of `goals` on `target` (host ids, the host list's filter, or all hosts) with
 * the form's settings. Only the plan (a dry run per host) is made; nothing on any host changes.
 */
export const requestRolloutAction = authorizedAction(
  "remediation.request",
  z.object({ target: JobTargetInput, goals: RolloutGoals, settings: RolloutSettings }),
  async ({ target, goals, settings }, user) => {
    const { rolloutId, hosts } = await requestRollout(user, { target, goals, settings });
    return { rolloutId, hosts };
  },
  { revalidate, success: "Rollout requested: the plan is being made" },
);

/** Approves the plan with the hash the approver's page showed; a plan changed since is refused. */
export const approveRolloutAction = authorizedAction(
  "remediation.approve",
  RolloutIdInput.extend({ planHash: z.string().regex(/^[0-9a-f]{64}$/, "The plan hash is missing: reload the page and review the plan again") }),
  (input, user) => approveRollout(user, input.rolloutId, input.planHash),
  { revalidate, success: "Plan approved: an operator can start the rollout now" },
);

/** A step an operator takes on one whole rollout; the lib function refuses it in a state it does not apply to. */
function rolloutStep(step: (user: SessionUser, rolloutId: string) => Promise<void>, success: string) {
  return authorizedAction("remediation.run", RolloutIdInput, (input, user) => step(user, input.rolloutId), { revalidate, success });
}

export const startRolloutAction = rolloutStep(startRollout, "Rollout started with the first wave");
export const pauseRolloutAction = rolloutStep(pauseRollout, "Paused: the current wave finishes; no further wave starts until you resume");
export const resumeRolloutAction = rolloutStep(resumeRollout, "Resumed");
export const cancelRolloutAction = rolloutStep(cancelRollout, "Cancelled: hosts not started will not be changed; a host being changed finishes its step");

/** Rolls back the given hosts, or (without hostIds) every host the rollout changed. */
export const rollbackRolloutAction = authorizedAction(
  "remediation.run",
  RolloutIdInput.extend({ hostIds: z.array(z.uuid()).min(1).max(100_000).optional() }),
  (input, user) => rollbackRollout(user, input.rolloutId, input.hostIds),
  { revalidate, success: "Rollback started: the prior values are restored, then checked on the wire" },
);
