// GET /api/v1/hosts/export?<the list's filter and sort>: the filtered host list as CSV, streamed
// page by page, so 50,000 hosts start downloading at once and never sit in memory together.
import { route } from "@/lib/http/route";
import { CSV, downloadResponse } from "@/lib/http/download";
import { recordAudit } from "@/lib/audit/log";
import { hostListRecord, HostListParams } from "@/lib/inventory/filter";
import { exportFileName, hostsCsvStream } from "@/lib/inventory/export";

export const GET = route(
  { action: "export", summary: "The filtered host list as CSV", query: HostListParams, readQuery: hostListRecord, responses: { 200: { description: "CSV, one host per row", contentType: "text/csv" } } },
  async ({ query, user }) => {
    const { cursor: _cursor, limit: _limit, ...params } = query;
    // Who took a copy of the inventory, and which part, is audit evidence too.
    await recordAudit({ actor: user.email, actorId: user.id, action: "host.export", target: "hosts", details: { filter: params } });
    return downloadResponse(hostsCsvStream(params), { contentType: CSV, fileName: exportFileName(params) });
  },
);
