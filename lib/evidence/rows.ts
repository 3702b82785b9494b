// Compliance evidence rows: one per host x endpoint x protocol version, the unit an auditor asks
// about ("was TLS 1.0 accepted on mx3:25, when was that seen, and why is it allowed?"). Pure: the
// export and the PDF pack read the stored evidence as one JSON record per host (lib/evidence/
// export.ts builds it in SQL) and expand it here, so both say exactly the same thing.
import { parseProtocols, TLS_VERSIONS, type TlsVersion } from "../hosts/evidence";

export const VERSION_LABEL: Record<TlsVersion, string> = { TLSv1: "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3" };

export const EVIDENCE_COLUMNS = [
  "host",
  "address",
  "group",
  "endpoint",
  "version",
  "outcome",
  "reason",
  "cipher",
  "probedAt",
  "verdict",
  "hostStatus",
  "statusExplanation",
  "configEvidence",
  "exception",
  "exceptionExpiresAt",
] as const;
export type EvidenceColumn = (typeof EVIDENCE_COLUMNS)[number];
export type EvidenceRow = Record<EvidenceColumn, string>;

// The per-host record as the export query writes it (json_build_object / json_agg). Built by our
// own SQL, so it is typed rather than re-validated per host (50,000 of them per export); the
// stored probe JSON inside it is parsed leniently by parseProtocols.
export interface HostEvidenceRecordValue {
  host: string;
  address: string;
  group: string | null;
  status: string;
  explanation: string;
  config: string | null;
  exceptions: Array<{ port: number | null; version: string | null; justification: string; expiresAt: string; approvedBy: string | null }> | null;
  endpoints: Array<{ port: number; service: string; probedAt: string | null; verdict: string | null; protocols: unknown; ciphers: unknown; error: string | null }> | null;
}
type ExceptionRecord = NonNullable<HostEvidenceRecordValue["exceptions"]>[number];

/** The approved exception that names this endpoint and version (an unnamed port or version covers all). */
export function exceptionFor(exceptions: ExceptionRecord[], port: number | null, version: TlsVersion | null): ExceptionRecord | null {
  return exceptions.find((e) => (e.port === null || e.port === port) && (e.version === null || e.version === version)) ?? null;
}

function exceptionText(e: ExceptionRecord | null): string {
  if (!e) return "";
  return `${e.justification}${e.approvedBy ? ` (approved by ${e.approvedBy})` : ""}`;
}

/**
 * The rows of one host: four per endpoint (TLS 1.0 to 1.3, in that order), or one row with the
 * endpoint columns empty for a host without endpoints, so every host of the filter appears.
 */
export function evidenceRows(rec: HostEvidenceRecordValue): EvidenceRow[] {
  const base = {
    host: rec.host,
    address: rec.address,
    group: rec.group ?? "",
    hostStatus: rec.status,
    statusExplanation: rec.explanation,
    configEvidence: rec.config ?? "",
  };
  const exceptions = rec.exceptions ?? [];
  const endpoints = rec.endpoints ?? [];
  if (endpoints.length === 0) {
    const e = exceptionFor(exceptions, null, null);
    return [{ ...base, endpoint: "", version: "", outcome: "", reason: "no endpoints", cipher: "", probedAt: "", verdict: "", exception: exceptionText(e), exceptionExpiresAt: e?.expiresAt ?? "" }];
  }
  const rows: EvidenceRow[] = [];
  for (const ep of endpoints) {
    const matrix = ep.probedAt ? parseProtocols(ep.protocols, ep.ciphers) : null;
    for (const v of TLS_VERSIONS) {
      const cell = matrix?.[v];
      const e = exceptionFor(exceptions, ep.port, v);
      rows.push({
        ...base,
        endpoint: `${ep.port}/${ep.service}`,
        version: VERSION_LABEL[v],
        outcome: cell ? cell.outcome : "unknown",
        reason: cell ? (cell.reason ?? (cell.outcome === "unknown" && ep.error ? ep.error : "")) : "not probed",
        cipher: cell?.outcome === "accepted" ? (cell.cipher ?? "") : "",
        probedAt: ep.probedAt ?? "",
        verdict: ep.verdict ?? "",
        exception: exceptionText(e),
        exceptionExpiresAt: e?.expiresAt ?? "",
      });
    }
  }
  return rows;
}
