// Starts the Windows test double (tests/lab/windows-double: not Windows, a documented stand-in)
// in its own state directory on loopback, for integration tests that need a Windows host.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

export interface DoubleReady {
  pid: number;
  hostname: string;
  ports: { winrmHttps: number; winrmHttp: number; ssh: number; smtp: number };
  user: string;
  password: string;
  /** `pem` is the certificate file's path. */
  certificate: { sha1: string; sha256: string; pem: string };
  /** Its Windows OpenSSH: host key, the key's SHA-256 (base64, unpadded), a client key file it accepts. */
  ssh: { hostKey: string; hostKeySha256: string; clientKey: string };
  /** The double's event log (JSON lines: boot, exec, registry-write, shutdown, ...). */
  eventsFile: string;
}

export interface RunningDouble {
  ready: DoubleReady;
  /** Its state directory (status.json, events.jsonl, ...), removed by stop(). */
  stateDir: string;
  stop(): Promise<void>;
}

/** The double's events of one type, in order. */
export function doubleEvents(ready: DoubleReady, type: string): Array<Record<string, unknown>> {
  return readFileSync(ready.eventsFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.type === type);
}

export async function startDouble(profile: string, opts: { rebootDowntimeMs?: number } = {}): Promise<RunningDouble> {
  const stateDir = mkdtempSync(path.join(tmpdir(), `double-${profile}-`));
  const child: ChildProcess = spawn(
    process.execPath,
    ["--import", "tsx", "tests/lab/windows-double/main.ts", "--listen", "127.0.0.1", "--state", stateDir, "--profile", profile,
      "--winrm-https-port", "0", "--winrm-http-port", "0", "--ssh-port", "0", "--smtp-port", "0",
      ...(opts.rebootDowntimeMs !== undefined ? ["--reboot-downtime-ms", String(opts.rebootDowntimeMs)] : [])],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const ready = await new Promise<DoubleReady>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`windows double did not start: ${stderr}`)), 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith('{"event":"ready"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as DoubleReady);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`windows double exited with ${code}: ${stderr}`));
    });
  });
  return {
    ready,
    stateDir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
