// POST /api/v1/rollouts/:id/rollback: restores the prior values on every host the rollout changed,
// or on {"hostIds": [...]} only, then verifies on the wire. The rollout must not be running.
import { NextResponse } from "next/server";
import { z } from "zod";
import { authorizedRoute } from "@/lib/auth/guard";
import { rollbackRollout } from "@/lib/rollout/service";
import { getRollout } from "@/lib/rollout/views";
import { readJson, validationError } from "../../../jobs/http";
import { rolloutIdFrom, rolloutNotFound } from "../../http";

const Rollback = z.object({ hostIds: z.array(z.uuid()).min(1).max(100_000).optional() }).strict();

export const POST = authorizedRoute("remediation.run", async (req, user, ctx) => {
  const id = await rolloutIdFrom(ctx);
  if (!id || !(await getRollout(id))) return rolloutNotFound();
  const text = await req.text();
  const body = text.trim() === "" ? {} : await readJson(new Request(req.url, { method: "POST", body: text }));
  const parsed = Rollback.safeParse(typeof body === "symbol" ? null : body);
  if (!parsed.success) return validationError(parsed.error);
  const result = await rollbackRollout(user, id, parsed.data.hostIds);
  return NextResponse.json({ ...result, rollout: await getRollout(id) }, { status: 202 });
});
