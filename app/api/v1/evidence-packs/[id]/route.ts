// GET /api/v1/evidence-packs/:id: the pack's state and progress (the pack page polls it).
import { NextResponse } from "next/server";
import { authorizedRoute } from "@/lib/auth/guard";
import { getEvidencePack } from "@/lib/evidence/packs";

export const GET = authorizedRoute("export", async (_req, _user, ctx) => {
  const { id } = await ctx.params;
  const pack = typeof id === "string" ? await getEvidencePack(id) : null;
  if (!pack) return NextResponse.json({ error: "No such evidence pack" }, { status: 404 });
  return NextResponse.json({ pack }, { headers: { "cache-control": "no-store" } });
});
