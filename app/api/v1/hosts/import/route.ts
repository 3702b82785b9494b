// POST /api/v1/hosts/import?mode=preview: validate a CSV file (the body), write nothing.
// POST /api/v1/hosts/import?mode=commit&sha256=HEX: import the same file, all rows or none.
// GET  /api/v1/hosts/import?template: a CSV template with the columns and two examples.
// The import page uses these too (a server action body is capped at 1 MB; files are not).
import { NextResponse } from "next/server";
import { authorizedRoute } from "@/lib/auth/guard";
import { CSV_MAX_BYTES } from "@/lib/inventory/csv";
import { commitImport, ImportRejectedError, previewImport } from "@/lib/inventory/import";
import { importTemplate } from "@/lib/inventory/import-rows";
import { readBody } from "../http";

export const GET = authorizedRoute("read", async () => {
  return new Response(importTemplate(), {
    headers: { "content-type": "text/csv; charset=utf-8", "content-disposition": 'attachment; filename="tlsfleet-hosts-template.csv"' },
  });
});

export const POST = authorizedRoute("hosts.write", async (req, user) => {
  const url = new URL(req.url);
  const mode = url.searchParams.get("mode") ?? "preview";
  if (mode !== "preview" && mode !== "commit") return NextResponse.json({ error: "mode must be preview or commit" }, { status: 400 });
  const sha256 = url.searchParams.get("sha256") ?? "";
  if (mode === "commit" && !/^[0-9a-fA-F]{64}$/.test(sha256)) {
    return NextResponse.json({ error: "A commit needs ?sha256= with the hash the preview returned" }, { status: 400 });
  }
  const body = await readBody(req, CSV_MAX_BYTES);
  if (body instanceof Response) return body;
  if (mode === "preview") return NextResponse.json(await previewImport(body));
  try {
    return NextResponse.json(await commitImport(user, body, sha256));
  } catch (err) {
    if (err instanceof ImportRejectedError) return NextResponse.json({ error: err.message, preview: err.preview }, { status: 422 });
    throw err;
  }
});
