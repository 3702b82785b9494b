// Bounds on what a host's output may make a parser do. Everything the playbooks parse (reg.exe,
// postconf, `nginx -T`, doveconf) is written by the host, and a host an attacker controls (or a
// broken one) can print whatever it likes. The transports already cap the bytes of one command
// (ExecOptions.maxOutputBytes, 4 MiB by default, 32 MiB for `nginx -T`); the caps here bound
// what the parsers build from those bytes (entries, nesting, include fan-out) so that one check
// costs bounded time and memory, and past a cap the check fails with an error that names the
// host and the cap instead of running on with a partial picture.

/** A parser stopped at one of its caps. Pure code throws it; index.ts boundedCheck names the host. */
export class OutputLimitError extends Error {
  constructor(
    /** What was being read: "`nginx -T` output", "`reg query` output". */
    readonly what: string,
    /** What was counted: "include expansions", "values". */
    readonly counted: string,
    readonly limit: number,
  ) {
    super(`${what} has more than ${limit.toLocaleString("en-US")} ${counted} (the cap); it was not used`);
    this.name = "OutputLimitError";
  }
}

/** Caps per parser. Far above any real configuration seen (a Postfix with every service
 *  overridden prints a few hundred -P lines; SCHANNEL's subtree is ~40 keys). */
export const OUTPUT_LIMITS = {
  /** `reg query /s`: key blocks and values. */
  regKeys: 20_000,
  regValues: 100_000,
  /** postconf: "name = value" lines. */
  postconfEntries: 50_000,
  /** doveconf: settings and sections, and their nesting. */
  doveconfEntries: 50_000,
  doveconfDepth: 64,
  /** `nginx -T`: files in the dump, directives after following includes, glob tests. */
  nginxFiles: 10_000,
  nginxExpandedDirectives: 200_000,
  nginxGlobTests: 1_000_000,
  /** Matcher steps over all include patterns (a few per character of a path, usually). */
  nginxGlobSteps: 20_000_000,
  /** Notes and unparsed lines kept for the operator: the first ones tell the story. */
  keptLines: 100,
  keptLineChars: 500,
  /** A parsed configuration state as stored (JSON, without raw outputs). */
  stateBytes: 8 * 1024 * 1024,
} as const;

/** Keeps at most OUTPUT_LIMITS.keptLines lines (each cut to keptLineChars) for a report. */
export function keepLine(list: string[], line: string): void {
  if (list.length < OUTPUT_LIMITS.keptLines) list.push(line.length > OUTPUT_LIMITS.keptLineChars ? `${line.slice(0, OUTPUT_LIMITS.keptLineChars)}… (truncated, ${line.length} characters)` : line);
}

/** Counts one more entry against a cap; throws OutputLimitError past it. */
export function countAgainst(n: number, limit: number, what: string, counted: string): number {
  if (n > limit) throw new OutputLimitError(what, counted, limit);
  return n;
}

/** The size of a state as it will be stored (JSON, UTF-8 bytes). */
export function storedSize(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value) ?? "", "utf8");
}

/**
 * `text` without trailing `char`s. Not `text.replace(/x+$/, "")`: V8 retries that RegExp at every
 * position of a long run of `x` that does not reach the end, which is quadratic (a `reg query`
 * key path of 200,000 backslashes took minutes).
 */
export function trimTrailing(text: string, char: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === char) end--;
  return end === text.length ? text : text.slice(0, end);
}
