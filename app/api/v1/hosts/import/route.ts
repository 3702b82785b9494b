// POST /api/v1/hosts/import?mode=preview: validate a CSV file (the body), write nothing.
// POST /api/v1/hosts/import?mode=commit&sha256=HEX: import the same file, all rows or none.
// With `Accept: application/x-ndjson` either answers at once and streams its progress, then the
// same answer as the last line (lib/http/progress-stream.ts).
// GET  /api/v1/hosts/import?template: a CSV template with the columns and two examples.
// The import page uses these too (a server action body is capped at 1 MB; files are not). The
// body is read as a stream while it arrives; proxy.ts leaves this path alone, because Next
// buffers every request body the proxy sees (10 MB unless configured) before the route gets it.
import { NextResponse } from "next/server";
import { z } from "zod";
import { route } from "@/lib/http/route";
import { problem } from "@/lib/http/problem";
import { CSV, downloadResponse } from "@/lib/http/download";
import { progressResponse, wantsProgress } from "@/lib/http/progress-stream";
import { CSV_MAX_BYTES, CSV_MAX_ROWS } from "@/lib/inventory/csv";
import { commitImport, ImportRejectedError, previewImport, type ImportProgress } from "@/lib/inventory/import";
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

const ACTION = "hosts.write";

export const POST = route(
  {
    action: ACTION,
    summary: `Preview (mode=preview) or import (mode=commit&sha256=) a CSV file of hosts (up to ${CSV_MAX_ROWS.toLocaleString("en")} rows, ${CSV_MAX_BYTES / 1024 / 1024} MiB); Accept: application/x-ndjson streams progress`,
    query: ImportQuery,
    rawBody: { contentType: "text/csv", maxBytes: CSV_MAX_BYTES, tooLarge: `The file is larger than ${CSV_MAX_BYTES / 1024 / 1024} MiB. Split it into smaller files.`, stream: true },
    responses: { 200: { description: "The preview (rows, issues, sha256), or what the import created and changed; with Accept: application/x-ndjson, progress lines and then that answer" } },
  },
  async ({ req, query, bodyStream, user }) => {
    const source = bodyStream ?? new Uint8Array(0);
    const run = async (onProgress?: (p: ImportProgress) => void): Promise<Response> => {
      if (query.mode === "preview") return NextResponse.json(await previewImport(user, source, { onProgress }));
      try {
        return NextResponse.json(await commitImport(user, source, query.sha256!, { onProgress }));
      } catch (err) {
        if (err instanceof ImportRejectedError) return problem(422, err.message, { extensions: { preview: err.preview } });
        throw err;
      }
    };
    return wantsProgress(req) ? progressResponse<ImportProgress>(ACTION, run) : run();
  },
);
