// Small helpers shared by the /api/v1/exceptions handlers.
import { NextResponse } from "next/server";
import { z } from "zod";
import { ExceptionError } from "@/lib/exceptions/service";

const Id = z.uuid();

/** The :id route parameter when it is a UUID, else null (answered as 404, like a missing exception). */
export async function exceptionIdFrom(ctx: { params: Promise<Record<string, string | string[]>> }): Promise<string | null> {
  const { id } = await ctx.params;
  const parsed = Id.safeParse(id);
  return parsed.success ? parsed.data : null;
}

/** The optional body of reject and revoke: {"note": "why"}. */
export const DecisionNote = z.object({ note: z.string().trim().max(2000).optional() });

export const exceptionNotFound = () => NextResponse.json({ error: "No such exception" }, { status: 404 });

/** Runs a workflow step; its refusals keep their status (404 missing, 403 own request, 400 otherwise). */
export async function exceptionStep(step: () => Promise<unknown>, status = 200): Promise<Response> {
  try {
    return NextResponse.json(await step(), { status });
  } catch (err) {
    if (err instanceof ExceptionError) return NextResponse.json({ error: err.message }, { status: err.status });
    throw err;
  }
}
