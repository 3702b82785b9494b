import "server-only";
// Outbound check jobs: one Job (kind outbound_check), one JobTask per host. A worker
// (agents/tasks/outbound.ts) makes the host send one message to the outbound check sink through
// its own mail software and records what the sink saw (docs/outbound-check.md).
import type { z } from "zod";
import { createTargetedJob, hostJobOptions, type JobTargetValue } from "./create";
import type { Actor } from "../auth/actor";
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

export const OutboundOptions = hostJobOptions({ defaultConcurrency: DEFAULT_OUTBOUND_CONCURRENCY, maxConcurrency: 64 });

export async function createOutboundCheckJob(actor: Actor, target: JobTargetValue, options: z.input<typeof OutboundOptions> = {}): Promise<{ jobId: string; taskCount: number }> {
  return createTargetedJob({ kind: "outbound_check", queue: QUEUES.outboundTask, options: OutboundOptions, verb: "check", fail: (m) => new OutboundCheckError(m) }, actor, target, options);
}
