// `tlsfleet probe`: what each endpoint really negotiates, per TLS version. Needs no database.
import { readFile } from "node:fs/promises";
import { AllowListSyntaxError, parseAllowList, type AllowList } from "../../lib/tls/allowlist";
import { probeMany, DEFAULT_CONCURRENCY } from "../../lib/tls/probe-many";
import { DEFAULT_DEADLINE_MS, DEFAULT_PROBE_MODE, DEFAULT_TIMEOUT_MS, PROBE_MODES, type ProbeMode } from "../../lib/tls/probe";
import { formatTarget, parseServiceName, parseTargetSpec, parseTargetsFile, TargetSyntaxError } from "../../lib/tls/targets";
import { TLS_VERSIONS, type ProbeReport, type ProbeTarget, type Service } from "../../lib/tls/types";

const USAGE = `usage: tlsfleet probe HOST[:PORT] [--service S] [--mode hello|full] [--json] [--timeout MS] [--deadline MS]
       tlsfleet probe --targets FILE [--concurrency N] [--service S] [--mode hello|full] [--json] [--timeout MS] [--deadline MS]

  HOST[:PORT]      a name, an IPv4 address or [IPv6]:PORT; PORT defaults to the service's
                   port, or 25 when no service is given
  --service S      smtp|submission|smtps|https|imap|imaps|pop3|pop3s|ldaps|tls
                   (default: from the port; unknown ports are plain implicit TLS)
  --targets FILE   one "HOST:PORT [SERVICE]" per line; '#' comments and blank lines ignored
                   (--service then applies to lines without a service)
  --concurrency N  endpoints probed at once (default ${DEFAULT_CONCURRENCY}); at most 2 connections per
                   address whatever N is
  --mode M         hello: per version a ClientHello offering only that version, judged by the
                   server's ServerHello or alert, then one full handshake at the highest accepted
                   version for the certificate; full: a complete handshake per version
                   (default ${DEFAULT_PROBE_MODE})
  --json           one JSON object per target per line, in input order
  --timeout MS     connect timeout and limit per dialog step / handshake (default ${DEFAULT_TIMEOUT_MS})
  --deadline MS    limit for one endpoint, retries included (default ${DEFAULT_DEADLINE_MS})

Environment: TLSFLEET_ALLOWED_TARGETS (CIDRs / DNS suffixes, comma separated) restricts where
probes may go; unset means anywhere. Exit status: 0 when the probe ran, whatever the verdicts;
2 for bad arguments.`;

class UsageError extends Error {}

interface ProbeCommand {
  targets: ProbeTarget[];
  json: boolean;
  timeoutMs?: number;
  deadlineMs?: number;
  concurrency?: number;
  mode?: ProbeMode;
}

const VALUE_FLAGS = new Set(["--service", "--timeout", "--deadline", "--targets", "--concurrency", "--mode"]);
const BOOLEAN_FLAGS = new Set(["--json", "--help", "-h"]);

export async function run(argv: string[]): Promise<number> {
  let command: ProbeCommand | "help";
  let allowList: AllowList | null;
  try {
    command = await parseArguments(argv);
    if (command === "help") {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    allowList = await loadAllowList();
  } catch (error) {
    if (error instanceof UsageError || error instanceof TargetSyntaxError || error instanceof AllowListSyntaxError) {
      process.stderr.write(`tlsfleet probe: ${error.message}\n(see 'tlsfleet probe --help')\n`);
      return 2;
    }
    throw error;
  }

  const cancel = new AbortController();
  // `tlsfleet probe ... | head` must end quietly instead of dying on EPIPE.
  process.stdout.on("error", () => cancel.abort());
  let interrupted = false;
  const onInterrupt = () => {
    interrupted = true;
    cancel.abort();
  };
  process.once("SIGINT", onInterrupt);

  const table = command.json ? null : new ReportTable(command.targets);
  table?.printHeader();
  try {
    for await (const report of probeMany(command.targets, {
      concurrency: command.concurrency,
      mode: command.mode,
      timeoutMs: command.timeoutMs,
      deadlineMs: command.deadlineMs,
      allowList,
      signal: cancel.signal,
    })) {
      if (cancel.signal.aborted) break;
      if (table) table.printReport(report);
      else process.stdout.write(`${JSON.stringify(report)}\n`);
    }
  } finally {
    process.off("SIGINT", onInterrupt);
  }
  table?.printSummary();
  // 130 is what shells report for Ctrl-C; a run cut short must not look complete to a script.
  return interrupted ? 130 : 0;
}

async function parseArguments(argv: string[]): Promise<ProbeCommand | "help"> {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (BOOLEAN_FLAGS.has(name)) {
      if (eq >= 0) throw new UsageError(`${name} takes no value`);
      flags.add(name);
    } else if (VALUE_FLAGS.has(name)) {
      const value = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === "") throw new UsageError(`${name} needs a value`);
      if (values.has(name)) throw new UsageError(`${name} given twice`);
      values.set(name, value);
    } else {
      throw new UsageError(`unknown option '${name}'`);
    }
  }
  if (flags.has("--help") || flags.has("-h")) return "help";

  const service: Service | undefined = values.has("--service") ? parseServiceName(values.get("--service")!) : undefined;
  const timeoutMs = optionalInteger(values.get("--timeout"), "--timeout", 1, 600_000);
  const deadlineMs = optionalInteger(values.get("--deadline"), "--deadline", 1, 3_600_000);
  const concurrency = optionalInteger(values.get("--concurrency"), "--concurrency", 1, 4096);
  const json = flags.has("--json");
  const modeText = values.get("--mode");
  if (modeText !== undefined && !(PROBE_MODES as readonly string[]).includes(modeText)) {
    throw new UsageError(`--mode expects ${PROBE_MODES.join(" or ")}, got '${modeText}'`);
  }
  const mode = modeText as ProbeMode | undefined;

  const file = values.get("--targets");
  if (file !== undefined) {
    if (positional.length > 0) throw new UsageError(`give either HOST[:PORT] or --targets, not both (got '${positional[0]}')`);
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(`cannot read targets file '${file}': ${code === "ENOENT" ? "no such file" : (code ?? String(error))}`);
    }
    const parsed = parseTargetsFile(text);
    if (parsed.problems.length > 0) throw new UsageError(`bad targets file '${file}':\n  ${parsed.problems.join("\n  ")}`);
    if (parsed.targets.length === 0) throw new UsageError(`targets file '${file}' lists no targets`);
    const targets = service ? parsed.targets.map((t) => ({ ...t, service: t.service ?? service })) : parsed.targets;
    return { targets, json, timeoutMs, deadlineMs, concurrency, mode };
  }
  if (positional.length === 0) throw new UsageError("missing HOST[:PORT] or --targets FILE");
  if (positional.length > 1) throw new UsageError(`one HOST[:PORT] at a time (got ${positional.join(" ")}); use --targets for several`);
  if (concurrency !== undefined) throw new UsageError("--concurrency only applies with --targets");
  return { targets: [parseTargetSpec(positional[0]!, service)], json, timeoutMs, deadlineMs, mode };
}

