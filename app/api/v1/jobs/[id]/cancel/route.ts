// POST /api/v1/jobs/:id/cancel: hosts not started are cancelled now, running ones at their next check.
import { NextResponse } from "next/server";
import { authorizedRoute } from "@/lib/auth/guard";
import { cancelJob } from "@/lib/jobs/scans";
import { getJobSummary } from "@/lib/jobs/views";
import { jobIdFrom, jobNotFound } from "../../http";

export const POST = authorizedRoute("jobs.cancel", async (_req, user, ctx) => {
  const id = await jobIdFrom(ctx);
  if (!id || !(await getJobSummary(id))) return jobNotFound();
  const result = await cancelJob(user, id);
  return NextResponse.json({ ...result, job: await getJobSummary(id) });
});
