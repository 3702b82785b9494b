// POST /api/v1/outbound-checks: make hosts ({"hostIds": [...]}, {"filter": {...}} or {"all": true})
// send one message each to the outbound check sink through their own mail software, and record
// which TLS version their client negotiated (docs/outbound-check.md). Followed like any job.
import { NextResponse } from "next/server";
import { z } from "zod";
import { route } from "@/lib/http/route";
import { JobTargetInput } from "@/lib/jobs/create";
import { createOutboundCheckJob } from "@/lib/jobs/outbound";

const CreateCheck = z.intersection(z.object({ maxConcurrency: z.number().int().min(1).max(64).optional() }), JobTargetInput);

export const POST = route(
  {
    action: "outbound.run",
    summary: "Start an outbound TLS check of hosts chosen by id, by filter, or all",
    body: CreateCheck,
    examples: [{ hostIds: ["00000000-0000-4000-8000-000000000000"] }, { filter: { roles: ["postfix"] }, maxConcurrency: 4 }],
    responses: { 201: { description: "The job was created: jobId, taskCount, url; Location names the job" } },
  },
  async ({ body, user }) => {
    const { maxConcurrency, ...target } = body;
    const { jobId, taskCount } = await createOutboundCheckJob(user, target, { maxConcurrency, origin: "api" });
    return NextResponse.json({ jobId, taskCount, url: `/jobs/${jobId}` }, { status: 201, headers: { location: `/api/v1/jobs/${jobId}` } });
  },
);
