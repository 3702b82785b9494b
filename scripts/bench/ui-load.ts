// The load behind `bench:ui --under-load` (issue 12): a 10,000-host scan running on a real
// `tlsfleet worker` process while 20 signed-in viewers load pages, so the timed requests measure
// the web server as an ops team meets it during a fleet-wide scan.
//
// The scan's hosts are on loopback only (127.1.0.1-127.1.0.250, never another address): one
// legacy HTTPS endpoint each, a Node TLS server (tls-target.mjs) behind tests/lab/delay-relay.mjs
// (25 ms each way, 50 ms RTT), so the worker's tasks take as long as across a network and the scan
// is still running when the measurements end. 250 addresses, not one: the prober opens at most 2
// connections per address, so 10,000 hosts on 127.0.0.1 would be a scan of one server at 6 hosts/s. Those hosts (tag bench-load) exist for the run only: they
// are removed, with everything the scan wrote about them, when it ends and before it starts.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { machineCpuSeconds, processCpuSeconds, Session, treeCpuSeconds, type Timing } from "./ui-http";
import { BENCH_ADMIN, ROOT } from "./support";
import { forEachEvent } from "../../tests/support/event-stream";
import { waitFor } from "../../tests/support/wait";

export const LOAD_TAG = "bench-load";
/** The load hosts' addresses: ADDRESSES addresses in this loopback /24, 40 hosts each at 10,000. */
const LOOPBACK = "127.1.0.0/24";
const ADDRESSES = 250;
const address = (i: number) => `127.1.0.${i + 1}`;

export interface LoadOptions {
  base: string;
  dbUrl: string;
  /** The signed-in admin that starts the scan through the API, as a user would. */
  admin: Session;
  scanHosts: number;
  viewers: number;
  /** Each viewer waits this long on average (uniformly 0.5x to 1.5x) between two page loads. */
  thinkMs: number;
  /** Viewers that also keep the job's live event stream open (the job page does). */
  streams: number;
  /** The delay relay's port on each load address: the load hosts' endpoint. */
  relayPort: number;
  /** The web server's process, for its share of the CPU. */
  webPid: number;
  /** Pages the viewers go through in turn; "{job}" stands for the scan's job id. */
  pages: string[];
  log: (line: string) => void;
}

/** CPU seconds so far (user + system, with reaped children) of who shares the machine during the load. */
export interface CpuSnapshot {
  web: number;
  worker: number;
  /** The TLS target and the delay relay: the scanned "fleet", on the same cores here. */
  targets: number;
  postgres: number;
  /** The whole machine: busy and total seconds over all cores. */
  machineBusy: number;
  machineTotal: number;
}

function postgresCpu(): number {
  let total = 0;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/comm`, "utf8").trim().startsWith("postgres")) total += processCpuSeconds(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Cores each party used between two snapshots `seconds` apart. */
export function coresUsed(a: CpuSnapshot, b: CpuSnapshot, seconds: number) {
  const per = (k: "web" | "worker" | "targets" | "postgres") => (b[k] - a[k]) / seconds;
  return { web: per("web"), worker: per("worker"), targets: per("targets"), postgres: per("postgres"), machine: (b.machineBusy - a.machineBusy) / seconds, cores: (b.machineTotal - a.machineTotal) / seconds };
}

export interface ViewerPage extends Timing {
  page: string;
}

export interface RunningLoad {
  jobId: string;
  /** The scan's tasks so far. */
  progress(): Promise<{ state: string; finished: number; total: number }>;
  /** Page loads of the viewers so far (successful ones), and the failures as "page: why". */
  viewerPages(): { pages: ViewerPage[]; failures: string[]; events: number };
  cpu(): CpuSnapshot;
  /** Stops viewers, worker and targets, and removes the load hosts with what the scan wrote. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A child process whose last output is kept; resolves once a line matches `ready`. */
async function startChild(what: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; output: () => string; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  let match: RegExpExecArray | null = null;
  const keep = (d: Buffer) => {
    tail = (tail + d.toString()).slice(-8_000);
    match ??= ready.exec(tail);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const output = () => `--- ${what} (last output) ---\n${tail}`;
  await waitFor(`${what} to start`, () => {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}\n${output()}`);
    return match;
  }, 120_000, 100);
  return { child, output, match: match! };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(30_000).then(() => child.kill("SIGKILL"))]);
}

