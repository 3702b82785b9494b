// The scan task: probe every endpoint of one host on the wire, store the evidence, recompute the
// host's status. Runs in worker processes; registered in agents/worker.ts.
//
// Crash safety lives in lib/jobs/tasks.ts (claim under a lease, guarded writes). What this file
// adds: the results of one attempt are written in one transaction together with the task's end,
// so a task has either no results from an attempt or all of them, and an attempt that lost its
// lease (its worker paused past the lease, another worker took over) writes nothing.
import { setMaxListeners } from "node:events";
import type PgBoss from "pg-boss";
import { prisma } from "../lib/db";
import { env } from "../lib/env";
import { logger } from "../lib/log";
import { recordAuditInTx } from "../lib/audit/log";
import { notifyDrift, recordDriftInTx, updateHostStatusInTx, type StatusUpdate } from "../lib/compliance/update";
import { effectiveAllowList } from "../lib/settings";
import { QUEUES } from "../lib/jobs/queue";
import { everyWithoutOverlap } from "../lib/jobs/interval";
import { startPool, type PoolOutcome } from "../lib/jobs/pool";
import { formatEndpointLine, scanTaskOutcome, stampLine } from "../lib/jobs/scan-report";
import { runScheduledRescan, applyRescanSchedule } from "../lib/jobs/schedule";
import {
  appendTaskLog,
  claimTask,
  expiredLeases,
  finishTaskInTx,
  LEASE_RENEW_MS,
  LeaseLostError,
  refreshJobState,
  refreshJobStateNow,
  releaseTask,
  renewLease,
  staleQueuedTasks,
  TaskMessage,
  taskMessage,
  type ClaimedHost,
  type TaskLease,
} from "../lib/jobs/tasks";
import { parseAllowList, probeEndpoint, TLS_VERSIONS, type ProbeOptions, type ProbeReport, type Service, isService } from "../lib/tls";

export interface ScanWorkerContext {
  workerId: string;
  boss: PgBoss;
  /** Aborted when the worker shuts down: running tasks are handed back, not finished. */
  shutdown: AbortSignal;
  /** Overrides for tests (shorter timeouts); production uses the prober's defaults. */
  probeOptions?: Pick<ProbeOptions, "timeoutMs" | "deadlineMs">;
}

type StopReason = "cancel" | "lease-lost" | "shutdown";

interface EndpointRow {
  id: string;
  port: number;
  service: string;
}

interface FinishedProbe {
  endpoint: EndpointRow;
  report: ProbeReport;
  probedAt: Date;
}

/** The prober refuses a target outside the allowed ranges without connecting; this is how it says so. */
function wasRefused(report: ProbeReport): boolean {
  return report.verdict === "error" && TLS_VERSIONS.every((v) => report.reasons[v] === "not allowed");
}

/** Handles one queue message. Every path either finishes the task, leaves it to its holder, or re-queues it. */
export async function handleScanMessage(job: { data: unknown; priority?: number }, ctx: ScanWorkerContext): Promise<PoolOutcome> {
  const parsed = TaskMessage.safeParse(job.data);
  if (!parsed.success) {
    // Retrying a message that cannot be read would fail the same way: drop it, loudly.
    logger.error({ data: job.data, issues: parsed.error.issues }, "scan-task message does not parse; dropped");
    return "done";
  }
  const claim = await claimTask(parsed.data.taskId, ctx.workerId);
  if (claim.kind === "defer") {
    // The job is at its concurrency cap or the host is busy in another task: come back later.
    // Jitter spreads the retries of many deferred messages over the poll interval.
    await ctx.boss.insert([taskMessage(QUEUES.scanTask, { id: parsed.data.taskId, jobId: parsed.data.jobId }, { priority: job.priority ?? 0, startAfterSeconds: 2 + Math.random() * 3 })]);
    return "deferred";
  }
  if (claim.kind === "gone") {
    await refreshJobStateNow(parsed.data.jobId);
    return "done";
  }
  if (claim.kind !== "claimed") return "done";
  await runClaimedScan(claim.lease, claim.host, ctx);
  return "done";
}

