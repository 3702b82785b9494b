import "server-only";
// The read side of jobs: the list, one job's summary and tasks, and the change feed behind the
// live progress stream. Everything returned is plain JSON (dates as ISO strings), so pages can
// hand it to client components and the API can return it as is.
import { z } from "zod";
import { prisma } from "../db";
import { Prisma } from "../generated/prisma/client";
import { isEmptyFilter, type HostFilterValue } from "../inventory/filter";
import { emptyTaskCounts, progressCounts, type JobState, type ProgressCounts, type TaskState } from "./state";

export interface JobSummary {
  id: string;
  kind: string;
  state: JobState;
  /** Cancel was requested; running tasks may still be stopping. */
  cancelRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  requestedBy: string;
  target: string;
  maxConcurrency: number | null;
  counts: ProgressCounts;
}

export interface TaskRow {
  id: string;
  hostId: string;
  hostName: string;
  address: string;
  state: TaskState;
  attempt: number;
  error: string | null;
  log: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

const StoredTarget = z.union([z.object({ hostIds: z.array(z.string()) }), z.object({ filter: z.record(z.string(), z.unknown()) })]);
const Parameters = z.object({ maxConcurrency: z.number().optional(), origin: z.string().optional() }).passthrough();

/** "3 hosts", "all hosts", "filter: status=noncompliant, tag=prod". */
export function describeTarget(target: unknown): string {
  const t = StoredTarget.safeParse(target);
  if (!t.success) return "—";
  if ("hostIds" in t.data) return `${t.data.hostIds.length} selected host${t.data.hostIds.length === 1 ? "" : "s"}`;
  const f = t.data.filter as HostFilterValue;
  if (isEmptyFilter(f)) return "all hosts";
  const parts = Object.entries(f)
    .filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : String(v)}`);
  return `filter: ${parts.join(", ")}`;
}

type JobRow = { id: string; kind: string; state: string; target: unknown; parameters: unknown; requestedById: string | null; createdAt: Date; startedAt: Date | null; finishedAt: Date | null; cancelledAt: Date | null };

async function summarize(jobs: JobRow[]): Promise<JobSummary[]> {
  if (jobs.length === 0) return [];
  const ids = jobs.map((j) => j.id);
  const userIds = [...new Set(jobs.map((j) => j.requestedById).filter((x): x is string => x !== null))];
  const [countRows, users] = await Promise.all([
    prisma.$queryRaw<Array<{ jobId: string; state: TaskState; n: number }>>`
      SELECT "jobId"::text AS "jobId", state::text AS state, count(*)::int AS n FROM "JobTask"
      WHERE "jobId" = ANY(CAST(${ids} AS uuid[])) GROUP BY 1, 2`,
    userIds.length ? prisma.user.findMany({ where: { id: { in: userIds } }, select: { id: true, email: true } }) : Promise.resolve([]),
  ]);
  const emails = new Map(users.map((u) => [u.id, u.email]));
  return jobs.map((j) => {
    const counts = emptyTaskCounts();
    for (const r of countRows) if (r.jobId === j.id) counts[r.state] = r.n;
    const params = Parameters.safeParse(j.parameters);
    const origin = params.success ? params.data.origin : undefined;
    return {
      id: j.id,
      kind: j.kind,
      state: j.state as JobState,
      cancelRequested: j.cancelledAt !== null,
      createdAt: j.createdAt.toISOString(),
      startedAt: iso(j.startedAt),
      finishedAt: iso(j.finishedAt),
      requestedBy: j.requestedById ? (emails.get(j.requestedById) ?? "a deleted user") : origin === "schedule" ? "system (schedule)" : "system",
      target: describeTarget(j.target),
      maxConcurrency: params.success ? (params.data.maxConcurrency ?? null) : null,
      counts: progressCounts(counts),
    };
  });
}

const jobSelect = { id: true, kind: true, state: true, target: true, parameters: true, requestedById: true, createdAt: true, startedAt: true, finishedAt: true, cancelledAt: true } as const;

/** Newest first, keyset-paginated by (createdAt, id). */
export async function listJobs(opts: { cursor?: string | null; limit?: number } = {}): Promise<{ rows: JobSummary[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(opts.limit ?? 25, 1), 100);
  const cursor = opts.cursor ? decodeJobCursor(opts.cursor) : null;
  const rows = await prisma.job.findMany({
    where: cursor ? { OR: [{ createdAt: { lt: cursor.createdAt } }, { createdAt: cursor.createdAt, id: { lt: cursor.id } }] } : undefined,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    select: jobSelect,
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: await summarize(page), nextCursor: rows.length > limit && last ? Buffer.from(JSON.stringify([last.createdAt.toISOString(), last.id])).toString("base64url") : null };
}

function decodeJobCursor(cursor: string): { createdAt: Date; id: string } | null {
  try {
    const v = z.tuple([z.iso.datetime(), z.uuid()]).parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    return { createdAt: new Date(v[0]), id: v[1] };
  } catch {
    return null;
  }
}

export async function getJobSummary(jobId: string): Promise<JobSummary | null> {
  const job = await prisma.job.findUnique({ where: { id: jobId }, select: jobSelect });
  return job ? (await summarize([job]))[0]! : null;
}

type TaskSqlRow = Omit<TaskRow, "startedAt" | "finishedAt" | "updatedAt"> & { startedAt: Date | null; finishedAt: Date | null; updatedAt: Date };

const taskColumns = Prisma.sql`t.id::text AS id, t."hostId"::text AS "hostId", h.name AS "hostName", h.address, t.state::text AS state, t.attempt, t.error, t.log,
  t."startedAt", t."finishedAt", t."updatedAt"`;

const toTaskRow = (r: TaskSqlRow): TaskRow => ({ ...r, startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt), updatedAt: r.updatedAt.toISOString() });

/** A job's tasks by host name, keyset-paginated; `state` narrows to one task state. */
export async function listTasks(jobId: string, opts: { cursor?: string | null; limit?: number; state?: TaskState } = {}): Promise<{ rows: TaskRow[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(opts.limit ?? 200, 1), 1000);
  const after = opts.cursor ? Buffer.from(opts.cursor, "base64url").toString("utf8") : null;
  const rows = await prisma.$queryRaw<TaskSqlRow[]>`
    SELECT ${taskColumns} FROM "JobTask" t JOIN "Host" h ON h.id = t."hostId"
    WHERE t."jobId" = ${jobId}::uuid
      ${opts.state ? Prisma.sql`AND t.state = CAST(${opts.state} AS "TaskState")` : Prisma.empty}
      ${after ? Prisma.sql`AND h.name > ${after}` : Prisma.empty}
    ORDER BY h.name LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { rows: page.map(toTaskRow), nextCursor: rows.length > limit && last ? Buffer.from(last.hostName).toString("base64url") : null };
}

