// POST /api/v1/jobs/:id/retry-failed: a new attempt for failed and unreachable hosts only.
import { NextResponse } from "next/server";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { retryFailedTasks } from "@/lib/jobs/scans";
import { getJobSummary } from "@/lib/jobs/views";

export const POST = route(
  { action: "scans.run", summary: "Retry a job's failed and unreachable hosts", params: IdParams, notFound: "No such job", responses: { 200: { description: "The retried tasks, and the job" } } },
  async ({ params: { id }, user }) => {
    if (!(await getJobSummary(id))) return notFound("No such job");
    const result = await retryFailedTasks(user, id);
    return NextResponse.json({ ...result, job: await getJobSummary(id) });
  },
);
