// GET /api/v1/rollouts: the newest rollouts. POST: request one (a dry-run plan is made at once;
// nothing on any host changes until it is approved and started):
// {"goals": ["enable-tls12", "disable-legacy"], "hostIds": [...]} (or "filter" / "all"), optional
// "settings" (canarySize, wave, budget, rebootPolicy, rollbackOnFailure, maxConcurrency).
import { NextResponse } from "next/server";
import { z } from "zod";
import { route } from "@/lib/http/route";
import { JobTargetInput } from "@/lib/jobs/create";
import { requestRollout } from "@/lib/rollout/service";
import { listRollouts } from "@/lib/rollout/views";

const CreateRollout = z.intersection(z.object({ goals: z.array(z.string()), settings: z.record(z.string(), z.unknown()).optional() }), JobTargetInput);

export const GET = route({ action: "read", summary: "The newest rollouts", responses: { 200: { description: "rollouts" } } }, async () => NextResponse.json({ rollouts: await listRollouts() }));

export const POST = route(
  {
    action: "remediation.request",
    summary: "Request a rollout (a dry-run plan is made; nothing changes until it is approved and started)",
    body: CreateRollout,
    examples: [{ goals: ["enable-tls12", "disable-legacy"], hostIds: ["00000000-0000-4000-8000-000000000000"], settings: { canarySize: 1 } }],
    responses: { 201: { description: "The rollout was requested: rolloutId, planJobId, url; Location names it" } },
  },
  async ({ body, user }) => {
    const { goals, settings, ...target } = body;
    const created = await requestRollout(user, { target, goals, settings: settings as never });
    return NextResponse.json({ ...created, url: `/rollouts/${created.rolloutId}` }, { status: 201, headers: { location: `/api/v1/rollouts/${created.rolloutId}` } });
  },
);
