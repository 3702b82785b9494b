// `npm run bench:jobs`: a 10,000-host job's page and live stream (issue 12), against the
// production build started as `npm start` starts it (node WEB_NODE_ARGS bin/web-server.js).
//
//   page load      GET /jobs/<id> (counts + the first 100 rows), timed to the last byte
//   event delay    a task's UPDATE committed -> its event read off an open event stream
//   DB cost        transactions per second the web process makes while tasks finish at a steady
//                  rate, with 1 viewer and with 20 viewers of the job (pg_stat_database
//                  xact_commit deltas, minus the load generator's own; every Prisma query outside
//                  a transaction is one)
//
//   --rounds N     repeat every measurement N times (default 3): the tables give the median and range
//   --loads N      page loads per round (default 20)
//   --events N     task completions timed per round (default 50)
//   --window S     seconds of steady task completions per DB cost window (default 20)
//   --rate N       task completions per second in the DB cost windows (default 10)
//   --port N       port for the web server (default 3212)
//   --reseed       seed the database again even if it holds the bench data
//   --write        replace the "Big jobs stay live (issue 12)" section of BENCHMARKS.md
//
// Database: `tlsfleet_bench_jobs` on DATABASE_URL's server, or on the embedded PostgreSQL.
import { type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { benchDatabase, prepareSeededDatabase } from "./database";
import { benchOptions, machineDescription, median, percentile, ROOT, signInAsAdmin, startWebServer, stopWebServer, writeBenchmarkSection, runBench } from "./support";
import type { Session } from "./ui-http";
import { WEB_NODE_ARGS } from "../../bin/commands/start";
import { forEachEvent, type ParsedEvent } from "../../tests/support/event-stream";

const WEB_SERVER = path.join(ROOT, "bin", "web-server.js");
const DB = "tlsfleet_bench_jobs";
const HOSTS = 10_000;
const SECTION = "## Big jobs stay live (issue 12)";
/** pg_stat_database is flushed by each backend at most every 10 s when it goes idle (PGSTAT_IDLE_INTERVAL). */
const STATS_SETTLE_MS = 11_000;

const o = benchOptions();
const opts = {
  rounds: o.number("--rounds", 3),
  loads: o.number("--loads", 20),
  events: o.number("--events", 50),
  windowS: o.number("--window", 20),
  rate: o.number("--rate", 10),
  port: o.number("--port", 3212),
  reseed: o.has("--reseed"),
  write: o.has("--write"),
};
const log = (s: string) => console.log(`bench:jobs ${s}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let webOutput = "";

/** The bench job: every host, a third finished, some failed, the rest queued, a few log lines each. */
async function seedJob(c: pg.Client): Promise<string> {
  await c.query(`DELETE FROM "Job" WHERE parameters->>'bench' = 'jobs'`);
  await c.query(`INSERT INTO "Job" (id, kind, state, target, parameters, "createdAt", "startedAt")
    VALUES (gen_random_uuid(), 'scan', 'running', '{"filter":{}}', '{"bench":"jobs","maxConcurrency":50}', now(), now())`);
  await c.query(`INSERT INTO "JobTask" (id, "jobId", "hostId", state, attempt, log, error, "startedAt", "finishedAt", "updatedAt")
    SELECT gen_random_uuid(), j.id, h.id, s::"TaskState", CASE WHEN s = 'queued' THEN 0 ELSE 1 END,
           CASE WHEN s = 'queued' THEN '' ELSE '2026-12-08 00:00:01Z connecting to ' || h.address || E':25\\n2026-12-08 00:00:02Z STARTTLS offered\\n2026-12-08 00:00:03Z TLS 1.0 rejected, TLS 1.2 accepted\\n' END,
           CASE WHEN s = 'failed' THEN 'connect ECONNREFUSED ' || h.address || ':25' END,
           CASE WHEN s = 'queued' THEN NULL ELSE now() - interval '5 minutes' END,
           CASE WHEN s IN ('succeeded', 'failed') THEN now() - interval '4 minutes' END,
           now() - interval '10 minutes'
    FROM "Job" j, (SELECT id, address, CASE WHEN row_number() OVER (ORDER BY name) % 10 < 3 THEN 'succeeded' WHEN row_number() OVER (ORDER BY name) % 10 = 3 THEN 'failed' ELSE 'queued' END AS s FROM "Host") h
    WHERE j.parameters->>'bench' = 'jobs'`);
  await c.query(`ANALYZE "JobTask"`);
  const { rows } = await c.query<{ id: string }>(`SELECT id::text AS id FROM "Job" WHERE parameters->>'bench' = 'jobs'`);
  return rows[0]!.id;
}

function startWeb(dbUrl: string): Promise<ChildProcess> {
  return startWebServer({
    entry: [WEB_SERVER],
    nodeArgs: WEB_NODE_ARGS,
    port: opts.port,
    base: `http://127.0.0.1:${opts.port}`,
    databaseUrl: dbUrl,
    // 20 viewers of one user: above the default cap of 8 streams per user.
    env: { LISTEN_HOST: "127.0.0.1", TLSFLEET_SECRET_KEY: randomBytes(32).toString("hex"), TLSFLEET_STREAMS_PER_USER: "64" },
    onOutput: (d) => (webOutput = (webOutput + d).slice(-20_000)),
  });
}

