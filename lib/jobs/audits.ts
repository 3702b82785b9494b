import "server-only";
// Config audit jobs: one Job (kind audit), one JobTask per host, one message per task on the
// audit-task queue. A worker (agents/tasks/audit.ts) opens a credentialed session to the host,
// runs each applicable playbook's read-only check and stores a ConfigSnapshot per playbook.
// Creation, cancel and "retry failed hosts" share the scan machinery (./create.ts, ./scans.ts).
import type { z } from "zod";
import { createTargetedJob, hostJobOptions, type JobTargetValue } from "./create";
import type { Actor } from "../auth/actor";
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

export const AuditOptions = hostJobOptions({ defaultConcurrency: DEFAULT_AUDIT_CONCURRENCY, maxConcurrency: 64 });
export type AuditOptionsValue = z.input<typeof AuditOptions>;

/**
 * Creates a config audit job for the target. Hosts without a transport or credential still get
 * a task: it ends `skipped` with the reason in its log, so the job shows every host it covered.
 */
export async function createAuditJob(actor: Actor, target: AuditTargetValue, options: AuditOptionsValue = {}): Promise<{ jobId: string; taskCount: number }> {
  return createTargetedJob({ kind: "audit", queue: QUEUES.auditTask, options: AuditOptions, verb: "audit", fail: (m) => new AuditError(m) }, actor, target, options);
}
