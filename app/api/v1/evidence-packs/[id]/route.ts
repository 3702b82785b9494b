// GET /api/v1/evidence-packs/:id: the pack's state and progress (the pack page polls it).
import { NextResponse } from "next/server";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { getEvidencePack } from "@/lib/evidence/packs";

export const GET = route({ action: "export", summary: "An evidence pack's state and progress", params: IdParams, notFound: "No such evidence pack", responses: { 200: { description: "pack: state, progress, title" } } }, async ({ params }) => {
  const pack = await getEvidencePack(params.id);
  if (!pack) return notFound("No such evidence pack");
  return NextResponse.json({ pack }, { headers: { "cache-control": "no-store" } });
});
