import "server-only";

/**
 * The one way a route answers with a file to save (CSV exports, evidence PDFs, the import
 * template): an attachment named `fileName`, never stored by a cache (it is a copy of fleet or
 * audit data, taken by an audited request) and never sniffed as another content type.
 */
export function downloadResponse(body: BodyInit, file: { contentType: string; fileName: string }): Response {
  return new Response(body, {
    headers: {
      "content-type": file.contentType,
      "content-disposition": `attachment; filename="${file.fileName}"`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

export const CSV = "text/csv; charset=utf-8";
