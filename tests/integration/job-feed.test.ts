// Live job progress against the real database (issue 12): the migration's triggers NOTIFY once
// per statement, the process's one LISTEN connection wakes the shared feed, two viewers cost one
// read, a change reaches a viewer well within a second, a viewer that reconnects with its last
// event id gets only what changed meanwhile, and the listener survives losing its connection.
// The route is called as Next calls it, with real API tokens.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { prisma } from "@/lib/db";
import { newApiToken } from "@/lib/auth/api-tokens";
import { createJobFeedHub, JOB_CHANGES_CHANNEL, type FeedStore, type FeedUpdate } from "@/lib/jobs/feed";
import { listen, listenerBackendPid } from "@/lib/db/notifications";
import { readChangedTaskKeys, readJobProgress, readTasksByIds } from "@/lib/jobs/views";
import { forEachEvent } from "../support/event-stream";
import { ownDatabaseForFile } from "../support/own-database";

// Outside a Next request there is no session cookie: the signed-out caller is a request without a token.
vi.mock("@/lib/auth/session", () => ({ getCurrentUser: async () => null }));

const db = ownDatabaseForFile("job_feed");

const HOSTS = 300;
const tokens: Record<"viewer" | "operator", string> = { viewer: "", operator: "" };
let jobId = "";
let taskIds: string[] = [];

async function newJob(state = "running"): Promise<{ jobId: string; taskIds: string[] }> {
  const job = await prisma.job.create({ data: { kind: "scan", state: state as "running", target: { hostIds: [] }, parameters: {} } });
  await prisma.$executeRaw`INSERT INTO "JobTask" (id, "jobId", "hostId", state, "updatedAt")
    SELECT gen_random_uuid(), ${job.id}::uuid, h.id, 'queued', now() - interval '1 minute' FROM "Host" h WHERE h.name LIKE 'feed-%'`;
  const tasks = await prisma.jobTask.findMany({ where: { jobId: job.id }, select: { id: true }, orderBy: { id: "asc" } });
  return { jobId: job.id, taskIds: tasks.map((t) => t.id) };
}

/** One task finishing, as the worker writes it (lib/jobs/tasks.ts sets updatedAt the same way). */
async function finishTask(id: string, state = "succeeded") {
  await prisma.$executeRaw`UPDATE "JobTask" SET state = CAST(${state} AS "TaskState"), attempt = attempt + 1, "finishedAt" = now(), log = log || 'done\n', "updatedAt" = clock_timestamp() WHERE id = ${id}::uuid`;
}

beforeAll(async () => {
  await prisma.$executeRaw`INSERT INTO "Host" (id, name, address, platform, roles, tags, transport, port, "updatedAt")
    SELECT gen_random_uuid(), 'feed-' || lpad(n::text, 4, '0') || '.test', '192.0.2.' || (n % 250 + 1), 'linux', ARRAY['postfix'], ARRAY[]::text[], 'ssh', 22, now() FROM generate_series(1, ${HOSTS}::int) n`;
  for (const role of ["viewer", "operator"] as const) {
    const u = await prisma.user.create({ data: { email: `job-feed-${role}@example.test`, role, passwordHash: "x" } });
    const t = newApiToken();
    await prisma.apiToken.create({ data: { name: "job feed test", tokenHash: t.tokenHash, prefix: t.prefix, scopes: ["read"], ownerId: u.id } });
    tokens[role] = t.token;
  }
  ({ jobId, taskIds } = await newJob());
});

describe("the change triggers", () => {
  let client: pg.Client;
  const received: string[] = [];
  beforeAll(async () => {
    client = new pg.Client({ connectionString: db.url() });
    await client.connect();
    client.on("notification", (m) => m.channel === JOB_CHANGES_CHANNEL && received.push(m.payload ?? ""));
    await client.query(`LISTEN ${JOB_CHANGES_CHANNEL}`);
  });
  afterAll(async () => {
    await client.end();
  });
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it("send one notification with the job id for a statement that updates every task of the job", async () => {
    received.length = 0;
    const updated = await prisma.$executeRaw`UPDATE "JobTask" SET log = log || 'bulk\n', "updatedAt" = clock_timestamp() WHERE "jobId" = ${jobId}::uuid`;
    expect(updated).toBe(HOSTS);
    await settle();
    expect(received).toEqual([jobId]);
  });

  it("notify for a single task, for a job's own row, and not for a statement that changed nothing", async () => {
    received.length = 0;
    await finishTask(taskIds[0]!);
    await settle();
    expect(received).toEqual([jobId]);
    received.length = 0;
    await prisma.job.update({ where: { id: jobId }, data: { startedAt: new Date() } });
    await settle();
    expect(received).toEqual([jobId]);
    received.length = 0;
    await prisma.$executeRaw`UPDATE "JobTask" SET log = '' WHERE false`;
    await settle();
    expect(received).toEqual([]);
  });
});

