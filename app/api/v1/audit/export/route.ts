// GET /api/v1/audit/export?<the Audit page's filter>: the filtered events as CSV, streamed.
import { authorizedRoute } from "@/lib/auth/guard";
import { recordAudit } from "@/lib/audit/log";
import { parseAuditListParams } from "@/lib/audit/filter";
import { auditCsvStream } from "@/lib/audit/list";
import { validationError } from "../../hosts/http";

export const GET = authorizedRoute("export", async (req, user) => {
  const parsed = parseAuditListParams(new URL(req.url).searchParams);
  if (!parsed.success) return validationError(parsed.error);
  const { before: _before, after: _after, ...filter } = parsed.data;
  // Recorded before the stream starts, so the export includes its own record when it matches.
  await recordAudit({ actor: user.email, actorId: user.id, action: "audit.export", target: "audit", details: { filter: { ...filter, from: filter.from?.toISOString(), to: filter.to?.toISOString() } } });
  const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, "-");
  return new Response(auditCsvStream(filter), {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="tlsfleet-audit-${stamp}.csv"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
});
