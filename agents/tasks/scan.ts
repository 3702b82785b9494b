// The scan task: probe every endpoint of one host on the wire, store the evidence, recompute the
// host's status. The results of one attempt are written with the task's end in the runner's
// finish transaction, so a task has either no results from an attempt or all of them.
import { recordAuditInTx } from "../../lib/audit/log";
import { notifyDrift, recordDriftInTx, updateHostStatusInTx, type StatusUpdate } from "../../lib/compliance/update";
import { env } from "../../lib/env";
import { QUEUES } from "../../lib/jobs/queue";
import { formatEndpointLine, scanTaskOutcome } from "../../lib/jobs/scan-report";
import type { Tx } from "../../lib/db";
import { effectiveAllowList } from "../../lib/settings";
import { isService, parseAllowList, probeEndpoint, TLS_VERSIONS, type ProbeOptions, type ProbeReport, type Service } from "../../lib/tls";
import type { TaskHelpers, TaskKind, TaskResult } from "./runner";import { retryTransient } from "../../lib/db/transient";


interface FinishedProbe {
  endpoint: { id: string; port: number; service: string };
  report: ProbeReport;
  probedAt: Date;
}

/** The prober refuses a target outside the allowed ranges without connecting; this is how it says so. */
function wasRefused(report: ProbeReport): boolean {
  return report.verdict === "error" && TLS_VERSIONS.every((v) => report.reasons[v] === "not allowed");
}

/** Stores one attempt's probe results (one raw INSERT for all endpoints: this runs once per scanned host). */
export async function storeProbeResults(tx: Tx, jobId: string, finished: readonly FinishedProbe[]) {
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
    SELECT r."endpointId"::uuid, ${jobId}::uuid, r."probedAt"::timestamptz AT TIME ZONE 'UTC', r.starttls, r.protocols, r.ciphers,
           NULLIF(r.certificate, 'null'::jsonb), r.verdict, r.error, r."durationMs"
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r("endpointId" text, "probedAt" text, starttls text, protocols jsonb, ciphers jsonb, certificate jsonb, verdict text, error text, "durationMs" int)`;
}

/**
 * Probes every endpoint of the host at once (the prober's per-address gate keeps it polite) and
 * returns the probes that finished before any stop: a report cut short by a stop is not
 * evidence, its "unknown"s only mean "we stopped".
 */
export async function probeHostEndpoints(h: Pick<TaskHelpers, "host" | "signal" | "log">, probeOptions: Pick<ProbeOptions, "timeoutMs" | "deadlineMs"> | undefined, allowList: ProbeOptions["allowList"]): Promise<FinishedProbe[]> {
  const finished: FinishedProbe[] = [];
  await Promise.all(
    h.host.endpoints.map(async (endpoint) => {
      const service: Service | undefined = isService(endpoint.service) ? endpoint.service : undefined;
      const report = await probeEndpoint({ host: h.host.address, port: endpoint.port, service }, { ...probeOptions, allowList, signal: h.signal });
      if (h.signal.aborted) return;
      finished.push({ endpoint, report, probedAt: new Date() });
      await h.log(formatEndpointLine({ port: endpoint.port, service: endpoint.service, verdict: report.verdict, protocols: report.protocols, reasons: report.reasons, error: report.error }));
    }),
  );
  return finished;
}

export function scanTask(opts: { concurrency?: number; probeOptions?: Pick<ProbeOptions, "timeoutMs" | "deadlineMs"> } = {}): TaskKind {
  return {
    kind: "scan",
    queue: QUEUES.scanTask,
    concurrency: opts.concurrency ?? env.TLSFLEET_WORKER_CONCURRENCY,
    async run(h): Promise<TaskResult> {
      const { host, lease } = h;
      const allowed = await retryTransient(() => effectiveAllowList(), { signal: h.signal });
      // Nothing configured: refuse everything. An empty list makes the prober refuse without connecting.
      const allowList = allowed?.list ?? parseAllowList([]);
      if (host.endpoints.length > 1) await h.log(`probing ${host.endpoints.length} endpoints of ${host.name} (${host.address})`);
      const finished = await probeHostEndpoints(h, opts.probeOptions, allowList);

      // Every endpoint answered before the stop: the host was probed, so finish it normally.
      const complete = finished.length === host.endpoints.length;
      const stop = h.stopReason();
      if (stop === "shutdown" && !complete) return { kind: "release", reason: "worker stopping" };

      const refused = finished.filter((f) => wasRefused(f.report)).length;
      const cancelled = stop === "cancel" && !complete;
      const outcome = cancelled
        ? { state: "cancelled" as const, error: null }
        : scanTaskOutcome({ endpointCount: host.endpoints.length, verdicts: finished.map((f) => f.report.verdict), refused });
      let statusUpdate: StatusUpdate | null = null;
      return {
        kind: "finish",
        state: outcome.state,
        error: outcome.error,
        summary: cancelled
          ? `cancelled: the job was cancelled (${finished.length}/${host.endpoints.length} endpoint(s) probed before that were kept)`
          : `-> ${outcome.state}${outcome.error ? `: ${outcome.error}` : ""}`,
        write: async (tx) => {
          if (!finished.length) return;
          await storeProbeResults(tx, lease.jobId, finished);
          statusUpdate = await updateHostStatusInTx(tx, host.id, { scannedAt: new Date(), actor: h.actor, auditDrift: false });
        },
        audit: async (tx) => {
          if (statusUpdate) await recordDriftInTx(tx, statusUpdate, h.actor);
          if (refused > 0) {
            await recordAuditInTx(tx, {
              actor: h.actor,
              action: "scan.target_refused",
              target: `host:${host.name}`,
              details: { address: host.address, jobId: lease.jobId, allowedTargets: allowed ? `${allowed.source}: ${allowed.list.entries.join(", ")}` : "none configured" },
            });
          }
        },
        afterCommit: () => {
          const u = statusUpdate as StatusUpdate | null;
          if (u?.drift) void notifyDrift(u);
        },
      };
    },
  };
}
