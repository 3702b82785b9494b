// `npm run bench:rollout` (node --conditions=react-server --import tsx scripts/bench/rollout.ts):
// fix and verify 50 lab Postfix hosts over SSH with a tlsfleet rollout, against ansible-playbook
// -f 50 doing only the change and a reload, in the same run on the same hosts (the remediation
// issue: tlsfleet at least 2x faster end to end while also verifying).
//
// Each round resets all 50 hosts to TLS 1.0-1.3 (not timed, checked on the wire), then times, in
// an order that alternates between rounds:
//   tlsfleet      requestRollout -> planned (the plan, timed apart), a second admin approves,
//                 then startRollout -> rollout succeeded with every host "verified" on the wire;
//                 an in-process worker (agents/worker startWorker) with 50 remediate slots, one
//                 wave of 100 %, no canary
//   ansible       the whole `ansible-playbook -f 50` process: `postconf -e` of the same four
//                 parameters, `postfix reload`; Debian's ansible-core defaults (no pipelining)
//   ansible+pipe  the same with ANSIBLE_PIPELINING=True (a common tuning), unless --no-pipelining
// After each tool the wire is probed (not timed) to say whether the fix took effect.
// A series runs on one layout: `--home own` (default) gives each host's root sessions a home of
// their own, as on the normal lab and a real server; `--home shared` this machine's /root
// (`rollout-bench-up --shared-home`: every SSH command's shell then runs root's ~/.bashrc, which
// here initialises pyenv); `--home both` runs one series after the other. After the last series, unless
// --no-components, the parts of tlsfleet's work are timed alone (SSH handshakes, the playbook's
// commands, the probes) and one host alone with each tool, to show where the time goes.
//
// Options: --rounds N (per series, default 3)  --home shared|own|both  --keep (leave the lab
// layout and the database)  --write (replace this series' part of the BENCHMARKS.md section)
// --no-pipelining  --no-components
//
// Needs root (the lab), ansible-core, and PostgreSQL: DATABASE_URL's server (CI style:
// postgresql://postgres@127.0.0.1:5432/test), else the embedded one like bench:ui. The database
// `tlsfleet_bench_rollout` on it is dropped and created.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TaskHelpers, TaskKind } from "../../agents/tasks/runner";
import type { RemoteSession } from "../../agents/transport/types";
import { loadRolloutBenchLayout, type LabHost, type RolloutBenchLayout } from "../../tests/lab/fleet";
import { ensureCredentialKeyPair } from "../../lib/credentials/key-files";
import { benchDatabase, dropDatabase, recreateDatabase } from "./database";
import { benchOptions, machineDescription, median, ROOT, writeBenchmarkSection } from "./support";
import { ansibleVersion, FIX_PARAMETERS, FIX_VALUE, runAnsible, writeAnsibleFiles, type AnsibleRun } from "./rollout-ansible";

const LAB = path.join(ROOT, "tests", "lab", "lab.sh");
const DB_NAME = "tlsfleet_bench_rollout";
const SECTION = "## Fleet fix over SSH: tlsfleet rollout vs ansible-playbook (remediation issue)";
const COMMAND = "npm run bench:rollout (node --conditions=react-server --import tsx scripts/bench/rollout.ts)";
const TARGET_RATIO = 2;

const requester = { id: "00000000-0000-4000-8000-0000000000b1", email: "bench-requester@example.test", role: "admin" as const };
const approver = { id: "00000000-0000-4000-8000-0000000000b2", email: "bench-approver@example.test", role: "admin" as const };
const actor = { id: requester.id, email: requester.email, role: requester.role };

// One wave of every host at once, nothing held back: the shape closest to `ansible -f 50`. The
// budget lets a failing host show up as a failure instead of halting the others.
const ROLLOUT_SETTINGS = { canarySize: 0, wave: { kind: "percent" as const, percent: 100 }, maxConcurrency: 50, budget: { percent: 100, absolute: 50 } };
const WORKER_SLOTS = 50;

const log = (s: string) => console.log(`bench:rollout ${s}`);

function args() {
  const o = benchOptions();
  const home = o.value("--home") ?? "own";
  if (home !== "shared" && home !== "own" && home !== "both") throw new Error("--home is shared, own or both");
  return { rounds: Math.max(1, o.number("--rounds", 3)), home: (home === "both" ? ["shared", "own"] : [home]) as Home[], keep: o.has("--keep"), write: o.has("--write"), pipelining: !o.has("--no-pipelining"), components: !o.has("--no-components") };
}

// ---------------------------------------------------------------------------------------------
// what the machine did meanwhile

