// A PostgreSQL cluster of a test's own (Debian's PostgreSQL 15 binaries), for tests that stop or
// restart the server: the machine's shared server on 5432 is never touched. Data in a temp dir,
// TCP on 127.0.0.1 at a free port, no Unix socket, trust authentication (loopback, test only).
// As root the server runs as `postgres`, as PostgreSQL requires.
import { execFile } from "node:child_process";
import { chownSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { anyFreePort } from "../../lib/db/database";

const BIN = "/usr/lib/postgresql/15/bin";
const run = promisify(execFile);

export interface OwnCluster {
  /** postgres://… of the `postgres` database. */
  url: string;
  port: number;
  /** pg_ctl restart -m fast: every open connection is terminated. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function ids(): Promise<{ uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return {};
  const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
  const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
  return { uid, gid };
}

export async function startOwnCluster(): Promise<OwnCluster> {
  const as = await ids();
  const dir = mkdtempSync(path.join(tmpdir(), "tlsfleet-own-pg-"));
  if (as.uid !== undefined) chownSync(dir, as.uid, as.gid!);
  const data = path.join(dir, "data");
  const log = path.join(dir, "postgres.log");
  const pg = (tool: string, args: string[]) => run(path.join(BIN, tool), args, { ...as, cwd: dir, env: { ...process.env, LC_ALL: "C" } });
  await pg("initdb", [`--pgdata=${data}`, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--no-locale"]);
  const port = await anyFreePort();
  appendFileSync(path.join(data, "postgresql.conf"), `\nlisten_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = ''\nfsync = off\n`);
  writeFileSync(log, "");
  if (as.uid !== undefined) chownSync(log, as.uid, as.gid!);
  await pg("pg_ctl", ["start", "-D", data, "-l", log, "-w", "-t", "60"]);
  let stopped = false;
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    async restart() {
      await pg("pg_ctl", ["restart", "-D", data, "-l", log, "-m", "fast", "-w", "-t", "60"]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg("pg_ctl", ["stop", "-D", data, "-m", "immediate", "-w", "-t", "60"]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
