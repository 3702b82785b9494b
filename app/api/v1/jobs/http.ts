// Small helpers shared by the /api/v1/jobs handlers.
import { NextResponse } from "next/server";
import { z } from "zod";

const Id = z.uuid();

/** The :id route parameter when it is a UUID, else null (answered as 404, like a missing job). */
export async function jobIdFrom(ctx: { params: Promise<Record<string, string | string[]>> }): Promise<string | null> {
  const { id } = await ctx.params;
  const parsed = Id.safeParse(id);
  return parsed.success ? parsed.data : null;
}

export const jobNotFound = () => NextResponse.json({ error: "No such job" }, { status: 404 });

/** 400 with every problem located by field, the same shape the forms get. */
export function validationError(error: z.ZodError): Response {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) (fieldErrors[issue.path.join(".") || "_"] ??= []).push(issue.message);
  return NextResponse.json({ error: error.issues[0]?.message ?? "Invalid input", fieldErrors }, { status: 400 });
}

export async function readJson(req: Request): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    return Symbol.for("invalid-json");
  }
}