/** Busy and total jiffies of the whole machine (/proc/stat). */
function machineJiffies(): { busy: number; total: number } {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!;
  return { busy, total: busy + f[3]! + f[4]! };
}

const HZ = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** CPU seconds (own + reaped children) of every process in the layout's namespaces: sshd and what
 *  it ran for the sessions, Postfix's master and its smtpd processes. */
function hostsCpuSeconds(layout: RolloutBenchLayout): number {
  let jiffies = 0;
  for (const h of layout.hosts) {
    const pids = spawnSync("ip", ["netns", "pids", h.namespace], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    for (const pid of pids) {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        jiffies += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
      } catch {
        // exited meanwhile: its parent's reaped-children counters hold it
      }
    }
  }
  return jiffies / HZ;
}

interface Sample {
  machine: { busy: number; total: number };
  hosts: number;
  load: number;
}
const sample = (layout: RolloutBenchLayout): Sample => ({ machine: machineJiffies(), hosts: hostsCpuSeconds(layout), load: os.loadavg()[0]! });
const busyPercent = (a: Sample, b: Sample) => (100 * (b.machine.busy - a.machine.busy)) / Math.max(1, b.machine.total - a.machine.total);

// ---------------------------------------------------------------------------------------------
// numbers

const spread = (xs: number[], digits = 1) => `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)})`;

type Home = "shared" | "own";
const HOME_LABEL: Record<Home, string> = { shared: "root home shared with this machine (its ~/.bashrc initialises pyenv)", own: "each host with a root home of its own, as on the normal lab and a real server" };

/** The layout, its sessions' root home as asked (rebuilt when it differs). */
function bringUp(home: Home): RolloutBenchLayout {
  log(`bringing up the rollout bench layout (50 Postfix hosts; ${HOME_LABEL[home]})`);
  lab(home === "own" ? ["rollout-bench-up"] : ["rollout-bench-up", "--shared-home"]);
  const layout = loadRolloutBenchLayout();
  if (layout.home !== home) throw new Error(`the rollout bench is up with a ${layout.home} root home, not ${home}`);
  return layout;
}

interface ToolRun {
  tool: string;
  series: Home;
  round: number;
  wallS: number;
  /** tlsfleet only: requestRollout -> planned. */
  planS?: number;
  cpuS: number;
  hostsCpuS: number;
  busy: number;
  load: number;
  /** Hosts the tool itself reports as done (tlsfleet: verified; ansible: both tasks changed). */
  reportedOk: number;
  /** Hosts whose port 25 rejects TLS 1.0 and 1.1 and accepts 1.2, probed afterwards. */
  wireFixed: number;
  breakdown?: Breakdown;
}

interface Breakdown {
  firstTaskS: number;
  lastTaskS: number;
  finishS: number;
  perHost: { connectCheck: number[]; apply: number[]; record: number[]; verify: number[]; total: number[] };
  planTask: number[];
}

// ---------------------------------------------------------------------------------------------

/** A fresh, empty DB_NAME on the bench's server. */
async function freshBenchDatabase(): Promise<{ url: string; stop: () => Promise<void> }> {
  const db = await benchDatabase(DB_NAME);
  await recreateDatabase(db.url, DB_NAME);
  return db;
}

function lab(argv: string[]) {
  const r = spawnSync("bash", [LAB, ...argv], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`bash tests/lab/lab.sh ${argv.join(" ")} failed (exit ${r.status})`);
}

async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i]!, i);
      }
    }),
  );
}

