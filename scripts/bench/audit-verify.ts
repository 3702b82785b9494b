// `npm run bench:audit` (node --conditions=react-server --import tsx scripts/bench/audit-verify.ts):
// builds a real hash chain of N audit events (default 100,000) with a signed checkpoint, then times
// `tlsfleet audit verify` (whole chain + checkpoints, in process and as the CLI), the worker's
// incremental verification, `tlsfleet audit export` and `verify --file`, and the Audit page's
// queries at that size.
//
// Options:
//   --events N   events to build (default 100000)
//   --runs N     timed runs of the in-process full verification (default 3; the median is shown)
//   --write      replace the "Audit chain verification" section of BENCHMARKS.md
//
// Database: `tlsfleet_bench_audit` (dropped and created) on DATABASE_URL's server, or on the
// embedded PostgreSQL under .data/bench when DATABASE_URL is not set. No network beyond it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { benchDatabase, dropDatabase, recreateDatabase } from "./database";
import { benchOptions, machineDescription, median, ROOT, timed, writeBenchmarkSection, runBench } from "./support";

const DB = "tlsfleet_bench_audit";
const SECTION = "## Audit chain verification (issue 11)";

function args() {
  const o = benchOptions();
  return { events: o.number("--events", 100_000), runs: o.number("--runs", 3), write: o.has("--write") };
}

const s = (ms: number) => (ms / 1000).toFixed(2);

