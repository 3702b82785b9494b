// GET /api/v1/exceptions/:id: one exception with its state and who requested and decided it.
import { NextResponse } from "next/server";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { getException } from "@/lib/exceptions/service";

export const GET = route({ action: "read", summary: "One exception", params: IdParams, notFound: "No such exception", responses: { 200: { description: "The exception" } } }, async ({ params }) => {
  const found = await getException(params.id);
  return found ? NextResponse.json(found) : notFound("No such exception");
});
