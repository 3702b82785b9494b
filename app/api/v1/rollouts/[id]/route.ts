// GET /api/v1/rollouts/:id: the plan (per host diff, skips and why), approval, waves, per-host state and log.
import { NextResponse } from "next/server";
import { authorizedRoute } from "@/lib/auth/guard";
import { getRollout } from "@/lib/rollout/views";
import { rolloutIdFrom, rolloutNotFound } from "../http";

export const GET = authorizedRoute("read", async (_req, _user, ctx) => {
  const id = await rolloutIdFrom(ctx);
  const rollout = id ? await getRollout(id) : null;
  return rollout ? NextResponse.json(rollout) : rolloutNotFound();
});
