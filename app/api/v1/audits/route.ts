// POST /api/v1/audits: start a config audit of {"hostIds": [...]}, {"filter": {...}} (the host
// list's filter) or {"all": true}; optional "maxConcurrency" (hosts audited at once, default 8).
// The job is followed like any other: GET /api/v1/jobs/:id.
import { NextResponse } from "next/server";
import { z } from "zod";
import { route } from "@/lib/http/route";
import { AuditTargetInput, createAuditJob } from "@/lib/jobs/audits";

const CreateAudit = z.intersection(z.object({ maxConcurrency: z.number().int().min(1).max(64).optional() }), AuditTargetInput);

export const POST = route(
  {
    action: "audits.run",
    summary: "Start a config audit of hosts chosen by id, by filter, or all",
    body: CreateAudit,
    examples: [{ hostIds: ["00000000-0000-4000-8000-000000000000"] }, { filter: { platform: "linux" }, maxConcurrency: 4 }],
    responses: { 201: { description: "The job was created: jobId, taskCount, url; Location names the job" } },
  },
  async ({ body, user }) => {
    const { maxConcurrency, ...target } = body;
    const { jobId, taskCount } = await createAuditJob(user, target, { maxConcurrency, origin: "api" });
    return NextResponse.json({ jobId, taskCount, url: `/jobs/${jobId}` }, { status: 201, headers: { location: `/api/v1/jobs/${jobId}` } });
  },
);