function optionalInteger(text: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) throw new UsageError(`${flag} expects a whole number from ${min} to ${max}, got '${text}'`);
  return value;
}

async function loadAllowList(): Promise<AllowList | null> {
  // Loaded here, not at the top: lib/env validates the whole environment, and a probe run
  // should fail on it only when it gets that far.
  const { env } = await import("../../lib/env");
  return env.TLSFLEET_ALLOWED_TARGETS ? parseAllowList(env.TLSFLEET_ALLOWED_TARGETS) : null;
}

const SHORT_VERSION: Record<(typeof TLS_VERSIONS)[number], string> = {
  TLSv1: "TLS1.0",
  "TLSv1.1": "TLS1.1",
  "TLSv1.2": "TLS1.2",
  "TLSv1.3": "TLS1.3",
};

/** The human-readable output: fixed-width rows printed as reports arrive. */
class ReportTable {
  private readonly widths: number[];
  private readonly verdicts = new Map<string, number>();

  constructor(targets: ProbeTarget[]) {
    const longestTarget = Math.max(6, ...targets.map((t) => formatTarget(t.host, t.port).length));
    this.widths = [longestTarget, 10, 11, 8, 8, 8, 8, 12, 10];
  }

  printHeader(): void {
    this.line(["TARGET", "SERVICE", "STARTTLS", ...TLS_VERSIONS.map((v) => SHORT_VERSION[v]), "VERDICT", "NOT AFTER", "CIPHER (best)"]);
  }

  printReport(report: ProbeReport): void {
    this.verdicts.set(report.verdict, (this.verdicts.get(report.verdict) ?? 0) + 1);
    const best = report.cipher["TLSv1.3"] ?? report.cipher["TLSv1.2"] ?? report.cipher["TLSv1.1"] ?? report.cipher["TLSv1"] ?? "-";
    this.line([
      report.target,
      report.service,
      report.starttls === "not-applicable" ? "-" : report.starttls,
      ...TLS_VERSIONS.map((v) => report.protocols[v]),
      report.verdict,
      report.certificate ? report.certificate.notAfter.slice(0, 10) : "-",
      best,
    ]);
    const notes: string[] = [];
    if (report.error) notes.push(report.error);
    else {
      for (const version of TLS_VERSIONS) {
        if (report.protocols[version] === "unknown") notes.push(`${SHORT_VERSION[version]} unknown: ${report.reasons[version] ?? "?"}`);
      }
    }
    if (report.certificate && !report.error) notes.push(`certificate ${report.certificate.subject} (issuer ${report.certificate.issuer})`);
    for (const note of notes) process.stdout.write(`    ${note}\n`);
  }

  printSummary(): void {
    const total = [...this.verdicts.values()].reduce((a, b) => a + b, 0);
    if (total < 2) return;
    const parts = [...this.verdicts.entries()].map(([verdict, n]) => `${n} ${verdict}`);
    process.stdout.write(`\n${total} endpoints: ${parts.join(", ")}\n`);
  }

  private line(cells: string[]): void {
    const text = cells.map((cell, i) => (i < cells.length - 1 ? cell.padEnd(this.widths[i] ?? cell.length) : cell)).join("  ");
    process.stdout.write(`${text.trimEnd()}\n`);
  }
}
