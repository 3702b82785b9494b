import "server-only";
// Live job progress for the event stream (app/api/v1/jobs/[id]/events): ONE feed per followed job
// per web process, however many pages follow it. The feed reads the database when the job
// changes (a NOTIFY on 'job_changes' from the triggers of migration 20261208000345), coalescing
// bursts, plus a slow safety poll for a notification that was lost; each read is the job's counts
// (one GROUP BY) and the keys of the tasks changed since the last read (an index-only keyset scan
// on (jobId, updatedAt, id)), then whole rows only of the changed tasks someone displays. The
// result fans out to every subscriber. So the database's cost follows the job's changes, not the
// number of viewers. docs/architecture.md "Live job progress" says why.
import { isTerminalJob, type JobState, type ProgressCounts } from "./state";
import type { JobProgress, TaskKey, TaskRow } from "./views";
import { logger } from "../log";

/** Reads a feed makes; the real ones are lib/jobs/views.ts's, tests count or fake them. */
export interface FeedStore {
  progress(jobId: string): Promise<JobProgress | null>;
  changedKeys(jobId: string, after: TaskKey, limit: number): Promise<TaskKey[]>;
  tasks(jobId: string, ids: readonly string[]): Promise<TaskRow[]>;
}

/** A LISTEN on the change channel (lib/db/notifications.ts), payload = job id. */
export type ListenFn = (handlers: { onNotify(jobId: string): void; onResync(): void }) => { ready: Promise<void>; close(): void };

export interface FeedUpdate {
  /** The database clock of the read this reflects (ms since epoch): resume with since=<id>. */
  id: string;
  state: JobState;
  cancelRequested: boolean;
  counts: ProgressCounts;
  /** Changed tasks this subscriber displays (all changed ones when it watches everything). */
  tasks: TaskRow[];
  /** The job is finished and every change was sent: the last update. */
  final: boolean;
}

export interface FeedSubscriber {
  /** Task ids this subscriber shows; null: every task (API clients). */
  watch: ReadonlySet<string> | null;
  /** Resume point (a previous update's id, ms): changes since then are sent first. Null: none. */
  since: number | null;
  onUpdate(update: FeedUpdate): void;
  /** The job was deleted. */
  onGone(): void;
  /** Reads kept failing; the stream should tell the page to reload. */
  onFailure(): void;
}

export interface FeedOptions {
  /** Least time between two reads of one job: notifications within it are coalesced. */
  coalesceMs?: number;
  /** A read even without a notification, in case one was lost. */
  safetyPollMs?: number;
  /** How far back each read looks again for rows whose statement committed late. */
  overlapMs?: number;
  /** Task keys read at most per read; a backlog is read on at once. */
  batch?: number;
  /** Consecutive failed reads before the subscribers are told to give up. */
  maxFailures?: number;
}

const DEFAULTS: Required<FeedOptions> = { coalesceMs: 150, safetyPollMs: 12_000, overlapMs: 5_000, batch: 1000, maxFailures: 5 };
const ZERO_ID = "00000000-0000-0000-0000-000000000000";
/** How long a new feed waits for LISTEN before its first read anyway. */
const LISTEN_WAIT_MS = 2_000;
const RETRY_MS = 1_000;

interface Subscription {
  sub: FeedSubscriber;
  /** new: waits for the feed's first read; catching-up: its first update is being made. */
  phase: "new" | "catching-up" | "live";
  /** While it catches up, the rows that fan-out brought meanwhile. */
  pending: TaskRow[];
  lastSent: string;
  done: boolean;
}

interface Feed {
  jobId: string;
  subs: Set<Subscription>;
  cursor: TaskKey | null;
  /** updatedAt (ms) of each task already read inside the overlap window. */
  versions: Map<string, number>;
  latest: (Omit<FeedUpdate, "tasks" | "final"> & { caughtUp: boolean }) | null;
  timer: ReturnType<typeof setTimeout> | undefined;
  safety: ReturnType<typeof setInterval> | undefined;
  reading: boolean;
  dirty: boolean;
  lastReadStart: number;
  failures: number;
  stopped: boolean;
}

export interface JobFeedHub {
  /** Follows a job until the returned function is called. */
  subscribe(jobId: string, sub: FeedSubscriber): () => void;
  /** Jobs with a live feed in this process (for tests and the bench). */
  followedJobs(): string[];
}

