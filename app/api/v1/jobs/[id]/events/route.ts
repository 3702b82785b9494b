// GET /api/v1/jobs/:id/events: live progress as Server-Sent Events. Every stream of one job in
// this process shares one feed (lib/jobs/feed.ts), which reads the database when the job changes
// (LISTEN/NOTIFY) and on a slow safety poll, never once per viewer:
//   event: progress  id: <ms>  data: {"state","cancelRequested","counts":{queued,running,done,failed,unreachable,cancelled,not_started,total},"tasks":[changed tasks]}
//   event: end       id: <ms>  data: the same, once the job is finished and every change was sent; then the stream closes.
// The first event has the counts and only the tasks changed since `since` (none without it): a
// page lists tasks from GET /api/v1/jobs/:id and follows them here. `watch=<task ids>` narrows
// `tasks` to the rows a page shows. The event id is a resume point: EventSource sends it back as
// Last-Event-ID when it reconnects, and the stream resumes from there instead of resending.
// A comment line every 15 s keeps proxies from closing an idle stream. The per-user cap and the
// credential re-check are lib/http/event-stream.ts's.
import { z } from "zod";
import { IdParams, route } from "@/lib/http/route";
import { notFound } from "@/lib/http/problem";
import { eventStream } from "@/lib/http/event-stream";
import { jobFeeds } from "@/lib/jobs/feed";
import { getJobSummary } from "@/lib/jobs/views";

export const dynamic = "force-dynamic";

const KEEPALIVE_MS = 15_000;
/** A page shows 100 rows; the cap keeps the URL and the per-update filter small. */
const MAX_WATCH = 500;

const Resume = z.coerce.number().int().min(0);
const Query = z.object({
  since: Resume.optional(),
  watch: z
    .string()
    .max(MAX_WATCH * 37)
    .transform((s) => s.split(",").filter(Boolean))
    .pipe(z.array(z.uuid()).max(MAX_WATCH))
    .optional(),
});

export const GET = route(
  {
    action: "read",
    summary: "Follow a job's progress as Server-Sent Events",
    params: IdParams,
    query: Query,
    notFound: "No such job",
    responses: { 200: { description: "event: progress / end / gone / failure", contentType: "text/event-stream" } },
  },
  async ({ req, principal, params: { id }, query }) => {
    if (!(await getJobSummary(id))) return notFound("No such job");
    const lastEventId = Resume.safeParse(req.headers.get("last-event-id") ?? undefined);
    const since = lastEventId.success ? lastEventId.data : (query.since ?? null);
    const hub = await jobFeeds();
    return eventStream(principal, req, (sse) => {
      const send = (event: string, data: unknown, eventId?: string) => sse.write(`event: ${event}\n${eventId ? `id: ${eventId}\n` : ""}data: ${JSON.stringify(data)}\n\n`);
      const unsubscribe = hub.subscribe(id, {
        watch: query.watch ? new Set(query.watch) : null,
        since,
        onUpdate: ({ id: eventId, final, ...payload }) => {
          send(final ? "end" : "progress", payload, eventId);
          if (final) sse.close();
        },
        onGone: () => {
          send("gone", {});
          sse.close();
        },
        onFailure: () => {
          send("failure", { error: "The progress stream failed; reload the page." });
          sse.close();
        },
      });
      const keepAlive = setInterval(() => {
        if (Date.now() - sse.lastWrite > KEEPALIVE_MS) sse.write(": keep-alive\n\n");
      }, KEEPALIVE_MS / 3);
      return () => {
        clearInterval(keepAlive);
        unsubscribe();
      };
    });
  },
);
