// `npm run bench:ui` (node --import tsx scripts/bench/ui.ts): server response times of the web app
// at 50,000 hosts and 1,000,000 probe results (or 500,000 and 10,000,000 with --hosts 500000),
// over HTTP against the web server as `npm start` runs it (bin/web-server.js with WEB_NODE_ARGS)
// with a signed-in admin session: the host list (filtered, sorted, first and deep page), the
// Overview, the host page, and the CSV export of every host with the server's peak resident memory.
//
// Options:
//   --hosts N        hosts to seed (default 50000); probe results = hosts x ~2 endpoints x 10
//   --requests N     timed requests per scenario (default 30), after 3 warm-up requests
//   --reseed         drop and seed the bench database even when it already holds the data
//   --build          run `next build` first (otherwise an existing .next build is used)
//   --port N         port for the web server (default 3210)
//   --write          replace this size's series in the "UI and API at 50,000 and 500,000 hosts"
//                    section of BENCHMARKS.md (the other size's series stays)
//   --seed-only      prepare the database and stop (for EXPLAIN ANALYZE sessions)
//   --database NAME  the bench database (default tlsfleet_bench, or tlsfleet_bench_<hosts> for
//                    another size), so that two sizes or two people do not reseed each other's
//   --under-load     after the idle scenarios, time them again while a scan of --scan-hosts
//                    loopback hosts (default 10000) runs on a `tlsfleet worker` process and
//                    --viewers signed-in viewers (default 20) each load a page every --think-ms
//                    (default 2000) on average (scripts/bench/ui-load.ts); --relay-port (default
//                    18443) is the loopback port the scanned endpoints answer on
//
// Database: NAME on DATABASE_URL's server, or on the embedded PostgreSQL (under
// .data/bench) when DATABASE_URL is not set.
import { spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { generateSealingKeyPair } from "../../lib/crypto/sealed-box";
import { WEB_NODE_ARGS } from "../../bin/commands/start";
import { benchDatabase, prepareSeededDatabase } from "./database";
import { sampleRss, treeHwmMb, treeRssMb, type Session, type Timing } from "./ui-http";
import { coresUsed, startLoad } from "./ui-load";
import { BENCH_ADMIN, benchOptions, machineDescription, percentile, ROOT, signInAsAdmin, startWebServer, stopWebServer, writeBenchmarkSection } from "./support";

const NEXT_BIN = path.join(ROOT, "node_modules", "next", "dist", "bin", "next");
const WEB_SERVER = path.join(ROOT, "bin", "web-server.js");
const SECTION = "## UI and API at 50,000 and 500,000 hosts (issues 4 and 12)";

function args() {
  const o = benchOptions();
  return { hosts: o.number("--hosts", 50_000), requests: o.number("--requests", 30), port: o.number("--port", 3210), reseed: o.has("--reseed"), build: o.has("--build"), write: o.has("--write"), seedOnly: o.has("--seed-only"), database: o.value("--database"),
    underLoad: o.has("--under-load"), scanHosts: o.number("--scan-hosts", 10_000), viewers: o.number("--viewers", 20), thinkMs: o.number("--think-ms", 2_000), relayPort: o.number("--relay-port", 18_443) };
}

const log = (s: string) => console.log(`bench:ui ${s}`);

/**
 * The web server the way `tlsfleet start` runs it: bin/web-server.js under WEB_NODE_ARGS (the heap
 * limits decide how far RSS climbs over back-to-back exports). It seals and never opens: a public
 * key is all it gets.
 */
function startServer(port: number, dbUrl: string): Promise<ChildProcess> {
  return startWebServer({
    entry: [WEB_SERVER],
    nodeArgs: WEB_NODE_ARGS,
    port,
    base: `http://127.0.0.1:${port}`,
    databaseUrl: dbUrl,
    env: { LISTEN_HOST: "127.0.0.1", TLSFLEET_CREDENTIAL_PUBLIC_KEY: generateSealingKeyPair().publicKey },
  });
}

interface Result {
  name: string;
  path: string;
  n: number;
  p50: number;
  p95: number;
  max: number;
  bytes: number;
  target?: string;
  ok?: boolean;
  note?: string;
  /** 1-minute load average when the scenario ended: this machine is shared, and it shows. */
  load?: number;
}

async function measure(session: Session, name: string, pathname: string, n: number, target?: { ms: number; label: string }, warmup = 3): Promise<Result> {
  for (let i = 0; i < warmup; i++) {
    const w = await session.get(pathname);
    if (w.status !== 200) throw new Error(`${name}: GET ${pathname} answered HTTP ${w.status}`);
  }
  const runs: Timing[] = [];
  for (let i = 0; i < n; i++) runs.push(await session.get(pathname));
  const bad = runs.find((r) => r.status !== 200);
  if (bad) throw new Error(`${name}: GET ${pathname} answered HTTP ${bad.status}`);
  const ms = runs.map((r) => r.ms);
  const p95 = percentile(ms, 95);
  const result: Result = { name, path: pathname, n, p50: percentile(ms, 50), p95, max: Math.max(...ms), bytes: runs[0].bytes, target: target?.label, ok: target ? p95 <= target.ms : undefined, load: os.loadavg()[0] };
  log(`${name.padEnd(44)} p50 ${result.p50.toFixed(0).padStart(5)} ms  p95 ${p95.toFixed(0).padStart(5)} ms  max ${result.max.toFixed(0).padStart(5)} ms  ${(result.bytes / 1024).toFixed(0)} KiB${target ? `  target ${target.label}: ${result.ok ? "met" : "MISSED"}` : ""}`);
  return result;
}

/** The keyset cursor of the host list after `offset` rows (lib/inventory/filter.ts encodeCursor: [sortValue, id]). */
async function cursorAt(dbUrl: string, offset: number): Promise<string | null> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const r = await c.query(
      `SELECT h.name, h.id FROM "Host" h JOIN "HostStatus" s ON s."hostId" = h.id
       WHERE s.status = 'noncompliant' AND h.tags @> ARRAY['mail'] ORDER BY h.name, h.id OFFSET $1 LIMIT 1`,
      [offset - 1],
    );
    return r.rows[0] ? Buffer.from(JSON.stringify([r.rows[0].name, r.rows[0].id])).toString("base64url") : null;
  } finally {
    await c.end();
  }
}

