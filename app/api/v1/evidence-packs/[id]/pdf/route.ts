// GET /api/v1/evidence-packs/:id/pdf: the finished pack as a PDF download (audited: who took a
// copy of the evidence).
import { NextResponse } from "next/server";
import { authorizedRoute } from "@/lib/auth/guard";
import { recordAudit } from "@/lib/audit/log";
import { evidencePackPdf, packFileName } from "@/lib/evidence/packs";

export const GET = authorizedRoute("export", async (_req, user, ctx) => {
  const { id } = await ctx.params;
  const file = typeof id === "string" ? await evidencePackPdf(id) : null;
  if (!file) return NextResponse.json({ error: "No finished evidence pack with that id" }, { status: 404 });
  await recordAudit({ actor: user.email, actorId: user.id, action: "evidence.pack_downloaded", target: `evidence-pack:${id}`, details: { title: file.title } });
  return new Response(Buffer.from(file.pdf), {
    headers: {
      "content-type": "application/pdf",
      "content-disposition": `attachment; filename="${packFileName(file.createdAt)}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
});
