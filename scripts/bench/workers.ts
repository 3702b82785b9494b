// Two workers against one (issue 12): one scan job over the bench fleet (250 addresses, a
// Postfix on 25 and an nginx on 443 on each) through the lab's 25 ms delay relay (50 ms RTT),
// run by 1 worker process and then by 2, several rounds each, interleaved.
//
//   npm run bench:workers [-- --rounds 3] [--workers-concurrency 32] [--write]
//
// Needs root (the lab) and PostgreSQL (DATABASE_URL's server, or the embedded one). Run it through
// /work/notes/lab-run.sh and under flock /work/notes/quiet.lock on the shared machine. Per run:
// a fresh scan job (maxConcurrency 256, so the job's cap is not what limits the workers), real
// `node bin/tlsfleet worker` processes that are started and registered before the job is created,
// wall time from the job's creation to its end, every endpoint's answer checked (no unknown cell,
// every version accepted as the bench servers are configured), and the connections open to the
// one Postfix server (all 250 addresses greet as one name: one server, one budget) sampled in the
// bench namespace with `ss` every 100 ms.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchDatabase, recreateDatabase } from "./database";
import { benchOptions, machineDescription, median, ROOT, writeBenchmarkSection } from "./support";

const SECTION = "## Two workers (issue 12)";
const DB_NAME = "bench_workers";
const BENCH_NS = "tlsf-bench";
const TARGET_RATIO = 1.8;
const COMMAND = "npm run bench:workers -- --write";
const actor = { id: null, email: "bench-workers@example.test" };
const opts = benchOptions();
const ROUNDS = opts.number("--rounds", 3);
const WORKER_CONCURRENCY = opts.number("--workers-concurrency", 32);
const log = (line: string) => console.error(`bench:workers: ${line}`);

const BenchManifest = (m: unknown) => m as { delayedEndpoints: Array<{ address: string; port: number; service: string }>; delay: { perDirectionMs: number } };

