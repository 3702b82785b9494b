import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createJobFeedHub, type FeedOptions, type FeedSubscriber, type FeedUpdate } from "./feed";
import { progressCounts, emptyTaskCounts, type JobState, type TaskState } from "./state";
import type { TaskKey, TaskRow } from "./views";

// An in-memory job behind the FeedStore interface: tasks with (updatedAt, id), a clock, and a
// count of every read, so the tests can say how many reads a number of viewers cost.
function fakeJob(taskCount: number) {
  const job = { state: "running" as JobState, cancelRequested: false, exists: true };
  const tasks = new Map<string, { id: string; state: TaskState; updatedAt: number }>();
  const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  for (let n = 1; n <= taskCount; n++) tasks.set(id(n), { id: id(n), state: "queued", updatedAt: Date.now() - 60_000 });
  const reads = { progress: 0, changedKeys: 0, tasks: 0, taskIds: [] as string[][], cursors: [] as TaskKey[] };
  const row = (t: { id: string; state: TaskState; updatedAt: number }): TaskRow => ({
    id: t.id, hostId: t.id, hostName: `host-${t.id.slice(-3)}`, address: "192.0.2.1", state: t.state, attempt: 1, error: null, log: "",
    startedAt: null, finishedAt: null, updatedAt: new Date(t.updatedAt).toISOString(),
  });
  const store = {
    async progress() {
      reads.progress++;
      if (!job.exists) return null;
      const c = emptyTaskCounts();
      for (const t of tasks.values()) c[t.state]++;
      return { readAt: new Date(), state: job.state, cancelRequested: job.cancelRequested, counts: progressCounts(c) };
    },
    async changedKeys(_jobId: string, after: TaskKey, limit: number) {
      reads.changedKeys++;
      reads.cursors.push(after);
      const a = after.updatedAt.getTime();
      return [...tasks.values()]
        .filter((t) => t.updatedAt > a || (t.updatedAt === a && t.id > after.id))
        .sort((x, y) => x.updatedAt - y.updatedAt || (x.id < y.id ? -1 : 1))
        .slice(0, limit)
        .map((t) => ({ id: t.id, updatedAt: new Date(t.updatedAt) }));
    },
    async tasks(_jobId: string, ids: readonly string[]) {
      reads.tasks++;
      reads.taskIds.push([...ids]);
      return ids.map((i) => tasks.get(i)).filter((t) => t !== undefined).map(row);
    },
  };
  const set = (n: number, state: TaskState) => tasks.set(id(n), { id: id(n), state, updatedAt: Date.now() });
  return { job, store, reads, id, set };
}

function fakeListen() {
  const handlers: Array<{ onNotify(jobId: string): void; onResync(): void }> = [];
  let closed = 0;
  return {
    listen(h: { onNotify(jobId: string): void; onResync(): void }) {
      handlers.push(h);
      return { ready: Promise.resolve(), close: () => void closed++ };
    },
    notify: (jobId: string) => handlers.forEach((h) => h.onNotify(jobId)),
    resync: () => handlers.forEach((h) => h.onResync()),
    get opened() {
      return handlers.length;
    },
    get closed() {
      return closed;
    },
  };
}

function viewer(opts: Partial<Pick<FeedSubscriber, "watch" | "since">> = {}) {
  const updates: FeedUpdate[] = [];
  const events: string[] = [];
  const sub: FeedSubscriber = {
    watch: opts.watch ?? null,
    since: opts.since ?? null,
    onUpdate: (u) => {
      updates.push(u);
      events.push(u.final ? "end" : "progress");
    },
    onGone: () => events.push("gone"),
    onFailure: () => events.push("failure"),
  };
  return { sub, updates, events, taskIds: () => updates.flatMap((u) => u.tasks.map((t) => t.id)) };
}

const JOB = "11111111-1111-4111-8111-111111111111";
const options: FeedOptions = { coalesceMs: 150, safetyPollMs: 12_000, overlapMs: 5_000, batch: 1000 };

beforeEach(() => vi.useFakeTimers({ now: new Date("2026-12-08T00:00:00Z") }));
afterEach(() => vi.useRealTimers());

