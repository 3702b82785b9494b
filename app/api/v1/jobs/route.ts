// GET /api/v1/jobs: newest first (?cursor=&limit=). POST /api/v1/jobs: start a scan of
// {"hostIds": [...]}, {"filter": {...}} (the host list's filter) or {"all": true};
// optional "maxConcurrency" (hosts of this job probed at once, default 16).
import { NextResponse } from "next/server";
import { z } from "zod";
import { route } from "@/lib/http/route";
import { createScanJob, ScanTargetInput } from "@/lib/jobs/scans";
import { listJobs } from "@/lib/jobs/views";

const ListParams = z.object({ cursor: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(100).default(25) });

export const GET = route({ action: "read", summary: "List jobs, newest first", query: ListParams, responses: { 200: { description: "A page of jobs: rows and nextCursor" } } }, async ({ query }) =>
  NextResponse.json(await listJobs(query)),
);

const CreateScan = z.intersection(
  z.object({ kind: z.literal("scan").default("scan"), maxConcurrency: z.number().int().min(1).max(256).optional() }),
  ScanTargetInput,
);

export const POST = route(
  {
    action: "scans.run",
    summary: "Start a scan of hosts chosen by id, by filter, or all",
    body: CreateScan,
    examples: [{ hostIds: ["00000000-0000-4000-8000-000000000000"], maxConcurrency: 2 }, { filter: { tag: "production" } }, { all: true }],
    responses: { 201: { description: "The job was created: jobId, taskCount, url; Location names the job" } },
  },
  async ({ body, user }) => {
    const { kind: _kind, maxConcurrency, ...target } = body;
    const { jobId, taskCount } = await createScanJob(user, target, { maxConcurrency, origin: "api" });
    return NextResponse.json({ jobId, taskCount, url: `/jobs/${jobId}` }, { status: 201, headers: { location: `/api/v1/jobs/${jobId}` } });
  },
);
