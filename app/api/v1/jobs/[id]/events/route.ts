// GET /api/v1/jobs/:id/events: live progress as Server-Sent Events. The server polls the database
// once a second (any number of workers write there; no pub/sub needed) and sends an event only
// when something changed:
//   event: progress  data: {"state","cancelRequested","counts":{queued,running,done,failed,unreachable,cancelled,not_started,total},"tasks":[changed tasks]}
//   event: end       data: the same, once the job is finished and every change was sent; then the stream closes.
// A comment line every 15 s keeps proxies from closing an idle stream. Closing the page aborts
// req.signal, which stops the polling. The per-user cap and the credential re-check are
// lib/http/event-stream.ts's.
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { eventStream } from "@/lib/http/event-stream";
import { logger } from "@/lib/log";
import { isTerminalJob } from "@/lib/jobs/state";
import { createJobFeed, getJobSummary } from "@/lib/jobs/views";

export const dynamic = "force-dynamic";

const TICK_MS = 1_000;
const KEEPALIVE_MS = 15_000;

export const GET = route(
  {
    action: "read",
    summary: "Follow a job's progress as Server-Sent Events",
    params: IdParams,
    notFound: "No such job",
    responses: { 200: { description: "event: progress / end / gone / failure", contentType: "text/event-stream" } },
  },
  async ({ req, principal, params: { id } }) => {
    if (!(await getJobSummary(id))) return notFound("No such job");
    const feed = createJobFeed(id);
    return eventStream(principal, req, (sse) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = async () => {
        if (sse.closed) return;
        try {
          const update = await feed.next();
          if (!update) {
            sse.write(`event: gone\ndata: {}\n\n`);
            sse.close();
            return;
          }
          const { changed, ...payload } = update;
          if (isTerminalJob(update.state) && update.caughtUp) {
            sse.write(`event: end\ndata: ${JSON.stringify(payload)}\n\n`);
            sse.close();
            return;
          }
          if (changed) sse.write(`event: progress\ndata: ${JSON.stringify(payload)}\n\n`);
          else if (Date.now() - sse.lastWrite > KEEPALIVE_MS) sse.write(": keep-alive\n\n");
        } catch (err) {
          if (sse.closed) return;
          logger.error({ err, job: id }, "job event stream failed");
          sse.write(`event: failure\ndata: {"error":"The progress stream failed; reload the page."}\n\n`);
          sse.close();
          return;
        }
        if (!sse.closed) timer = setTimeout(() => void tick(), TICK_MS);
      };
      void tick();
      return () => clearTimeout(timer);
    });
  },
);
