// POST /api/v1/jobs/:id/cancel: hosts not started are cancelled now, running ones at their next check.
import { NextResponse } from "next/server";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { cancelJob } from "@/lib/jobs/scans";
import { getJobSummary } from "@/lib/jobs/views";

export const POST = route(
  { action: "jobs.cancel", summary: "Cancel a job", params: IdParams, notFound: "No such job", responses: { 200: { description: "What was cancelled, and the job" } } },
  async ({ params: { id }, user }) => {
    if (!(await getJobSummary(id))) return notFound("No such job");
    const result = await cancelJob(user, id);
    return NextResponse.json({ ...result, job: await getJobSummary(id) });
  },
);
