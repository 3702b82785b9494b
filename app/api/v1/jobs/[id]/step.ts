// The job steps that take no body (cancel, retry failed hosts): POST, what happened and the job as answer.
import { NextResponse } from "next/server";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { getJobSummary } from "@/lib/jobs/views";
import type { Action } from "@/lib/auth/roles";
import type { SessionUser } from "@/lib/auth/session";

export function jobStepRoute(action: Action, summary: string, step: (user: SessionUser, jobId: string) => Promise<object>) {
  return route({ action, summary, params: IdParams, notFound: "No such job", responses: { 200: { description: "What the step did, and the job" } } }, async ({ params: { id }, user }) => {
    if (!(await getJobSummary(id))) return notFound("No such job");
    const result = await step(user, id);
    return NextResponse.json({ ...result, job: await getJobSummary(id) });
  });
}