async function runClaimedScan(lease: TaskLease, host: ClaimedHost, ctx: ScanWorkerContext): Promise<void> {
  const stop = new AbortController();
  let stopReason: StopReason | null = null;
  const stopWith = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    stop.abort(new Error(reason));
  };
  const onShutdown = () => stopWith("shutdown");
  if (ctx.shutdown.aborted) onShutdown();
  else ctx.shutdown.addEventListener("abort", onShutdown, { once: true });
  const renewal = setInterval(() => {
    renewLease(lease)
      .then((r) => {
        if (!r.held) stopWith("lease-lost");
        else if (r.cancelRequested) stopWith("cancel");
      })
      .catch((err: unknown) => logger.warn({ err, task: lease.taskId }, "lease renewal failed; retrying at the next tick"));
  }, LEASE_RENEW_MS);

  try {
    const allowed = await effectiveAllowList();
    // Nothing configured: refuse everything. An empty list makes the prober refuse without connecting.
    const allowList = allowed?.list ?? parseAllowList([]);
    if (host.endpoints.length > 1) await appendTaskLog(lease, stampLine(`probing ${host.endpoints.length} endpoints of ${host.name} (${host.address})`, new Date()));

    const finished: FinishedProbe[] = [];
    await Promise.all(
      host.endpoints.map(async (endpoint) => {
        const service: Service | undefined = isService(endpoint.service) ? endpoint.service : undefined;
        const report = await probeEndpoint({ host: host.address, port: endpoint.port, service }, { ...ctx.probeOptions, allowList, signal: stop.signal });
        // A report cut short by a stop is not evidence: its "unknown"s only mean "we stopped".
        if (stop.signal.aborted) return;
        finished.push({ endpoint, report, probedAt: new Date() });
        await appendTaskLog(lease, stampLine(formatEndpointLine({ port: endpoint.port, service: endpoint.service, verdict: report.verdict, protocols: report.protocols, reasons: report.reasons, error: report.error }), new Date()));
      }),
    );

    // Every endpoint answered before the stop: the host was probed, so finish it normally.
    const complete = finished.length === host.endpoints.length;
    if (stopReason === "lease-lost") {
      logger.warn({ task: lease.taskId, attempt: lease.attempt }, "lost the lease on a scan task; another worker owns it now, or its host was deleted");
      // If the host (and so the task) was deleted, this may have been the job's last open task.
      await refreshJobStateNow(lease.jobId);
      return;
    }
    if (stopReason === "shutdown" && !complete) {
      if (await releaseTask(lease, "worker stopping")) {
        await ctx.boss.insert([taskMessage(QUEUES.scanTask, { id: lease.taskId, jobId: lease.jobId }, { priority: 1 })]);
      }
      return;
    }

    const refused = finished.filter((f) => wasRefused(f.report)).length;
    const cancelled = stopReason === "cancel" && !complete;
    const outcome =
      cancelled
        ? { state: "cancelled" as const, error: null }
        : scanTaskOutcome({ endpointCount: host.endpoints.length, verdicts: finished.map((f) => f.report.verdict), refused });
    const summary =
      cancelled
        ? `cancelled: the job was cancelled (${finished.length}/${host.endpoints.length} endpoint(s) probed before that were kept)`
        : `-> ${outcome.state}${outcome.error ? `: ${outcome.error}` : ""}`;

    let statusUpdate: StatusUpdate | null = null;
    const actor = `worker:${ctx.workerId}`;
    // Order matters (lib/jobs/tasks.ts): task row, host row, then the job lock (refreshJobState),
    // then audit events; the job lock is held only for the end of the transaction.
    await prisma.$transaction(
      async (tx) => {
        await finishTaskInTx(tx, lease, outcome.state, outcome.error, stampLine(summary, new Date()));
        if (finished.length) {
          // One raw INSERT for all endpoints (this runs once per scanned host; see update.ts).
          const rows = finished.map(({ endpoint, report, probedAt }) => ({
            endpointId: endpoint.id,
            probedAt: probedAt.toISOString(),
            starttls: report.starttls,
            protocols: Object.fromEntries(TLS_VERSIONS.map((v) => [v, { outcome: report.protocols[v], reason: report.reasons[v] }])),
            ciphers: report.cipher,
            certificate: report.certificate,
            verdict: report.verdict,
            error: report.error,
            durationMs: Math.round(report.durationMs),
          }));
          await tx.$executeRaw`
            INSERT INTO "ProbeResult" ("endpointId", "jobId", "probedAt", starttls, protocols, ciphers, certificate, verdict, error, "durationMs")
            SELECT r."endpointId"::uuid, ${lease.jobId}::uuid, r."probedAt"::timestamptz AT TIME ZONE 'UTC', r.starttls, r.protocols, r.ciphers,
                   NULLIF(r.certificate, 'null'::jsonb), r.verdict, r.error, r."durationMs"
            FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r("endpointId" text, "probedAt" text, starttls text, protocols jsonb, ciphers jsonb, certificate jsonb, verdict text, error text, "durationMs" int)`;
          statusUpdate = await updateHostStatusInTx(tx, host.id, { scannedAt: new Date(), actor, auditDrift: false });
        }
        await refreshJobState(tx, lease.jobId);
        if (statusUpdate) await recordDriftInTx(tx, statusUpdate, actor);
        if (refused > 0) {
          await recordAuditInTx(tx, {
            actor,
            action: "scan.target_refused",
            target: `host:${host.name}`,
            details: { address: host.address, jobId: lease.jobId, allowedTargets: allowed ? `${allowed.source}: ${allowed.list.entries.join(", ")}` : "none configured" },
          });
        }
      },
      { timeout: 30_000, maxWait: 15_000 },
    );
    const update = statusUpdate as StatusUpdate | null;
    if (update?.drift) void notifyDrift(update);
  } catch (err) {
    if (err instanceof LeaseLostError) {
      logger.warn({ task: lease.taskId, attempt: lease.attempt }, "scan results discarded: the lease was lost before they could be written");
      // Lost to another worker, or the host (and so the task) was deleted: then the job may be done.
      await refreshJobStateNow(lease.jobId);
      return;
    }
    throw err;
  } finally {
    clearInterval(renewal);
    ctx.shutdown.removeEventListener("abort", onShutdown);
  }
}

