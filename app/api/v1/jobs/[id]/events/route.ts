// GET /api/v1/jobs/:id/events: live progress as Server-Sent Events. The server polls the database
// once a second (any number of workers write there; no pub/sub needed) and sends an event only
// when something changed:
//   event: progress  data: {"state","cancelRequested","counts":{queued,running,done,failed,unreachable,cancelled,not_started,total},"tasks":[changed tasks]}
//   event: end       data: the same, once the job is finished and every change was sent; then the stream closes.
// A comment line every 15 s keeps proxies from closing an idle stream. Closing the page aborts
// req.signal, which stops the polling.
import { authorizedRoute } from "@/lib/auth/guard";
import { logger } from "@/lib/log";
import { isTerminalJob } from "@/lib/jobs/state";
import { createJobFeed, getJobSummary } from "@/lib/jobs/views";
import { jobIdFrom, jobNotFound } from "../../http";

export const dynamic = "force-dynamic";

const TICK_MS = 1_000;
const KEEPALIVE_MS = 15_000;

export const GET = authorizedRoute("read", async (req, _user, ctx) => {
  const id = await jobIdFrom(ctx);
  if (!id || !(await getJobSummary(id))) return jobNotFound();
  const feed = createJobFeed(id);
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      let lastWrite = Date.now();
      const write = (text: string) => {
        if (closed) return;
        controller.enqueue(encoder.encode(text));
        lastWrite = Date.now();
      };
      const close = () => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        req.signal.removeEventListener("abort", close);
        try {
          controller.close();
        } catch {
          // the client went away first
        }
      };
      req.signal.addEventListener("abort", close, { once: true });
      // Tell EventSource to wait 3 s before reconnecting after a network error.
      write("retry: 3000\n\n");

      const tick = async () => {
        if (closed) return;
        try {
          const update = await feed.next();
          if (!update) {
            write(`event: gone\ndata: {}\n\n`);
            close();
            return;
          }
          const { changed, ...payload } = update;
          const done = isTerminalJob(update.state) && update.caughtUp;
          if (done) {
            write(`event: end\ndata: ${JSON.stringify(payload)}\n\n`);
            close();
            return;
          }
          if (changed) write(`event: progress\ndata: ${JSON.stringify(payload)}\n\n`);
          else if (Date.now() - lastWrite > KEEPALIVE_MS) write(": keep-alive\n\n");
        } catch (err) {
          if (closed) return;
          logger.error({ err, job: id }, "job event stream failed");
          write(`event: failure\ndata: {"error":"The progress stream failed; reload the page."}\n\n`);
          close();
          return;
        }
        timer = setTimeout(() => void tick(), TICK_MS);
      };
      void tick();
    },
    cancel() {
      closed = true;
      clearTimeout(timer);
    },
  });

  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx and similar proxies buffer responses unless told not to.
      "x-accel-buffering": "no",
    },
  });
});
