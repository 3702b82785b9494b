import "server-only";
// What every host-by-host job kind (scan, audit, outbound check, rollout steps) shares when it is
// created: the target the user chose (a selection, a host-list filter, or every host), its
// resolution to host ids, and the one transaction that writes the Job, one JobTask per host, their
// queue messages and the audit event.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { prisma, type Tx } from "../db";
import { recordAuditInTx } from "../audit/log";
import { HostFilter, isEmptyFilter, type HostFilterValue } from "../inventory/filter";
import { hostIdsMatching } from "../inventory/hosts";
import { bossDbForTx, getBoss, notifyQueueInTx, QUEUES } from "./queue";
import { lockJob, taskMessage, fairnessPriority } from "./tasks";
import type { Actor } from "../auth/actor";

/** Most hosts one job may cover; hostIdsMatching() caps a filter at the same number. */
export const MAX_JOB_HOSTS = 100_000;

/** What to act on: exactly one of a host selection, a host-list filter, or every host. */
export const JobTargetInput = z
  .object({
    hostIds: z.array(z.string().uuid("Host ids are UUIDs")).min(1, "Select at least one host").max(MAX_JOB_HOSTS).optional(),
    filter: HostFilter.optional(),
    all: z.literal(true).optional(),
  })
  .refine((v) => [v.hostIds !== undefined, v.filter !== undefined, v.all === true].filter(Boolean).length === 1, {
    message: "Choose exactly one of: hosts, a filter, or all hosts",
  });
export type JobTargetValue = z.input<typeof JobTargetInput>;

/** What Job.target stores: the selection as the user made it (a filter stays a filter). */
export type StoredTarget = { hostIds: string[] } | { filter: HostFilterValue };

/** The queue that carries a job kind's task messages (null: the kind has no host tasks yet). */
export function taskQueueFor(kind: string): string | null {
  if (kind === "scan") return QUEUES.scanTask;
  if (kind === "audit") return QUEUES.auditTask;
  if (kind === "plan") return QUEUES.planTask;
  if (kind === "remediate") return QUEUES.remediateTask;
  if (kind === "rollback") return QUEUES.rollbackTask;
  if (kind === "outbound_check") return QUEUES.outboundTask;
  return null;
}

type ErrorFactory = (message: string) => Error;

/** Parses and resolves a target to host ids, ordered by name. Errors come from `fail`, written for the user. */
export async function resolveJobHosts(
  target: JobTargetValue,
  fail: ErrorFactory,
  what: { verb: string } = { verb: "scan" },
): Promise<{ hostIds: string[]; stored: StoredTarget; summary: string }> {
  const parsed = JobTargetInput.safeParse(target);
  if (!parsed.success) throw fail(parsed.error.issues[0]?.message ?? `Invalid ${what.verb} target`);
  const t = parsed.data;
  if (t.hostIds) {
    const wanted = [...new Set(t.hostIds)];
    const found = await prisma.host.findMany({ where: { id: { in: wanted }, retiredAt: null }, select: { id: true }, orderBy: { name: "asc" } });
    if (found.length !== wanted.length) {
      throw fail(found.length === 0 ? "None of the selected hosts exists any more" : `${wanted.length - found.length} of the selected hosts no longer exist; reload the list and try again`);
    }
    return { hostIds: found.map((h) => h.id), stored: { hostIds: found.map((h) => h.id) }, summary: `${found.length} selected host(s)` };
  }
  const filter: HostFilterValue = t.filter ?? {};
  const hostIds = await hostIdsMatching(filter, MAX_JOB_HOSTS);
  if (hostIds.length === 0) throw fail(t.filter ? "No host matches this filter" : `There are no hosts to ${what.verb} yet: import a CSV or add one`);
  return { hostIds, stored: { filter }, summary: t.all || isEmptyFilter(filter) ? "all hosts" : "hosts matching a filter" };
}

/** Inserts task messages through the caller's transaction: they commit or roll back with the tasks. */
export async function enqueueTasksInTx(tx: Tx, queue: string, items: Array<{ task: { id: string; jobId: string }; priority: number }>) {
  const boss = await getBoss();
  const db = bossDbForTx(tx);
  for (let i = 0; i < items.length; i += 2000) {
    await boss.insert(
      items.slice(i, i + 2000).map(({ task, priority }) => taskMessage(queue, task, { priority })),
      { db },
    );
  }
  if (items.length > 0) await notifyQueueInTx(tx, queue);
}

/**
 * Marks a job paused or cancelled under its claim lock (the lock claimTask holds while it reads the
 * job): a claim that already read the job commits first, and every later claim sees the mark. A
 * bare UPDATE let a claim read "not paused", the pause return, and the host start after it (CI,
 * 2026-12-08, rollout-lab "pause starts no further host").
 */