function load1(): number {
  return Number(fs.readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

/** Busy and total jiffies of the whole machine. */
function cpuJiffies(): [number, number] {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return [busy, busy + f[3]! + f[4]!];
}

/** Established connections in the bench namespace whose local port is `port` (the servers' side). */
function serverConnections(ports: number[]): Record<number, number> {
  const r = spawnSync("ip", ["netns", "exec", BENCH_NS, "ss", "-Htn", "state", "established"], { encoding: "utf8" });
  const counts: Record<number, number> = Object.fromEntries(ports.map((p) => [p, 0]));
  for (const line of r.stdout.split("\n")) {
    const local = line.trim().split(/\s+/)[2];
    const port = Number(local?.slice(local.lastIndexOf(":") + 1));
    if (port in counts) counts[port]!++;
  }
  return counts;
}

interface Run {
  workers: number;
  round: number;
  wallS: number;
  load1: number;
  machineBusy: number;
  tasks: number;
  succeeded: number;
  endpoints: number;
  unknownCells: number;
  asConfigured: number;
  maxPostfix: number;
  maxRelaySmtp: number;
  maxNginx: number;
  tasksPerWorker: number[];
}

function startWorkerProcess(databaseUrl: string, name: string): { child: ChildProcess; output: () => string } {
  let output = "";
  const child = spawn(process.execPath, [path.join(ROOT, "bin", "tlsfleet"), "worker"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: "info", NODE_ENV: "production", TLSFLEET_WORKER_CONCURRENCY: String(WORKER_CONCURRENCY), TLSFLEET_DB_POOL_SIZE: "40" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  return { child, output: () => `--- ${name} ---\n${output.split("\n").slice(-20).join("\n")}` };
}

async function waitFor<T>(what: string, fn: () => Promise<T | null | false | undefined> | T | null | false | undefined, timeoutMs: number, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error("needs root: the bench lab runs in network namespaces");
  const lab = spawnSync("bash", [path.join(ROOT, "tests", "lab", "lab.sh"), "bench-up"], { stdio: ["ignore", "inherit", "inherit"] });
  if (lab.status !== 0) throw new Error("npm run lab -- bench-up failed");
  const manifest = BenchManifest(JSON.parse(fs.readFileSync(path.join(ROOT, "tests", "lab", ".state", "bench.json"), "utf8")));

  const db = await benchDatabase(DB_NAME);
  await recreateDatabase(db.url, DB_NAME);
  process.env.DATABASE_URL = db.url;
  process.env.LOG_LEVEL ??= "warn";
  const { reloadEnv } = await import("../../lib/env");
  reloadEnv();
  const { migrate } = await import("../../lib/db/migrate");
  await migrate({ url: db.url });
  const { prisma, disconnectPrisma } = await import("../../lib/db");
  const { setSetting } = await import("../../lib/settings");
  const { createHost } = await import("../../lib/inventory/hosts");
  const { HostInput } = await import("../../lib/inventory/model");
  const { createScanJob } = await import("../../lib/jobs/scans");
  const { stopBoss } = await import("../../lib/jobs/queue");
  await setSetting(actor, "allowedTargets", ["198.19.0.0/16"]);

  // One host per bench address, with its two endpoints behind the delay relay.
  const byAddress = new Map<string, string[]>();
  for (const e of manifest.delayedEndpoints) byAddress.set(e.address, [...(byAddress.get(e.address) ?? []), `${e.port}/${e.service}`]);
  for (const [address, endpoints] of byAddress) {
    await createHost(actor, HostInput.parse({ name: `bench-${address.replaceAll(".", "-")}.bench.test`, address, platform: "linux", roles: "postfix", endpoints: endpoints.join(";") }));
  }
  const hostCount = byAddress.size;
  const endpointCount = manifest.delayedEndpoints.length;
  log(`${hostCount} hosts, ${endpointCount} endpoints (through the ${2 * manifest.delay.perDirectionMs} ms RTT relay)`);
  const smtpPort = manifest.delayedEndpoints.find((e) => e.service === "smtp")!.port;

  const runs: Run[] = [];
  const runOnce = async (workers: number, round: number) => {
    await prisma.$executeRaw`DELETE FROM "WorkerPresence"`;
    const procs = Array.from({ length: workers }, (_, i) => startWorkerProcess(db.url, `worker ${i + 1}`));
    try {
      await waitFor("the workers to start", () => procs.every((p) => p.output().includes("worker started")), 120_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}\n${procs.map((p) => p.output()).join("\n")}`);
      });
      // Quiet for a moment after the start-up (tsx compiling) before the clock runs.
      await new Promise((r) => setTimeout(r, 3_000));
      const load = load1();
      const [b0, t0] = cpuJiffies();
      let maxPostfix = 0;
      let maxRelaySmtp = 0;
      let maxNginx = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const c = serverConnections([25, smtpPort, 443]);
          maxPostfix = Math.max(maxPostfix, c[25]!);
          maxRelaySmtp = Math.max(maxRelaySmtp, c[smtpPort]!);
          maxNginx = Math.max(maxNginx, c[443]!);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const started = performance.now();
      const { jobId } = await createScanJob(actor, { all: true }, { maxConcurrency: 256 });
      const job = await waitFor("the scan job to finish", async () => {
        const j = await prisma.job.findUnique({ where: { id: jobId } });
        return j && ["succeeded", "failed", "cancelled", "halted"].includes(j.state) ? j : null;
      }, 600_000);
      const wallS = (performance.now() - started) / 1000;
      sampling = false;
      await sampler;
      const [b1, t1] = cpuJiffies();
      const tasks = await prisma.jobTask.findMany({ where: { jobId }, select: { state: true, log: true } });
      const results = await prisma.probeResult.findMany({ where: { jobId }, select: { protocols: true } });
      const versions = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
      const outcomes = results.map((r) => versions.map((v) => (r.protocols as Record<string, { outcome: string }>)[v]?.outcome));
      const perWorker = new Map<string, number>();
      for (const t of tasks) {
        const w = /attempt 1 on (\S+)/.exec(t.log)?.[1] ?? "?";
        perWorker.set(w, (perWorker.get(w) ?? 0) + 1);
      }
      const run: Run = {
        workers,
        round,
        wallS,
        load1: load,
        machineBusy: t1 > t0 ? (100 * (b1 - b0)) / (t1 - t0) : 0,
        tasks: tasks.length,
        succeeded: tasks.filter((t) => t.state === "succeeded").length,
        endpoints: results.length,
        unknownCells: outcomes.flat().filter((o) => o !== "accepted" && o !== "rejected").length,
        asConfigured: outcomes.filter((o) => o.every((x) => x === "accepted")).length,
        maxPostfix,
        maxRelaySmtp,
        maxNginx,
        tasksPerWorker: [...perWorker.values()].sort((a, b) => b - a),
      };
      runs.push(run);
      log(`round ${round}, ${workers} worker(s): ${wallS.toFixed(1)} s, job ${job.state}, ${run.succeeded}/${run.tasks} tasks, ${run.asConfigured}/${endpointCount} endpoints as configured, ${run.unknownCells} unknown cells, max Postfix sessions ${maxPostfix} (relay side ${maxRelaySmtp}), nginx ${maxNginx}, tasks per worker ${run.tasksPerWorker.join("/")}, load ${load}, machine ${run.machineBusy.toFixed(0)}% busy`);
    } finally {
      await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
        p.child.once("exit", () => resolve());
        p.child.kill("SIGTERM");
      })));
    }
  };

  for (let round = 1; round <= ROUNDS; round++) {
    // Interleaved: 1 then 2 in every round, so slow drifts of the shared machine hit both alike.
    await runOnce(1, round);
    await runOnce(2, round);
  }

  const of = (n: number) => runs.filter((r) => r.workers === n);
  const fmt = (x: number, d = 1) => x.toFixed(d);
  const one = median(of(1).map((r) => r.wallS));
  const two = median(of(2).map((r) => r.wallS));
  const ratio = one / two;
  const complete = runs.every((r) => r.unknownCells === 0 && r.asConfigured === endpointCount && r.succeeded === hostCount);
  const rows = [1, 2].map((n) => {
    const rs = of(n);
    const walls = rs.map((r) => r.wallS);
    return `| ${n} | ${fmt(median(walls))} (${fmt(Math.min(...walls))}-${fmt(Math.max(...walls))}) | ${fmt(hostCount / median(walls))} | ${Math.min(...rs.map((r) => r.asConfigured))}/${endpointCount}, ${Math.max(...rs.map((r) => r.unknownCells))} | ${Math.max(...rs.map((r) => r.maxPostfix))} | ${Math.max(...rs.map((r) => r.maxNginx))} | ${rs.map((r) => r.tasksPerWorker.join("/")).join(", ")} | ${fmt(median(rs.map((r) => r.machineBusy)), 0)}% / ${rs.map((r) => fmt(r.load1, 2)).join(", ")} |`;
  });
  const section = [
    SECTION,
    "",
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${machineDescription()}; ${ROUNDS} rounds, 1 and 2 workers interleaved, medians (min-max).`,
    "",
    `Command: \`${COMMAND}\` (scripts/bench/workers.ts) through /work/notes/lab-run.sh, under flock /work/notes/quiet.lock. It brings up the lab's bench layout, creates a fresh database with one host per bench address (${hostCount} hosts, ${endpointCount} endpoints: 10443/https and 10025/smtp, the ${2 * manifest.delay.perDirectionMs} ms RTT delay relay in front of nginx and Postfix), then per run starts 1 or 2 \`node bin/tlsfleet worker\` processes (TLSFLEET_WORKER_CONCURRENCY=${WORKER_CONCURRENCY} each), waits until they registered, and times one scan job of every host (maxConcurrency 256) from its creation to its end. "Postfix sessions" is the most established connections to Postfix's port 25 in the bench namespace at any 100 ms sample (from the relay, one per probe connection); all 250 addresses greet as one name, so they are one server with one budget of 40 shared by the workers. nginx sends no greeting: each of its addresses is a server of its own (2 connections per address per worker).`,
    "",
    "| workers | wall s | hosts/s | endpoints as configured, unknown cells (worst run) | Postfix sessions, max | nginx connections, max | tasks per worker | machine busy / load at start |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
    `Two workers against one: ${fmt(ratio, 2)}x (${ratio >= TARGET_RATIO ? "meets" : "misses"} the >= ${TARGET_RATIO}x target)${complete ? "; every run answered every endpoint as configured" : "; NOT every run was complete (see the table)"}.`,
  ].join("\n");
  console.log(section);
  fs.mkdirSync(path.join(ROOT, "bench-results"), { recursive: true });
  fs.writeFileSync(path.join(ROOT, "bench-results", `workers-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}Z.json`), JSON.stringify({ runs, hostCount, endpointCount, cpus: os.cpus().length }, null, 2));
  if (opts.has("--write")) writeBenchmarkSection(SECTION, section);
  await stopBoss();
  await disconnectPrisma();
  await db.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
