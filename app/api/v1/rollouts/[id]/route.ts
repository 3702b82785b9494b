// GET /api/v1/rollouts/:id: the plan (per host diff, skips and why), approval, waves, per-host state and log.
import { NextResponse } from "next/server";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { getRollout } from "@/lib/rollout/views";

export const GET = route(
  { action: "read", summary: "A rollout: plan, approval, waves, per-host state and log", params: IdParams, notFound: "No such rollout", responses: { 200: { description: "The rollout" } } },
  async ({ params }) => {
    const rollout = await getRollout(params.id);
    return rollout ? NextResponse.json(rollout) : notFound("No such rollout");
  },
);
