// GET /api/v1/openapi.json: the OpenAPI 3.1 document of this API, built from the routes'
// declarations (lib/http/openapi.ts). A route file missing from this list fails
// tests/integration/openapi.test.ts.
import { NextResponse } from "next/server";
import { route } from "@/lib/http/route";
import { buildOpenApiDocument, type RouteModule } from "@/lib/http/openapi";
import * as auditExportRoute from "@/app/api/v1/audit/export/route";
import * as auditsRoute from "@/app/api/v1/audits/route";
import * as evidencePacksOnePdfRoute from "@/app/api/v1/evidence-packs/[id]/pdf/route";
import * as evidencePacksOneRoute from "@/app/api/v1/evidence-packs/[id]/route";
import * as exceptionsOneApproveRoute from "@/app/api/v1/exceptions/[id]/approve/route";
import * as exceptionsOneRejectRoute from "@/app/api/v1/exceptions/[id]/reject/route";
import * as exceptionsOneRevokeRoute from "@/app/api/v1/exceptions/[id]/revoke/route";
import * as exceptionsOneRoute from "@/app/api/v1/exceptions/[id]/route";
import * as exceptionsRoute from "@/app/api/v1/exceptions/route";
import * as hostsOneRoute from "@/app/api/v1/hosts/[id]/route";
import * as hostsEvidenceRoute from "@/app/api/v1/hosts/evidence/route";
import * as hostsExportRoute from "@/app/api/v1/hosts/export/route";
import * as hostsImportRoute from "@/app/api/v1/hosts/import/route";
import * as hostsRoute from "@/app/api/v1/hosts/route";
import * as jobsOneCancelRoute from "@/app/api/v1/jobs/[id]/cancel/route";
import * as jobsOneEventsRoute from "@/app/api/v1/jobs/[id]/events/route";
import * as jobsOneRetryFailedRoute from "@/app/api/v1/jobs/[id]/retry-failed/route";
import * as jobsOneRoute from "@/app/api/v1/jobs/[id]/route";
import * as jobsRoute from "@/app/api/v1/jobs/route";
import * as outboundChecksRoute from "@/app/api/v1/outbound-checks/route";
import * as rolloutsOneApproveRoute from "@/app/api/v1/rollouts/[id]/approve/route";
import * as rolloutsOneCancelRoute from "@/app/api/v1/rollouts/[id]/cancel/route";
import * as rolloutsOnePauseRoute from "@/app/api/v1/rollouts/[id]/pause/route";
import * as rolloutsOneResumeRoute from "@/app/api/v1/rollouts/[id]/resume/route";
import * as rolloutsOneRollbackRoute from "@/app/api/v1/rollouts/[id]/rollback/route";
import * as rolloutsOneRoute from "@/app/api/v1/rollouts/[id]/route";
import * as rolloutsOneStartRoute from "@/app/api/v1/rollouts/[id]/start/route";
import * as rolloutsRoute from "@/app/api/v1/rollouts/route";

const ROUTES: RouteModule[] = [
  { path: "/api/v1/audit/export", handlers: auditExportRoute },
  { path: "/api/v1/audits", handlers: auditsRoute },
  { path: "/api/v1/evidence-packs/[id]", handlers: evidencePacksOneRoute },
  { path: "/api/v1/evidence-packs/[id]/pdf", handlers: evidencePacksOnePdfRoute },
  { path: "/api/v1/exceptions", handlers: exceptionsRoute },
  { path: "/api/v1/exceptions/[id]", handlers: exceptionsOneRoute },
  { path: "/api/v1/exceptions/[id]/approve", handlers: exceptionsOneApproveRoute },
  { path: "/api/v1/exceptions/[id]/reject", handlers: exceptionsOneRejectRoute },
  { path: "/api/v1/exceptions/[id]/revoke", handlers: exceptionsOneRevokeRoute },
  { path: "/api/v1/hosts/[id]", handlers: hostsOneRoute },
  { path: "/api/v1/hosts/evidence", handlers: hostsEvidenceRoute },
  { path: "/api/v1/hosts/export", handlers: hostsExportRoute },
  { path: "/api/v1/hosts/import", handlers: hostsImportRoute },
  { path: "/api/v1/hosts", handlers: hostsRoute },
  { path: "/api/v1/jobs/[id]/cancel", handlers: jobsOneCancelRoute },
  { path: "/api/v1/jobs/[id]/events", handlers: jobsOneEventsRoute },
  { path: "/api/v1/jobs/[id]/retry-failed", handlers: jobsOneRetryFailedRoute },
  { path: "/api/v1/jobs/[id]", handlers: jobsOneRoute },
  { path: "/api/v1/jobs", handlers: jobsRoute },
  { path: "/api/v1/outbound-checks", handlers: outboundChecksRoute },
  { path: "/api/v1/rollouts/[id]/approve", handlers: rolloutsOneApproveRoute },
  { path: "/api/v1/rollouts/[id]/cancel", handlers: rolloutsOneCancelRoute },
  { path: "/api/v1/rollouts/[id]/pause", handlers: rolloutsOnePauseRoute },
  { path: "/api/v1/rollouts/[id]/resume", handlers: rolloutsOneResumeRoute },
  { path: "/api/v1/rollouts/[id]/rollback", handlers: rolloutsOneRollbackRoute },
  { path: "/api/v1/rollouts/[id]", handlers: rolloutsOneRoute },
  { path: "/api/v1/rollouts/[id]/start", handlers: rolloutsOneStartRoute },
  { path: "/api/v1/rollouts", handlers: rolloutsRoute },
];

let document: Record<string, unknown> | undefined;

export const GET = route({ action: "read", summary: "This document (OpenAPI 3.1)", responses: { 200: { description: "The OpenAPI document" } } }, async () => {
  document ??= buildOpenApiDocument([...ROUTES, { path: "/api/v1/openapi.json", handlers: { GET } }]);
  return NextResponse.json(document, { headers: { "cache-control": "no-store" } });
});
