// POST /api/v1/rollouts/:id/pause
import { NextResponse } from "next/server";
import { authorizedRoute } from "@/lib/auth/guard";
import { pauseRollout } from "@/lib/rollout/service";
import { getRollout } from "@/lib/rollout/views";
import { rolloutIdFrom, rolloutNotFound } from "../../http";

export const POST = authorizedRoute("remediation.run", async (_req, user, ctx) => {
  const id = await rolloutIdFrom(ctx);
  if (!id || !(await getRollout(id))) return rolloutNotFound();
  await pauseRollout(user, id);
  return NextResponse.json(await getRollout(id));
});