async function main() {
  const opts = args();
  const ansible = ansibleVersion();
  if (!ansible) {
    console.error("bench:rollout: ansible-playbook not found: apt-get install ansible-core");
    return 1;
  }
  if (process.getuid?.() !== 0) {
    console.error("bench:rollout: needs root (the lab's network namespaces)");
    return 1;
  }
  const started = new Date();
  const out = path.join(ROOT, "bench-results", `rollout-${started.toISOString().replace(/[-:]/g, "").slice(0, 15)}Z`);
  fs.mkdirSync(out, { recursive: true });

  let series: Home = opts.home[0]!;
  let layout = bringUp(series);
  let key = fs.readFileSync(layout.ssh.keyPath, "utf8");

  const db = await freshBenchDatabase();
  process.env.DATABASE_URL = db.url;
  // This process seals the lab credential and its in-process workers open it: both key halves.
  const keys = ensureCredentialKeyPair(path.join(out, "keys"));
  process.env.TLSFLEET_CREDENTIAL_PUBLIC_KEY = keys.publicKey;
  process.env.TLSFLEET_CREDENTIAL_PRIVATE_KEYS = keys.privateKeyFiles.join(",");
  // The worker logs a line per task at info; the bench prints its own.
  process.env.LOG_LEVEL ??= "warn";
  // 50 tasks at once: more connections than the default 20 (see TLSFLEET_DB_POOL_SIZE).
  process.env.TLSFLEET_DB_POOL_SIZE ??= "40";

  const { reloadEnv } = await import("../../lib/env");
  reloadEnv();
  const { migrate } = await import("../../lib/db/migrate");
  await migrate({ url: db.url });
  log(`database ${DB_NAME} created and migrated`);

  const { prisma, disconnectPrisma } = await import("../../lib/db");
  const { setSetting } = await import("../../lib/settings");
  const { createCredential } = await import("../../lib/credentials/service");
  const { createHost } = await import("../../lib/inventory/hosts");
  const { HostInput } = await import("../../lib/inventory/model");
  const { approveRollout, requestRollout, startRollout } = await import("../../lib/rollout/service");
  const { getRollout } = await import("../../lib/rollout/views");
  const { startWorker } = await import("../../agents/worker");
  const { scanTask } = await import("../../agents/tasks/scan");
  const { planTask } = await import("../../agents/tasks/plan");
  const { remediateTask } = await import("../../agents/tasks/remediate");
  const { rollbackTask } = await import("../../agents/tasks/rollback");
  const { openSshSession } = await import("../../agents/transport/ssh");
  const { postfixPlaybook } = await import("../../agents/playbooks/postfix");
  const { probeEndpoint, parseAllowList } = await import("../../lib/tls");
  const allowList = parseAllowList(["198.18.0.0/15"]);

  await setSetting(actor, "allowedTargets", ["198.18.0.0/15"]);
  const credential = await createCredential(actor, { name: "rollout-bench-root", kind: "ssh_key", username: layout.ssh.user, secret: key });
  // As an admin scopes it (docs/security.md "Credential scope"): the lab's range only.
  const { setCredentialScope } = await import("../../lib/credentials/scope");
  await setCredentialScope(actor, { credentialId: credential.id, hosts: [], groups: [], cidrs: ["198.18.0.0/15"] });
  const hostIds: string[] = [];
  for (const h of layout.hosts) {
    const created = await createHost(actor, HostInput.parse({ name: h.name, address: h.address, platform: "linux", roles: "postfix", transport: "ssh", port: "22", credentialName: "rollout-bench-root", endpoints: "25/smtp" }));
    hostIds.push(created.id);
  }
  /** Pinned the way an admin confirms a key: from the lab's own record of it (a rebuilt layout has new host keys). */
  async function pinHostKeys() {
    for (const [i, h] of layout.hosts.entries()) await prisma.host.update({ where: { id: hostIds[i] }, data: { pinnedKey: h.ssh.hostKeyFingerprint, pinnedAt: new Date() } });
  }
  await pinHostKeys();
  log(`${hostIds.length} hosts created with the lab key as credential and pinned host keys`);

  // Timings of each plan/remediate task, taken around the kinds' own run (nothing in them changes).
  interface TaskTiming {
    kind: string;
    host: string;
    start: number;
    tx: number[];
    end: number;
  }
  let timings: TaskTiming[] = [];
  const timed = (kind: TaskKind): TaskKind => ({
    ...kind,
    run: async (h: TaskHelpers) => {
      const t: TaskTiming = { kind: kind.kind, host: h.host.name, start: performance.now(), tx: [], end: 0 };
      timings.push(t);
      // remediate's guarded transactions, in order: before-state stored (after connect + check),
      // after-state stored (after apply), "verifying" (then the probes).
      const helpers: TaskHelpers = {
        ...h,
        guardedTx: (fn) => {
          t.tx.push(performance.now());
          return h.guardedTx(fn);
        },
      };
      try {
        return await kind.run(helpers);
      } finally {
        t.end = performance.now();
      }
    },
  });
  const worker = await startWorker({
    workerId: "bench-rollout",
    kinds: [scanTask(), timed(planTask({ concurrency: WORKER_SLOTS })), timed(remediateTask({ concurrency: WORKER_SLOTS })), rollbackTask()],
  });

  const session = (h: LabHost) =>
    openSshSession({ host: h.address, port: 22, hostLabel: h.name, credential: { kind: "ssh-key", username: layout.ssh.user, privateKey: key }, remoteOs: "linux", pinnedFingerprint: h.ssh.hostKeyFingerprint, allowList });

  /** Hosts whose port 25 shows the fix (TLS 1.0/1.1 rejected, 1.2 accepted) and the legacy state (TLS 1.0 accepted). */
  async function wire(hosts: readonly LabHost[] = layout.hosts): Promise<{ fixed: number; legacy: number }> {
    let fixed = 0;
    let legacy = 0;
    await eachLimit(hosts, 50, async (h) => {
      const p = (await probeEndpoint({ host: h.address, port: 25, service: "smtp" }, { allowList })).protocols;
      if (p.TLSv1 === "rejected" && p["TLSv1.1"] === "rejected" && p["TLSv1.2"] === "accepted") fixed++;
      if (p.TLSv1 === "accepted") legacy++;
    });
    return { fixed, legacy };
  }

  /** Hosts back to mx-legacy's values and reloaded (one command each); waits until the wire shows TLS 1.0 on all of them. */
  async function resetToLegacy(hosts: readonly LabHost[] = layout.hosts) {
    const assignments = FIX_PARAMETERS.map((p) => `'${p}=${layout.legacyParameters[p]}'`).join(" ");
    await eachLimit(hosts, 25, async (h) => {
      const s = await session(h);
      try {
        const r = await s.exec(["sh", "-c", `postconf -e ${assignments} && postfix reload`]);
        if (r.exitCode !== 0) throw new Error(`reset of ${h.name} failed: ${r.stderr}`);
      } finally {
        await s.close();
      }
    });
    for (let i = 0; i < 20; i++) {
      const w = await wire(hosts);
      if (w.legacy === hosts.length) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error("after the reset, not every host accepts TLS 1.0 on port 25");
  }

  const TERMINAL = ["succeeded", "failed", "halted", "cancelled"];
  async function rolloutState(id: string, until: (state: string) => boolean, timeoutMs = 600_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await prisma.rollout.findUnique({ where: { id }, select: { state: true } });
      if (r && until(r.state)) return r.state;
      if (Date.now() > deadline) throw new Error(`rollout ${id} still ${r?.state} after ${timeoutMs / 1000} s`);
      await new Promise((res) => setTimeout(res, 25));
    }
  }

  async function tlsfleetRound(round: number): Promise<ToolRun> {
    timings = [];
    const tRequest = performance.now();
    const { rolloutId } = await requestRollout(requester, { target: { hostIds }, goals: ["disable-legacy"], settings: ROLLOUT_SETTINGS });
    const planState = await rolloutState(rolloutId, (s) => s !== "planning");
    const planS = (performance.now() - tRequest) / 1000;
    const planned = (await getRollout(rolloutId))!;
    if (planState !== "planned" || planned.summary.changing !== layout.hosts.length) {
      throw new Error(`the plan is not 50 hosts to change: ${planState}, ${JSON.stringify(planned.summary)}; ${planned.hosts.filter((h) => h.state !== "planned").map((h) => `${h.hostName}: ${h.reason}`).join("; ")}`);
    }
    await approveRollout(approver, rolloutId, planned.planHash!);
    const cpu0 = process.cpuUsage();
    const s0 = sample(layout);
    const tStart = performance.now();
    await startRollout(requester, rolloutId);
    const state = await rolloutState(rolloutId, (s) => TERMINAL.includes(s));
    const tDone = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const s1 = sample(layout);
    const done = (await getRollout(rolloutId))!;
    const verified = done.hosts.filter((h) => h.state === "verified").length;
    if (state !== "succeeded" || verified !== layout.hosts.length) {
      log(`  tlsfleet: rollout ${state}, ${verified} verified; ${done.hosts.filter((h) => h.state !== "verified").map((h) => `${h.hostName} ${h.state}: ${h.reason}`).join("; ")}`);
    }
    const remediate = timings.filter((t) => t.kind === "remediate" && t.end > 0);
    const ok = remediate.filter((t) => t.tx.length >= 3);
    const breakdown: Breakdown = {
      firstTaskS: (Math.min(...remediate.map((t) => t.start)) - tStart) / 1000,
      lastTaskS: (Math.max(...remediate.map((t) => t.end)) - tStart) / 1000,
      finishS: (tDone - Math.max(...remediate.map((t) => t.end))) / 1000,
      perHost: {
        connectCheck: ok.map((t) => (t.tx[0]! - t.start) / 1000),
        apply: ok.map((t) => (t.tx[1]! - t.tx[0]!) / 1000),
        record: ok.map((t) => (t.tx[2]! - t.tx[1]!) / 1000),
        verify: ok.map((t) => (t.end - t.tx[2]!) / 1000),
        total: ok.map((t) => (t.end - t.start) / 1000),
      },
      planTask: timings.filter((t) => t.kind === "plan" && t.end > 0).map((t) => (t.end - t.start) / 1000),
    };
    const w = await wire();
    return {
      tool: "tlsfleet",
      series,
      round,
      wallS: (tDone - tStart) / 1000,
      planS,
      cpuS: (cpu.user + cpu.system) / 1e6,
      hostsCpuS: s1.hosts - s0.hosts,
      busy: busyPercent(s0, s1),
      load: s0.load,
      reportedOk: verified,
      wireFixed: w.fixed,
      breakdown,
    };
  }

  let ansibleFiles = writeAnsibleFiles(path.join(out, `ansible-${series}-home`), layout);
  async function ansibleRound(round: number, pipelining: boolean): Promise<ToolRun> {
    const s0 = sample(layout);
    const r: AnsibleRun = await runAnsible(ansibleFiles, { forks: 50, pipelining, logFile: path.join(out, `ansible${pipelining ? "-pipelining" : ""}-${series}-home-round${round}.log`) });
    const s1 = sample(layout);
    if (r.exitCode !== 0 || r.hostsOk !== layout.hosts.length) log(`  ansible exited ${r.exitCode}, ${r.hostsOk} hosts ok (log in ${path.relative(ROOT, out)})`);
    const w = await wire();
    return { tool: pipelining ? "ansible-playbook, pipelining" : "ansible-playbook", series, round, wallS: r.wallS, cpuS: r.cpuS, hostsCpuS: s1.hosts - s0.hosts, busy: busyPercent(s0, s1), load: s0.load, reportedOk: r.hostsOk, wireFixed: w.fixed };
  }

  const runs: ToolRun[] = [];
  const components: Partial<Record<Home, string[]>> = {};
  try {
    const tools: Array<(round: number) => Promise<ToolRun>> = [(n) => tlsfleetRound(n), (n) => ansibleRound(n, false), ...(opts.pipelining ? [(n: number) => ansibleRound(n, true)] : [])];
    for (const [index, home] of opts.home.entries()) {
      if (index > 0) {
        series = home;
        layout = bringUp(home);
        key = fs.readFileSync(layout.ssh.keyPath, "utf8");
        await pinHostKeys();
        ansibleFiles = writeAnsibleFiles(path.join(out, `ansible-${series}-home`), layout);
      }
      log(`series "${HOME_LABEL[home]}"`);
      for (let round = 1; round <= opts.rounds; round++) {
        // Interleaved: the order turns every round, so a machine that speeds up or slows down
        // during the run does not favour one tool.
        const order = tools.map((_, i) => (i + round - 1) % tools.length);
        for (const i of order) {
          await resetToLegacy();
          const r = await tools[i]!(round);
          runs.push(r);
          log(`round ${round}: ${r.tool.padEnd(29)} ${r.wallS.toFixed(2).padStart(6)} s${r.planS !== undefined ? ` (+ plan ${r.planS.toFixed(2)} s)` : ""}  cpu ${r.cpuS.toFixed(1)} s, hosts' cpu ${r.hostsCpuS.toFixed(1)} s, machine ${r.busy.toFixed(0)}% busy, load ${r.load.toFixed(1)}; reported ok ${r.reportedOk}/50, wire fixed ${r.wireFixed}/50`);
        }
      }
      components[home] = [...shellCosts(), ...(opts.components && index === opts.home.length - 1 ? await measureComponents() : [])];
    }
  } finally {
    await worker.stop();
    await disconnectPrisma();
  }

  /** What every SSH command costs on this machine, whatever the tool: a new connection, and the shell sshd starts. */
  function shellCosts(): string[] {
    const one = layout.hosts[0]!;
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) spawnSync("ssh", ["-F", layout.ssh.configPath, one.name, "true"]);
    const sshMs = (performance.now() - t0) / 10;
    // sshd runs every command as `bash -c COMMAND` (root's login shell), and bash started by sshd
    // reads ~/.bashrc; this machine's root ~/.bashrc initialises pyenv. Timed here as sshd starts it.
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "tlsfrb-home-"));
    const shell = (home: string) => {
      const env = { HOME: home, PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", SHLVL: "0", SSH_CLIENT: "198.18.3.254 40000 22" } as unknown as NodeJS.ProcessEnv;
      const t = performance.now();
      for (let i = 0; i < 10; i++) spawnSync("bash", ["-c", "true"], { env });
      return (performance.now() - t) / 10;
    };
    const withRc = shell(os.homedir());
    const without = shell(empty);
    fs.rmSync(empty, { recursive: true, force: true });
    return [
      `\`ssh HOST true\` with OpenSSH's client on ${one.name} (new connection, key auth, one command), one after another: ${sshMs.toFixed(0)} ms each`,
      `the shell sshd starts for every command, \`bash -c true\` as sshd starts it: with this machine's /root (its ~/.bashrc initialises pyenv) ${withRc.toFixed(0)} ms, with an empty home ${without.toFixed(0)} ms`,
    ];
  }

  /** tlsfleet's parts alone, outside the worker, and one host alone with each tool (the latency floor). */
  async function measureComponents(): Promise<string[]> {
    const lines: string[] = [];
    const time = async (what: string, fn: () => Promise<void>) => {
      const s0 = sample(layout);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await fn();
      const wall = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const s1 = sample(layout);
      const line = `${what}: ${wall.toFixed(2)} s wall, Node ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU, hosts' CPU ${(s1.hosts - s0.hosts).toFixed(1)} s, machine ${busyPercent(s0, s1).toFixed(0)}% busy`;
      log(`  ${line}`);
      lines.push(line);
      return wall;
    };
    const counted = (s: RemoteSession, calls: Array<{ argv: string; ms: number }>): RemoteSession => ({
      hostLabel: s.hostLabel,
      kind: s.kind,
      remoteOs: s.remoteOs,
      exec: async (argv, o) => {
        const t = performance.now();
        const r = await s.exec(argv, o);
        calls.push({ argv: argv.join(" "), ms: performance.now() - t });
        return r;
      },
      close: () => s.close(),
    });
    log("components of tlsfleet's work, each alone on all 50 hosts at once:");
    await resetToLegacy();
    await time("50 SSH sessions opened and closed at once (handshake, host-key pin, key auth)", async () => {
      await eachLimit(layout.hosts, 50, async (h) => void (await (await session(h)).close()));
    });
    const checkCalls: Array<{ argv: string; ms: number }> = [];
    await time("the postfix playbook's check (read-only) on 50 hosts at once over open sessions", async () => {
      const sessions = await Promise.all(layout.hosts.map((h) => session(h)));
      try {
        await Promise.all(sessions.map((s) => postfixPlaybook.check(counted(s, checkCalls))));
      } finally {
        await Promise.all(sessions.map((s) => s.close()));
      }
    });
    const applyCalls: Array<{ argv: string; ms: number }> = [];
    await time("its apply of the disable-legacy plan against a check just made (one shell: one postconf -e for the 4 parameters, postfix reload, read-back) on 50 hosts at once over open sessions", async () => {
      const sessions = await Promise.all(layout.hosts.map((h) => session(h)));
      try {
        await Promise.all(
          sessions.map(async (s) => {
            const state = await postfixPlaybook.check(s);
            await postfixPlaybook.apply(counted(s, applyCalls), postfixPlaybook.plan(state, "disable-legacy"), { before: state });
          }),
        );
      } finally {
        await Promise.all(sessions.map((s) => s.close()));
      }
    });
    const n = layout.hosts.length;
    lines.push(`SSH commands per host: ${checkCalls.length / n} for a check, ${applyCalls.length / n} for an apply; a remediate task runs a check and an apply (${(checkCalls.length + applyCalls.length) / n}), the plan task one check, so a rollout runs ${(2 * checkCalls.length + applyCalls.length) / n} per host`);
    await time("wire verification: port 25 of the 50 hosts probed at once (TLS 1.0-1.3, hello mode)", async () => {
      await eachLimit(layout.hosts, 50, async (h) => void (await probeEndpoint({ host: h.address, port: 25, service: "smtp" }, { allowList })));
    });

    const one = layout.hosts[0]!;
    await resetToLegacy([one]);
    const oneCalls: Array<{ argv: string; ms: number }> = [];
    await time(`one host alone (${one.name}), the remediate task's SSH work in sequence (connect, check, apply, close)`, async () => {
      const s = await session(one);
      try {
        const state = await postfixPlaybook.check(counted(s, oneCalls));
        await postfixPlaybook.apply(counted(s, oneCalls), postfixPlaybook.plan(state, "disable-legacy"), { before: state });
      } finally {
        await s.close();
      }
    });
    lines.push(`its ${oneCalls.length} remote shells: ${oneCalls.map((c) => `${c.ms.toFixed(0)} ms`).join(", ")} (check; writes + reload + read-back)`);
    await resetToLegacy([one]);
    const t0 = performance.now();
    const { rolloutId } = await requestRollout(requester, { target: { hostIds: [hostIds[0]!] }, goals: ["disable-legacy"], settings: ROLLOUT_SETTINGS });
    await rolloutState(rolloutId, (st) => st !== "planning");
    const planOne = (performance.now() - t0) / 1000;
    await approveRollout(approver, rolloutId, (await getRollout(rolloutId))!.planHash!);
    const t1 = performance.now();
    await startRollout(requester, rolloutId);
    const endState = await rolloutState(rolloutId, (st) => TERMINAL.includes(st));
    const applyOne = (performance.now() - t1) / 1000;
    lines.push(`one host alone, a tlsfleet rollout: start -> verified ${applyOne.toFixed(2)} s (${endState}), plan ${planOne.toFixed(2)} s`);
    for (const pipelining of [false, true]) {
      await resetToLegacy([one]);
      const r = await runAnsible(ansibleFiles, { forks: 50, pipelining, limit: one.name, logFile: path.join(out, `ansible-one-host${pipelining ? "-pipelining" : ""}-${series}-home.log`) });
      lines.push(`one host alone, ansible-playbook${pipelining ? " with pipelining" : ""}: ${r.wallS.toFixed(2)} s (CPU ${r.cpuS.toFixed(1)} s, ${r.hostsOk === 1 ? "ok" : "FAILED"})`);
    }
    await resetToLegacy();
    for (const l of lines.slice(-3)) log(`  ${l}`);
    return lines;
  }

  const section = report(runs, components, { started, ansible });
  fs.writeFileSync(path.join(out, "section.md"), section);
  fs.writeFileSync(path.join(out, "runs.json"), `${JSON.stringify(runs, null, 2)}\n`);
  log(`results in ${path.relative(ROOT, out)}/section.md`);
  if (opts.write) writeBenchmarkSection(SECTION, section, "series");

  if (!opts.keep) {
    await dropDatabase(db.url, DB_NAME);
    lab(["rollout-bench-down"]);
  } else {
    log(`kept: the rollout bench layout (npm run lab -- rollout-bench-down) and the database ${DB_NAME}`);
  }
  await db.stop();
  console.log(`\n${section}`);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// the section

