// GET /api/v1/rollouts: the newest rollouts. POST: request one (a dry-run plan is made at once;
// nothing on any host changes until it is approved and started):
// {"goals": ["enable-tls12", "disable-legacy"], "hostIds": [...]} (or "filter" / "all"), optional
// "settings" (canarySize, wave, budget, rebootPolicy, rollbackOnFailure, maxConcurrency).
import { NextResponse } from "next/server";
import { z } from "zod";
import { authorizedRoute } from "@/lib/auth/guard";
import { JobTargetInput } from "@/lib/jobs/create";
import { requestRollout } from "@/lib/rollout/service";
import { listRollouts } from "@/lib/rollout/views";
import { readJson, validationError } from "../jobs/http";

const CreateRollout = z.intersection(z.object({ goals: z.array(z.string()), settings: z.record(z.string(), z.unknown()).optional() }), JobTargetInput);

export const GET = authorizedRoute("read", async () => NextResponse.json({ rollouts: await listRollouts() }));

export const POST = authorizedRoute("remediation.request", async (req, user) => {
  const body = await readJson(req);
  if (typeof body === "symbol") return NextResponse.json({ error: "The body must be JSON" }, { status: 400 });
  const parsed = CreateRollout.safeParse(body);
  if (!parsed.success) return validationError(parsed.error);
  const { goals, settings, ...target } = parsed.data;
  const created = await requestRollout(user, { target, goals, settings: settings as never });
  return NextResponse.json({ ...created, url: `/rollouts/${created.rolloutId}` }, { status: 201, headers: { location: `/api/v1/rollouts/${created.rolloutId}` } });
});
