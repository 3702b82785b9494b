// Real worker processes (`node bin/tlsfleet worker`) for the tests that kill a worker or take the
// database away under one. Each runs in its own process group: bin/tlsfleet runs the worker in a
// child Node and SIGKILL cannot be forwarded, so a kill goes to the group (launcher and worker), as
// a machine crash would.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

export interface WorkerProcess {
  child: ChildProcess;
  /** What it wrote on stdout and stderr, under its name; only the last `lastLines` when given. */
  output(lastLines?: number): string;
  /** SIGKILL to its process group, as a crash; resolves once it is gone. */
  crash(): Promise<void>;
  /** SIGTERM, the orderly shutdown; resolves once it has exited. */
  stop(): Promise<void>;
}

export const exited = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r())));

/** Starts worker processes on demand; `killAll` (for the file's afterAll) kills every one still there. */
export function workerProcesses() {
  const children: ChildProcess[] = [];
  return {
    start(name: string, databaseUrl: string, env: Record<string, string> = {}): WorkerProcess {
      let output = "";
      const child = spawn(process.execPath, [path.join(ROOT, "bin", "tlsfleet"), "worker"], {
        cwd: ROOT,
        env: { ...process.env, ...env, DATABASE_URL: databaseUrl, LOG_LEVEL: "info", NODE_ENV: "production" },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
      children.push(child);
      return {
        child,
        output: (lastLines) => `--- ${name} ---\n${lastLines === undefined ? output : output.split("\n").slice(-lastLines).join("\n")}`,
        async crash() {
          process.kill(-child.pid!, "SIGKILL");
          await exited(child);
        },
        async stop() {
          child.kill("SIGTERM");
          await exited(child);
        },
      };
    },
    async killAll(): Promise<void> {
      for (const c of children) {
        try {
          process.kill(-c.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }
      await Promise.all(children.map(exited));
    },
  };
}
