// POST /api/v1/rollouts/:id/rollback: restores the prior values on every host the rollout changed,
// or on {"hostIds": [...]} only, then verifies on the wire. The rollout must not be running.
import { NextResponse } from "next/server";
import { z } from "zod";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { rollbackRollout } from "@/lib/rollout/service";
import { getRollout } from "@/lib/rollout/views";

const Rollback = z.object({ hostIds: z.array(z.uuid()).min(1).max(100_000).optional() }).strict();

export const POST = route(
  {
    action: "remediation.run",
    summary: "Roll back a rollout on every changed host, or on some",
    params: IdParams,
    notFound: "No such rollout",
    body: Rollback,
    bodyOptional: true,
    examples: [{}, { hostIds: ["00000000-0000-4000-8000-000000000000"] }],
    responses: { 202: { description: "The rollback was started: hosts, and the rollout" } },
  },
  async ({ params: { id }, body, user }) => {
    if (!(await getRollout(id))) return notFound("No such rollout");
    const result = await rollbackRollout(user, id, body.hostIds);
    return NextResponse.json({ ...result, rollout: await getRollout(id) }, { status: 202 });
  },
);