export function createJobFeedHub(deps: { store: FeedStore; listen: ListenFn; options?: FeedOptions }): JobFeedHub {
  const o = { ...DEFAULTS, ...deps.options };
  const { store } = deps;
  const feeds = new Map<string, Feed>();
  let listening: ReturnType<ListenFn> | null = null;

  const snapshotKey = (l: NonNullable<Feed["latest"]>) => `${l.state}|${l.cancelRequested}|${JSON.stringify(l.counts)}`;

  function stop(feed: Feed) {
    if (feed.stopped) return;
    feed.stopped = true;
    clearTimeout(feed.timer);
    clearInterval(feed.safety);
    if (feeds.get(feed.jobId) === feed) feeds.delete(feed.jobId);
    if (feeds.size === 0 && listening) {
      listening.close();
      listening = null;
    }
  }

  function poke(feed: Feed, delayMs?: number) {
    if (feed.stopped) return;
    feed.dirty = true;
    if (feed.reading || feed.timer) return;
    const wait = delayMs ?? Math.max(0, feed.lastReadStart + o.coalesceMs - Date.now());
    feed.timer = setTimeout(() => {
      feed.timer = undefined;
      void run(feed);
    }, wait);
  }

  async function run(feed: Feed) {
    if (feed.stopped || feed.reading) return;
    feed.reading = true;
    feed.dirty = false;
    feed.lastReadStart = Date.now();
    let again = false;
    let retry = false;
    try {
      again = await read(feed);
      feed.failures = 0;
    } catch (err) {
      feed.failures++;
      logger.error({ err, job: feed.jobId, failures: feed.failures }, "reading a job's progress failed");
      if (feed.failures >= o.maxFailures) {
        for (const s of [...feed.subs]) s.sub.onFailure();
        stop(feed);
      } else retry = true;
    } finally {
      feed.reading = false;
    }
    if (retry) poke(feed, RETRY_MS);
    else if (again || feed.dirty) poke(feed);
  }

  /** One shared read and its fan-out; true when a backlog remains. */
  async function read(feed: Feed): Promise<boolean> {
    // Job first, tasks second: once the job reads finished, every task change that made it so has
    // committed, so the task read below sees it.
    const progress = await store.progress(feed.jobId);
    if (feed.stopped) return false;
    if (!progress) {
      for (const s of [...feed.subs]) s.sub.onGone();
      stop(feed);
      return false;
    }
    const windowStart: TaskKey = { updatedAt: new Date(progress.readAt.getTime() - o.overlapMs), id: ZERO_ID };
    const keys = await store.changedKeys(feed.jobId, feed.cursor ?? windowStart, o.batch);
    const caughtUp = keys.length < o.batch;
    const fresh = keys.filter((k) => feed.versions.get(k.id) !== k.updatedAt.getTime());
    for (const k of fresh) feed.versions.set(k.id, k.updatedAt.getTime());
    const last = keys[keys.length - 1];
    feed.cursor = !caughtUp && last ? last : windowStart;
    const horizon = feed.cursor.updatedAt.getTime();
    for (const [id, at] of feed.versions) if (at < horizon) feed.versions.delete(id);

    // Whole rows only for tasks some subscriber shows.
    const watchAll = [...feed.subs].some((s) => s.sub.watch === null);
    const wanted = watchAll ? fresh.map((k) => k.id) : fresh.map((k) => k.id).filter((id) => [...feed.subs].some((s) => s.sub.watch?.has(id)));
    const rows = wanted.length ? await store.tasks(feed.jobId, wanted) : [];
    if (feed.stopped) return false;

    feed.latest = { id: String(progress.readAt.getTime()), state: progress.state, cancelRequested: progress.cancelRequested, counts: progress.counts, caughtUp };
    for (const s of [...feed.subs]) {
      if (s.phase === "live") deliver(feed, s, rows.filter((r) => !s.sub.watch || s.sub.watch.has(r.id)), false);
      else s.pending.push(...rows);
      if (s.phase === "new") void start(feed, s);
    }
    return !caughtUp;
  }

  function deliver(feed: Feed, s: Subscription, tasks: TaskRow[], first: boolean) {
    const latest = feed.latest;
    if (!latest || s.done || !feed.subs.has(s)) return;
    const key = snapshotKey(latest);
    const final = isTerminalJob(latest.state) && latest.caughtUp;
    if (!first && !final && tasks.length === 0 && key === s.lastSent) return;
    s.lastSent = key;
    if (final) s.done = true;
    const { caughtUp: _caughtUp, ...snapshot } = latest;
    s.sub.onUpdate({ ...snapshot, tasks, final });
  }

  /** A new subscriber's first update: the shared snapshot, plus what changed since its `since`. */
  async function start(feed: Feed, s: Subscription) {
    s.phase = "catching-up";
    const since = s.sub.since;
    const shown = (r: TaskRow) => !s.sub.watch || s.sub.watch.has(r.id);
    if (since === null) {
      const rows = s.pending.filter(shown);
      s.pending = [];
      s.phase = "live";
      deliver(feed, s, rows, true);
      return;
    }
    try {
      const ids: string[] = [];
      let after: TaskKey = { updatedAt: new Date(since - o.overlapMs), id: ZERO_ID };
      for (;;) {
        const keys = await store.changedKeys(feed.jobId, after, o.batch);
        for (const k of keys) if (!s.sub.watch || s.sub.watch.has(k.id)) ids.push(k.id);
        const last = keys[keys.length - 1];
        if (keys.length < o.batch || !last) break;
        after = last;
      }
      const rows: TaskRow[] = [];
      for (let i = 0; i < ids.length; i += o.batch) rows.push(...(await store.tasks(feed.jobId, ids.slice(i, i + o.batch))));
      if (feed.stopped || !feed.subs.has(s)) return;
      // Rows fan-out brought while this ran are newer than the catch-up's: they win.
      const merged = new Map<string, TaskRow>();
      for (const r of [...rows, ...s.pending]) if (shown(r)) merged.set(r.id, r);
      s.pending = [];
      s.phase = "live";
      deliver(feed, s, [...merged.values()], true);
    } catch (err) {
      logger.error({ err, job: feed.jobId }, "catching a job stream up failed");
      if (feed.subs.has(s)) s.sub.onFailure();
    }
  }

  function feedFor(jobId: string): Feed {
    const existing = feeds.get(jobId);
    if (existing) return existing;
    const feed: Feed = {
      jobId,
      subs: new Set(),
      cursor: null,
      versions: new Map(),
      latest: null,
      timer: undefined,
      safety: undefined,
      reading: false,
      dirty: false,
      lastReadStart: 0,
      failures: 0,
      stopped: false,
    };
    feeds.set(jobId, feed);
    listening ??= deps.listen({
      onNotify: (id) => {
        const f = feeds.get(id);
        if (f) poke(f);
      },
      onResync: () => {
        for (const f of feeds.values()) poke(f);
      },
    });
    feed.safety = setInterval(() => poke(feed), o.safetyPollMs);
    // The first read waits for LISTEN, so a change between the read and LISTEN is not missed.
    let started = false;
    const first = () => {
      if (started) return;
      started = true;
      poke(feed, 0);
    };
    void listening.ready.then(first);
    setTimeout(first, LISTEN_WAIT_MS).unref?.();
    return feed;
  }

  return {
    subscribe(jobId, sub) {
      const feed = feedFor(jobId);
      const s: Subscription = { sub, phase: "new", pending: [], lastSent: "", done: false };
      feed.subs.add(s);
      // Without a first read yet, the feed's first read starts it.
      // Never from inside subscribe(): the caller gets its unsubscribe before the first update.
      if (feed.latest) queueMicrotask(() => void start(feed, s));
      return () => {
        feed.subs.delete(s);
        if (feed.subs.size === 0) stop(feed);
      };
    },
    followedJobs: () => [...feeds.keys()],
  };
}

/** The channel the triggers of migration 20261208000345 notify, with the job id as payload. */
export const JOB_CHANGES_CHANNEL = "job_changes";

const globalHub = globalThis as unknown as { __tlsfleetJobFeeds?: JobFeedHub };

/** The process's hub over the real database reads and its one LISTEN connection. */
export async function jobFeeds(): Promise<JobFeedHub> {
  if (globalHub.__tlsfleetJobFeeds) return globalHub.__tlsfleetJobFeeds;
  const [{ readJobProgress, readChangedTaskKeys, readTasksByIds }, { listen }] = await Promise.all([import("./views"), import("../db/notifications")]);
  return (globalHub.__tlsfleetJobFeeds ??= createJobFeedHub({
    store: { progress: readJobProgress, changedKeys: readChangedTaskKeys, tasks: readTasksByIds },
    listen: (handlers) => listen(JOB_CHANGES_CHANNEL, { onNotify: handlers.onNotify, onResync: handlers.onResync }),
  }));
}