function nextCursor(html: string): string | null {
  const m = /[?&](?:amp;)?cursor=([A-Za-z0-9_-]+)/.exec(html);
  return m ? m[1] : null;
}

function markdown(results: Result[], extra: string[], meta: { date: string; machine: string; command: string; hosts: number; probes: number; endpoints: number }): string {
  const rows = results.map((r) => `| ${r.name} | \`${r.path.length > 70 ? `${r.path.slice(0, 67)}...` : r.path}\` | ${r.n} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.max.toFixed(0)} | ${r.load?.toFixed(1) ?? ""} | ${r.target ? `${r.target}: ${r.ok ? "met" : "**missed**"}` : ""}${r.note ? ` ${r.note}` : ""} |`);
  return [
    SECTION,
    "",
    `Command: \`${meta.command}\`, once per size (\`--hosts 50000\`, \`--hosts 500000\`). Machine: ${meta.machine}.`,
    `The web server as \`npm start\` runs it (\`node ${WEB_NODE_ARGS.join(" ")} bin/web-server.js\`, production build), one signed-in admin, requests one at a time over HTTP on localhost, times until the last byte. p50/p95 over the stated number of requests after 3 warm-up requests. "load" is the 1-minute load average when the scenario ended: this machine has 2 cores and is shared with other builds and tests, so above 2 the requests were waiting for CPU.`,
    "",
    `### Series: ${meta.hosts.toLocaleString("en-US")} hosts (${meta.date})`,
    "",
    `Data: ${meta.hosts.toLocaleString("en-US")} hosts, ${meta.endpoints.toLocaleString("en-US")} endpoints, ${meta.probes.toLocaleString("en-US")} probe results, a month of status history.`,
    "",
    "| scenario | request | n | p50 ms | p95 ms | max ms | load | target |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    ...extra,
    "",
  ].join("\n");
}

