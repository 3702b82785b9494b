// GET /api/v1/evidence-packs/:id/pdf: the finished pack as a PDF download (audited: who took a
// copy of the evidence).
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { downloadResponse } from "@/lib/http/download";
import { recordAudit } from "@/lib/audit/log";
import { evidencePackPdf, packFileName } from "@/lib/evidence/packs";

const NONE = "No finished evidence pack with that id";

export const GET = route({ action: "export", summary: "A finished evidence pack as PDF", params: IdParams, notFound: NONE, responses: { 200: { description: "The PDF", contentType: "application/pdf" } } }, async ({ params: { id }, user }) => {
  const file = await evidencePackPdf(id);
  if (!file) return notFound(NONE);
  await recordAudit({ actor: user.email, actorId: user.id, action: "evidence.pack_downloaded", target: `evidence-pack:${id}`, details: { title: file.title } });
  return downloadResponse(Buffer.from(file.pdf), { contentType: "application/pdf", fileName: packFileName(file.createdAt) });
});