type StreamEvent = ParsedEvent<{ counts: { total: number; done: number }; tasks: Array<{ id: string; state: string }> }>;

/** An EventSource-like reader of the event stream (Node 20 has no EventSource): fetch, parse blocks. */
function openStream(base: string, session: Session, query: string, onEvent: (e: StreamEvent, at: number) => void): { opened: Promise<void>; close: () => void } {
  const abort = new AbortController();
  let markOpened!: () => void;
  let failed!: (err: unknown) => void;
  const opened = new Promise<void>((resolve, reject) => ((markOpened = resolve), (failed = reject)));
  void (async () => {
    const res = await fetch(`${base}${query}`, { headers: { cookie: session.cookieHeader, accept: "text/event-stream" }, signal: abort.signal });
    if (res.status !== 200) throw new Error(`event stream answered HTTP ${res.status}`);
    await forEachEvent<StreamEvent["data"]>(res.body!, (e, at) => {
      markOpened();
      onEvent(e, at);
    });
  })().catch((err: unknown) => {
    if (!abort.signal.aborted) failed(err);
  });
  return { opened, close: () => abort.abort() };
}

async function pageLoads(session: Session, jobId: string): Promise<number[]> {
  const ms: number[] = [];
  await session.get(`/jobs/${jobId}`);
  for (let i = 0; i < opts.loads; i++) {
    const r = await session.get(`/jobs/${jobId}`);
    if (r.status !== 200) throw new Error(`job page answered HTTP ${r.status}`);
    ms.push(r.ms);
  }
  return ms;
}

async function queuedTasks(c: pg.Client, jobId: string, n: number): Promise<string[]> {
  const { rows } = await c.query<{ id: string }>(`SELECT id::text AS id FROM "JobTask" WHERE "jobId" = $1 AND state = 'queued' ORDER BY random() LIMIT $2`, [jobId, n]);
  return rows.map((r) => r.id);
}

/** One task finishing, as the worker writes it: its own statement and commit. */
const finishSql = `UPDATE "JobTask" SET state = 'succeeded', attempt = 1, "finishedAt" = now(), log = log || $2, "updatedAt" = clock_timestamp() WHERE id = $1::uuid`;

