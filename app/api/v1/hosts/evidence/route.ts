// GET /api/v1/hosts/evidence?<the list's filter and sort>&format=csv|json&asOf=2026-11-30 00:00 UTC:
// compliance evidence, one row per host x endpoint x TLS version, streamed page by page
// (lib/evidence/export.ts). Without asOf the evidence is as of the moment the export starts.
import { authorizedRoute } from "@/lib/auth/guard";
import { recordAudit } from "@/lib/audit/log";
import { parseHostListParams } from "@/lib/inventory/filter";
import { exportFileName } from "@/lib/inventory/export";
import { evidenceCut, evidenceStream, EvidenceExportOptions } from "@/lib/evidence/export";
import { validationError } from "../http";

export const GET = authorizedRoute("export", async (req, user) => {
  const search = new URL(req.url).searchParams;
  const parsed = parseHostListParams(search);
  if (!parsed.success) return validationError(parsed.error);
  const options = EvidenceExportOptions.safeParse({ format: search.get("format") || undefined, asOf: search.get("asOf") || undefined });
  if (!options.success) return validationError(options.error);
  const now = new Date();
  const { cursor: _cursor, limit: _limit, ...scope } = parsed.data;
  const cut = evidenceCut(options.data.asOf, now);
  const { format } = options.data;
  // Who took a copy of the evidence, of which hosts and as of when, is audit evidence too.
  await recordAudit({ actor: user.email, actorId: user.id, action: "evidence.export", target: "hosts", details: { filter: scope, format, asOf: options.data.asOf?.toISOString() ?? null } });
  return new Response(evidenceStream(scope, format, cut, { now }), {
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/json; charset=utf-8",
      "content-disposition": `attachment; filename="${exportFileName(scope, cut.at, { kind: cut.historical ? "compliance-asof" : "compliance", ext: format })}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
});