describe("the shared feed over real reads", () => {
  const reads = { progress: 0, changedKeys: 0, tasks: 0 };
  const store: FeedStore = {
    progress: (id) => (reads.progress++, readJobProgress(id)),
    changedKeys: (id, after, limit) => (reads.changedKeys++, readChangedTaskKeys(id, after, limit)),
    tasks: (id, ids) => (reads.tasks++, readTasksByIds(id, ids)),
  };
  const hub = createJobFeedHub({ store, listen: (h) => listen(JOB_CHANGES_CHANNEL, h) });

  let job = { jobId: "", taskIds: [] as string[] };
  beforeAll(async () => {
    // A job of its own: tasks untouched for a minute, outside the feed's overlap window.
    job = await newJob();
  });

  function viewer(watch: string[] | null = null) {
    const updates: Array<FeedUpdate & { at: number }> = [];
    const waiters: Array<{ test: (u: FeedUpdate) => boolean; resolve: (u: FeedUpdate & { at: number }) => void }> = [];
    const stop = hub.subscribe(job.jobId, {
      watch: watch ? new Set(watch) : null,
      since: null,
      onUpdate: (u) => {
        const stamped = { ...u, at: performance.now() };
        updates.push(stamped);
        for (const w of [...waiters]) {
          if (!w.test(u)) continue;
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(stamped);
        }
      },
      onGone: () => undefined,
      onFailure: () => undefined,
    });
    const until = (test: (u: FeedUpdate) => boolean, ms = 5_000) =>
      new Promise<FeedUpdate & { at: number }>((resolve, reject) => {
        const found = updates.find(test);
        if (found) return resolve(found);
        waiters.push({ test, resolve });
        setTimeout(() => reject(new Error(`no such update within ${ms} ms`)), ms);
      });
    return { updates, until, stop };
  }

  it("answers two viewers with one read per change, within a second of the commit", async () => {
    const { taskIds } = job;
    const a = viewer();
    const b = viewer([taskIds[5]!]);
    await Promise.all([a.until(() => true), b.until(() => true)]);
    await new Promise((r) => setTimeout(r, 300));
    const before = { ...reads };
    const committed = performance.now();
    await finishTask(taskIds[5]!);
    const finished = (u: FeedUpdate) => u.tasks.some((t) => t.id === taskIds[5] && t.state === "succeeded");
    const [ua, ub] = await Promise.all([a.until(finished), b.until(finished)]);
    const delay = Math.max(ua.at, ub.at) - committed;
    console.log(`job-feed: a finished task reached both viewers ${delay.toFixed(0)} ms after its commit`);
    expect(delay).toBeLessThan(1_000);
    expect(ub.tasks.map((t) => t.state)).toEqual(["succeeded"]);
    expect(ua.counts.done).toBe(1);
    await new Promise((r) => setTimeout(r, 400));
    expect(reads.progress - before.progress).toBe(1);
    expect(reads.changedKeys - before.changedKeys).toBe(1);
    expect(reads.tasks - before.tasks).toBe(1);
    a.stop();
    b.stop();
    expect(hub.followedJobs()).toEqual([]);
  });

  it("re-reads after its LISTEN connection is killed, and still hears later changes", async () => {
    const { taskIds } = job;
    const a = viewer();
    await a.until(() => true);
    await new Promise((r) => setTimeout(r, 300));
    const pid = listenerBackendPid();
    expect(pid).toBeTypeOf("number");
    await prisma.$executeRaw`SELECT pg_terminate_backend(${pid}::int)`;
    // Changed while nobody listened: the reconnect's re-read finds it.
    await finishTask(taskIds[6]!);
    await a.until((u) => u.tasks.some((t) => t.id === taskIds[6]), 8_000);
    await expect.poll(() => listenerBackendPid(), { timeout: 8_000 }).not.toBe(pid);
    await finishTask(taskIds[7]!);
    const t0 = performance.now();
    await a.until((u) => u.tasks.some((t) => t.id === taskIds[7]), 2_000);
    expect(performance.now() - t0).toBeLessThan(1_000);
    a.stop();
  });
});

