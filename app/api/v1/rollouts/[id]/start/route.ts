// POST /api/v1/rollouts/:id/start
import { NextResponse } from "next/server";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { startRollout } from "@/lib/rollout/service";
import { getRollout } from "@/lib/rollout/views";

export const POST = route(
  { action: "remediation.run", summary: "Start a rollout", params: IdParams, notFound: "No such rollout", responses: { 200: { description: "The rollout" } } },
  async ({ params: { id }, user }) => {
    if (!(await getRollout(id))) return notFound("No such rollout");
    await startRollout(user, id);
    return NextResponse.json(await getRollout(id));
  },
);
