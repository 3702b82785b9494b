// GET /api/v1/jobs/:id: the job with its progress counts and a page of its tasks (by host name;
// ?state= narrows to one task state, ?cursor= pages on).
import { NextResponse } from "next/server";
import { z } from "zod";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { TASK_STATES } from "@/lib/jobs/state";
import { getJobSummary, listTasks } from "@/lib/jobs/views";

const Params = z.object({ cursor: z.string().max(400).optional(), limit: z.coerce.number().int().min(1).max(1000).default(200), state: z.enum(TASK_STATES).optional() });

export const GET = route(
  { action: "read", summary: "A job with its counts and a page of its tasks", params: IdParams, notFound: "No such job", query: Params, responses: { 200: { description: "job, tasks, nextCursor" } } },
  async ({ params, query }) => {
    const job = await getJobSummary(params.id);
    if (!job) return notFound("No such job");
    const tasks = await listTasks(params.id, query);
    return NextResponse.json({ job, tasks: tasks.rows, nextCursor: tasks.nextCursor });
  },
);
