// `npm run bench:import`: the CSV import of issue 12, 500,000 hosts into an empty inventory, the
// way a user does it: the import page's two requests (preview, then commit with the preview's
// sha256) over HTTP against the production server that `tlsfleet start` runs (bin/web-server.js
// with WEB_NODE_ARGS, so its 192 MB heap), each streaming the file up and reading the NDJSON
// progress back. Each run starts from a freshly created, migrated database. Timed to the last
// line; peak RSS of the web process; load before and after.
//
// Options:
//   --rows N     rows in the generated file (default 500000; ~2 endpoints each)
//   --runs N     runs (default 3)
//   --path P     http (default) or cli: `tlsfleet hosts import FILE --as ...` instead of the web server
//   --port N     port for the web server (default 3297; refused when something already listens there)
//   --write      replace the "Import of 500,000 hosts (issue 12)" section of BENCHMARKS.md
//
// Database: `tlsfleet_bench_import` on DATABASE_URL's server, or on the embedded PostgreSQL;
// dropped and created again for every run. The http path needs a production build (`npx next build`).
// Run it while no other benchmark loads the machine: `npm run bench:import -- --write`.
import { spawn, type ChildProcess } from "node:child_process";
import { createReadStream, createWriteStream, existsSync, statSync } from "node:fs";
import { once } from "node:events";
import { createHash, randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import bcrypt from "bcryptjs";
import { benchDatabase, recreateDatabase, withClient } from "./database";
import { sampleRss, treeHwmMb } from "./ui-http";
import { BENCH_ADMIN, benchOptions, machineDescription, median, ROOT, signInAsAdmin, startWebServer, stopWebServer, writeBenchmarkSection, runBench } from "./support";
import { WEB_NODE_ARGS } from "../../bin/commands/start";

const DB = "tlsfleet_bench_import";
const SECTION = "## Import of 500,000 hosts (issue 12)";
const TARGET_S = 300;
const WEB_SERVER = path.join(ROOT, "bin", "web-server.js");

const o = benchOptions();
const opts = { rows: o.number("--rows", 500_000), runs: o.number("--runs", 3), path: o.value("--path") ?? "http", port: o.number("--port", 3297), write: o.has("--write") };
const log = (s: string) => console.log(`bench:import ${s}`);
const n = (x: number) => x.toLocaleString("en");
const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");

/** Hosts as an inventory export looks: a fifth list endpoints, the rest get their role defaults. */
async function writeCsv(file: string, rows: number) {
  const out = createWriteStream(file);
  out.write("name,address,platform,roles,tags,group,owner,transport,port,credential,endpoints\r\n");
  for (let i = 0; i < rows; i++) {
    const line = `bench${String(i).padStart(7, "0")}.example.test,10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255},${i % 3 ? "linux" : "windows"},${i % 3 ? "postfix" : "exchange"},prod;batch${i % 10},Site ${i % 7},"Team ${i % 13}, ops",ssh,22,,${i % 5 === 0 ? "25/smtp;443/https" : ""}\r\n`;
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

async function sha256(file: string) {
  const h = createHash("sha256");
  for await (const c of createReadStream(file)) h.update(c as Buffer);
  return h.digest("hex");
}

async function freshDatabase(url: string) {
  const { migrate } = await import("../../lib/db/migrate");
  await recreateDatabase(url, DB);
  await migrate({ url });
  const hash = await bcrypt.hash(BENCH_ADMIN.password, 10);
  await withClient(url, (c) => c.query(`INSERT INTO "User" (id, email, name, role, "passwordHash", "updatedAt") VALUES (gen_random_uuid(), $1, 'Bench admin', 'admin', $2, now())`, [BENCH_ADMIN.email, hash]));
}

type Step = { ms: number; status: number; last: Record<string, unknown>; progressLines: number };

/** One import request as the page sends it: the file streamed up, NDJSON progress read back. */
async function post(base: string, cookie: string, query: string, file: string): Promise<Step> {
  const t0 = performance.now();
  const res = await fetch(`${base}/api/v1/hosts/import?${query}`, {
    method: "POST",
    headers: { cookie, origin: base, "content-type": "text/csv", accept: "application/x-ndjson", "content-length": String(statSync(file).size) },
    body: Readable.toWeb(createReadStream(file, { highWaterMark: 256 * 1024 })) as ReadableStream,
    duplex: "half",
  } as RequestInit);
  let text = "";
  let progressLines = 0;
  let last: Record<string, unknown> = {};
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    text += decoder.decode(chunk, { stream: true });
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n")) {
      const msg = JSON.parse(text.slice(0, nl)) as Record<string, unknown>;
      text = text.slice(nl + 1);
      if (msg.done) last = msg;
      else progressLines++;
    }
  }
  if (!last.done) throw new Error(`no final line (HTTP ${res.status}): ${text.slice(0, 500)}`);
  return { ms: performance.now() - t0, status: Number(last.status), last, progressLines };
}

interface Run {
  previewMs: number;
  commitMs: number;
  totalMs: number;
  peakMb: number;
  progressLines: number;
  loadBefore: string;
  loadAfter: string;
  hosts: number;
  endpoints: number;
}

/** Something else on the port would answer the health check in place of our server (it happened: an old build on 3212). */
async function assertPortFree(port: number) {
  const inUse = await fetch(`http://127.0.0.1:${port}/api/health`).then(
    () => true,
    () => false,
  );
  if (inUse) throw new Error(`something already listens on port ${port}: choose another with --port`);
}

async function runHttp(url: string, file: string, digest: string): Promise<Run> {
  await assertPortFree(opts.port);
  let output = "";
  const web: ChildProcess = await startWebServer({
    entry: [WEB_SERVER],
    nodeArgs: WEB_NODE_ARGS,
    port: opts.port,
    base: `http://127.0.0.1:${opts.port}`,
    databaseUrl: url,
    env: { LISTEN_HOST: "127.0.0.1", TLSFLEET_SECRET_KEY: randomBytes(32).toString("hex") },
    onOutput: (d) => (output = (output + d).slice(-20_000)),
  });
  try {
    const base = `http://127.0.0.1:${opts.port}`;
    const session = await signInAsAdmin(base);
    const loadBefore = loadavg();
    const sampler = sampleRss(web.pid!);
    const preview = await post(base, session.cookieHeader, "mode=preview", file);
    if (preview.status !== 200) throw new Error(`preview answered ${preview.status}: ${JSON.stringify(preview.last).slice(0, 1000)}`);
    const body = preview.last.body as { sha256: string; issueCount: number; rowCount: number };
    if (body.issueCount !== 0 || body.sha256 !== digest) throw new Error(`preview: ${body.issueCount} problems, sha256 ${body.sha256}`);
    log(`  preview ${(preview.ms / 1000).toFixed(1)} s (${n(body.rowCount)} rows, ${preview.progressLines} progress lines)`);
    const commit = await post(base, session.cookieHeader, `mode=commit&sha256=${digest}`, file);
    const peakMb = Math.max(sampler.stop(), treeHwmMb(web.pid!));
    if (commit.status !== 200) throw new Error(`commit answered ${commit.status}: ${JSON.stringify(commit.last).slice(0, 1000)}\n${output.slice(-3000)}`);
    log(`  commit ${(commit.ms / 1000).toFixed(1)} s: ${JSON.stringify(commit.last.body)}`);
    return { previewMs: preview.ms, commitMs: commit.ms, totalMs: preview.ms + commit.ms, peakMb, progressLines: preview.progressLines + commit.progressLines, loadBefore, loadAfter: loadavg(), ...(await counts(url)) };
  } catch (err) {
    console.error(output.slice(-5000));
    throw err;
  } finally {
    await stopWebServer(web);
  }
}

/** The CLI path: `tlsfleet hosts import FILE --as` (preview, then import), its process tree's peak RSS. */
async function runCli(url: string, file: string): Promise<Run> {
  const loadBefore = loadavg();
  const cli = async (...extra: string[]) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "tlsfleet"), "hosts", "import", file, "--as", BENCH_ADMIN.email, ...extra], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: "warn" } });
    const sampler = sampleRss(child.pid!);
    let out = "";
    let progressLines = 0;
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (progressLines += String(d).split("\n").filter(Boolean).length));
    const [code] = (await once(child, "exit")) as [number];
    const peak = sampler.stop();
    if (code !== 0) throw new Error(`tlsfleet hosts import ${extra.join(" ")} exited ${code}: ${out}`);
    log(`  ${extra.length ? "preview" : "import"} ${((performance.now() - t0) / 1000).toFixed(1)} s: ${out.trim()}`);
    return { ms: performance.now() - t0, peak, progressLines };
  };
  const preview = await cli("--preview");
  const commit = await cli();
  return { previewMs: preview.ms, commitMs: commit.ms, totalMs: preview.ms + commit.ms, peakMb: Math.max(preview.peak, commit.peak), progressLines: preview.progressLines + commit.progressLines, loadBefore, loadAfter: loadavg(), ...(await counts(url)) };
}

