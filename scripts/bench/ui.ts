// `npm run bench:ui` (node --import tsx scripts/bench/ui.ts): server response times of the web app
// at 50,000 hosts and 1,000,000 probe results, over HTTP against `next start` with a signed-in
// admin session: the host list (filtered, sorted, first and deep page), the Overview, the host
// page, and the CSV export of every host with the server's peak resident memory.
//
// Options:
//   --hosts N        hosts to seed (default 50000); probe results = hosts x ~2 endpoints x 10
//   --requests N     timed requests per scenario (default 30), after 3 warm-up requests
//   --reseed         drop and seed the bench database even when it already holds the data
//   --build          run `next build` first (otherwise an existing .next build is used)
//   --port N         port for `next start` (default 3210)
//   --write          replace the "UI and API at 50,000 hosts" section of BENCHMARKS.md
//   --seed-only      prepare the database and stop (for EXPLAIN ANALYZE sessions)
//
// Database: `tlsfleet_bench` on DATABASE_URL's server, or on the embedded PostgreSQL (under
// .data/bench) when DATABASE_URL is not set.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { generateSealingKeyPair } from "../../lib/crypto/sealed-box";
import { adminQuery, benchDatabase } from "./database";
import bcrypt from "bcryptjs";
import { seedBench } from "./ui-seed";
import { Session, percentile, processTree, sampleRss, statusKb, type Timing } from "./ui-http";

const ROOT = path.resolve(__dirname, "..", "..");
const NEXT_BIN = path.join(ROOT, "node_modules", "next", "dist", "bin", "next");
const ADMIN = { email: "bench-admin@example.test", password: "bench-admin-password-123" };
const SECTION = "## UI and API at 50,000 hosts (issue 4)";

function args() {
  const a = process.argv.slice(2);
  const num = (flag: string, def: number) => {
    const i = a.indexOf(flag);
    return i >= 0 ? Number(a[i + 1]) : def;
  };
  return { hosts: num("--hosts", 50_000), requests: num("--requests", 30), port: num("--port", 3210), reseed: a.includes("--reseed"), build: a.includes("--build"), write: a.includes("--write"), seedOnly: a.includes("--seed-only") };
}

const log = (s: string) => console.log(`bench:ui ${s}`);