/** Deletes the load hosts and every row that refers to them (the foreign keys restrict). */
async function removeLoadHosts(c: pg.Client): Promise<number> {
  await c.query("BEGIN");
  try {
    const ids = `SELECT id FROM "Host" WHERE $1 = ANY(tags) AND name LIKE '%.bench-load.test'`;
    await c.query(`DELETE FROM "Job" WHERE id IN (SELECT DISTINCT "jobId" FROM "JobTask" WHERE "hostId" IN (${ids}))`, [LOAD_TAG]);
    await c.query(`DELETE FROM "ProbeResult" WHERE "endpointId" IN (SELECT id FROM "Endpoint" WHERE "hostId" IN (${ids}))`, [LOAD_TAG]);
    for (const table of ["Endpoint", "HostStatus", "StatusHistory"]) await c.query(`DELETE FROM "${table}" WHERE "hostId" IN (${ids})`, [LOAD_TAG]);
    const gone = await c.query(`DELETE FROM "Host" WHERE id IN (${ids})`, [LOAD_TAG]);
    await c.query("COMMIT");
    return gone.rowCount ?? 0;
  } catch (err) {
    await c.query("ROLLBACK");
    throw err;
  }
}

async function addLoadHosts(c: pg.Client, hosts: number, port: number): Promise<void> {
  await c.query("BEGIN");
  try {
    await c.query(
      `INSERT INTO "Host" (id, name, address, platform, roles, tags, transport, port, "createdAt", "updatedAt")
       SELECT gen_random_uuid(), 'load-' || lpad(n::text, 5, '0') || '.bench-load.test', '127.1.0.' || (n % ${ADDRESSES} + 1), 'linux', ARRAY['nginx'], ARRAY[$2], 'ssh', 22, now(), now()
       FROM generate_series(1, $1::int) n`,
      [hosts, LOAD_TAG],
    );
    await c.query(`INSERT INTO "HostStatus" ("hostId", status, explanation, "lastChangedAt") SELECT id, 'unknown', 'Never scanned', now() FROM "Host" WHERE $1 = ANY(tags) AND name LIKE '%.bench-load.test'`, [LOAD_TAG]);
    await c.query(`INSERT INTO "Endpoint" (id, "hostId", port, service, "tlsStart", "createdAt") SELECT gen_random_uuid(), id, $2, 'https', 'implicit', now() FROM "Host" WHERE $1 = ANY(tags) AND name LIKE '%.bench-load.test'`, [LOAD_TAG, port]);
    await c.query("COMMIT");
  } catch (err) {
    await c.query("ROLLBACK");
    throw err;
  }
}

/** Viewer accounts with the bench admin's password (each its own account, as 20 people are). */
async function viewerSessions(c: pg.Client, base: string, viewers: number): Promise<Session[]> {
  await c.query(
    `INSERT INTO "User" (id, email, name, role, "passwordHash", "updatedAt")
     SELECT gen_random_uuid(), 'bench-viewer-' || lpad(n::text, 2, '0') || '@example.test', 'Bench viewer ' || n, 'viewer', (SELECT "passwordHash" FROM "User" WHERE email = $1), now()
     FROM generate_series(1, $2::int) n
     ON CONFLICT (email) DO UPDATE SET "passwordHash" = EXCLUDED."passwordHash", role = 'viewer', "disabledAt" = NULL`,
    [BENCH_ADMIN.email, viewers],
  );
  const sessions: Session[] = [];
  for (let n = 1; n <= viewers; n++) {
    const s = new Session(base);
    await s.signIn(`bench-viewer-${String(n).padStart(2, "0")}@example.test`, BENCH_ADMIN.password);
    sessions.push(s);
  }
  return sessions;
}

