import "server-only";
// A long request (the 500,000-row CSV import, issue 12) that reports its progress: asked with
// `Accept: application/x-ndjson`, the route answers 200 at once and streams one JSON object per
// line, `{"progress": ...}` while the work runs and `{"done": true, "status": N, "body": ...}`
// last, where status and body are the answer the same request without that Accept gets. A
// browser reads it with fetch's response stream or XHR's progress events; nothing is polled and
// no job is kept once the request ends. Chosen over a job with a progress row because the work
// already runs inside the request (it reads the upload as it arrives).
import type { Action } from "../auth/roles";
import { errorResponse } from "./route";

export const NDJSON = "application/x-ndjson";

export function wantsProgress(req: Request): boolean {
  return (req.headers.get("accept") ?? "").includes(NDJSON);
}

export function progressResponse<P>(action: Action, work: (report: (progress: P) => void) => Promise<Response>): Response {
  const encoder = new TextEncoder();
  let open = true;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (value: unknown) => {
        if (open) controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
      };
      void (async () => {
        let res: Response;
        try {
          res = await work((progress) => send({ progress }));
        } catch (err) {
          res = errorResponse(err, action);
        }
        const text = await res.text();
        send({ done: true, status: res.status, body: text ? JSON.parse(text) : null });
        if (open) controller.close();
        open = false;
      })();
    },
    cancel() {
      // The client went away. The work goes on to its end (an import commits or rolls back whole).
      open = false;
    },
  });
  // no-transform: a compressing proxy would hold the lines back until it has a block.
  return new Response(stream, { status: 200, headers: { "content-type": NDJSON, "cache-control": "no-store, no-transform", "x-accel-buffering": "no" } });
}
