// The rollout steps that take no body (start, pause, resume, cancel): POST, the rollout as answer.
import { NextResponse } from "next/server";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { getRollout } from "@/lib/rollout/views";
import type { SessionUser } from "@/lib/auth/session";

export function rolloutStepRoute(summary: string, step: (user: SessionUser, rolloutId: string) => Promise<unknown>) {
  return route({ action: "remediation.run", summary, params: IdParams, notFound: "No such rollout", responses: { 200: { description: "The rollout" } } }, async ({ params: { id }, user }) => {
    if (!(await getRollout(id))) return notFound("No such rollout");
    await step(user, id);
    return NextResponse.json(await getRollout(id));
  });
}
