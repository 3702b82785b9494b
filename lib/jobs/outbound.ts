import "server-only";
// Outbound check jobs: one Job (kind outbound_check), one JobTask per host. A worker
// (agents/tasks/outbound.ts) makes the host send one message to the outbound check sink through
// its own mail software and records what the sink saw (docs/outbound-check.md).
import { z } from "zod";
import { createJobWithTasks, resolveJobHosts, type JobActor, type JobTargetValue } from "./create";
import { QUEUES } from "./queue";
import { AppError } from "../errors";

/** Hosts checked at once per job: each holds an SSH session while its message goes out. */
export const DEFAULT_OUTBOUND_CONCURRENCY = 8;

export class OutboundCheckError extends AppError {
  constructor(message: string) {
    super(message);
    this.name = "OutboundCheckError";
  }
}

export const OutboundOptions = z.object({
  maxConcurrency: z.number().int().min(1).max(64).default(DEFAULT_OUTBOUND_CONCURRENCY),
  origin: z.enum(["ui", "api", "schedule"]).default("ui"),
});

export async function createOutboundCheckJob(actor: JobActor, target: JobTargetValue, options: z.input<typeof OutboundOptions> = {}): Promise<{ jobId: string; taskCount: number }> {
  const opts = OutboundOptions.parse(options);
  const { hostIds, stored, summary } = await resolveJobHosts(target, (m) => new OutboundCheckError(m), { verb: "check" });
  return createJobWithTasks({
    kind: "outbound_check",
    queue: QUEUES.outboundTask,
    actor,
    hostIds,
    stored,
    parameters: { maxConcurrency: opts.maxConcurrency, origin: opts.origin },
    audit: { action: "outbound_check.create", details: { target: summary, maxConcurrency: opts.maxConcurrency, origin: opts.origin } },
  });
}