async function eventDelays(base: string, session: Session, c: pg.Client, jobId: string): Promise<number[]> {
  const ids = await queuedTasks(c, jobId, opts.events);
  const arrivals = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  const [{ now }] = (await c.query<{ now: Date }>(`SELECT now() AS now`)).rows;
  const stream = openStream(base, session, `/api/v1/jobs/${jobId}/events?since=${now!.getTime()}&watch=${ids.join(",")}`, (e, at) => {
    for (const t of e.data.tasks) {
      if (t.state !== "succeeded" || arrivals.has(t.id)) continue;
      arrivals.set(t.id, at);
      waiting.get(t.id)?.();
    }
  });
  await stream.opened;
  const delays: number[] = [];
  try {
    for (const id of ids) {
      const arrived = new Promise<void>((r) => waiting.set(id, r));
      await c.query(finishSql, [id, "bench: done\n"]);
      const committed = performance.now();
      await Promise.race([arrived, sleep(5_000)]);
      const at = arrivals.get(id);
      if (at === undefined) throw new Error(`task ${id} finished but no event arrived within 5 s`);
      delays.push(at - committed);
      // Apart, so each completion is timed on its own rather than folded into the previous one's read.
      await sleep(250);
    }
  } finally {
    stream.close();
  }
  return delays;
}

async function xactCommits(c: pg.Client): Promise<number> {
  const { rows } = await c.query<{ n: string }>(`SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()`);
  return Number(rows[0]!.n);
}

