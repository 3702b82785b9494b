// POST /api/v1/rollouts/:id/approve {"planHash": "..."}: approves the frozen plan with that hash
// (the one the approver reviewed). An admin other than the requester where the plan's rule says so.
import { NextResponse } from "next/server";
import { z } from "zod";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { approveRollout } from "@/lib/rollout/service";
import { getRollout } from "@/lib/rollout/views";

const Approve = z.object({ planHash: z.string().regex(/^[0-9a-f]{64}$/, "planHash is the plan's sha256 (GET the rollout to read it)") });

export const POST = route(
  {
    action: "remediation.approve",
    summary: "Approve a rollout's frozen plan by its hash",
    params: IdParams,
    notFound: "No such rollout",
    body: Approve,
    examples: [{ planHash: "0".repeat(64) }],
    responses: { 200: { description: "The rollout" } },
  },
  async ({ params: { id }, body, user }) => {
    if (!(await getRollout(id))) return notFound("No such rollout");
    await approveRollout(user, id, body.planHash);
    return NextResponse.json(await getRollout(id));
  },
);