export async function startLoad(o: LoadOptions): Promise<RunningLoad> {
  const c = new pg.Client({ connectionString: o.dbUrl });
  await c.connect();
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async () => {
    for (const f of cleanups.reverse()) await f().catch((err: unknown) => o.log(`load cleanup: ${err instanceof Error ? err.message : String(err)}`));
    cleanups.length = 0;
  };
  try {
    const leftovers = await removeLoadHosts(c);
    if (leftovers) o.log(`load: removed ${leftovers} load hosts an earlier run left`);
    cleanups.push(() => c.end());

    // The targets: a legacy TLS server, and the delay relay in front of it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-load-"));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=load.bench-load.test", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem")], { stdio: "ignore" });
    const target = await startChild("tls-target", [path.join(ROOT, "scripts", "bench", "tls-target.mjs"), path.join(dir, "cert.pem"), path.join(dir, "key.pem")], process.env, /tls-target listening (\d+)/);
    cleanups.push(() => stopChild(target.child));
    const forwards = Array.from({ length: ADDRESSES }, (_, i) => ["--forward", `${address(i)}:${o.relayPort}=127.0.0.1:${target.match[1]}`]).flat();
    const relay = await startChild("delay relay", [path.join(ROOT, "tests", "lab", "delay-relay.mjs"), "--delay", "25", ...forwards], process.env, new RegExp(`${address(ADDRESSES - 1).replaceAll(".", "\\.")}:${o.relayPort} -> .* ms each way`));
    cleanups.push(() => stopChild(relay.child));

    // The hosts, and loopback among the allowed targets for the run (as it was afterwards).
    await addLoadHosts(c, o.scanHosts, o.relayPort);
    cleanups.push(() => removeLoadHosts(c));
    const before = (await c.query<{ value: unknown }>(`SELECT value FROM "Setting" WHERE key = 'allowedTargets'`)).rows[0]?.value;
    const allowed = Array.isArray(before) ? (before as string[]) : [];
    if (!allowed.includes(LOOPBACK)) {
      await c.query(`INSERT INTO "Setting" (key, value, "updatedAt") VALUES ('allowedTargets', $1::jsonb, now()) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, "updatedAt" = now()`, [JSON.stringify([...allowed, LOOPBACK])]);
      cleanups.push(() => (before === undefined ? c.query(`DELETE FROM "Setting" WHERE key = 'allowedTargets'`) : c.query(`UPDATE "Setting" SET value = $1::jsonb WHERE key = 'allowedTargets'`, [JSON.stringify(before)])));
    }

    const worker = await startChild("tlsfleet worker", [path.join(ROOT, "bin", "tlsfleet"), "worker"], { ...process.env, DATABASE_URL: o.dbUrl, NODE_ENV: "production", LOG_LEVEL: "info" }, /worker started/);
    cleanups.push(() => stopChild(worker.child));

    // The scan, started the way a user starts it: the API, a filter, the default concurrency.
    const { jobId } = await o.admin.postJson<{ jobId: string }>("/api/v1/jobs", { filter: { tag: LOAD_TAG } });
    const progress = async () => {
      const r = await c.query<{ state: string; finished: number; total: number }>(
        `SELECT j.state::text AS state, count(*) FILTER (WHERE t."finishedAt" IS NOT NULL)::int AS finished, count(*)::int AS total
         FROM "Job" j JOIN "JobTask" t ON t."jobId" = j.id WHERE j.id = $1 GROUP BY j.state`,
        [jobId],
      );
      return r.rows[0] ?? { state: "gone", finished: 0, total: 0 };
    };
    // Past the start: tasks finishing at the scan's steady rate.
    await waitFor("the load scan to finish its first 100 tasks", async () => ((await progress()).finished >= 100 ? true : null), 180_000, 500).catch((err: Error) => {
      throw new Error(`${err.message}\n${worker.output()}`);
    });

    const sessions = await viewerSessions(c, o.base, o.viewers);
    const pages: ViewerPage[] = [];
    const failures: string[] = [];
    let events = 0;
    let running = true;
    const aborts = new AbortController();
    const loops = sessions.map(async (s, i) => {
      if (i < o.streams) {
        void fetch(`${o.base}/api/v1/jobs/${jobId}/events`, { headers: { cookie: s.cookieHeader }, signal: aborts.signal })
          .then((res) => forEachEvent(res.body!, () => void events++))
          .catch(() => undefined);
      }
      await sleep((i * o.thinkMs) / sessions.length);
      for (let k = i; running; k++) {
        const page = o.pages[k % o.pages.length]!.replaceAll("{job}", jobId);
        try {
          const t = await s.get(page);
          if (t.status === 200) pages.push({ ...t, page });
          else failures.push(`${page}: HTTP ${t.status}`);
        } catch (err) {
          failures.push(`${page}: ${err instanceof Error ? err.message : String(err)}`);
        }
        await sleep(o.thinkMs * (0.5 + Math.random()));
      }
    });
    cleanups.push(async () => {
      running = false;
      aborts.abort();
      await Promise.all(loops);
    });
    o.log(`load: scan ${jobId} of ${o.scanHosts} loopback hosts running on a worker process; ${o.viewers} viewers signed in (${o.streams} following the job's event stream), a page every ${o.thinkMs} ms each on average`);
    const cpu = (): CpuSnapshot => {
      const [machineBusy, machineTotal] = machineCpuSeconds();
      return { web: treeCpuSeconds(o.webPid), worker: treeCpuSeconds(worker.child.pid!), targets: treeCpuSeconds(target.child.pid!) + treeCpuSeconds(relay.child.pid!), postgres: postgresCpu(), machineBusy, machineTotal };
    };
    return { jobId, progress, cpu, viewerPages: () => ({ pages: [...pages], failures: [...failures], events }), stop: cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