async function main() {
  const opts = args();
  const dbName = opts.database ?? (opts.hosts === 50_000 ? "tlsfleet_bench" : `tlsfleet_bench_${opts.hosts}`);
  const db = await benchDatabase(dbName);
  let server: ChildProcess | null = null;
  try {
    await prepareSeededDatabase(db.url, dbName, opts, {
      log,
      // Fresh trend cache per run, so the first Overview request is a true cold one.
      onReuse: (c) => c.query(`DELETE FROM "ComplianceDaily"`).then(() => undefined, () => undefined),
    });
    if (opts.seedOnly) {
      log(`database ready: ${db.url.replace(/:[^:@/]*@/, ":***@")}`);
      return 0;
    }
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const counts = (await c.query(`SELECT (SELECT count(*) FROM "Host")::int AS hosts, (SELECT count(*) FROM "Endpoint")::int AS endpoints, (SELECT count(*) FROM "ProbeResult")::int AS probes, version() AS v`)).rows[0];
    const sampleHost = (await c.query(`SELECT h.id FROM "Host" h JOIN "HostStatus" s ON s."hostId" = h.id WHERE s.status = 'noncompliant' ORDER BY h.name LIMIT 1`)).rows[0]?.id as string;
    await c.end();

    if (opts.build || !fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) {
      log("building (next build)…");
      const r = spawnSync(process.execPath, [NEXT_BIN, "build"], { cwd: ROOT, stdio: "inherit", env: { ...process.env, NODE_ENV: "production" } });
      if (r.status !== 0) throw new Error("next build failed");
    }
    log(`starting bin/web-server.js (${WEB_NODE_ARGS.join(" ")}) on port ${opts.port}`);
    server = await startServer(opts.port, db.url);
    const pid = server.pid!;
    const base = `http://127.0.0.1:${opts.port}`;
    const session = await signInAsAdmin(base);
    log(`signed in as ${BENCH_ADMIN.email}; server pid ${pid}, RSS ${treeRssMb(pid).toFixed(0)} MB`);

    const results: Result[] = [];
    const extra: string[] = [];

    const loadBefore = os.loadavg()[0];
    // Load the app's code and open the database pool before timing anything.
    for (let i = 0; i < 3; i++) await session.get("/hosts");
    // The very first Overview computes and freezes 29 closed days of the trend: measured apart.
    const cold = await session.get("/");
    if (cold.status !== 200) throw new Error(`GET / answered HTTP ${cold.status}`);
    log(`Overview, first request (cold trend cache): ${cold.ms.toFixed(0)} ms`);
    extra.push(`- The first Overview request after start, with an empty ComplianceDaily (the trend computes and stores 29 closed days from StatusHistory): ${cold.ms.toFixed(0)} ms. Later requests read the stored days and compute only today.`);

    const listPath = "/hosts?status=noncompliant&tag=mail&sort=name";
    results.push(await measure(session, "Host list, status+tag filter, first page", listPath, opts.requests, { ms: 150, label: "p95 ≤ 150 ms" }));
    const deep = await cursorAt(db.url, 100 * 50);
    if (deep) results.push(await measure(session, "Host list, same filter, page 101 (keyset cursor)", `${listPath}&cursor=${deep}`, opts.requests, { ms: 150, label: "p95 ≤ 150 ms" }));
    results.push(await measure(session, "Host list, 3 failing statuses, sort by failing since", "/hosts?status=noncompliant,at_risk,mismatch&sort=firstFailingAt", opts.requests, { ms: 150, label: "p95 ≤ 150 ms" }));
    results.push(await measure(session, "Host list, tag filter, sort by last scan desc", "/hosts?tag=prod&sort=lastScanAt&dir=desc", opts.requests, { ms: 150, label: "p95 ≤ 150 ms" }));

    // Walking the pages the way a user would: follow the "next" link the page renders.
    const first = await session.get(listPath, true);
    let cursor = first.body ? nextCursor(first.body) : null;
    if (cursor) {
      const walk: number[] = [];
      for (let page = 2; page <= 100 && cursor; page++) {
        const r = await session.get(`${listPath}&cursor=${cursor}`, true);
        walk.push(r.ms);
        cursor = r.body ? nextCursor(r.body) : null;
      }
      log(`followed ${walk.length} "next" links: p50 ${percentile(walk, 50).toFixed(0)} ms, p95 ${percentile(walk, 95).toFixed(0)} ms`);
      extra.push(`- Following the list's own "next" links from page 1 to page ${walk.length + 1}: p50 ${percentile(walk, 50).toFixed(0)} ms, p95 ${percentile(walk, 95).toFixed(0)} ms per page.`);
    } else {
      extra.push("- The host list page rendered no cursor link to follow; the deep page above uses a cursor built from the same keyset (name, id).");
    }

    results.push(await measure(session, "Overview", "/", opts.requests, { ms: 300, label: "p95 ≤ 300 ms" }));
    if (sampleHost) results.push(await measure(session, "Host page (10 probes per endpoint stored)", `/hosts/${sampleHost}`, opts.requests));

    if (opts.underLoad) {
      const failingPath = "/hosts?status=noncompliant,at_risk,mismatch&sort=firstFailingAt";
      const lastScanPath = "/hosts?tag=prod&sort=lastScanAt&dir=desc";
      const load = await startLoad({
        base, dbUrl: db.url, admin: session, webPid: pid, scanHosts: opts.scanHosts, viewers: opts.viewers, thinkMs: opts.thinkMs, streams: Math.ceil(opts.viewers / 4), relayPort: opts.relayPort, log,
        pages: [listPath, "/", "/jobs/{job}", lastScanPath, failingPath, sampleHost ? `/hosts/${sampleHost}` : "/hosts"],
      });
      try {
        const what = `${opts.scanHosts.toLocaleString("en-US")}-host scan + ${opts.viewers} viewers`;
        const before = await load.progress();
        const cpu0 = load.cpu();
        const t0 = performance.now();
        const underLoad: Result[] = [];
        underLoad.push(await measure(session, `Host list, status+tag filter, first page (${what})`, listPath, opts.requests, { ms: 150, label: "p95 ≤ 150 ms" }));
        if (deep) underLoad.push(await measure(session, `Host list, page 101 (${what})`, `${listPath}&cursor=${deep}`, opts.requests, { ms: 150, label: "p95 ≤ 150 ms" }));
        underLoad.push(await measure(session, `Host list, sort by failing since (${what})`, failingPath, opts.requests, { ms: 150, label: "p95 ≤ 150 ms" }));
        underLoad.push(await measure(session, `Host list, tag, sort by last scan desc (${what})`, lastScanPath, opts.requests, { ms: 150, label: "p95 ≤ 150 ms" }));
        underLoad.push(await measure(session, `Overview (${what})`, "/", opts.requests, { ms: 300, label: "p95 ≤ 300 ms" }));
        underLoad.push(await measure(session, `The running scan's job page (${what})`, `/jobs/${load.jobId}`, opts.requests, { ms: 1_000, label: "p95 ≤ 1 s" }));
        const after = await load.progress();
        const seconds = (performance.now() - t0) / 1000;
        const cores = coresUsed(cpu0, load.cpu(), seconds);
        const viewers = load.viewerPages();
        const vms = viewers.pages.map((p) => p.ms);
        // Only numbers taken while the scan ran count as "under load".
        const stillRunning = after.state === "running" && after.finished < after.total;
        for (const r of underLoad) {
          if (!stillRunning) {
            r.ok = false;
            r.note = "(the scan ended before the measurements did: not under load)";
          }
          results.push(r);
        }
        const line = `under load: the scan finished ${after.finished - before.finished} tasks in the ${seconds.toFixed(0)} s of timed requests (${((after.finished - before.finished) / seconds).toFixed(1)} hosts/s; ${after.finished}/${after.total} done, job ${after.state} at the end); the viewers loaded ${vms.length} pages, p50 ${percentile(vms, 50).toFixed(0)} ms, p95 ${percentile(vms, 95).toFixed(0)} ms, ${viewers.failures.length} failed${viewers.failures.length ? ` (first: ${viewers.failures[0]})` : ""}; ${viewers.events} job events reached the streams; cores used over that time: web server ${cores.web.toFixed(2)}, worker ${cores.worker.toFixed(2)}, PostgreSQL ${cores.postgres.toFixed(2)}, the scanned targets and relay ${cores.targets.toFixed(2)}, the whole machine ${cores.machine.toFixed(2)} of ${cores.cores.toFixed(1)}`;
        log(line);
        extra.push(`- Rows marked "(${what})": timed again while a scan of ${opts.scanHosts.toLocaleString("en-US")} more hosts ran on a \`tlsfleet worker\` process (started through POST /api/v1/jobs with the default concurrency; each host one legacy HTTPS endpoint on loopback behind the 25 ms-each-way delay relay, scripts/bench/ui-load.ts) and ${opts.viewers} viewers, each signed in as its own viewer account, loaded the host list, Overview, the job page and a host page in turn, one page every ${opts.thinkMs / 1000} s on average (${Math.ceil(opts.viewers / 4)} of them also following the job's event stream). ${line[0]!.toUpperCase()}${line.slice(1)}.`);
        if (viewers.failures.length) throw new Error(`viewers' page loads failed under load: ${viewers.failures.slice(0, 5).join("; ")}`);
      } finally {
        await load.stop();
      }
    }

    // Memory after the page scenarios: V8 grows its heap lazily, so this is mostly garbage not yet
    // collected, not a working set.
    const pageRss = treeRssMb(pid);
    const pageHwm = treeHwmMb(pid);
    log(`after the page scenarios: RSS ${pageRss.toFixed(0)} MB, VmHWM ${pageHwm.toFixed(0)} MB`);

    // CSV export of every host on a freshly started server, so the peak RSS sampled while it
    // streams is the export's own cost on top of an idle server, not leftovers of other pages.
    // Ten back to back: V8 collects lazily, so one export says little about a burst.
    const exportLimitMs = opts.hosts > 50_000 ? 30_000 : 5_000;
    const exportTarget = `≤ ${exportLimitMs / 1000} s at ≤ 300 MB RSS`;
    await stopWebServer(server);
    server = await startServer(opts.port, db.url);
    const exportPid = server.pid!;
    const exportSession = await signInAsAdmin(base);
    await exportSession.get("/");
    const idleRss = treeRssMb(exportPid);
    log(`CSV export: fresh server at RSS ${idleRss.toFixed(0)} MB after sign-in and one Overview`);
    const exportRuns: Timing[] = [];
    let peakMb = 0;
    let firstPeakMb = 0;
    const exports = Math.min(opts.requests, 10);
    for (let i = 0; i < exports; i++) {
      const sampler = sampleRss(exportPid);
      const r = await exportSession.get("/api/v1/hosts/export", i === 0);
      peakMb = Math.max(peakMb, sampler.stop());
      if (r.status !== 200) throw new Error(`export answered HTTP ${r.status}`);
      log(`  export ${i + 1}: ${r.ms.toFixed(0)} ms, peak RSS so far ${peakMb.toFixed(0)} MB`);
      if (i === 0) {
        firstPeakMb = peakMb;
        const lines = r.body!.split("\n").filter(Boolean).length;
        extra.push(`- CSV export: ${lines - 1} data rows, ${(r.bytes / 2 ** 20).toFixed(1)} MiB per download.`);
      }
      exportRuns.push(r);
    }
    const ms = exportRuns.map((r) => r.ms);
    const hwm = treeHwmMb(exportPid);
    const exportResult: Result = { name: "CSV export, all hosts", path: "/api/v1/hosts/export", n: exportRuns.length, p50: percentile(ms, 50), p95: percentile(ms, 95), max: Math.max(...ms), bytes: exportRuns[0]!.bytes, target: exportTarget, ok: Math.max(...ms) <= exportLimitMs && peakMb <= 300, note: `(idle ${idleRss.toFixed(0)} MB, peak RSS ${firstPeakMb.toFixed(0)} MB during the first export, ${peakMb.toFixed(0)} MB over all ${exportRuns.length})`, load: os.loadavg()[0] };
    log(`CSV export: p50 ${exportResult.p50.toFixed(0)} ms, p95 ${exportResult.p95.toFixed(0)} ms, max ${exportResult.max.toFixed(0)} ms; peak RSS ${peakMb.toFixed(0)} MB (idle ${idleRss.toFixed(0)} MB, VmHWM ${hwm.toFixed(0)} MB): ${exportResult.ok ? "met" : "MISSED"}`);
    results.push(exportResult);
    extra.push(`- Server memory is the web process's VmRSS, sampled every 20 ms while ${exports} exports stream one after another on a freshly started server ("idle" is after sign-in and one Overview). After the page scenarios the first server stood at ${pageRss.toFixed(0)} MB RSS (VmHWM ${pageHwm.toFixed(0)} MB).`);

    extra.push(`- Load average (1 min) on this shared 2-core machine: ${loadBefore.toFixed(1)} before the runs, ${os.loadavg()[0].toFixed(1)} after; other builds and tests were running, so treat single numbers with care.`);
    const section = markdown(results, extra, {
      date: new Date().toISOString().slice(0, 10),
      machine: machineDescription(String(counts.v).split(",")[0]!),
      command: "npm run bench:ui (node --conditions=react-server --import tsx scripts/bench/ui.ts)",
      hosts: counts.hosts,
      endpoints: counts.endpoints,
      probes: counts.probes,
    });
    fs.mkdirSync(path.join(ROOT, "bench-results"), { recursive: true });
    const resultFile = path.join(ROOT, "bench-results", `ui-${counts.hosts}.md`);
    fs.writeFileSync(resultFile, section);
    log(`results in ${path.relative(ROOT, resultFile)}`);
    if (opts.write) writeBenchmarkSection(SECTION, section, "series");
    const missed = results.filter((r) => r.ok === false);
    if (missed.length) log(`targets missed: ${missed.map((r) => r.name).join("; ")}`);
    return missed.length ? 1 : 0;
  } finally {
    if (server) await stopWebServer(server);
    await db.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench:ui failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
