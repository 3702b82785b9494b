// Starts a peer script as its own process (so its memory and CPU are not the prober's) and
// waits for its "listening ADDR:PORT" line.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

export interface RunningPeer {
  host: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export function startPeer(script: string, args: string[] = [], listen = "127.0.0.1:0"): Promise<RunningPeer> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(__dirname, script), "--listen", listen, ...args], {
    cwd: path.resolve(__dirname, "../../.."),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 3000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${script} did not start within 20 s: ${stderr}`));
    }, 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      const match = /listening \[?([^\]\s]+?)\]?:(\d+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ host: match[1]!, port: Number(match[2]), process: child, stop });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before listening: ${stderr}`));
    });
  });
}
