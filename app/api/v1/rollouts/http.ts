// Small helpers shared by the /api/v1/rollouts handlers.
import { NextResponse } from "next/server";
import { z } from "zod";

const Id = z.uuid();

/** The :id route parameter when it is a UUID, else null (answered as 404, like a missing rollout). */
export async function rolloutIdFrom(ctx: { params: Promise<Record<string, string | string[]>> }): Promise<string | null> {
  const { id } = await ctx.params;
  const parsed = Id.safeParse(id);
  return parsed.success ? parsed.data : null;
}

export const rolloutNotFound = () => NextResponse.json({ error: "No such rollout" }, { status: 404 });
