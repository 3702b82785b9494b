// What the benchmarks (ui, export, audit-verify, rollout) do alike: read their options, start the
// web server against the seeded bench data and sign in to it, reduce timings to numbers, describe
// the machine they ran on, and replace their own section of BENCHMARKS.md.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { Session } from "./ui-http";

export const ROOT = path.resolve(__dirname, "..", "..");

/** The admin that scripts/bench/ui-seed.ts seeds into the bench databases. */
export const BENCH_ADMIN = { email: "bench-admin@example.test", password: "bench-admin-password-123" };

/** `--flag value` and `--flag` options; a flag given twice: the first counts, except for `all`. */
export function benchOptions(argv = process.argv.slice(2)) {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return {
    value,
    number: (flag: string, fallback: number): number => {
      const v = value(flag);
      return v === undefined ? fallback : Number(v);
    },
    has: (flag: string): boolean => argv.includes(flag),
    /** Every value of a repeatable flag. */
    all: (flag: string): string[] => argv.flatMap((x, i) => (x === flag && argv[i + 1] ? [argv[i + 1]!] : [])),
  };
}

// ---------------------------------------------------------------------------------------------
// the web server

export interface WebServerOptions {
  /** What node runs after nodeArgs: `next start -p PORT`, or bin/web-server.js as `tlsfleet start` does. */
  entry: string[];
  nodeArgs?: readonly string[];
  port: number;
  /** Where /api/health is asked, e.g. http://localhost:3210. */
  base: string;
  databaseUrl: string;
  /** Added to the environment (the secrets a web process gets differ between the entries). */
  env?: Record<string, string>;
  /** Every chunk the server writes, for a caller that shows the output after a failure. */
  onOutput?: (chunk: string) => void;
}

/** Starts a production web server and resolves once it answers /api/health (120 s at most). */
export async function startWebServer(o: WebServerOptions): Promise<ChildProcess> {
  const what = o.entry.join(" ");
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), ...o.entry], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      NODE_ENV: "production",
      DATABASE_URL: o.databaseUrl,
      PORT: String(o.port),
      NEXTAUTH_URL: `http://localhost:${o.port}`,
      NEXTAUTH_SECRET: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      ...o.env,
    },
  });
  let output = "";
  const keep = (d: Buffer) => {
    output += d;
    o.onOutput?.(String(d));
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${output}`);
    try {
      if ((await fetch(`${o.base}/api/health`)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  child.kill();
  throw new Error(`${what} did not answer /api/health within 120 s:\n${output}`);
}

/** Runs a bench's main; on failure prints the error (and the web server's last output, when the
 *  bench kept it) and exits 1. */
export function runBench(main: () => Promise<void>, webOutput: () => string = () => ""): void {
  main().catch((err: unknown) => {
    console.error(err);
    const output = webOutput();
    if (output) console.error(`web server output (last part):\n${output}`);
    process.exit(1);
  });
}

/** SIGTERM, and resolves when the server has exited. */
export async function stopWebServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((r) => server.once("exit", r));
  server.kill("SIGTERM");
  await exited;
}

/** A browser-like session of BENCH_ADMIN on the server at `base`. */
export async function signInAsAdmin(base: string): Promise<Session> {
  const session = new Session(base);
  await session.signIn(BENCH_ADMIN.email, BENCH_ADMIN.password);
  return session;
}

// ---------------------------------------------------------------------------------------------
// numbers

/** Nearest-rank percentile (p95 of 30 runs is the 29th fastest); NaN without values. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** The middle value, or the mean of the two middle ones. */
export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs fn once and says how long it took. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** CPUs, memory, kernel and Node, then whatever else the benchmark depends on (PostgreSQL, ansible...). */
export function machineDescription(...more: string[]): string {
  const cpu = os.cpus();
  return [`${cpu.length} × ${cpu[0]?.model ?? "CPU"}`, `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM`, `Linux ${os.release()}`, `Node ${process.version}`, ...more].join(", ");
}

// ---------------------------------------------------------------------------------------------
// BENCHMARKS.md

/**
 * How a benchmark's new section meets the one already there: `replace` it; `series`: replace
 * the `### Series: ...` parts this run measured and keep the others, in their place; `row`: the
 * new text is one table row, added under the section's table (`firstTime` is the whole section,
 * table head included, for when there is none yet).
 */
export type SectionMerge = "replace" | "series" | "row";

const ANALYSIS = /<!-- analysis -->[\s\S]*<!-- \/analysis -->/;

/**
 * BENCHMARKS.md's text with `heading`'s section rewritten (appended when missing). Other sections
 * are left as they are, and so is a hand-written analysis between <!-- analysis --> markers in
 * this one: it is kept after the new numbers.
 */
export function mergeSection(text: string, heading: string, section: string, merge: SectionMerge, firstTime = section): string {
  const start = text.indexOf(heading);
  if (start < 0) return `${text.trimEnd()}\n\n${firstTime.trimEnd()}\n`;
  const rest = text.slice(start + heading.length);
  const next = rest.search(/^## /m);
  const old = next < 0 ? rest : rest.slice(0, next);
  const kept = ANALYSIS.exec(old);
  const body = old.replace(ANALYSIS, "");
  let merged = section;
  if (merge === "series") {
    // A series is named by its heading line without the parenthesised command.
    const series = (t: string) => new Map(t.split(/^(?=### Series: )/m).slice(1).map((b) => [b.split("\n")[0]!.replace(/ \(.*$/, ""), `${b.trimEnd()}\n\n`]));
    const before = series(body);
    const now = series(section);
    merged = section.split(/^(?=### Series: )/m)[0]! + [...new Set([...before.keys(), ...now.keys()])].map((k) => now.get(k) ?? before.get(k)).join("");
  } else if (merge === "row") {
    const lines = `${heading}${body}`.trimEnd().split("\n");
    const lastRow = lines.findLastIndex((l) => l.startsWith("|"));
    lines.splice(lastRow < 0 ? lines.length : lastRow + 1, 0, section.trim());
    merged = lines.join("\n");
  }
  return `${text.slice(0, start)}${merged.trimEnd()}\n\n${kept ? `${kept[0]}\n\n` : ""}${next < 0 ? "" : rest.slice(next)}`.trimEnd() + "\n";
}

/** Rewrites the section under /tmp/git.lock, the lock everyone editing this checkout's files takes. */
export function writeBenchmarkSection(heading: string, section: string, merge: SectionMerge = "replace", firstTime = section): void {
  const file = path.join(ROOT, "BENCHMARKS.md");
  const writer = path.join(__dirname, "write-section.ts");
  const r = spawnSync("flock", ["/tmp/git.lock", process.execPath, "--import", "tsx", writer, file, heading, merge], {
    input: JSON.stringify({ section, firstTime }),
    stdio: ["pipe", "inherit", "inherit"],
  });
  if (r.status !== 0) throw new Error("could not update BENCHMARKS.md");
  console.log(`wrote "${heading}" to ${file}`);
}