function versionOf(cmd: string, argv: string[], re: RegExp): string {
  const r = spawnSync(cmd, argv, { encoding: "utf8" });
  return re.exec(`${r.stdout}${r.stderr}`)?.[1] ?? "?";
}

function report(runs: ToolRun[], components: Partial<Record<Home, string[]>>, meta: { started: Date; ansible: string }): string {
  const machine = machineDescription(`ansible-core ${meta.ansible}, ${versionOf("ssh", ["-V"], /(OpenSSH_[^\s,]+)/)}, Postfix ${versionOf("postconf", ["-d", "mail_version"], /= (\S+)/)}`);
  const seriesList = [...new Set(runs.map((r) => r.series))];
  const verdict = (x: number) => `${x.toFixed(2)}x (${x >= TARGET_RATIO ? "meets" : "misses"} >= ${TARGET_RATIO}x)`;
  const perSeries = seriesList.flatMap((series) => {
    const inSeries = runs.filter((r) => r.series === series);
    const tools = [...new Set(inSeries.map((r) => r.tool))];
    const of = (tool: string) => inSeries.filter((r) => r.tool === tool);
    const tf = of("tlsfleet");
    const rows = tools.map((tool) => {
      const rs = of(tool);
      const plan = rs.every((r) => r.planS !== undefined) ? spread(rs.map((r) => r.planS!), 2) : "-";
      return `| ${tool} | ${spread(rs.map((r) => r.wallS), 2)} | ${plan} | ${spread(rs.map((r) => r.cpuS))} | ${spread(rs.map((r) => r.hostsCpuS))} | ${rs.map((r) => `${r.reportedOk}`).join(", ")} | ${rs.map((r) => `${r.wireFixed}`).join(", ")} | ${rs.map((r) => `${r.busy.toFixed(0)}% / ${r.load.toFixed(1)}`).join(", ")} |`;
    });
    const ratios = tools
      .filter((t) => t !== "tlsfleet")
      .map((t) => {
        const a = median(of(t).map((r) => r.wallS));
        return `| ${t} | ${verdict(a / median(tf.map((r) => r.wallS)))} | ${verdict(a / median(tf.map((r) => r.wallS + (r.planS ?? 0))))} |`;
      });
    const b = tf.map((r) => r.breakdown!).filter(Boolean);
    const per = (k: keyof Breakdown["perHost"]) => spread(b.flatMap((x) => x.perHost[k]), 2);
    const allVerified = tf.every((r) => r.reportedOk === 50 && r.wireFixed === 50);
    return [
      `### Series: ${HOME_LABEL[series]} (\`${series === "own" ? "npm run bench:rollout" : "npm run bench:rollout -- --home shared"}\`)`,
      "",
      `Measured ${meta.started.toISOString().slice(0, 16).replace("T", " ")} UTC on ${machine}; ${new Set(inSeries.map((r) => r.round)).size} rounds, tools interleaved (the order turns every round), medians with (min-max).`,
      "",
      "| tool | wall s (timed part) | plan s | CPU s | hosts' CPU s | reported done, per round | wire fixed, per round | machine busy / load, per round |",
      "|---|---|---|---|---|---|---|---|",
      ...rows,
      "",
      `Ratio of medians, ansible's wall time over tlsfleet's (target: tlsfleet at least ${TARGET_RATIO}x faster); every host verified by tlsfleet in every round: ${allVerified ? "yes" : "**no**"}.`,
      "",
      "| vs | start -> all verified | plan + start -> all verified |",
      "|---|---|---|",
      ...ratios,
      "",
      "Where tlsfleet's time went (medians over the rounds and hosts, (min-max)), from timestamps around the worker's own task code:",
      "",
      ...(b.length
        ? [
            `- \`startRollout\` to the first remediate task running ${spread(b.map((x) => x.firstTaskS), 2)} s; to the last task's end ${spread(b.map((x) => x.lastTaskS), 2)} s; from there to the rollout \`succeeded\` ${spread(b.map((x) => x.finishS), 2)} s.`,
            `- Per host: load + SSH connect + check ${per("connectCheck")} s; apply (one shell: 4 writes, reload, read-back) ${per("apply")} s; after-state and log stored ${per("record")} s; verify on the wire ${per("verify")} s; the whole task ${per("total")} s.`,
            `- Plan tasks (read-only check per host): ${spread(b.flatMap((x) => x.planTask), 2)} s each.`,
          ]
        : ["- (no task timings)"]),
      ...(components[series]?.length ? ["", "Measured alone after the rounds (no database unless a rollout is named):", "", ...components[series]!.map((c) => `- ${c}`)] : []),
      "",
    ];
  });
  return [
    SECTION,
    "",
    `Command: \`${COMMAND}\`. It brings up the lab's rollout bench layout (\`npm run lab -- rollout-bench-up\`: 50 namespaces \`tlsfrb-01\`..\`tlsfrb-50\`, 198.18.3.1-50, each with its own sshd and a Postfix like mx-legacy accepting TLS 1.0-1.3 on port 25), creates and migrates a fresh database, creates the 50 hosts with the lab key as their credential and pinned host keys, and starts an in-process worker (\`startWorker\`, plan and remediate tasks with ${WORKER_SLOTS} slots each, default poll interval and probe options). Before every timed run all 50 hosts are reset to \`>=TLSv1\` and the wire is checked to accept TLS 1.0 everywhere (not timed).`,
    "",
    `- **tlsfleet**: \`startRollout\` until the rollout is \`succeeded\` with every host \`verified\` (one wave of 100 %, no canary, \`maxConcurrency\` 50): per host a new SSH session, the plan-out-of-date check, the before-state stored, then one remote shell with \`postconf -e\` x4, \`postfix reload\` and the read-back, then port 25 probed for TLS 1.0-1.3 and the evidence stored. The plan (\`requestRollout\` until \`planned\`: a read-only check of every host) is timed apart; approval by a second admin sits between the two and is not timed.`,
    `- **ansible-playbook**: the whole \`ansible-playbook -i inventory -f 50\` process (\`/usr/bin/time\`), \`gather_facts: false\`, \`ansible_python_interpreter=/usr/bin/python3\`, host keys checked against the lab's known_hosts, two \`ansible.builtin.command\` tasks: \`postconf -e\` of the same four parameters tlsfleet changes (${FIX_PARAMETERS.join(", ")} = \`${FIX_VALUE}\`) and \`postfix reload\`. Nothing is checked before or verified after. A fresh ControlPath folder per run, so no SSH connection is reused between runs. "pipelining" is the same with \`ANSIBLE_PIPELINING=True\`, a common tuning that is off by default.`,
    `- Two series, each from its own run: the hosts' root sessions with this machine's own /root, (sshd runs every command through root's login shell, and bash started by sshd reads ~/.bashrc, which here initialises pyenv), and with a root home of each host's own (the default: HOME=<host>/home, empty), which is what a real server has and what the normal lab uses.`,
    "",
    "\"CPU s\" is the tool's own: tlsfleet's Node process (worker, Prisma, this script's polling; PostgreSQL's server processes are not in it), ansible-playbook and every child it waited for (its forks and ssh clients). \"hosts' CPU s\" is everything in the 50 namespaces meanwhile (sshd and the commands it ran, Postfix, the smtpd processes that answered probes): on a real fleet that work is spread over 50 machines, here it runs on the same 2 cores as the tool. \"wire fixed\" is probed after each run, not timed: port 25 rejects TLS 1.0 and 1.1 and accepts 1.2. \"machine busy / load\" is the whole 2-core machine during the run and the 1-minute load average at its start (the machine is shared).",
    "",
    ...perSeries,
  ].join("\n");
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench:rollout failed: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  },
);
