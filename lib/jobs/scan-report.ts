// Pure pieces of a scan task: the human log line per endpoint and the task's outcome from its
// endpoints' verdicts. Table-tested in scan-report.test.ts.
import { TLS_VERSION_LABEL, TLS_VERSIONS, type Outcome, type TlsVersion, type Verdict } from "../tls/types";
import type { TaskState } from "./state";

export interface EndpointLineInput {
  port: number;
  service: string;
  verdict: Verdict;
  protocols: Record<TlsVersion, Outcome>;
  reasons?: Partial<Record<TlsVersion, string | null>>;
  error?: string | null;
}

/**
 * One line per probed endpoint, in the operator's words:
 * "25/smtp: TLS 1.0 accepted, TLS 1.1 accepted, TLS 1.2 accepted, TLS 1.3 rejected -> noncompliant".
 * An unknown outcome carries its reason ("unknown (timeout)") because unknown is not rejected.
 */
export function formatEndpointLine(e: EndpointLineInput): string {
  const where = `${e.port}/${e.service}`;
  if (e.verdict === "unreachable") return `${where}: unreachable${e.error ? ` (${e.error})` : ""} -> unreachable`;
  if (e.verdict === "no-tls") return `${where}: STARTTLS not offered (peers that require TLS get 451 5.7.3) -> no-tls`;
  const versions = TLS_VERSIONS.map((v) => {
    const outcome = e.protocols[v];
    const reason = outcome === "unknown" ? e.reasons?.[v] : null;
    return `${TLS_VERSION_LABEL[v]} ${outcome}${reason ? ` (${reason})` : ""}`;
  });
  const tail = e.verdict === "error" && e.error ? ` (${e.error})` : "";
  return `${where}: ${versions.join(", ")} -> ${e.verdict}${tail}`;
}

export interface TaskOutcomeInput {
  endpointCount: number;
  verdicts: Verdict[];
  /** Endpoints refused because the host is outside the allowed target ranges. */
  refused: number;
}

/**
 * A scan task's state from what its probes found:
 * - succeeded when the host was probed, whatever the verdict (noncompliant is a finding, not a failure);
 * - unreachable when no endpoint could be reached at all;
 * - failed when nothing could be probed: no endpoints, or the host is outside the allowed ranges.
 */
export function scanTaskOutcome(i: TaskOutcomeInput): { state: Extract<TaskState, "succeeded" | "failed" | "unreachable">; error: string | null } {
  if (i.endpointCount === 0) return { state: "failed", error: "host has no endpoints to probe (add endpoints or roles to the host)" };
  if (i.refused > 0 && i.refused === i.verdicts.length) {
    return { state: "failed", error: "host address is outside the allowed target ranges (Settings > Scans)" };
  }
  if (i.verdicts.length > 0 && i.verdicts.every((v) => v === "unreachable")) {
    return { state: "unreachable", error: `no endpoint reachable (${i.verdicts.length} tried)` };
  }
  return { state: "succeeded", error: null };
}
