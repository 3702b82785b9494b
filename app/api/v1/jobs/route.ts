// GET /api/v1/jobs: newest first (?cursor=&limit=). POST /api/v1/jobs: start a scan of
// {"hostIds": [...]}, {"filter": {...}} (the host list's filter) or {"all": true};
// optional "maxConcurrency" (hosts of this job probed at once, default 16).
import { NextResponse } from "next/server";
import { z } from "zod";
import { authorizedRoute } from "@/lib/auth/guard";
import { createScanJob, ScanTargetInput } from "@/lib/jobs/scans";
import { listJobs } from "@/lib/jobs/views";
import { readJson, validationError } from "./http";

const ListParams = z.object({ cursor: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(100).default(25) });

export const GET = authorizedRoute("read", async (req) => {
  const params = ListParams.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!params.success) return validationError(params.error);
  return NextResponse.json(await listJobs(params.data));
});

const CreateScan = z.intersection(
  z.object({ kind: z.literal("scan").default("scan"), maxConcurrency: z.number().int().min(1).max(256).optional() }),
  ScanTargetInput,
);

export const POST = authorizedRoute("scans.run", async (req, user) => {
  const body = await readJson(req);
  if (typeof body === "symbol") return NextResponse.json({ error: "The body must be JSON" }, { status: 400 });
  const parsed = CreateScan.safeParse(body);
  if (!parsed.success) return validationError(parsed.error);
  const { kind: _kind, maxConcurrency, ...target } = parsed.data;
  const { jobId, taskCount } = await createScanJob(user, target, { maxConcurrency, origin: "api" });
  return NextResponse.json({ jobId, taskCount, url: `/jobs/${jobId}` }, { status: 201, headers: { location: `/api/v1/jobs/${jobId}` } });
});
