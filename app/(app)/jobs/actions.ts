"use server";
// Job mutations from the UI, each through authorizedAction (session, role, zod input); the lib
// functions write their audit events in the same transaction as the change.
import { z } from "zod";
import { authorizedAction } from "@/lib/auth/guard";
import type { Action } from "@/lib/auth/roles";
import type { Actor } from "@/lib/auth/actor";
import { JobTargetInput, type JobTargetValue } from "@/lib/jobs/create";
import { cancelJob, createScanJob, retryFailedTasks } from "@/lib/jobs/scans";
import { createAuditJob } from "@/lib/jobs/audits";
import { createOutboundCheckJob } from "@/lib/jobs/outbound";

const JobIdInput = z.object({ jobId: z.uuid() });

/**
 * An action that starts a job of one kind over the target the UI sent: `hostIds`, every host
 * matching `filter` (the host list's filter), or `all` hosts, exactly one of them. It returns the
 * new job's id; where to go next is the caller's choice (the hosts page, the host page and the jobs
 * page all open /jobs/<id>).
 */
function startJobAction(
  action: Action,
  create: (actor: Actor, target: JobTargetValue, options: { origin: "ui" }) => Promise<{ jobId: string; taskCount: number }>,
  success: string,
) {
  return authorizedAction(action, JobTargetInput, (target, user) => create(user, target, { origin: "ui" }), { revalidate: ["/jobs"], success });
}

export const startScanAction = startJobAction("scans.run", createScanJob, "Scan started");

/** A config audit: credentialed read-only playbook checks. Hosts without a credential end `skipped`, with the reason. */
export const startAuditAction = startJobAction("audits.run", createAuditJob, "Config audit started");

/** An outbound check: each host sends one message to the outbound check sink (docs/outbound-check.md). */
export const startOutboundCheckAction = startJobAction("outbound.run", createOutboundCheckJob, "Outbound check started");

export const cancelJobAction = authorizedAction("jobs.cancel", JobIdInput, (input, user) => cancelJob(user, input.jobId), {
  revalidate: ["/jobs"],
  success: "Cancelled: hosts not started will not be scanned; running ones stop within a few seconds",
});

export const retryFailedAction = authorizedAction("scans.run", JobIdInput, (input, user) => retryFailedTasks(user, input.jobId), {
  revalidate: ["/jobs"],
  success: "Failed and unreachable hosts queued again",
});
