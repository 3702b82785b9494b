// GET /api/v1/audit/export?<the Audit page's filter>: the filtered events as CSV, streamed.
import { route } from "@/lib/http/route";
import { CSV, downloadResponse } from "@/lib/http/download";
import { recordAudit } from "@/lib/audit/log";
import { AuditListParams } from "@/lib/audit/filter";
import { auditCsvStream } from "@/lib/audit/list";

export const GET = route(
  { action: "export", summary: "The audit events matching the Audit page's filter, as CSV", query: AuditListParams, responses: { 200: { description: "CSV, one event per row, oldest first", contentType: "text/csv" } } },
  async ({ query, user }) => {
    const { before: _before, after: _after, ...filter } = query;
    // Recorded before the stream starts, so the export includes its own record when it matches.
    await recordAudit({ actor: user.email, actorId: user.id, action: "audit.export", target: "audit", details: { filter: { ...filter, from: filter.from?.toISOString(), to: filter.to?.toISOString() } } });
    const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, "-");
    return downloadResponse(auditCsvStream(filter), { contentType: CSV, fileName: `tlsfleet-audit-${stamp}.csv` });
  },
);