async function prepareDatabase(url: string, opts: { hosts: number; reseed: boolean }) {
  const exists = (await adminQuery(url, `SELECT 1 FROM pg_database WHERE datname = 'tlsfleet_bench'`)).rowCount === 1;
  if (exists && !opts.reseed) {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const hosts = await c.query(`SELECT count(*)::int AS n FROM "Host"`).catch(() => null);
      const probes = await c.query(`SELECT count(*)::int AS n FROM "ProbeResult"`).catch(() => null);
      if (hosts?.rows[0].n === opts.hosts && probes && probes.rows[0].n > 0) {
        log(`reusing tlsfleet_bench: ${hosts.rows[0].n} hosts, ${probes.rows[0].n} probe results (--reseed to start over)`);
        const { migrate } = await import("../../lib/db/migrate");
        const applied = await migrate({ url });
        if (applied.length) log(`applied migrations: ${applied.join(", ")}`);
        // Fresh trend cache per run, so the first Overview request is a true cold one.
        await c.query(`DELETE FROM "ComplianceDaily"`).catch(() => undefined);
        return;
      }
    } finally {
      await c.end();
    }
  }
  log("creating tlsfleet_bench");
  await adminQuery(url, `DROP DATABASE IF EXISTS "tlsfleet_bench" WITH (FORCE)`);
  await adminQuery(url, `CREATE DATABASE "tlsfleet_bench"`);
  const { migrate } = await import("../../lib/db/migrate");
  await migrate({ url });
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const t0 = performance.now();
    await seedBench(c, { hosts: opts.hosts, probesPerEndpoint: 10 }, ADMIN.email, await bcrypt.hash(ADMIN.password, 10), log);
    log(`seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await c.end();
  }
}

async function startServer(port: number, dbUrl: string, heapMb?: number): Promise<ChildProcess> {
  const nodeArgs = heapMb ? [`--max-old-space-size=${heapMb}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, NEXT_BIN, "start", "-p", String(port)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: dbUrl,
      PORT: String(port),
      NEXTAUTH_URL: `http://localhost:${port}`,
      NEXTAUTH_SECRET: randomBytes(32).toString("hex"),
      // The web process seals and never opens: a public key is all it gets.
      TLSFLEET_CREDENTIAL_PUBLIC_KEY: generateSealingKeyPair().publicKey,
      LOG_LEVEL: "warn",
    },
  });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`next start exited with ${child.exitCode}:\n${output}`);
    try {
      const res = await fetch(`http://localhost:${port}/api/health`);
      if (res.ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  child.kill();
  throw new Error(`next start did not answer /api/health within 120 s:\n${output}`);
}

async function stopServer(server: ChildProcess) {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((r) => server.once("exit", r));
  server.kill("SIGTERM");
  await exited;
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

function machine(pgVersion: string): string {
  const cpu = os.cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? "CPU"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${pgVersion.split(",")[0]}`;
}

function markdown(results: Result[], extra: string[], meta: { date: string; machine: string; command: string; hosts: number; probes: number; endpoints: number }): string {
  const rows = results.map((r) => `| ${r.name} | \`${r.path.length > 70 ? `${r.path.slice(0, 67)}...` : r.path}\` | ${r.n} | ${r.p50.toFixed(0)} | ${r.p95.toFixed(0)} | ${r.max.toFixed(0)} | ${r.load?.toFixed(1) ?? ""} | ${r.target ? `${r.target}: ${r.ok ? "met" : "**missed**"}` : ""}${r.note ? ` ${r.note}` : ""} |`);
  return [
    SECTION,
    "",
    `Command: \`${meta.command}\` (${meta.date}). Machine: ${meta.machine}.`,
    `Data: ${meta.hosts.toLocaleString("en-US")} hosts, ${meta.endpoints.toLocaleString("en-US")} endpoints, ${meta.probes.toLocaleString("en-US")} probe results, a month of status history; \`next start\` (production build), one signed-in admin, requests one at a time over HTTP on localhost, times until the last byte. p50/p95 over the stated number of requests after 3 warm-up requests. "load" is the 1-minute load average when the scenario ended: this machine has 2 cores and is shared with other builds and tests, so above 2 the requests were waiting for CPU.`,
    "",
    "| scenario | request | n | p50 ms | p95 ms | max ms | load | target |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    ...extra,
    "",
  ].join("\n");
}

function writeSection(section: string) {
  const file = path.join(ROOT, "BENCHMARKS.md");
  // Other sections belong to other people: replace ours only, under the repository lock.
  // A hand-written analysis between <!-- analysis --> markers survives re-runs.
  const script = `
    const fs = require("fs");
    const [file, section, heading] = process.argv.slice(1);
    let text = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "# Benchmarks\\n\\n";
    const start = text.indexOf(heading);
    if (start < 0) text = text.replace(/\\s*$/, "\\n\\n") + section;
    else {
      const rest = text.slice(start + heading.length);
      const next = rest.search(/^## /m);
      const old = next < 0 ? rest : rest.slice(0, next);
      const kept = /<!-- analysis -->[\\s\\S]*<!-- \\/analysis -->/.exec(old);
      text = text.slice(0, start) + section + (kept ? kept[0] + "\\n\\n" : "") + (next < 0 ? "" : rest.slice(next));
    }
    fs.writeFileSync(file, text);`;
  const r = spawnSync("flock", ["/tmp/git.lock", process.execPath, "-e", script, file, `${section.trimEnd()}\n\n`, SECTION], { stdio: "inherit" });
  if (r.status !== 0) throw new Error("could not update BENCHMARKS.md");
  log(`wrote the section to ${file}`);
}

async function main() {
  const opts = args();
  const db = await benchDatabase("tlsfleet_bench");
  let server: ChildProcess | null = null;
  try {
    await prepareDatabase(db.url, opts);
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
    log(`starting next start on port ${opts.port}`);
    server = await startServer(opts.port, db.url);
    const pid = server.pid!;
    const base = `http://localhost:${opts.port}`;
    const session = new Session(base);
    await session.signIn(ADMIN.email, ADMIN.password);
    log(`signed in as ${ADMIN.email}; server pid ${pid}, RSS ${(processTree(pid).reduce((n, p) => n + statusKb(p, "VmRSS"), 0) / 1024).toFixed(0)} MB`);

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

    // Memory after the page scenarios: V8 grows its heap lazily, so this is mostly garbage not yet
    // collected, not a working set.
    const pageRss = processTree(pid).reduce((n, p) => n + statusKb(p, "VmRSS"), 0) / 1024;
    const pageHwm = processTree(pid).reduce((m, p) => Math.max(m, statusKb(p, "VmHWM")), 0) / 1024;
    log(`after the page scenarios: RSS ${pageRss.toFixed(0)} MB, VmHWM ${pageHwm.toFixed(0)} MB`);

    // CSV export of every host on a freshly started server, so the peak RSS sampled while it
    // streams is the export's own cost on top of an idle server, not leftovers of other pages.
    // Twice: with Node's default heap sizing (V8 lets the heap grow to a large share of RAM before
    // it collects) and with the old generation capped, which shows whether the export's memory is
    // bounded or merely not yet collected.
    for (const heapMb of [undefined, 192]) {
      const label = heapMb ? `CSV export, all hosts (heap capped: --max-old-space-size=${heapMb})` : "CSV export, all hosts";
      await stopServer(server);
      server = await startServer(opts.port, db.url, heapMb);
      const exportPid = server.pid!;
      const exportSession = new Session(base);
      await exportSession.signIn(ADMIN.email, ADMIN.password);
      await exportSession.get("/");
      const idleRss = processTree(exportPid).reduce((n, p) => n + statusKb(p, "VmRSS"), 0) / 1024;
      log(`${label}: fresh server at RSS ${idleRss.toFixed(0)} MB after sign-in and one Overview`);
      const exportRuns: Timing[] = [];
      let peakMb = 0;
      let firstPeakMb = 0;
      const n = Math.min(opts.requests, 10);
      for (let i = 0; i < n; i++) {
        const sampler = sampleRss(exportPid);
        const r = await exportSession.get("/api/v1/hosts/export", i === 0);
        peakMb = Math.max(peakMb, sampler.stop());
        if (r.status === 404) break;
        if (r.status !== 200) throw new Error(`export answered HTTP ${r.status}`);
        log(`  export ${i + 1}: ${r.ms.toFixed(0)} ms, peak RSS so far ${peakMb.toFixed(0)} MB`);
        if (i === 0) firstPeakMb = peakMb;
        if (i === 0 && !heapMb) {
          const lines = r.body!.split("\n").filter(Boolean).length;
          extra.push(`- CSV export: ${lines - 1} data rows, ${(r.bytes / 2 ** 20).toFixed(1)} MiB per download.`);
        }
        exportRuns.push(r);
      }
      if (exportRuns.length === 0) {
        extra.push("- CSV export: `/api/v1/hosts/export` does not exist in this build, not measured.");
        log("export route not found (404): skipped");
        break;
      }
      const ms = exportRuns.map((r) => r.ms);
      const hwm = processTree(exportPid).reduce((m, p) => Math.max(m, statusKb(p, "VmHWM")), 0) / 1024;
      const res: Result = { name: label, path: "/api/v1/hosts/export", n: exportRuns.length, p50: percentile(ms, 50), p95: percentile(ms, 95), max: Math.max(...ms), bytes: exportRuns[0].bytes, target: "≤ 5 s at ≤ 300 MB RSS", ok: Math.max(...ms) <= 5000 && peakMb <= 300, note: `(idle ${idleRss.toFixed(0)} MB, peak RSS ${firstPeakMb.toFixed(0)} MB during the first export, ${peakMb.toFixed(0)} MB over all ${exportRuns.length})`, load: os.loadavg()[0] };
      log(`${label}: p50 ${res.p50.toFixed(0)} ms, p95 ${res.p95.toFixed(0)} ms, max ${res.max.toFixed(0)} ms; peak RSS ${peakMb.toFixed(0)} MB (idle ${idleRss.toFixed(0)} MB, VmHWM ${hwm.toFixed(0)} MB): ${res.ok ? "met" : "MISSED"}`);
      results.push(res);
    }
    extra.push(`- Server memory is the \`next start\` process tree's VmRSS, sampled every 20 ms while ${Math.min(opts.requests, 10)} exports stream one after another on a freshly started server ("idle" is after sign-in and one Overview). After the page scenarios the first server stood at ${pageRss.toFixed(0)} MB RSS (VmHWM ${pageHwm.toFixed(0)} MB).`);

    extra.push(`- Load average (1 min) on this shared 2-core machine: ${loadBefore.toFixed(1)} before the runs, ${os.loadavg()[0].toFixed(1)} after; other builds and tests were running, so treat single numbers with care.`);
    const section = markdown(results, extra, {
      date: new Date().toISOString().slice(0, 10),
      machine: machine(counts.v),
      command: "npm run bench:ui (node --conditions=react-server --import tsx scripts/bench/ui.ts)",
      hosts: counts.hosts,
      endpoints: counts.endpoints,
      probes: counts.probes,
    });
    fs.mkdirSync(path.join(ROOT, "bench-results"), { recursive: true });
    fs.writeFileSync(path.join(ROOT, "bench-results", "ui.md"), section);
    log("results in bench-results/ui.md");
    if (opts.write) writeSection(section);
    const missed = results.filter((r) => r.ok === false);
    if (missed.length) log(`targets missed: ${missed.map((r) => r.name).join("; ")}`);
    return missed.length ? 1 : 0;
  } finally {
    if (server) await stopServer(server);
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
