// GET /api/v1/hosts/evidence?<the list's filter and sort>&format=csv|json&asOf=2026-11-30 00:00 UTC:
// compliance evidence, one row per host x endpoint x TLS version, streamed page by page
// (lib/evidence/export.ts). Without asOf the evidence is as of the moment the export starts.
import { route } from "@/lib/http/route";
import { CSV, downloadResponse } from "@/lib/http/download";
import { recordAudit } from "@/lib/audit/log";
import { hostListRecord, HostListParams } from "@/lib/inventory/filter";
import { exportFileName } from "@/lib/inventory/export";
import { evidenceCut, evidenceStream, EvidenceExportOptions } from "@/lib/evidence/export";

const EvidenceQuery = HostListParams.extend(EvidenceExportOptions.shape);

export const GET = route(
  {
    action: "export",
    summary: "Compliance evidence for the host list's filter (host x endpoint x TLS version), now or as of a time",
    query: EvidenceQuery,
    readQuery: hostListRecord,
    responses: { 200: { description: "CSV (format=csv) or JSON (format=json), one row per host, endpoint and TLS version", contentType: "text/csv" } },
  },
  async ({ query, user }) => {
    const now = new Date();
    const { cursor: _cursor, limit: _limit, format, asOf, ...scope } = query;
    const cut = evidenceCut(asOf, now);
    // Who took a copy of the evidence, of which hosts and as of when, is audit evidence too.
    await recordAudit({ actor: user.email, actorId: user.id, action: "evidence.export", target: "hosts", details: { filter: scope, format, asOf: asOf?.toISOString() ?? null } });
    return downloadResponse(evidenceStream(scope, format, cut, { now }), {
      contentType: format === "csv" ? CSV : "application/json; charset=utf-8",
      fileName: exportFileName(scope, cut.at, { kind: cut.historical ? "compliance-asof" : "compliance", ext: format }),
    });
  },
);
