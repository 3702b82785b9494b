// Reading and writing the Windows registry through reg.exe, the one tool that exists and prints the
// same stable format over WinRM and over Windows OpenSSH (docs/architecture.md "Windows
// registry reads"). Parsing is a pure function; the remote output it gets is validated with zod.

import { z } from "zod";
import type { RemoteSession } from "../transport/types";
import { countAgainst, keepLine, OUTPUT_LIMITS, OutputLimitError, trimTrailing } from "./output-limits";
import { PlaybookError, type RawOutput } from "./types";

export type RegType = "REG_DWORD" | "REG_QWORD" | "REG_SZ" | "REG_EXPAND_SZ" | "REG_MULTI_SZ" | "REG_BINARY" | "REG_NONE";

export interface RegValue {
  /** As printed; "" for the (Default) value. */
  name: string;
  type: RegType;
  /** The data exactly as reg.exe printed it. */
  data: string;
  /** REG_DWORD / REG_QWORD as a number; null for other types. */
  number: number | null;
}

export interface RegKeyBlock {
  /** As printed, root spelled out: HKEY_LOCAL_MACHINE\... */
  path: string;
  values: RegValue[];
}

export interface ParsedRegQuery {
  keys: RegKeyBlock[];
  /** Lines that fit no known shape (kept so callers can report them, never silently used). */
  unparsed: string[];
}

const ROOT_ALIASES: Record<string, string> = {
  HKLM: "HKEY_LOCAL_MACHINE",
  HKCU: "HKEY_CURRENT_USER",
  HKCR: "HKEY_CLASSES_ROOT",
  HKU: "HKEY_USERS",
  HKCC: "HKEY_CURRENT_CONFIG",
};

/** Canonical lookup form of a key path: root spelled out, lower case (the registry is case
 *  insensitive), no trailing backslash. */
export function normalizeKeyPath(path: string): string {
  const [root = "", ...rest] = trimTrailing(path, "\\").split("\\");
  const full = ROOT_ALIASES[root.toUpperCase()] ?? root.toUpperCase();
  return [full, ...rest].join("\\").toLowerCase();
}

// One value line: four spaces, name, four spaces, type, four spaces, data. The data may be empty
// (then the line ends in four spaces) and may itself contain spaces; the name is matched lazily so
// the first "    REG_xxx" ends it.
// `[^\n]` rather than `.`: "." stops at "\r" and U+2028, and with a stray one late in a line
// every "    REG_" candidate for the name's end rescanned the rest of the line (quadratic: 1.7 s
// for one fuzzed 90,000-character line). Lines are split at "\n", so this accepts the line whole.
const VALUE_LINE = /^ {4}([^\n]*?) {4}(REG_[A-Z_]+)(?: {4}([^\n]*))?$/;

const ValueLineSchema = z
  .object({
    name: z.string().max(16_383), // registry value names are at most 16,383 characters
    type: z.enum(["REG_DWORD", "REG_QWORD", "REG_SZ", "REG_EXPAND_SZ", "REG_MULTI_SZ", "REG_BINARY", "REG_NONE"]),
    data: z.string(),
  })
  .superRefine((v, ctx) => {
    if (v.type === "REG_DWORD" && !/^0x[0-9a-fA-F]{1,8}$/.test(v.data)) ctx.addIssue({ code: "custom", message: `bad REG_DWORD data ${v.data}` });
    if (v.type === "REG_QWORD" && !/^0x[0-9a-fA-F]{1,16}$/.test(v.data)) ctx.addIssue({ code: "custom", message: `bad REG_QWORD data ${v.data}` });
  });

/** Parses `reg query` stdout (with or without /s or /v) into key blocks. Pure. Throws
 *  OutputLimitError past OUTPUT_LIMITS.regKeys / regValues; keeps the first unparsed lines only. */
export function parseRegQuery(stdout: string): ParsedRegQuery {
  const keys: RegKeyBlock[] = [];
  const unparsed: string[] = [];
  let current: RegKeyBlock | null = null;
  let values = 0;
  for (const rawLine of stdout.split(/\r?\n/)) {
    const line = rawLine.replace(/\r$/, "");
    if (line.trim() === "") continue;
    if (/^HKEY_[A-Z_]+(\\|$)/.test(line)) {
      countAgainst(keys.length + 1, OUTPUT_LIMITS.regKeys, "`reg query` output", "keys");
      current = { path: line.trimEnd(), values: [] };
      keys.push(current);
      continue;
    }
    if (/^End of search: \d+ match\(es\) found\.$/.test(line.trim())) continue;
    const m = VALUE_LINE.exec(line);
    const parsed = m ? ValueLineSchema.safeParse({ name: m[1], type: m[2], data: m[3] ?? "" }) : null;
    if (!current || !parsed?.success) {
      keepLine(unparsed, line);
      continue;
    }
    values = countAgainst(values + 1, OUTPUT_LIMITS.regValues, "`reg query` output", "values");
    const { name, type, data } = parsed.data;
    current.values.push({
      name: name === "(Default)" ? "" : name,
      type,
      data,
      number: type === "REG_DWORD" || type === "REG_QWORD" ? Number(BigInt(data)) : null,
    });
  }
  return { keys, unparsed };
}

