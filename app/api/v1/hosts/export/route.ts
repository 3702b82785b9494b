// GET /api/v1/hosts/export?<the list's filter and sort>: the filtered host list as CSV, streamed
// page by page, so 50,000 hosts start downloading at once and never sit in memory together.
import { authorizedRoute } from "@/lib/auth/guard";
import { recordAudit } from "@/lib/audit/log";
import { parseHostListParams } from "@/lib/inventory/filter";
import { exportFileName, hostsCsvStream } from "@/lib/inventory/export";
import { validationError } from "../http";

export const GET = authorizedRoute("export", async (req, user) => {
  const parsed = parseHostListParams(new URL(req.url).searchParams);
  if (!parsed.success) return validationError(parsed.error);
  const { cursor: _cursor, limit: _limit, ...params } = parsed.data;
  // Who took a copy of the inventory, and which part, is audit evidence too.
  await recordAudit({ actor: user.email, actorId: user.id, action: "host.export", target: "hosts", details: { filter: params } });
  return new Response(hostsCsvStream(params), {
    headers: {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="${exportFileName(params)}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
});
