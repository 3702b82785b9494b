import "server-only";
// Config audit jobs: one Job (kind audit), one JobTask per host, one message per task on the
// audit-task queue. A worker (agents/tasks/audit.ts) opens a credentialed session to the host,
// runs each applicable playbook's read-only check and stores a ConfigSnapshot per playbook.
// Creation, cancel and "retry failed hosts" share the scan machinery (./create.ts, ./scans.ts).
import { z } from "zod";
import { createJobWithTasks, resolveJobHosts, type JobActor, type JobTargetValue } from "./create";
import { QUEUES } from "./queue";
import { AppError } from "../errors";

export { JobTargetInput as AuditTargetInput } from "./create";
export type AuditTargetValue = JobTargetValue;

/** Remote sessions per job at once, across workers: SSH/WinRM logins are heavier than probes. */
export const DEFAULT_AUDIT_CONCURRENCY = 8;

export class AuditError extends AppError {
  constructor(message: string) {
    super(message);
    this.name = "AuditError";
  }
}

export const AuditOptions = z.object({
  maxConcurrency: z.number().int().min(1).max(64).default(DEFAULT_AUDIT_CONCURRENCY),
  origin: z.enum(["ui", "api", "schedule"]).default("ui"),
});
export type AuditOptionsValue = z.input<typeof AuditOptions>;

/**
 * Creates a config audit job for the target. Hosts without a transport or credential still get
 * a task: it ends `skipped` with the reason in its log, so the job shows every host it covered.
 */
export async function createAuditJob(actor: JobActor, target: AuditTargetValue, options: AuditOptionsValue = {}): Promise<{ jobId: string; taskCount: number }> {
  const opts = AuditOptions.parse(options);
  const { hostIds, stored, summary } = await resolveJobHosts(target, (m) => new AuditError(m), { verb: "audit" });
  return createJobWithTasks({
    kind: "audit",
    queue: QUEUES.auditTask,
    actor,
    hostIds,
    stored,
    parameters: { maxConcurrency: opts.maxConcurrency, origin: opts.origin },
    audit: { action: "audit.create", details: { target: summary, maxConcurrency: opts.maxConcurrency, origin: opts.origin } },
  });
}
