// Compliance evidence rows: one per host x endpoint x protocol version, the unit an auditor asks
// about ("was TLS 1.0 accepted on mx3:25, when was that seen, and why is it allowed?"). Pure: the
// export and the PDF pack read the stored evidence as one JSON record per host (lib/evidence/
// export.ts builds it in SQL) and expand it here, so both say exactly the same thing.
import { parseProtocols, TLS_VERSION_LABEL, TLS_VERSIONS, type TlsVersion } from "../hosts/evidence";

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
  id: string;
  /** The host's name at the cut (an as-of export shows the name it had then). */
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
 * The rows of one host as cells in EVIDENCE_COLUMNS order: four per endpoint (TLS 1.0 to 1.3, in
 * that order), or one row with the endpoint columns empty for a host without endpoints, so every
 * host of the filter appears. Arrays, not objects: the export writes 400,000 of them per 50,000
 * hosts, and building an object per row was a third of its CPU time (BENCHMARKS.md).
 */
export function evidenceCells(rec: HostEvidenceRecordValue): string[][] {
  const group = rec.group ?? "";
  const config = rec.config ?? "";
  const exceptions = rec.exceptions ?? [];
  const endpoints = rec.endpoints ?? [];
  if (endpoints.length === 0) {
    const e = exceptionFor(exceptions, null, null);
    return [[rec.host, rec.address, group, "", "", "", "no endpoints", "", "", "", rec.status, rec.explanation, config, exceptionText(e), e?.expiresAt ?? ""]];
  }
  const rows: string[][] = [];
  for (const ep of endpoints) {
    const matrix = ep.probedAt ? parseProtocols(ep.protocols, ep.ciphers) : null;
    const endpoint = `${ep.port}/${ep.service}`;
    for (const v of TLS_VERSIONS) {
      const cell = matrix ? matrix[v] : null;
      const e = exceptions.length ? exceptionFor(exceptions, ep.port, v) : null;
      rows.push([
        rec.host,
        rec.address,
        group,
        endpoint,
        TLS_VERSION_LABEL[v],
        cell ? cell.outcome : "unknown",
        cell ? (cell.reason ?? (cell.outcome === "unknown" && ep.error ? ep.error : "")) : "not probed",
        cell && cell.outcome === "accepted" ? (cell.cipher ?? "") : "",
        ep.probedAt ?? "",
        ep.verdict ?? "",
        rec.status,
        rec.explanation,
        config,
        exceptionText(e),
        e?.expiresAt ?? "",
      ]);
    }
  }
  return rows;
}

/** The same rows keyed by column, for code that reads them by name (the PDF pack). */
export function evidenceRows(rec: HostEvidenceRecordValue): EvidenceRow[] {
  return evidenceCells(rec).map((cells) => Object.fromEntries(EVIDENCE_COLUMNS.map((c, i) => [c, cells[i]])) as EvidenceRow);
}
