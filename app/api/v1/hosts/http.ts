// Small HTTP helpers shared by the /api/v1/hosts handlers.
import { NextResponse } from "next/server";
import type { z } from "zod";

/** 400 with every problem located by field, the same shape the forms get. */
export function validationError(error: z.ZodError): Response {
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) (fieldErrors[issue.path.join(".") || "_"] ??= []).push(issue.message);
  return NextResponse.json({ error: error.issues[0]?.message ?? "Invalid input", fieldErrors }, { status: 400 });
}

export async function readJson(req: Request): Promise<unknown | Response> {
  try {
    return await req.json();
  } catch {
    return NextResponse.json({ error: "The body must be JSON" }, { status: 400 });
  }
}

/**
 * The request body as bytes, refusing more than `max`. A Content-Length larger than what arrives
 * means something in front (Next's proxy buffers 10 MB) cut the body short: refused too, so a
 * truncated file is never previewed or imported as if it were whole.
 */
export async function readBody(req: Request, max: number): Promise<Uint8Array | Response> {
  const tooLarge = () => NextResponse.json({ error: `The file is larger than ${Math.floor(max / 1024 / 1024)} MiB. Split it into smaller files.` }, { status: 413 });
  const declared = Number(req.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > max) return tooLarge();
  if (!req.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return tooLarge();
    }
    chunks.push(value);
  }
  if (Number.isFinite(declared) && declared !== size) return tooLarge();
  return Buffer.concat(chunks);
}
