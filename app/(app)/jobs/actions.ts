"use server";
// Job mutations from the UI, each through authorizedAction (session, role, zod input); the lib
// functions write their audit events in the same transaction as the change.
import { z } from "zod";
import { authorizedAction } from "@/lib/auth/guard";
import { cancelJob, createScanJob, retryFailedTasks, ScanTargetInput } from "@/lib/jobs/scans";
import { AuditTargetInput, createAuditJob } from "@/lib/jobs/audits";

const JobIdInput = z.object({ jobId: z.uuid() });

/**
 * Starts a scan of `hostIds`, of every host matching `filter` (the host list's filter), or of
 * `all` hosts: exactly one of them. Returns the new job's id; where to go next is the caller's
 * choice (the hosts page and the jobs page both open /jobs/<id>).
 */
export const startScanAction = authorizedAction(
  "scans.run",
  ScanTargetInput,
  async (target, user) => {
    const { jobId, taskCount } = await createScanJob(user, target, { origin: "ui" });
    return { jobId, taskCount };
  },
  { revalidate: ["/jobs"], success: "Scan started" },
);

export const cancelJobAction = authorizedAction("jobs.cancel", JobIdInput, (input, user) => cancelJob(user, input.jobId), {
  revalidate: ["/jobs"],
  success: "Cancelled: hosts not started will not be scanned; running ones stop within a few seconds",
});

export const retryFailedAction = authorizedAction("scans.run", JobIdInput, (input, user) => retryFailedTasks(user, input.jobId), {
  revalidate: ["/jobs"],
  success: "Failed and unreachable hosts queued again",
});

// ---- Config audits (issue #5) ----------------------------------------------------------------

/**
 * Starts a config audit (credentialed read-only playbook checks) of `hostIds`, of every host
 * matching `filter`, or of `all` hosts. Hosts without a credential end `skipped`, with the reason.
 */
export const startAuditAction = authorizedAction(
  "audits.run",
  AuditTargetInput,
  async (target, user) => {
    const { jobId, taskCount } = await createAuditJob(user, target, { origin: "ui" });
    return { jobId, taskCount };
  },
  { revalidate: ["/jobs"], success: "Config audit started" },
);