async function main() {
  const opts = args();
  const { url, stop } = await benchDatabase(DB);
  await recreateDatabase(url, DB);
  const keyDir = mkdtempSync(path.join(os.tmpdir(), "tlsfleet-bench-audit-key-"));
  process.env.DATABASE_URL = url;
  process.env.TLSFLEET_AUDIT_KEY_DIR = keyDir;
  const { reloadEnv } = await import("../../lib/env");
  reloadEnv();
  const { migrate } = await import("../../lib/db/migrate");
  await migrate({ url });
  const { eventHash, GENESIS_HASH } = await import("../../lib/audit/chain");
  const { loadOrCreateAuditKeys } = await import("../../lib/audit/keys");
  const audit = await import("../../lib/audit/verify");
  const { listAuditEvents } = await import("../../lib/audit/list");
  const { verifyExport } = await import("../../lib/audit/export-format");
  const { disconnectPrisma } = await import("../../lib/db");
  const keys = loadOrCreateAuditKeys(keyDir);

  // The chain, hashed exactly as recordAudit does, written 1,000 rows per INSERT.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const start = Date.UTC(2026, 0, 1);
  let prev = GENESIS_HASH;
  const build = await timed(async () => {
    for (let base = 0; base < opts.events; base += 1000) {
      const values: unknown[] = [];
      const rows: string[] = [];
      for (let i = base; i < Math.min(base + 1000, opts.events); i++) {
        const e = { at: new Date(start + i * 1000), actor: `user${i % 300}@example.test`, actorId: null, action: `bench.action${i % 40}`, target: `host:h${i % 30000}.example.test`, details: { i, note: "bench" }, prevHash: prev };
        const hash = eventHash(e);
        const p = values.length;
        rows.push(`($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}, $${p + 5}, $${p + 6}, $${p + 7}, $${p + 8})`);
        values.push(i + 1, e.at, e.actor, e.action, e.target, JSON.stringify(e.details), e.prevHash, hash);
        prev = hash;
      }
      await client.query(`INSERT INTO "AuditEvent" (seq, at, actor, action, target, details, "prevHash", hash) VALUES ${rows.join(",")}`, values);
    }
    await client.query(`ANALYZE "AuditEvent"`);
  });
  await audit.createCheckpoint(keys);

  const fullRuns: number[] = [];
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  for (let r = 0; r < opts.runs; r++) {
    const run = await timed(() => audit.verifyAuditChain({ publicKey: keys.publicKey, full: true }));
    if (!run.value.ok || run.value.checked !== opts.events) throw new Error(`verification failed: ${JSON.stringify(run.value.problem)}`);
    fullRuns.push(run.ms);
  }
  clearInterval(sampler);

  const cli = await timed(async () => spawnSync(process.execPath, [path.join(ROOT, "bin/tlsfleet"), "audit", "verify"], { cwd: ROOT, env: { ...process.env }, encoding: "utf8" }));
  if (cli.value.status !== 0) throw new Error(`tlsfleet audit verify failed: ${cli.value.stdout}${cli.value.stderr}`);
  const helpOnly = await timed(async () => spawnSync(process.execPath, [path.join(ROOT, "bin/tlsfleet"), "audit", "--help"], { cwd: ROOT, encoding: "utf8" }));

  // The worker's hourly round: 1,000 new events since the last verification.
  const { recordAudit } = await import("../../lib/audit/log");
  for (let i = 0; i < 1000; i++) await recordAudit({ actor: "bench@example.test", action: "bench.tail", target: `n:${i}` });
  const incremental = await timed(() => audit.verifyAuditChain({ publicKey: keys.publicKey, full: false }));
  if (!incremental.value.ok) throw new Error("incremental verification failed");

  const file = path.join(keyDir, "export.json");
  const exported = await timed(() => audit.writeAuditExport(file, keys.publicKeyPem));
  const fileVerify = await timed(() => verifyExport(readFileSync(file, "utf8")));
  if (!fileVerify.value.ok) throw new Error("file verification failed");

  // Cold: the first call of each query shape in a process includes Prisma compiling it.
  const statusCold = await timed(() => audit.auditChainStatus());
  const status = await timed(() => audit.auditChainStatus());
  const firstPage = await timed(() => listAuditEvents({ actor: undefined, action: undefined, target: undefined, from: undefined, to: undefined, before: undefined, after: undefined }));
  const actorPage = await timed(() => listAuditEvents({ actor: "user17@example.test", action: undefined, target: undefined, from: undefined, to: undefined, before: BigInt(Math.floor(opts.events / 2)), after: undefined }));

  await client.end();
  await disconnectPrisma();
  const total = opts.events + 1000;
  const machine = machineDescription(`load ${os.loadavg()[0].toFixed(1)} at the end`);
  const lines = [
    SECTION,
    "",
    `Command: \`npm run bench:audit\` (scripts/bench/audit-verify.ts, ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC). Machine: ${machine}. PostgreSQL on the same machine.`,
    `Data: a real hash chain of ${opts.events.toLocaleString("en")} events (300 actors, 40 actions, 30,000 targets, small JSON details) and one signed checkpoint at its head. This machine is shared (2 cores), so times include waiting for CPU.`,
    "",
    "| what | events | time |",
    "|---|---|---|",
    `| build the chain (hash in Node, INSERT 1,000 rows at a time) | ${opts.events.toLocaleString("en")} | ${s(build.ms)} s |`,
    `| full verification in process (\`verifyAuditChain\`, chain + checkpoint; median of ${opts.runs}: ${fullRuns.map(s).join(", ")} s) | ${opts.events.toLocaleString("en")} | ${s(median(fullRuns))} s (${Math.round(opts.events / (median(fullRuns) / 1000)).toLocaleString("en")} events/s), peak RSS ${Math.round(peakRss / 2 ** 20)} MiB |`,
    `| \`tlsfleet audit verify\` (CLI, wall, incl. ~${s(helpOnly.ms)} s of CLI start-up) | ${opts.events.toLocaleString("en")} | ${s(cli.ms)} s |`,
    `| incremental verification (the worker's round: events since the last one) | 1,000 | ${s(incremental.ms)} s |`,
    `| \`tlsfleet audit export\` (streamed; file ${(statSync(file).size / 2 ** 20).toFixed(1)} MiB) | ${total.toLocaleString("en")} | ${s(exported.ms)} s |`,
    `| \`tlsfleet audit verify --file\` logic (parse + verify, no database) | ${total.toLocaleString("en")} | ${s(fileVerify.ms)} s |`,
    `| Audit page: chain status (latest verification, no walk), first call / next call | ${total.toLocaleString("en")} | ${statusCold.ms.toFixed(1)} ms / ${status.ms.toFixed(1)} ms |`,
    `| Audit page: first page / actor filter on a middle page (one query each) | ${total.toLocaleString("en")} | ${firstPage.ms.toFixed(1)} ms / ${actorPage.ms.toFixed(1)} ms |`,
    "",
  ];
  const section = lines.join("\n");
  console.log(section);
  if (opts.write) writeBenchmarkSection(SECTION, section);
  rmSync(keyDir, { recursive: true, force: true });
  await dropDatabase(url, DB);
  await stop();
}

runBench(main);
