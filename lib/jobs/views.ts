import "server-only";
// The read side of jobs: the list, one job's summary and tasks, and the change feed behind the
// live progress stream. Everything returned is plain JSON (dates as ISO strings), so pages can
// hand it to client components and the API can return it as is.
import { z } from "zod";
import { prisma } from "../db";
import { Prisma } from "../generated/prisma/client";
import { isEmptyFilter, type HostFilterValue } from "../inventory/filter";
import { emptyTaskCounts, progressCounts, TASK_FILTERS, type JobState, type ProgressCounts, type TaskFilter, type TaskState } from "./state";

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

// ---- the job page's list: numbered pages of one filter ------------------------------------

export interface TaskPage {
  rows: TaskRow[];
  /** Tasks matching the filter, across all pages. */
  total: number;
  page: number;
  pageSize: number;
  /** The database's clock when the page was read: the event stream resumes from here (ms). */
  readAt: number;
}

/**
 * One numbered page of a job's tasks by host name. Numbered (OFFSET) rather than keyset, so the
 * page can link to any page; a job has at most one task per host, and sorting 10,000 of them is
 * a few milliseconds. The count runs beside the page query.
 */
export async function listTaskPage(jobId: string, opts: { page?: number; filter?: TaskFilter; pageSize?: number } = {}): Promise<TaskPage> {
  const pageSize = Math.min(Math.max(opts.pageSize ?? 100, 1), 500);
  const states = TASK_FILTERS[opts.filter ?? "all"];
  const where = Prisma.sql`t."jobId" = ${jobId}::uuid ${states ? Prisma.sql`AND t.state::text = ANY(${[...states]})` : Prisma.empty}`;
  const [[counted], [{ now }]] = await Promise.all([
    prisma.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM "JobTask" t WHERE ${where}`,
    prisma.$queryRaw<Array<{ now: Date }>>`SELECT now() AS now`,
  ]);
  const total = counted?.n ?? 0;
  const lastPage = Math.max(1, Math.ceil(total / pageSize));
  const page = Math.min(Math.max(Math.trunc(opts.page ?? 1), 1), lastPage);
  const rows = total === 0 ? [] : await prisma.$queryRaw<TaskSqlRow[]>`
    SELECT ${taskColumns} FROM "JobTask" t JOIN "Host" h ON h.id = t."hostId"
    WHERE ${where} ORDER BY h.name, t.id LIMIT ${pageSize} OFFSET ${(page - 1) * pageSize}`;
  return { rows: rows.map(toTaskRow), total, page, pageSize, readAt: now.getTime() };
}

// ---- reads behind the shared live feed (lib/jobs/feed.ts) ----------------------------------

export interface JobProgress {
  /** The database's clock at the read. */
  readAt: Date;
  state: JobState;
  cancelRequested: boolean;
  counts: ProgressCounts;
}

/** The job's state and task counts in one statement (one snapshot), or null when it is gone. */
export async function readJobProgress(jobId: string): Promise<JobProgress | null> {
  const rows = await prisma.$queryRaw<Array<{ readAt: Date; state: JobState; cancelRequested: boolean; taskState: TaskState | null; n: number }>>`
    SELECT now() AS "readAt", j.state::text AS state, (j."cancelledAt" IS NOT NULL) AS "cancelRequested", t.state::text AS "taskState", count(t.id)::int AS n
    FROM "Job" j LEFT JOIN "JobTask" t ON t."jobId" = j.id WHERE j.id = ${jobId}::uuid GROUP BY j.id, t.state`;
  const first = rows[0];
  if (!first) return null;
  const counts = emptyTaskCounts();
  for (const r of rows) if (r.taskState) counts[r.taskState] = r.n;
  return { readAt: first.readAt, state: first.state, cancelRequested: first.cancelRequested, counts: progressCounts(counts) };
}

export interface TaskKey {
  id: string;
  updatedAt: Date;
}

/** Tasks changed after a (updatedAt, id) keyset position, oldest first: an index-only scan. */
export async function readChangedTaskKeys(jobId: string, after: TaskKey, limit: number): Promise<TaskKey[]> {
  return prisma.$queryRaw<TaskKey[]>`
    SELECT id::text AS id, "updatedAt" FROM "JobTask"
    WHERE "jobId" = ${jobId}::uuid AND ("updatedAt", id) > (CAST(${after.updatedAt.toISOString()} AS timestamptz) AT TIME ZONE 'UTC', ${after.id}::uuid)
    ORDER BY "updatedAt", id LIMIT ${limit}`;
}

/** Whole rows (logs included) of the given tasks of one job. */
export async function readTasksByIds(jobId: string, ids: readonly string[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  const rows = await prisma.$queryRaw<TaskSqlRow[]>`
    SELECT ${taskColumns} FROM "JobTask" t JOIN "Host" h ON h.id = t."hostId"
    WHERE t."jobId" = ${jobId}::uuid AND t.id = ANY(CAST(${[...ids]} AS uuid[]))`;
  return rows.map(toTaskRow);
}