/** Transactions per second of everything but the load generator, while tasks finish at opts.rate/s. */
async function dbCost(base: string, session: Session, c: pg.Client, jobId: string, viewers: number): Promise<{ perSecond: number; events: number }> {
  const { rows: page } = await c.query<{ id: string }>(
    `SELECT t.id::text AS id FROM "JobTask" t JOIN "Host" h ON h.id = t."hostId" WHERE t."jobId" = $1 ORDER BY h.name, t.id LIMIT 100`,
    [jobId],
  );
  const watch = page.map((r) => r.id).join(",");
  const [{ now }] = (await c.query<{ now: Date }>(`SELECT now() AS now`)).rows;
  let events = 0;
  const streams = Array.from({ length: viewers }, () => openStream(base, session, `/api/v1/jobs/${jobId}/events?since=${now!.getTime()}&watch=${watch}`, () => void events++));
  await Promise.all(streams.map((s) => s.opened));
  await sleep(STATS_SETTLE_MS);
  const ids = await queuedTasks(c, jobId, opts.rate * opts.windowS);
  const before = await xactCommits(c);
  const t0 = performance.now();
  let generator = 0;
  for (let i = 0; i < ids.length; i++) {
    await c.query(finishSql, [ids[i], "bench: done\n"]);
    generator++;
    const due = t0 + ((i + 1) * 1000) / opts.rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const seconds = (performance.now() - t0) / 1000;
  await sleep(STATS_SETTLE_MS);
  const after = await xactCommits(c);
  for (const s of streams) s.close();
  // Minus the generator's commits and the one xactCommits query of ours in between.
  const web = after - before - generator - 1;
  return { perSecond: web / seconds, events };
}

function uptime(): string {
  try {
    return execFileSync("uptime", { encoding: "utf8" }).trim();
  } catch {
    return `load average: ${os.loadavg().map((l) => l.toFixed(2)).join(", ")}`;
  }
}

const fmt = (n: number, digits = 0) => n.toFixed(digits);
const range = (values: number[], digits = 0) => `${fmt(median(values), digits)} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;

async function main() {
  if (!fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) throw new Error("no production build: run `npx next build` first");
  const db = await benchDatabase(DB);
  let web: ChildProcess | null = null;
  const c = new pg.Client({ connectionString: db.url });
  try {
    await prepareSeededDatabase(db.url, DB, { hosts: HOSTS, reseed: opts.reseed }, { log });
    await c.connect();
    web = await startWeb(db.url);
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => {
      web?.kill("SIGTERM");
      process.exit(130);
    });
    const base = `http://127.0.0.1:${opts.port}`;
    const session = await signInAsAdmin(base);
    const rounds: Array<{ p50: number; p95: number; bytes: number; d50: number; d95: number; one: number; twenty: number; load: string }> = [];
    for (let r = 1; r <= opts.rounds; r++) {
      // A fresh job each round: the same mix of states, none of the previous round's completions.
      const jobId = await seedJob(c);
      const loads = await pageLoads(session, jobId);
      const bytes = (await session.get(`/jobs/${jobId}`)).bytes;
      const delays = await eventDelays(base, session, c, jobId);
      const one = await dbCost(base, session, c, jobId, 1);
      const twenty = await dbCost(base, session, c, jobId, 20);
      const round = { p50: percentile(loads, 50), p95: percentile(loads, 95), bytes, d50: percentile(delays, 50), d95: percentile(delays, 95), one: one.perSecond, twenty: twenty.perSecond, load: uptime() };
      rounds.push(round);
      log(
        `round ${r}: page p50 ${fmt(round.p50)} ms p95 ${fmt(round.p95)} ms (${fmt(bytes / 1024)} KiB); event delay p50 ${fmt(round.d50)} ms p95 ${fmt(round.d95)} ms; ` +
          `web transactions/s with 1 viewer ${fmt(one.perSecond, 1)} (${one.events} events), with 20 viewers ${fmt(twenty.perSecond, 1)} (${twenty.events} events); ${round.load}`,
      );
    }
    const col = (k: keyof (typeof rounds)[number]) => rounds.map((x) => x[k] as number);
    const p95Page = median(col("p95"));
    const p95Delay = median(col("d95"));
    const ratio = median(rounds.map((x) => x.twenty / x.one));
    const table = [
      "| measure | median of rounds (range) | target | ratio to target |",
      "|---|---|---|---|",
      `| job page (10,000 hosts, first 100 rows) p50 ms | ${range(col("p50"))} | ≤ 1000 | ${fmt(median(col("p50")) / 1000, 2)} |`,
      `| job page p95 ms | ${range(col("p95"))} | ≤ 1000 | ${fmt(p95Page / 1000, 2)} |`,
      `| job page size KiB | ${range(col("bytes").map((b) => b / 1024))} | | |`,
      `| task commit → event p50 ms | ${range(col("d50"))} | ≤ 1000 | ${fmt(median(col("d50")) / 1000, 2)} |`,
      `| task commit → event p95 ms | ${range(col("d95"))} | ≤ 1000 | ${fmt(p95Delay / 1000, 2)} |`,
      `| web DB transactions/s, 1 viewer, ${opts.rate} task completions/s | ${range(col("one"), 1)} | | |`,
      `| web DB transactions/s, 20 viewers, same load | ${range(col("twenty"), 1)} | O(changes): ≈ 1 viewer's | ${fmt(ratio, 2)}× the 1-viewer cost |`,
    ].join("\n");
    console.log(`\n${table}\n`);
    for (const r of rounds) console.log(`  ${r.load}`);
    if (opts.write) {
      const section = `${SECTION}

\`npm run bench:jobs -- --write\` (${machineDescription()}, ${new Date().toISOString().slice(0, 10)}): the production build started as \`npm start\` starts the web process (\`node ${WEB_NODE_ARGS.join(" ")} bin/web-server.js\`, no worker), one job over ${HOSTS.toLocaleString("en")} hosts (30% done, 10% failed, 60% queued) in its own database. ${opts.rounds} rounds; each: ${opts.loads} page loads timed to the last byte; ${opts.events} tasks finished one at a time 250 ms apart, each timed from its UPDATE's commit to its event read off an open stream (\`watch=\` those tasks, as the page watches its rows); then ${opts.windowS} s of ${opts.rate} task completions per second (each its own commit) with 1 and with 20 viewers streaming the job's first page, counting the database's committed transactions (pg_stat_database xact_commit, after ${STATS_SETTLE_MS / 1000} s for the backends to flush their counters) minus the generator's own. The 20-viewer count includes each stream's credential re-check (every 30 s, \`lib/http/event-stream.ts\`).

${table}

Load while measuring (\`uptime\` after each round):

${rounds.map((r) => `- ${r.load}`).join("\n")}
`;
      writeBenchmarkSection(SECTION, section);
    }
  } finally {
    await c.end().catch(() => undefined);
    if (web) await stopWebServer(web);
    await db.stop();
  }
}

runBench(main, () => webOutput);