export const REAPER_INTERVAL_MS = 5_000;
const STALE_SWEEP_EVERY = 12; // reaper ticks: once a minute
const STALE_QUEUED_SECONDS = 5 * 60;

/**
 * Re-sends messages for tasks whose worker died (lease expired) and, once a minute, for queued
 * tasks nobody has touched for five minutes. Runs in every worker; duplicates merge in the queue.
 */
export async function reapOnce(boss: PgBoss, tick: number): Promise<number> {
  const expired = await expiredLeases("scan");
  const stale = tick % STALE_SWEEP_EVERY === 0 ? await staleQueuedTasks("scan", STALE_QUEUED_SECONDS) : [];
  const messages = [
    // Priority 1: a host whose worker died goes before hosts that never started.
    ...expired.map((t) => taskMessage(QUEUES.scanTask, t, { priority: 1 })),
    ...stale.map((t) => taskMessage(QUEUES.scanTask, t)),
  ];
  if (messages.length) {
    await boss.insert(messages);
    logger.info({ expiredLeases: expired.length, staleQueued: stale.length }, "re-queued scan tasks");
  }
  return messages.length;
}

/** Starts this worker's scan machinery; returns its stop function. */
export async function registerScanHandlers(boss: PgBoss, opts: { workerId: string; concurrency?: number; probeOptions?: ScanWorkerContext["probeOptions"]; pollIntervalMs?: number }): Promise<() => Promise<void>> {
  const shutdown = new AbortController();
  const concurrency = opts.concurrency ?? env.TLSFLEET_WORKER_CONCURRENCY;
  // Every running task listens for the shutdown: that is `concurrency` listeners by design.
  setMaxListeners(concurrency + 10, shutdown.signal);
  const ctx: ScanWorkerContext = { workerId: opts.workerId, boss, shutdown: shutdown.signal, probeOptions: opts.probeOptions };
  const pool = startPool(
    boss,
    { queue: QUEUES.scanTask, concurrency, pollIntervalMs: opts.pollIntervalMs ?? 1_000, onError: (err) => logger.error({ err }, "scan task failed") },
    (job) => handleScanMessage(job, ctx),
  );

  const stopReaper = everyWithoutOverlap(REAPER_INTERVAL_MS, (tick) => reapOnce(boss, tick), (err) => logger.error({ err }, "scan reaper failed"));

  await boss.work(QUEUES.scheduler, async () => {
    await runScheduledRescan();
  });
  await applyRescanSchedule().catch((err: unknown) => logger.error({ err }, "could not apply the rescan schedule"));

  return async () => {
    stopReaper();
    await boss.offWork(QUEUES.scheduler);
    shutdown.abort();
    await pool.stop();
  };
}
