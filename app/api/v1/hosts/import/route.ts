// POST /api/v1/hosts/import?mode=preview: validate a CSV file (the body), write nothing.
// POST /api/v1/hosts/import?mode=commit&sha256=HEX: import the same file, all rows or none.
// GET  /api/v1/hosts/import?template: a CSV template with the columns and two examples.
// The import page uses these too (a server action body is capped at 1 MB; files are not).
import { NextResponse } from "next/server";
import { z } from "zod";
import { route } from "@/lib/http/route";
import { problem } from "@/lib/http/problem";
import { CSV, downloadResponse } from "@/lib/http/download";
import { CSV_MAX_BYTES } from "@/lib/inventory/csv";
import { commitImport, ImportRejectedError, previewImport } from "@/lib/inventory/import";
import { importTemplate } from "@/lib/inventory/import-rows";

export const GET = route({ action: "read", summary: "A CSV template with the columns and two examples", responses: { 200: { description: "CSV", contentType: "text/csv" } } }, async () => {
  return downloadResponse(importTemplate(), { contentType: CSV, fileName: "tlsfleet-hosts-template.csv" });
});

const ImportQuery = z
  .object({
    mode: z.enum(["preview", "commit"], { message: "mode must be preview or commit" }).default("preview"),
    sha256: z.string().optional(),
  })
  .refine((q) => q.mode !== "commit" || /^[0-9a-fA-F]{64}$/.test(q.sha256 ?? ""), { message: "A commit needs ?sha256= with the hash the preview returned", path: ["sha256"] });

export const POST = route(
  {
    action: "hosts.write",
    summary: "Preview (mode=preview) or import (mode=commit&sha256=) a CSV file of hosts",
    query: ImportQuery,
    rawBody: { contentType: "text/csv", maxBytes: CSV_MAX_BYTES, tooLarge: `The file is larger than ${Math.floor(CSV_MAX_BYTES / 1024 / 1024)} MiB. Split it into smaller files.` },
    responses: { 200: { description: "The preview (rows, issues, sha256), or what the import created and changed" } },
  },
  async ({ query, raw, user }) => {
    if (query.mode === "preview") return NextResponse.json(await previewImport(user, raw));
    try {
      return NextResponse.json(await commitImport(user, raw, query.sha256!));
    } catch (err) {
      if (err instanceof ImportRejectedError) return problem(422, err.message, { extensions: { preview: err.preview } });
      throw err;
    }
  },
);