// ---- change feed (the SSE stream polls this once a second) ---------------------------------

/** Rows read per tick at most; a backlog is sent over the following ticks. */
const FEED_BATCH = 1000;
/**
 * A task's updatedAt is set by its statement, which may commit a moment later than a tick that
 * read past it; re-reading the last few seconds each tick (deduplicated) catches those rows.
 */
const FEED_OVERLAP_MS = 5_000;

export interface JobFeedUpdate {
  state: JobState;
  cancelRequested: boolean;
  counts: ProgressCounts;
  /** Tasks changed since the previous update (all of them on the first). */
  tasks: TaskRow[];
  /** False while a backlog of changed tasks is still being sent. */
  caughtUp: boolean;
}

/** One stream's view of a job: remembers what it sent, hands out only what changed. */
export function createJobFeed(jobId: string) {
  let cursor: { at: Date; id: string } = { at: new Date(0), id: "00000000-0000-0000-0000-000000000000" };
  const sent = new Map<string, string>();
  let lastCounts = "";
  let lastState = "";

  return {
    /** Null when the job no longer exists. `changed` false: nothing new since the last call. */
    async next(): Promise<(JobFeedUpdate & { changed: boolean }) | null> {
      // Job first, tasks second: once the job reads terminal, every task change that made it so
      // has committed and the task query below sees it.
      const summary = await getJobSummary(jobId);
      if (!summary) return null;
      const [{ now }] = await prisma.$queryRaw<Array<{ now: Date }>>`SELECT now() AS now`;
      const rows = await prisma.$queryRaw<TaskSqlRow[]>`
        SELECT ${taskColumns} FROM "JobTask" t JOIN "Host" h ON h.id = t."hostId"
        WHERE t."jobId" = ${jobId}::uuid AND (t."updatedAt", t.id) > (CAST(${cursor.at.toISOString()} AS timestamptz) AT TIME ZONE 'UTC', ${cursor.id}::uuid)
        ORDER BY t."updatedAt", t.id LIMIT ${FEED_BATCH}`;
      const caughtUp = rows.length < FEED_BATCH;
      const last = rows[rows.length - 1];
      cursor = !caughtUp && last ? { at: last.updatedAt, id: last.id } : { at: new Date(now.getTime() - FEED_OVERLAP_MS), id: "00000000-0000-0000-0000-000000000000" };
      const tasks: TaskRow[] = [];
      for (const r of rows) {
        const version = `${r.updatedAt.toISOString()}|${r.state}|${r.log.length}`;
        if (sent.get(r.id) === version) continue;
        sent.set(r.id, version);
        tasks.push(toTaskRow(r));
      }
      const counts = JSON.stringify(summary.counts);
      const state = `${summary.state}|${summary.cancelRequested}`;
      const changed = tasks.length > 0 || counts !== lastCounts || state !== lastState;
      lastCounts = counts;
      lastState = state;
      return { state: summary.state, cancelRequested: summary.cancelRequested, counts: summary.counts, tasks, caughtUp, changed };
    },
  };
}
