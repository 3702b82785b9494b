// POST /api/v1/jobs/:id/retry-failed: a new attempt for failed and unreachable hosts only.
import { NextResponse } from "next/server";
import { authorizedRoute } from "@/lib/auth/guard";
import { retryFailedTasks } from "@/lib/jobs/scans";
import { getJobSummary } from "@/lib/jobs/views";
import { jobIdFrom, jobNotFound } from "../../http";

export const POST = authorizedRoute("scans.run", async (_req, user, ctx) => {
  const id = await jobIdFrom(ctx);
  if (!id || !(await getJobSummary(id))) return jobNotFound();
  const result = await retryFailedTasks(user, id);
  return NextResponse.json({ ...result, job: await getJobSummary(id) });
});
