// Two workers against one (issue 12): one scan job over the bench fleet (250 addresses, a
// Postfix on 25 and an nginx on 443 on each) through the lab's 25 ms delay relay (50 ms RTT),
// run by 1 worker process and then by 2, several rounds each, interleaved.
//
//   npm run bench:workers [-- --fleet distinct-servers|one-server|both] [--rounds 3] [--workers-concurrency 32] [--write]
//
// --fleet (default distinct-servers): which bench layout (tests/lab/lab.mjs upBench). In
// "distinct-servers" (`bench-up --distinct-servers`) every Postfix address greets with its own
// name, so the fleet is 250 mail servers with a budget of 40 each: worker scaling, the issue's
// >= 1.8x target. In "one-server" all 250 greet as one server with one budget of 40 that the
// workers share: the budget check (two workers cannot be faster there, and must not open more).
// "both" runs distinct-servers and then one-server and writes both tables.
//
// Needs root (the lab) and PostgreSQL (DATABASE_URL's server, or the embedded one). Run it when no
// other checkout uses the lab and nothing else loads the machine (it shares the cores). Per run:
// a fresh scan job (maxConcurrency 256, so the job's cap is not what limits the workers), real
// `node bin/tlsfleet worker` processes that are started and registered before the job is created,
// wall time from the job's creation to its end, every endpoint's answer checked (no unknown cell,
// every version accepted as the bench servers are configured), and the connections open to
// Postfix, in all and per listener address, sampled in the bench namespace with `ss` every 100 ms.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchDatabase, recreateDatabase } from "./database";
import { benchOptions, machineDescription, median, ROOT, writeBenchmarkSection, runBench } from "./support";
import { machineCpuSeconds, processCpuSeconds, treeCpuSeconds } from "./ui-http";
import { loadBenchLayout } from "../../tests/lab/fleet";
import { waitFor } from "../../tests/support/wait";

const SECTION = "## Two workers (issue 12)";
const DB_NAME = "bench_workers";
const BENCH_NS = "tlsf-bench";
const TARGET_RATIO = 1.8;
const COMMAND = "npm run bench:workers -- --fleet both --write";
const FLEETS = ["distinct-servers", "one-server"] as const;
type Fleet = (typeof FLEETS)[number];
const actor = { id: null, email: "bench-workers@example.test" };
const opts = benchOptions();
const ROUNDS = opts.number("--rounds", 3);
const WORKER_CONCURRENCY = opts.number("--workers-concurrency", 32);
const FLEET_ARG = opts.value("--fleet") ?? "distinct-servers";
const fleets: Fleet[] = FLEET_ARG === "both" ? [...FLEETS] : FLEETS.includes(FLEET_ARG as Fleet) ? [FLEET_ARG as Fleet] : [];
if (fleets.length === 0) throw new Error(`--fleet ${FLEET_ARG}: one of ${FLEETS.join(", ")}, both`);
const log = (line: string) => console.error(`bench:workers: ${line}`);


