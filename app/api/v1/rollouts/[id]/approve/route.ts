// POST /api/v1/rollouts/:id/approve {"planHash": "..."}: approves the frozen plan with that hash
// (the one the approver reviewed). An admin other than the requester where the plan's rule says so.
import { NextResponse } from "next/server";
import { z } from "zod";
import { authorizedRoute } from "@/lib/auth/guard";
import { approveRollout } from "@/lib/rollout/service";
import { getRollout } from "@/lib/rollout/views";
import { readJson, validationError } from "../../../jobs/http";
import { rolloutIdFrom, rolloutNotFound } from "../../http";

const Approve = z.object({ planHash: z.string().regex(/^[0-9a-f]{64}$/, "planHash is the plan's sha256 (GET the rollout to read it)") });

export const POST = authorizedRoute("remediation.approve", async (req, user, ctx) => {
  const id = await rolloutIdFrom(ctx);
  if (!id || !(await getRollout(id))) return rolloutNotFound();
  const body = await readJson(req);
  const parsed = Approve.safeParse(typeof body === "symbol" ? null : body);
  if (!parsed.success) return validationError(parsed.error);
  await approveRollout(user, id, parsed.data.planHash);
  return NextResponse.json(await getRollout(id));
});