describe("GET /api/v1/jobs/:id/events", () => {
  const ctx = (id: string) => ({ params: Promise.resolve({ id }) });
  const get = async (url: string, role: keyof typeof tokens | null, headers: Record<string, string> = {}, signal?: AbortSignal, id = jobId) => {
    const { GET } = await import("@/app/api/v1/jobs/[id]/events/route");
    return GET(new Request(`http://localhost${url}`, { headers: { ...(role ? { authorization: `Bearer ${tokens[role]}` } : {}), ...headers }, signal }), ctx(id));
  };

  interface Event {
    event: string;
    id: string | undefined;
    data: { counts: { total: number; done: number }; tasks: Array<{ id: string; state: string }> };
  }
  /** The stream's events until `enough` says so; then the client goes away. */
  async function readUntil(res: Response, abort: AbortController, enough: (events: Event[]) => boolean): Promise<Event[]> {
    const events: Event[] = [];
    const timeout = setTimeout(() => abort.abort(), 10_000);
    try {
      await forEachEvent<Event["data"]>(res.body!, (e) => {
        events.push(e);
        return enough(events);
      });
    } finally {
      clearTimeout(timeout);
      abort.abort();
    }
    return events;
  }

  it("lets a viewer follow a job, and refuses a caller without a credential", async () => {
    expect((await get(`/api/v1/jobs/${jobId}/events`, null)).status).toBe(401);
    const quiet = await newJob();
    const abort = new AbortController();
    const res = await get(`/api/v1/jobs/${quiet.jobId}/events`, "viewer", {}, abort.signal, quiet.jobId);
    expect(res.status).toBe(200);
    const [first] = await readUntil(res, abort, (e) => e.length >= 1);
    // The counts of the whole job, and not every task: only those changed in the last seconds
    // (none here); a page reads its rows itself.
    expect(first).toMatchObject({ event: "progress", id: expect.stringMatching(/^\d+$/) });
    expect(first!.data.counts.total).toBe(HOSTS);
    expect(first!.data.tasks).toEqual([]);
  });

  it("resumes a reconnecting viewer from Last-Event-ID with only what changed meanwhile", async () => {
    // A job of its own: its tasks last changed a minute ago, outside the overlap window.
    const fresh = await newJob();
    const { taskIds } = fresh;
    const watch = taskIds.slice(100, 200);
    const url = `/api/v1/jobs/${fresh.jobId}/events?watch=${watch.join(",")}`;
    const first = new AbortController();
    const [opened] = await readUntil(await get(url, "viewer", {}, first.signal, fresh.jobId), first, (e) => e.length >= 1);
    expect(opened!.data.tasks).toEqual([]);
    // Let the feed stop (no viewer left), then change two watched tasks and one not watched.
    await new Promise((r) => setTimeout(r, 200));
    await finishTask(watch[3]!);
    await finishTask(watch[40]!, "failed");
    await finishTask(taskIds[250]!);
    const again = new AbortController();
    const [resumed] = await readUntil(await get(url, "viewer", { "last-event-id": opened!.id! }, again.signal, fresh.jobId), again, (e) => e.length >= 1);
    expect(resumed!.data.tasks.map((t) => [t.id, t.state]).sort()).toEqual([[watch[3], "succeeded"], [watch[40], "failed"]].sort());
    expect(Number(resumed!.id)).toBeGreaterThanOrEqual(Number(opened!.id));
  });

  it("ends at once for a finished job", async () => {
    await prisma.job.update({ where: { id: jobId }, data: { state: "succeeded", finishedAt: new Date() } });
    const abort = new AbortController();
    const events = await readUntil(await get(`/api/v1/jobs/${jobId}/events`, "viewer", {}, abort.signal), abort, (e) => e.some((x) => x.event === "end"));
    expect(events.map((e) => e.event)).toEqual(["end"]);
    await prisma.job.update({ where: { id: jobId }, data: { state: "running", finishedAt: null } });
  });
});