function load1(): number {
  return Number(fs.readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

/**
 * CPU seconds so far of the bench namespace's processes by kind: Postfix (master with its reaped
 * children, smtpd, tlsmgr, anvil, ...), nginx, and node (the delay relay). Summed over the
 * processes alive now, each with its reaped children, so an smtpd that exited between two
 * readings still counts (in master's cutime) and the difference of two readings is the CPU used.
 */
function benchNamespaceCpu(): { postfix: number; nginx: number; relay: number } {
  const r = spawnSync("ip", ["netns", "pids", BENCH_NS], { encoding: "utf8" });
  const out = { postfix: 0, nginx: 0, relay: 0 };
  for (const pid of r.stdout.split("\n").filter(Boolean)) {
    try {
      const comm = fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      out[comm === "nginx" ? "nginx" : comm === "node" ? "relay" : "postfix"] += processCpuSeconds(Number(pid));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/**
 * Established connections in the bench namespace whose local port is in `ports` (the servers'
 * side), and for port 25 the most on any one local address (one listener, in distinct-servers one
 * server).
 */
function serverConnections(ports: number[]): { counts: Record<number, number>; maxPerPostfixAddress: number } {
  const r = spawnSync("ip", ["netns", "exec", BENCH_NS, "ss", "-Htn", "state", "established"], { encoding: "utf8" });
  const counts: Record<number, number> = Object.fromEntries(ports.map((p) => [p, 0]));
  const perAddress = new Map<string, number>();
  for (const line of r.stdout.split("\n")) {
    const local = line.trim().split(/\s+/)[2];
    if (!local) continue;
    const port = Number(local.slice(local.lastIndexOf(":") + 1));
    if (port in counts) counts[port]!++;
    if (port === 25) {
      const address = local.slice(0, local.lastIndexOf(":"));
      perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    }
  }
  return { counts, maxPerPostfixAddress: Math.max(0, ...perAddress.values()) };
}

interface Run {
  fleet: Fleet;
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
  maxPostfixPerAddress: number;
  maxRelaySmtp: number;
  /** From the job's creation to the first task's start (the workers' poll), and to the last task's end. */
  firstStartS: number;
  lastEndS: number;
  /** CPU seconds of the worker processes over the run, divided by the wall time: cores they used. */
  workerCores: number;
  /** The same for the bench servers' side: Postfix, nginx, the delay relay. */
  serverCores: { postfix: number; nginx: number; relay: number };
  /** Host tasks running at once (from their startedAt/finishedAt): most, and on average over the run; a task's mean duration. */
  tasksAtOnceMax: number;
  tasksAtOnceMean: number;
  taskMeanS: number;
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


/** Brings up the bench layout of `fleet` (lab.mjs rebuilds it when the other one is up) and reads its manifest. */
function benchUp(fleet: Fleet) {
  const args = fleet === "distinct-servers" ? ["bench-up", "--distinct-servers"] : ["bench-up"];
  const lab = spawnSync("bash", [path.join(ROOT, "tests", "lab", "lab.sh"), ...args], { stdio: ["ignore", "inherit", "inherit"] });
  if (lab.status !== 0) throw new Error(`npm run lab -- ${args.join(" ")} failed`);
  const manifest = loadBenchLayout();
  if (manifest.layout !== fleet) throw new Error(`bench.json says layout ${manifest.layout}, wanted ${fleet}`);
  return manifest;
}

async function main() {
  if (process.getuid?.() !== 0) throw new Error("needs root: the bench lab runs in network namespaces");
  let manifest = benchUp(fleets[0]!);

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
  const runOnce = async (fleet: Fleet, workers: number, round: number) => {
    await prisma.$executeRaw`DELETE FROM "WorkerPresence"`;
    // A budget learned in an earlier run (a refusal) must not slow this one.
    await prisma.$executeRaw`DELETE FROM "ServerBudget"`;
    const procs = Array.from({ length: workers }, (_, i) => startWorkerProcess(db.url, `worker ${i + 1}`));
    try {
      await waitFor("the workers to start", () => procs.every((p) => p.output().includes("worker started")), 120_000, 200).catch((err: Error) => {
        throw new Error(`${err.message}\n${procs.map((p) => p.output()).join("\n")}`);
      });
      // Quiet for a moment after the start-up (tsx compiling) before the clock runs.
      await new Promise((r) => setTimeout(r, 3_000));
      const load = load1();
      const [b0, t0] = machineCpuSeconds();
      const cpu0 = procs.reduce((sum, p) => sum + treeCpuSeconds(p.child.pid!), 0);
      const ns0 = benchNamespaceCpu();
      let maxPostfix = 0;
      let maxPostfixPerAddress = 0;
      let maxRelaySmtp = 0;
      let maxNginx = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const { counts: c, maxPerPostfixAddress } = serverConnections([25, smtpPort, 443]);
          maxPostfixPerAddress = Math.max(maxPostfixPerAddress, maxPerPostfixAddress);
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
      const [b1, t1] = machineCpuSeconds();
      const cpu1 = procs.reduce((sum, p) => sum + treeCpuSeconds(p.child.pid!), 0);
      const ns1 = benchNamespaceCpu();
      const tasks = await prisma.jobTask.findMany({ where: { jobId }, select: { state: true, log: true, startedAt: true, finishedAt: true } });
      const created = job.createdAt.getTime();
      const starts = tasks.flatMap((t) => (t.startedAt ? [t.startedAt.getTime()] : []));
      const ends = tasks.flatMap((t) => (t.finishedAt ? [t.finishedAt.getTime()] : []));
      const spans = tasks.flatMap((t) => (t.startedAt && t.finishedAt ? [[t.startedAt.getTime(), t.finishedAt.getTime()] as const] : []));
      const events = spans.flatMap(([a, b]) => [[a, 1], [b, -1]] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      let atOnce = 0;
      let tasksAtOnceMax = 0;
      for (const [, d] of events) tasksAtOnceMax = Math.max(tasksAtOnceMax, (atOnce += d));
      const busyMs = spans.reduce((sum, [a, b]) => sum + (b - a), 0);
      const results = await prisma.probeResult.findMany({ where: { jobId }, select: { protocols: true } });
      const versions = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
      const outcomes = results.map((r) => versions.map((v) => (r.protocols as Record<string, { outcome: string }>)[v]?.outcome));
      const perWorker = new Map<string, number>();
      for (const t of tasks) {
        const w = /attempt 1 on (\S+)/.exec(t.log)?.[1] ?? "?";
        perWorker.set(w, (perWorker.get(w) ?? 0) + 1);
      }
      const run: Run = {
        fleet,
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
        maxPostfixPerAddress,
        maxRelaySmtp,
        firstStartS: (Math.min(...starts) - created) / 1000,
        lastEndS: (Math.max(...ends) - created) / 1000,
        workerCores: (cpu1 - cpu0) / wallS,
        tasksAtOnceMax,
        tasksAtOnceMean: busyMs / (Math.max(...ends) - Math.min(...starts)),
        taskMeanS: busyMs / spans.length / 1000,
        serverCores: { postfix: (ns1.postfix - ns0.postfix) / wallS, nginx: (ns1.nginx - ns0.nginx) / wallS, relay: (ns1.relay - ns0.relay) / wallS },
        maxNginx,
        tasksPerWorker: [...perWorker.values()].sort((a, b) => b - a),
      };
      runs.push(run);
      log(`${fleet}, round ${round}, ${workers} worker(s): ${wallS.toFixed(1)} s (first task started at ${run.firstStartS.toFixed(2)} s, last ended at ${run.lastEndS.toFixed(2)} s), job ${job.state}, ${run.succeeded}/${run.tasks} tasks, ${run.asConfigured}/${endpointCount} endpoints as configured, ${run.unknownCells} unknown cells, max Postfix sessions ${maxPostfix} (most on one address ${maxPostfixPerAddress}; relay side ${maxRelaySmtp}), nginx ${maxNginx}, tasks per worker ${run.tasksPerWorker.join("/")}, tasks at once max ${tasksAtOnceMax} mean ${run.tasksAtOnceMean.toFixed(1)}, task mean ${run.taskMeanS.toFixed(2)} s, workers used ${run.workerCores.toFixed(2)} cores (servers: Postfix ${run.serverCores.postfix.toFixed(2)}, nginx ${run.serverCores.nginx.toFixed(2)}, relay ${run.serverCores.relay.toFixed(2)}), load ${load}, machine ${run.machineBusy.toFixed(0)}% busy`);
    } finally {
      await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
        if (p.child.exitCode !== null || p.child.signalCode !== null) return resolve();
        p.child.once("exit", () => resolve());
        p.child.kill("SIGTERM");
      })));
    }
  };

  for (const fleet of fleets) {
    if (fleet !== fleets[0]) manifest = benchUp(fleet);
    for (let round = 1; round <= ROUNDS; round++) {
      // Interleaved: 1 then 2 in every round, so slow drifts of the shared machine hit both alike.
      await runOnce(fleet, 1, round);
      await runOnce(fleet, 2, round);
    }
  }

  const fmt = (x: number, d = 1) => x.toFixed(d);
  const range = (xs: number[], d = 1) => `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}-${fmt(Math.max(...xs), d)})`;
  const ratios = new Map<Fleet, number>();
  const tables = fleets.flatMap((fleet) => {
    const of = (n: number) => runs.filter((r) => r.fleet === fleet && r.workers === n);
    const ratio = median(of(1).map((r) => r.wallS)) / median(of(2).map((r) => r.wallS));
    ratios.set(fleet, ratio);
    const complete = runs.filter((r) => r.fleet === fleet).every((r) => r.unknownCells === 0 && r.asConfigured === endpointCount && r.succeeded === hostCount);
    const rows = [1, 2].map((n) => {
      const rs = of(n);
      const walls = rs.map((r) => r.wallS);
      return `| ${n} | ${range(walls)} | ${fmt(hostCount / median(walls))} | ${range(rs.map((r) => r.firstStartS), 2)} | ${Math.min(...rs.map((r) => r.asConfigured))}/${endpointCount}, ${Math.max(...rs.map((r) => r.unknownCells))} | ${Math.max(...rs.map((r) => r.maxPostfix))} / ${Math.max(...rs.map((r) => r.maxPostfixPerAddress))} | ${Math.max(...rs.map((r) => r.maxNginx))} | ${rs.map((r) => r.tasksPerWorker.join("/")).join(", ")} | ${Math.max(...rs.map((r) => r.tasksAtOnceMax))} / ${fmt(median(rs.map((r) => r.tasksAtOnceMean)))} | ${fmt(median(rs.map((r) => r.taskMeanS)), 2)} | ${range(rs.map((r) => r.workerCores), 2)} | ${fmt(median(rs.map((r) => r.serverCores.postfix)), 2)} / ${fmt(median(rs.map((r) => r.serverCores.nginx)), 2)} / ${fmt(median(rs.map((r) => r.serverCores.relay)), 2)} | ${fmt(median(rs.map((r) => r.machineBusy)), 0)}% / ${rs.map((r) => fmt(r.load1, 2)).join(", ")} |`;
    });
    const what =
      fleet === "distinct-servers"
        ? `**distinct-servers** (\`bench-up --distinct-servers\`: every Postfix address is a master.cf service of its own greeting as bench-mx-NNN.lab.invalid, 250 servers with a budget of 40 each): worker scaling, the issue's target.`
        : `**one-server** (\`bench-up\`: all 250 Postfix addresses greet as bench.lab.tlsfleet.test, one server with one budget of 40 that the workers share): the budget check; two workers must not open more, so they cannot be faster on the SMTP half.`;
    return [
      `### ${fleet}`,
      "",
      what,
      "",
      "| workers | wall s | hosts/s | first task started, s after the job | endpoints as configured, unknown cells (worst run) | Postfix sessions max: all / on one address | nginx connections, max | tasks per worker | host tasks at once: max / mean | task mean s | cores used by the workers | cores used by Postfix / nginx / relay | machine busy / load at start |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      `Two workers against one: ${fmt(ratio, 2)}x${fleet === "distinct-servers" ? ` (${ratio >= TARGET_RATIO ? "meets" : "misses"} the >= ${TARGET_RATIO}x target)` : " (the shared budget: about 1x expected)"}${complete ? "; every run answered every endpoint as configured" : "; NOT every run was complete (see the table)"}.`,
      "",
    ];
  });
  const section = [
    SECTION,
    "",
    `Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC on ${machineDescription()}; ${ROUNDS} rounds per fleet, 1 and 2 workers interleaved, medians (min-max).`,
    "",
    `Command: \`${fleets.length === FLEETS.length ? COMMAND : `npm run bench:workers -- --fleet ${fleets[0]} --write`}\` (scripts/bench/workers.ts), with no other benchmark running. It brings up the lab's bench layout, creates a fresh database with one host per bench address (${hostCount} hosts, ${endpointCount} endpoints: 10443/https and 10025/smtp, the ${2 * manifest.delay.perDirectionMs} ms RTT delay relay in front of nginx and Postfix), then per run starts 1 or 2 \`node bin/tlsfleet worker\` processes (TLSFLEET_WORKER_CONCURRENCY=${WORKER_CONCURRENCY} each), waits until they registered, and times one scan job of every host (maxConcurrency 256) from its creation to its end. "Postfix sessions" is the most established connections to Postfix's port 25 in the bench namespace at any 100 ms sample, in all and on the one listener address that had the most (from the relay, one per probe connection, each held 25 ms longer than the client held it). nginx sends no greeting: each of its addresses is a server of its own in both layouts (2 connections per address). "Cores used": CPU seconds over the run / its wall time, of the worker processes, and of the bench namespace's Postfix (master with its reaped smtpd children), nginx and delay relay processes; the rest of "machine busy" is PostgreSQL, this script and whatever else the shared machine runs.`,
    "",
    ...tables,
  ].join("\n").trimEnd();
  console.log(section);
  fs.mkdirSync(path.join(ROOT, "bench-results"), { recursive: true });
  fs.writeFileSync(path.join(ROOT, "bench-results", `workers-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}Z.json`), JSON.stringify({ runs, ratios: Object.fromEntries(ratios), hostCount, endpointCount, cpus: os.cpus().length }, null, 2));
  if (opts.has("--write")) writeBenchmarkSection(SECTION, section);
  await stopBoss();
  await disconnectPrisma();
  await db.stop();
}

runBench(main);
