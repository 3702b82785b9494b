// GET /api/v1/jobs/:id: the job with its progress counts and a page of its tasks (by host name;
// ?state= narrows to one task state, ?cursor= pages on).
import { NextResponse } from "next/server";
import { z } from "zod";
import { authorizedRoute } from "@/lib/auth/guard";
import { TASK_STATES } from "@/lib/jobs/state";
import { getJobSummary, listTasks } from "@/lib/jobs/views";
import { jobIdFrom, jobNotFound, validationError } from "../http";

const Params = z.object({ cursor: z.string().max(400).optional(), limit: z.coerce.number().int().min(1).max(1000).default(200), state: z.enum(TASK_STATES).optional() });

export const GET = authorizedRoute("read", async (req, _user, ctx) => {
  const id = await jobIdFrom(ctx);
  const job = id ? await getJobSummary(id) : null;
  if (!id || !job) return jobNotFound();
  const params = Params.safeParse(Object.fromEntries(new URL(req.url).searchParams));
  if (!params.success) return validationError(params.error);
  const tasks = await listTasks(id, params.data);
  return NextResponse.json({ job, tasks: tasks.rows, nextCursor: tasks.nextCursor });
});