async function counts(url: string) {
  return withClient(url, async (c) => {
    const r = await c.query(`SELECT (SELECT count(*)::int FROM "Host") AS hosts, (SELECT count(*)::int FROM "Endpoint") AS endpoints`);
    return r.rows[0] as { hosts: number; endpoints: number };
  });
}

async function main() {
  if (opts.path === "http" && !existsSync(path.join(ROOT, ".next", "BUILD_ID"))) throw new Error("no production build: run `npx next build` first (or --path cli)");
  const file = path.join(os.tmpdir(), `tlsfleet-bench-import-${opts.rows}.csv`);
  if (!existsSync(file)) {
    log(`writing ${file}`);
    await writeCsv(file, opts.rows);
  }
  const size = statSync(file).size;
  const digest = await sha256(file);
  log(`${n(opts.rows)} rows, ${(size / 2 ** 20).toFixed(1)} MiB, via ${opts.path === "http" ? "POST /api/v1/hosts/import (preview, then commit) against bin/web-server.js " + WEB_NODE_ARGS.join(" ") : "tlsfleet hosts import (--preview, then import)"}`);
  const db = await benchDatabase(DB);
  const runs: Run[] = [];
  try {
    for (let i = 0; i < opts.runs; i++) {
      await freshDatabase(db.url);
      log(`run ${i + 1}: fresh database, load ${loadavg()}`);
      const r = opts.path === "http" ? await runHttp(db.url, file, digest) : await runCli(db.url, file);
      if (r.hosts !== opts.rows) throw new Error(`imported ${r.hosts} hosts, expected ${opts.rows}`);
      runs.push(r);
      log(`run ${i + 1}: preview ${(r.previewMs / 1000).toFixed(1)} s + commit ${(r.commitMs / 1000).toFixed(1)} s = ${(r.totalMs / 1000).toFixed(1)} s (${((r.totalMs / 1000 / TARGET_S) * 100).toFixed(0)}% of the 5 min target), peak RSS ${r.peakMb.toFixed(0)} MB, ${n(r.hosts)} hosts, ${n(r.endpoints)} endpoints, load ${r.loadBefore} -> ${r.loadAfter}`);
    }
  } finally {
    await db.stop();
  }
  const s = (f: (r: Run) => number) => {
    const v = runs.map(f);
    return { median: median(v), min: Math.min(...v), max: Math.max(...v) };
  };
  const total = s((r) => r.totalMs / 1000);
  const preview = s((r) => r.previewMs / 1000);
  const commit = s((r) => r.commitMs / 1000);
  const peak = s((r) => r.peakMb);
  const ratio = total.median / TARGET_S;
  const summary = `median ${total.median.toFixed(1)} s (range ${total.min.toFixed(1)}–${total.max.toFixed(1)}), ${(ratio * 100).toFixed(0)}% of the 5 min target (${ratio.toFixed(2)}×)`;
  log(summary);
  const rows = runs.map(
    (r, i) =>
      `| ${i + 1} | ${(r.previewMs / 1000).toFixed(1)} | ${(r.commitMs / 1000).toFixed(1)} | ${(r.totalMs / 1000).toFixed(1)} | ${r.peakMb.toFixed(0)} | ${r.progressLines} | ${n(r.hosts)} / ${n(r.endpoints)} | ${r.loadBefore} → ${r.loadAfter} |`,
  );
  const section = `${SECTION}

Command: \`npm run bench:import -- --write${opts.path === "http" ? "" : ` --path ${opts.path}`}${opts.rows === 500_000 ? "" : ` --rows ${opts.rows}`}\` (scripts/bench/import.ts), ${new Date().toISOString().slice(0, 10)}.
${machineDescription(`PostgreSQL on DATABASE_URL's server`)}.

What is timed: ${n(opts.rows)} rows (${(size / 2 ** 20).toFixed(1)} MiB; a fifth list 2 endpoints, the rest get 2 role defaults) into a freshly
created, migrated database, ${opts.path === "http" ? "as the import page does it: `POST /api/v1/hosts/import?mode=preview`, then `mode=commit&sha256=`, each streaming the file up and reading the NDJSON progress to its last line, against the production server `tlsfleet start` runs (`bin/web-server.js`, `" + WEB_NODE_ARGS.join(" ") + "`). Peak RSS is the web process's" : "with `tlsfleet hosts import FILE --as EMAIL --preview`, then without `--preview`. Peak RSS is the CLI process tree's"}.

| run | preview s | commit s | total s | peak RSS MB | progress lines | hosts / endpoints | load (1/5/15 min) before → after |
|---|---|---|---|---|---|---|---|
${rows.join("\n")}

Median total ${total.median.toFixed(1)} s (range ${total.min.toFixed(1)}–${total.max.toFixed(1)}; preview ${preview.median.toFixed(1)} s, commit ${commit.median.toFixed(1)} s), peak RSS median ${peak.median.toFixed(0)} MB (max ${peak.max.toFixed(0)}): **${(ratio * 100).toFixed(0)}% of the 5 minute target** (${ratio.toFixed(2)}×, ${ratio <= 1 ? "met" : "NOT met"}).
`;
  if (opts.write) writeBenchmarkSection(SECTION, section);
  else console.log(`\n${section}`);
}

runBench(main);