export async function stopClaimsInTx(tx: Tx, jobId: string, how: "pause" | "cancel", at = new Date()): Promise<void> {
  await lockJob(tx, jobId);
  if (how === "pause") await tx.job.updateMany({ where: { id: jobId, pausedAt: null }, data: { pausedAt: at } });
  else await tx.job.updateMany({ where: { id: jobId, cancelledAt: null }, data: { cancelledAt: at } });
}

/** Un-pauses a job and re-sends the messages of its queued tasks (a paused job's claims dropped them). */
export async function resumeJobInTx(tx: Tx, jobId: string, queue: string) {
  const paused = await tx.job.updateMany({ where: { id: jobId, pausedAt: { not: null } }, data: { pausedAt: null } });
  if (paused.count === 0) return;
  const queued = await tx.jobTask.findMany({ where: { jobId, state: "queued" }, select: { id: true } });
  // Priority 1, like a host handed back: the wave's remaining hosts go before other jobs' new ones.
  await enqueueTasksInTx(tx, queue, queued.map((t) => ({ task: { id: t.id, jobId }, priority: 1 })));
}

/**
 * Creates a job of `kind` with one queued task per host and their messages on `queue`, plus the
 * audit event, in one transaction: a crash in between leaves nothing half-created.
 */
export async function createJobWithTasks(opts: {
  kind: "scan" | "audit" | "plan" | "remediate" | "rollback" | "outbound_check";
  queue: string;
  actor: Actor;
  hostIds: string[];
  stored: StoredTarget;
  parameters: { maxConcurrency: number } & Record<string, string | number | boolean | null>;
  audit: { action: string; details: Record<string, unknown> } | null;
  /** The caller's own writes, committed or rolled back with the job (a rollout's rows). */
  alsoInTx?: (tx: Tx, jobId: string) => Promise<void>;
  /** Run inside this transaction instead of a new one. */
  tx?: Tx;
}): Promise<{ jobId: string; taskCount: number }> {
  await getBoss(); // installs pg-boss's schema and the queues before we insert messages by hand
  const jobId = randomUUID();
  const tasks = opts.hostIds.map((hostId) => ({ id: randomUUID(), jobId, hostId }));
  const body = async (tx: Tx) => {
    await tx.job.create({
      data: { id: jobId, kind: opts.kind, state: "queued", target: opts.stored as never, parameters: opts.parameters, requestedById: opts.actor.id },
    });
    for (let i = 0; i < tasks.length; i += 5000) {
      await tx.jobTask.createMany({ data: tasks.slice(i, i + 5000).map((t) => ({ ...t, state: "queued" as const })) });
    }
    await enqueueTasksInTx(tx, opts.queue, tasks.map((t, i) => ({ task: t, priority: fairnessPriority(i, opts.parameters.maxConcurrency) })));
    await opts.alsoInTx?.(tx, jobId);
    if (opts.audit) await recordAuditInTx(tx, { actor: opts.actor.email, actorId: opts.actor.id, action: opts.audit.action, target: `job:${jobId}`, details: { hosts: tasks.length, ...opts.audit.details } });
  };
  if (opts.tx) await body(opts.tx);
  // 100,000 tasks and messages take a while; Prisma's 5 s default would abort the transaction.
  else await prisma.$transaction(body, { timeout: 300_000, maxWait: 10_000 });
  return { jobId, taskCount: tasks.length };
}

/** The options a user-requested host job takes: hosts of the job worked on at once, across workers, and where the request came from. */
export function hostJobOptions(limits: { defaultConcurrency: number; maxConcurrency: number }) {
  return z.object({
    maxConcurrency: z.number().int().min(1).max(limits.maxConcurrency).default(limits.defaultConcurrency),
    /** Shown as "requested by" for the schedule. */
    origin: z.enum(["ui", "api", "schedule"]).default("ui"),
  });
}
export type HostJobOptions = ReturnType<typeof hostJobOptions>;

/**
 * The one way a user (or the schedule) starts a job over a target: resolve it to hosts, then write
 * the job, its tasks, their messages and the `<kind>.create` audit event together.
 */
export async function createTargetedJob(
  spec: { kind: "scan" | "audit" | "outbound_check"; queue: string; options: HostJobOptions; verb: string; fail: ErrorFactory },
  actor: Actor,
  target: JobTargetValue,
  options: z.input<HostJobOptions>,
): Promise<{ jobId: string; taskCount: number }> {
  const opts = spec.options.parse(options);
  const { hostIds, stored, summary } = await resolveJobHosts(target, spec.fail, { verb: spec.verb });
  return createJobWithTasks({
    kind: spec.kind,
    queue: spec.queue,
    actor,
    hostIds,
    stored,
    parameters: { maxConcurrency: opts.maxConcurrency, origin: opts.origin },
    audit: { action: `${spec.kind}.create`, details: { target: summary, maxConcurrency: opts.maxConcurrency, origin: opts.origin } },
  });
}