/** Key blocks indexed for lookups by normalized path. */
export class RegistrySnapshot {
  private readonly byPath = new Map<string, RegKeyBlock>();

  constructor(blocks: Iterable<RegKeyBlock> = []) {
    for (const b of blocks) this.add(b);
  }

  add(block: RegKeyBlock): void {
    const key = normalizeKeyPath(block.path);
    const existing = this.byPath.get(key);
    // A subkey listing (path only) must not hide a block with values for the same key.
    if (!existing || existing.values.length === 0) this.byPath.set(key, block);
  }

  hasKey(path: string): boolean {
    return this.byPath.has(normalizeKeyPath(path));
  }

  value(path: string, name: string): RegValue | undefined {
    return this.byPath.get(normalizeKeyPath(path))?.values.find((v) => v.name.toLowerCase() === name.toLowerCase());
  }

  /** A REG_DWORD's number; null when absent. Other types: `wrongType` is set. */
  dword(path: string, name: string): { value: number | null; wrongType: RegType | null } {
    const v = this.value(path, name);
    if (!v) return { value: null, wrongType: null };
    if (v.type !== "REG_DWORD") return { value: null, wrongType: v.type };
    return { value: v.number, wrongType: null };
  }
}

export interface RegQueryResult {
  found: boolean;
  parsed: ParsedRegQuery;
  raw: RawOutput;
}

/** Runs `reg query KEY [/s] /reg:64`. A missing key is a result (found: false), anything else
 *  reg.exe complains about is an error.
 *
 *  /reg:64: the 64-bit registry view whatever the bitness of the remote shell (a 32-bit process
 *  would otherwise be redirected to Wow6432Node; Microsoft Learn "reg query", "Registry
 *  redirector"). Absence is decided without reading reg.exe's message, which is in the host's
 *  display language ("ERROR: The system was unable to find..." / "BŁĄD: System nie może
 *  odnaleźć..."): exit code 1 with nothing on stdout, confirmed by the parent key's subkey
 *  listing not naming the key (exit code 1 also means "access denied" and the like). */
export async function regQuery(s: RemoteSession, key: string, opts: { recursive?: boolean; timeoutMs?: number } = {}): Promise<RegQueryResult> {
  const argv = ["reg", "query", key, ...(opts.recursive ? ["/s"] : []), "/reg:64"];
  const r = await s.exec(argv, { timeoutMs: opts.timeoutMs ?? 30_000 });
  const raw: RawOutput = { argv, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
  if (r.exitCode === 0) {
    try {
      return { found: true, parsed: parseRegQuery(r.stdout), raw };
    } catch (e) {
      if (e instanceof OutputLimitError) throw new PlaybookError(s.hostLabel, `reg query "${key}" on ${s.hostLabel}: ${e.message}.`, { cause: e });
      throw e;
    }
  }
  if (r.exitCode === 1 && r.stdout.trim() === "" && (await parentLacks(s, key, opts.timeoutMs).catch(() => false))) {
    return { found: false, parsed: { keys: [], unparsed: [] }, raw };
  }
  throw new PlaybookError(
    s.hostLabel,
    `reg query "${key}" failed on ${s.hostLabel} (exit code ${r.exitCode ?? "none"}): ${r.stderr.trim().slice(0, 300) || "no message"}`,
  );
}

/** True when the parent key is absent or lists no subkey `key`. A root key is never absent. */
async function parentLacks(s: RemoteSession, key: string, timeoutMs: number | undefined): Promise<boolean> {
  const parts = trimTrailing(key, "\\").split("\\");
  if (parts.length < 2) return false;
  const parent = await regQuery(s, parts.slice(0, -1).join("\\"), { timeoutMs });
  return !parent.found || !parent.parsed.keys.some((b) => normalizeKeyPath(b.path) === normalizeKeyPath(key));
}

/** argv that sets a REG_DWORD, creating the key on the way; /f: no overwrite prompt. */
export function regAddDwordArgv(key: string, name: string, value: number): string[] {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`REG_DWORD out of range: ${value}`);
  return ["reg", "add", key, "/v", name, "/t", "REG_DWORD", "/d", String(value), "/f"];
}

export function regDeleteValueArgv(key: string, name: string): string[] {
  return ["reg", "delete", key, "/v", name, "/f"];
}