describe("the shared job feed", () => {
  it("answers 20 viewers of one job with one read per change, not one per viewer", async () => {
    const j = fakeJob(10);
    const l = fakeListen();
    const hub = createJobFeedHub({ store: j.store, listen: l.listen, options });
    const viewers = Array.from({ length: 20 }, () => viewer());
    for (const v of viewers) hub.subscribe(JOB, v.sub);
    await vi.advanceTimersByTimeAsync(10);
    expect(l.opened).toBe(1);
    expect(j.reads.progress).toBe(1);
    expect(viewers.every((v) => v.events.length === 1)).toBe(true);

    j.set(3, "succeeded");
    l.notify(JOB);
    await vi.advanceTimersByTimeAsync(200);
    expect(j.reads.progress).toBe(2);
    expect(j.reads.changedKeys).toBe(2);
    for (const v of viewers) {
      expect(v.updates.at(-1)!.counts.done).toBe(1);
      expect(v.taskIds()).toEqual([j.id(3)]);
    }
  });

  it("coalesces a burst of notifications into one read within the coalescing window", async () => {
    const j = fakeJob(100);
    const l = fakeListen();
    const hub = createJobFeedHub({ store: j.store, listen: l.listen, options });
    const v = viewer();
    hub.subscribe(JOB, v.sub);
    await vi.advanceTimersByTimeAsync(500);
    expect(j.reads.progress).toBe(1);
    for (let n = 1; n <= 50; n++) {
      j.set(n, "succeeded");
      l.notify(JOB);
      await vi.advanceTimersByTimeAsync(2);
    }
    await vi.advanceTimersByTimeAsync(400);
    // The first notification reads at once (the last read is long past), the other 49 fold into
    // the read after the window.
    expect(j.reads.progress).toBe(3);
    expect(new Set(v.taskIds()).size).toBe(50);
    expect(v.updates.at(-1)!.counts.done).toBe(50);
  });

  it("ignores notifications of jobs it does not follow, and polls slowly without any", async () => {
    const j = fakeJob(5);
    const l = fakeListen();
    const hub = createJobFeedHub({ store: j.store, listen: l.listen, options });
    const v = viewer();
    hub.subscribe(JOB, v.sub);
    await vi.advanceTimersByTimeAsync(10);
    l.notify("22222222-2222-4222-8222-222222222222");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(j.reads.progress).toBe(1);
    // A change whose notification was lost arrives with the safety poll.
    j.set(1, "failed");
    await vi.advanceTimersByTimeAsync(12_000);
    expect(j.reads.progress).toBe(2);
    expect(v.taskIds()).toEqual([j.id(1)]);
  });

  it("reads on from a keyset cursor: a backlog in batches, then an overlap window without resending", async () => {
    const j = fakeJob(25);
    const l = fakeListen();
    const hub = createJobFeedHub({ store: j.store, listen: l.listen, options: { ...options, batch: 10 } });
    const v = viewer();
    hub.subscribe(JOB, v.sub);
    await vi.advanceTimersByTimeAsync(10);
    for (let n = 1; n <= 25; n++) j.set(n, "running");
    l.notify(JOB);
    await vi.advanceTimersByTimeAsync(1_000);
    // 25 changed tasks in batches of 10: three reads, each going on from the last key.
    const cursors = j.reads.cursors.slice(1).map((c) => c.id);
    expect(cursors.slice(0, 3)).toEqual([expect.stringMatching(/^0{8}-/), j.id(10), j.id(20)]);
    expect(v.taskIds().sort()).toEqual(Array.from({ length: 25 }, (_, i) => j.id(i + 1)).sort());
    // A read within the overlap window sees the same rows again and sends none of them twice.
    const readsBefore = j.reads.cursors.length;
    l.notify(JOB);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(v.taskIds()).toHaveLength(25);
    const next = j.reads.cursors[readsBefore]!;
    expect(next.id).toBe("00000000-0000-0000-0000-000000000000");
    expect(Date.now() - next.updatedAt.getTime()).toBeGreaterThanOrEqual(5_000);
  });

  it("sends a viewer only the rows it shows, and reads whole rows only for those", async () => {
    const j = fakeJob(10);
    const l = fakeListen();
    const hub = createJobFeedHub({ store: j.store, listen: l.listen, options });
    const a = viewer({ watch: new Set([j.id(1), j.id(2)]) });
    const b = viewer({ watch: new Set([j.id(2)]) });
    hub.subscribe(JOB, a.sub);
    hub.subscribe(JOB, b.sub);
    await vi.advanceTimersByTimeAsync(10);
    j.set(1, "succeeded");
    j.set(2, "failed");
    j.set(9, "succeeded");
    l.notify(JOB);
    await vi.advanceTimersByTimeAsync(200);
    expect(a.taskIds().sort()).toEqual([j.id(1), j.id(2)]);
    expect(b.taskIds()).toEqual([j.id(2)]);
    expect(j.reads.taskIds.at(-1)!.sort()).toEqual([j.id(1), j.id(2)]);
    // Both still see the counts of every task.
    expect(b.updates.at(-1)!.counts.done).toBe(2);
  });

  it("resumes a reconnecting viewer from `since` with what changed meanwhile, not everything", async () => {
    const j = fakeJob(10);
    const l = fakeListen();
    const hub = createJobFeedHub({ store: j.store, listen: l.listen, options });
    const first = viewer();
    const stopFirst = hub.subscribe(JOB, first.sub);
    await vi.advanceTimersByTimeAsync(10);
    const resumeFrom = Number(first.updates[0]!.id);
    stopFirst();
    await vi.advanceTimersByTimeAsync(30_000);
    j.set(4, "succeeded");
    j.set(7, "unreachable");
    const again = viewer({ since: resumeFrom });
    hub.subscribe(JOB, again.sub);
    await vi.advanceTimersByTimeAsync(10);
    expect(again.updates).toHaveLength(1);
    expect(again.taskIds().sort()).toEqual([j.id(4), j.id(7)]);
    expect(again.updates[0]!.counts.done).toBe(1);
    // A viewer without `since` gets the counts and no rows: the page lists them itself.
    const fresh = viewer();
    hub.subscribe(JOB, fresh.sub);
    await vi.advanceTimersByTimeAsync(10);
    expect(fresh.updates[0]!.tasks).toEqual([]);
    expect(fresh.updates[0]!.counts.total).toBe(10);
  });

  it("ends when the job is finished and caught up, says gone when it is deleted", async () => {
    const j = fakeJob(2);
    const l = fakeListen();
    const hub = createJobFeedHub({ store: j.store, listen: l.listen, options });
    const v = viewer();
    hub.subscribe(JOB, v.sub);
    await vi.advanceTimersByTimeAsync(10);
    j.set(1, "succeeded");
    j.set(2, "succeeded");
    j.job.state = "succeeded";
    l.notify(JOB);
    await vi.advanceTimersByTimeAsync(200);
    expect(v.events).toEqual(["progress", "end"]);
    expect(v.updates.at(-1)!.counts.done).toBe(2);

    const w = viewer();
    hub.subscribe(JOB, w.sub);
    await vi.advanceTimersByTimeAsync(10);
    expect(w.events).toEqual(["end"]);
    j.job.exists = false;
    const x = viewer();
    hub.subscribe("33333333-3333-4333-8333-333333333333", x.sub);
    await vi.advanceTimersByTimeAsync(10);
    expect(x.events).toEqual(["gone"]);
  });

  it("stops reading and closes its LISTEN when the last viewer leaves; re-reads everything after a reconnect", async () => {
    const j = fakeJob(3);
    const l = fakeListen();
    const hub = createJobFeedHub({ store: j.store, listen: l.listen, options });
    const v = viewer();
    const stop = hub.subscribe(JOB, v.sub);
    await vi.advanceTimersByTimeAsync(10);
    j.set(2, "running");
    l.resync();
    await vi.advanceTimersByTimeAsync(200);
    expect(v.taskIds()).toEqual([j.id(2)]);
    stop();
    expect(hub.followedJobs()).toEqual([]);
    expect(l.closed).toBe(1);
    const before = j.reads.progress;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(j.reads.progress).toBe(before);
  });

  it("keeps viewers through a failed read and tells them after repeated failures", async () => {
    const j = fakeJob(3);
    const l = fakeListen();
    let failing = 0;
    const progress = j.store.progress;
    j.store.progress = async () => {
      if (failing > 0) {
        failing--;
        throw new Error("connection reset");
      }
      return progress();
    };
    const hub = createJobFeedHub({ store: j.store, listen: l.listen, options: { ...options, maxFailures: 3 } });
    const v = viewer();
    hub.subscribe(JOB, v.sub);
    await vi.advanceTimersByTimeAsync(10);
    failing = 2;
    j.set(1, "succeeded");
    l.notify(JOB);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(v.events).toEqual(["progress", "progress"]);
    failing = 10;
    l.notify(JOB);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(v.events.at(-1)).toBe("failure");
  });
});
