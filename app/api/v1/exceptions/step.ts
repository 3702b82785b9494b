// The exception workflow's steps over REST: a refusal keeps its status (404 missing, 403 the
// requester deciding their own request, 400 otherwise) as problem+json.
import { NextResponse } from "next/server";
import { z } from "zod";
import { IdParams, route } from "@/lib/http/route";
import { problem } from "@/lib/http/problem";
import type { Action } from "@/lib/auth/roles";
import type { SessionUser } from "@/lib/auth/session";
import { ExceptionError } from "@/lib/exceptions/service";

/** The optional body of reject and revoke: {"note": "why"}. */
export const DecisionNote = z.object({ note: z.string().trim().max(2000).optional() });

export async function exceptionStep(step: () => Promise<unknown>, status = 200): Promise<Response> {
  try {
    return NextResponse.json(await step(), { status });
  } catch (err) {
    if (err instanceof ExceptionError) return problem(err.status, err.message);
    throw err;
  }
}

/** POST /api/v1/exceptions/:id/<step> with an optional {"note"}. */
export function decisionRoute(action: Action, summary: string, decide: (user: SessionUser, id: string, note: string | undefined) => Promise<unknown>) {
  return route(
    { action, summary, params: IdParams, notFound: "No such exception", body: DecisionNote, bodyOptional: true, examples: [{}, { note: "covered by the migration plan" }], responses: { 200: { description: "The exception after the step" } } },
    async ({ params: { id }, body, user }) => exceptionStep(() => decide(user, id, body.note)),
  );
}
