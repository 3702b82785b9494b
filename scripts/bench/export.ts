// `npm run bench:export`: the compliance evidence export (/api/v1/hosts/evidence, one row per
// host x endpoint x TLS version) of 50,000 hosts, 10 times back to back, timed to the last byte,
// with the peak resident memory of the web process. The server is the one `tlsfleet start` runs:
// bin/web-server.js with the same Node options (WEB_NODE_ARGS in bin/commands/start.ts).
//
// Options:
//   --hosts N      hosts to seed (default 50000; ~2 endpoints each, 10 probe results per endpoint)
//   --exports N    back-to-back exports (default 10)
//   --format F     csv (default) or json
//   --as-of T      export as of T ("2026-11-30 00:00 UTC") instead of now
//   --port N       port for the web server (default 3211)
//   --reseed       drop and seed the bench database even when it already holds the data
//   --node-arg A   run the web server with this Node option instead of WEB_NODE_ARGS (repeatable;
//                  for trying limits before changing bin/commands/start.ts)
//   --write        add the result row to the "Compliance evidence export" section of BENCHMARKS.md
//
// Database: `tlsfleet_bench_export` on DATABASE_URL's server, or on the embedded PostgreSQL.
// Needs a production build (`npx next build`).
import { type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type pg from "pg";
import { benchDatabase, prepareSeededDatabase } from "./database";
import { sampleRss, treeHwmMb, treeRssMb } from "./ui-http";
import { benchOptions, machineDescription, percentile, ROOT, signInAsAdmin, startWebServer, stopWebServer, writeBenchmarkSection, runBench } from "./support";
import { WEB_NODE_ARGS } from "../../bin/commands/start";

const WEB_SERVER = path.join(ROOT, "bin", "web-server.js");
const DB = "tlsfleet_bench_export";
const SECTION = "## Compliance evidence export at 50,000 hosts (issue 11)";
const TABLE_HEAD = "| export | hosts | runs | MiB each | p50 ms | max ms | web CPU s (p50) | idle RSS MB | peak RSS MB | load | ≤ 5 s at ≤ 300 MB |\n|---|---|---|---|---|---|---|---|---|---|---|";

function args() {
  const o = benchOptions();
  return {
    hosts: o.number("--hosts", 50_000),
    exports: o.number("--exports", 10),
    format: o.value("--format") ?? "csv",
    asOf: o.value("--as-of"),
    port: o.number("--port", 3211),
    reseed: o.has("--reseed"),
    nodeArgs: o.all("--node-arg"),
    write: o.has("--write"),
  };
}

const log = (s: string) => console.log(`bench:export ${s}`);

/** CPU seconds (user + system) a process has used: /proc/<pid>/stat fields 14 and 15, in clock ticks (100 per second on Linux). */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** The export also reads config snapshots and exceptions: one snapshot per host, a few exceptions. */
async function seedEvidence(c: pg.Client) {
  await c.query(`INSERT INTO "ConfigSnapshot" ("hostId", "takenAt", playbook, state, raw)
    SELECT id, now() - interval '1 day', CASE WHEN platform = 'windows' THEN 'windows-schannel' ELSE 'postfix' END,
           json_build_object('legacyEnabled', false, 'tls12Enabled', true, 'summary', 'smtpd_tls_protocols = >=TLSv1.2, smtpd_tls_mandatory_protocols = >=TLSv1.2'), ''
    FROM "Host"`);
  await c.query(`INSERT INTO "Exception" (id, "hostId", "endpointPort", version, justification, "expiresAt", "requestedById", "approvedById", "approvedAt")
    SELECT gen_random_uuid(), h.id, 25, 'TLSv1', 'Legacy point-of-sale terminals until the 2027 upgrade', now() + interval '60 days', u.id, u.id, now() - interval '2 days'
    FROM "Host" h JOIN "HostStatus" s ON s."hostId" = h.id CROSS JOIN (SELECT id FROM "User" LIMIT 1) u WHERE s.status = 'excepted'`);
  await c.query("ANALYZE");
}

let webOutput = "";

function startWeb(port: number, dbUrl: string, nodeArgs: string[]): Promise<ChildProcess> {
  return startWebServer({
    entry: [WEB_SERVER],
    nodeArgs,
    port,
    base: `http://127.0.0.1:${port}`,
    databaseUrl: dbUrl,
    env: { LISTEN_HOST: "127.0.0.1", TLSFLEET_SECRET_KEY: randomBytes(32).toString("hex") },
    onOutput: (d) => (webOutput = (webOutput + d).slice(-20_000)),
  });
}

async function main() {
  const opts = args();
  if (!fs.existsSync(path.join(ROOT, ".next", "BUILD_ID"))) throw new Error("no production build: run `npx next build` first");
  const db = await benchDatabase(DB);
  let web: ChildProcess | null = null;
  try {
    await prepareSeededDatabase(db.url, DB, opts, { log, afterSeed: seedEvidence });
    const nodeArgs = opts.nodeArgs.length ? opts.nodeArgs : WEB_NODE_ARGS;
    web = await startWeb(opts.port, db.url, nodeArgs);
    // Interrupted (Ctrl-C, a timeout): the web server must not outlive the benchmark.
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => {
      web?.kill("SIGTERM");
      process.exit(130);
    });
    const base = `http://127.0.0.1:${opts.port}`;
    const session = await signInAsAdmin(base);
    await session.get("/hosts");
    const pid = web.pid!;
    const idle = treeRssMb(pid);
    log(`web server ${nodeArgs.join(" ")} bin/web-server.js, idle RSS ${idle.toFixed(0)} MB`);
    const query = new URLSearchParams({ format: opts.format, ...(opts.asOf ? { asOf: opts.asOf } : {}) });
    const url = `/api/v1/hosts/evidence?${query}`;
    // CPU time of the web process per export: unlike wall time, it does not grow with other load on the machine.
    const runs: Array<{ ms: number; bytes: number; peak: number; cpu: number }> = [];
    const sampler = sampleRss(pid);
    for (let i = 0; i < opts.exports; i++) {
      const one = sampleRss(pid);
      const cpu0 = cpuSeconds(pid);
      const r = await session.get(url);
      const peak = one.stop();
      const cpu = cpuSeconds(pid) - cpu0;
      if (r.status !== 200) throw new Error(`export answered HTTP ${r.status}`);
      runs.push({ ms: r.ms, bytes: r.bytes, peak, cpu });
      log(`  export ${i + 1}: ${r.ms.toFixed(0)} ms, web CPU ${cpu.toFixed(1)} s, ${(r.bytes / 2 ** 20).toFixed(1)} MiB, peak RSS ${peak.toFixed(0)} MB`);
    }
    const peakAll = sampler.stop();
    const hwm = treeHwmMb(pid);
    const ms = runs.map((r) => r.ms);
    const ok = Math.max(...ms) <= 5000 && peakAll <= 300;
    const row = `| ${opts.format.toUpperCase()}${opts.asOf ? ` as of ${opts.asOf}` : ""}, \`${nodeArgs.join(" ")}\` | ${opts.hosts.toLocaleString("en")} | ${runs.length} | ${(runs[0].bytes / 2 ** 20).toFixed(1)} | ${percentile(ms, 50).toFixed(0)} | ${Math.max(...ms).toFixed(0)} | ${percentile(runs.map((r) => r.cpu), 50).toFixed(1)} | ${idle.toFixed(0)} | ${peakAll.toFixed(0)} (VmHWM ${hwm.toFixed(0)}) | ${os.loadavg()[0].toFixed(1)} | ${ok ? "met" : "**missed**"} |`;
    console.log(`\n${TABLE_HEAD}\n${row}\n`);
    if (opts.write) {
      const header = `${SECTION}\n\n\`npm run bench:export\` (${machineDescription()}, ${new Date().toISOString().slice(0, 10)}): the web server as \`npm start\` runs it (\`node ${WEB_NODE_ARGS.join(" ")} bin/web-server.js\`; a row naming other options is an experiment), ${opts.exports} exports of every host back to back, each timed to the last byte; RSS is the web process's VmRSS sampled every 20 ms.\n\n${TABLE_HEAD}\n`;
      writeBenchmarkSection(SECTION, row, "row", `${header}${row}\n`);
    }
  } finally {
    if (web) await stopWebServer(web);
    await db.stop();
  }
}

runBench(main, () => webOutput);
