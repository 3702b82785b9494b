// Dovecot: the lowest TLS version its listeners accept, and raising it. docs/domain.md "Linux mail
// and web servers"; Dovecot 2.3 settings ssl_min_protocol (default TLSv1 before 2.3.15, TLSv1.2 from
// then on, so the default is read with `doveconf -d`, never assumed) and, before 2.3,
// ssl_protocols ("!SSLv3 !TLSv1" style lists).
//
// Where the change goes, and why there: doveconf prints what each setting ends up as but not
// which file set it (there is no origin output in 2.3), and a configuration is usually spread
// over dovecot.conf, conf.d/*.conf and local.conf. Dovecot uses the last definition of a setting
// it reads (doveconf 2.3.19 even warns "Global setting ssl_min_protocol won't change the setting
// inside an earlier filter" when a later global follows a filter), so tlsfleet appends one marked
// block at the very end of the main configuration file (the path doveconf -n prints in its first
// line), after every !include. The block sets the global value and, for each protocol/local/
// remote filter that overrides it, the same filter again: one place an operator can read, that
// re-applying replaces instead of duplicating, and that rollback removes without touching
// anything else in the file. The original lines (e.g. "ssl_min_protocol = TLSv1" in 10-ssl.conf)
// stay; the check reports the effective value.
//
// Validation: `doveconf -n` must succeed on the new file and show the new value, then
// `doveadm reload`. doveconf accepts any string for ssl_min_protocol (measured: "TLSv9" passes,
// it fails only when a TLS connection comes in), so values are limited to the known names here.

// Any address outside loopback and the lab named in this file's comments is an example, never dialled.
import { z } from "zod";
import type { RemoteSession } from "../transport/types";
import {
  BACKUP_SUFFIX,
  bytesOf,
  compareVersions,
  describeVersions,
  FileSnapshotSchema,
  LEGACY_VERSIONS,
  readRemoteFile,
  runChecked,
  snapshotOf,
  summarizeSettings,
  TLS_VERSIONS,
  type FileSnapshot,
  type ProtocolSetting,
  linuxServicePlaybook,
  type TlsVersion,
  narrowByLibrary,
  OPENSSL_POLICY_STEP,
  parseOpenSslPolicy,
  type OpenSslPolicy,
} from "./linux-common";
import { editAndReload, type FileService } from "./apply-steps";
import { countAgainst, keepLine, OUTPUT_LIMITS, trimTrailing } from "./output-limits";
import { PlaybookError, type Applied, type ApplyOptions, type Change, type ConfigState, type Goal, type RawOutput } from "./types";

export type DovecotProtocolSetting = "ssl_min_protocol" | "ssl_protocols";

// ---------------------------------------------------------------------------------------------
// Values (pure)

// Dovecot 2.3 src/lib-ssl-iostream/iostream-openssl-common.c (protocol_versions): "ANY" is
// whatever OpenSSL allows (SSLv3 up), "LATEST" the highest version OpenSSL supports (TLS 1.3).
const MIN_PROTOCOL: Record<string, TlsVersion[]> = {
  ANY: ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
  SSLv3: ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
  TLSv1: ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"],
  "TLSv1.1": ["TLSv1.1", "TLSv1.2", "TLSv1.3"],
  "TLSv1.2": ["TLSv1.2", "TLSv1.3"],
  "TLSv1.3": ["TLSv1.3"],
  LATEST: ["TLSv1.3"],
};

/** Versions a Dovecot 2.3+ ssl_min_protocol leaves enabled (there is no maximum setting); null
 *  for a value Dovecot would refuse when the first TLS client arrives. */
export function evaluateMinProtocol(value: string): TlsVersion[] | null {
  // Own keys only: "constructor" from the host must not reach Object.prototype.
  const v = value.trim();
  return Object.hasOwn(MIN_PROTOCOL, v) ? MIN_PROTOCOL[v]! : null;
}

const OLD_NAMES = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

/** Dovecot 2.2 ssl_protocols: names to include ("all" when none is named), "!name" to exclude,
 *  separated by spaces (OpenSSL's protocol-list convention). */
export function evaluateOldProtocols(value: string): TlsVersion[] | null {
  const tokens = value.split(/[\s,]+/).filter(Boolean);
  const include = new Set<string>();
  const exclude = new Set<string>();
  for (const t of tokens) {
    const name = t.startsWith("!") ? t.slice(1) : t;
    if (!OLD_NAMES.includes(name)) return null;
    (t.startsWith("!") ? exclude : include).add(name);
  }
  return TLS_VERSIONS.filter((v) => (include.size === 0 || include.has(v)) && !exclude.has(v));
}

export function evaluateDovecotSetting(setting: DovecotProtocolSetting, value: string): TlsVersion[] | null {
  return setting === "ssl_min_protocol" ? evaluateMinProtocol(value) : evaluateOldProtocols(value);
}

// ---------------------------------------------------------------------------------------------
// doveconf -n output (pure)

export interface DoveconfFilterValue {
  /** Filter headers from the outside in, e.g. ["local 10.0.0.1", "protocol imap"]. */
  filter: string[];
  setting: DovecotProtocolSetting;
  value: string;
}

export interface ParsedDoveconf {
  version: string | null;
  configFile: string | null;
  /** Top-level settings as printed (non-default ones only, for -n). */
  globals: Map<string, string>;
  /** Protocol settings inside protocol/local/remote/local_name filters. */
  filters: DoveconfFilterValue[];
  unparsed: string[];
}

// Filter section names (doveconf(1) -f: lname/local_name, local, protocol, remote).
const FILTER_SECTIONS = new Set(["protocol", "local", "remote", "local_name"]);

/** "name args {" (a section) without a RegExp: `^(\S+) (.*?)\s*\{$` backtracks quadratically on
 *  a long run of spaces, and the line comes from the host. `filter` is set for filter sections. */
function sectionHeader(line: string): { filter: string | null } | null {
  if (!line.endsWith("{")) return null;
  const head = line.slice(0, -1).trimEnd();
  const sp = head.indexOf(" ");
  const name = sp < 0 ? head : head.slice(0, sp);
  const args = sp < 0 ? null : head.slice(sp + 1);
  if (name === "" || /\s/.test(name) || (args !== null && /[{}\n\r]/.test(args))) return null;
  const filterArgs = args?.trim() ?? "";
  if (FILTER_SECTIONS.has(name) && filterArgs !== "" && !args!.includes("#")) return { filter: `${name} ${filterArgs}` };
  return { filter: null };
}
const SETTING = /^([A-Za-z0-9_]+) =(?: (.*))?$/;

/** Parses `doveconf -n` (and `doveconf NAME...`): the "# VERSION (hash): PATH" header, top-level
 *  settings, and protocol settings inside filters. Other sections (service, passdb...) are only
 *  walked through. */
export function parseDoveconf(stdout: string): ParsedDoveconf {
  const globals = new Map<string, string>();
  const filters: DoveconfFilterValue[] = [];
  const unparsed: string[] = [];
  let version: string | null = null;
  let configFile: string | null = null;
  const stack: Array<{ filter: string | null }> = [];
  let entries = 0;
  for (const rawLine of stdout.split("\n")) {
    const line = rawLine.trim();
    if (line === "") continue;
    entries = countAgainst(entries + 1, OUTPUT_LIMITS.doveconfEntries, "doveconf output", "lines");
    if (line.startsWith("#")) {
      const m = /^# (\d+\.\d+(?:\.\d+)*)(?: \([0-9a-f]+\))?: (\/.*)$/.exec(line);
      if (m && version === null) {
        version = m[1]!;
        configFile = m[2]!;
      }
      continue;
    }
    if (line === "}") {
      stack.pop();
      continue;
    }
    const section = sectionHeader(line);
    if (section) {
      countAgainst(stack.length + 1, OUTPUT_LIMITS.doveconfDepth, "doveconf output", "levels of nested sections");
      stack.push(section);
      continue;
    }
    const s = SETTING.exec(line);
    if (!s) {
      keepLine(unparsed, rawLine);
      continue;
    }
    const [, name, value = ""] = s as unknown as [string, string, string | undefined];
    if (stack.length === 0) {
      globals.set(name, value);
    } else if ((name === "ssl_min_protocol" || name === "ssl_protocols") && stack.every((x) => x.filter !== null)) {
      filters.push({ filter: stack.map((x) => x.filter!), setting: name, value });
    }
  }
  return { version, configFile, globals, filters, unparsed };
}

// ---------------------------------------------------------------------------------------------
// The managed block (pure)

export const BLOCK_BEGIN = "# BEGIN tlsfleet managed block: TLS protocol versions";
export const BLOCK_END = "# END tlsfleet managed block";

export interface ManagedEntry {
  filter: string[];
  setting: DovecotProtocolSetting;
  value: string;
}

/** The block's text, filters nested as Dovecot reads them. */
export function renderManagedBlock(entries: ManagedEntry[]): string {
  const lines = [
    BLOCK_BEGIN,
    "# Appended by tlsfleet at the end of the file because Dovecot uses the last definition of a",
    "# setting. Remove the whole block (or roll back in tlsfleet) to undo.",
  ];
  for (const e of entries) {
    e.filter.forEach((f, depth) => lines.push(`${"  ".repeat(depth)}${f} {`));
    lines.push(`${"  ".repeat(e.filter.length)}${e.setting} = ${e.value}`);
    for (let depth = e.filter.length - 1; depth >= 0; depth--) lines.push(`${"  ".repeat(depth)}}`);
  }
  lines.push(BLOCK_END);
  return `${lines.join("\n")}\n`;
}

/** Splits a config file into the text without our block, and the block's entries. */
export function splitManagedBlock(text: string): { rest: string; entries: ManagedEntry[] | null } {
  const begin = text.indexOf(`${BLOCK_BEGIN}`);
  if (begin < 0 || (begin > 0 && text[begin - 1] !== "\n")) return { rest: text, entries: null };
  const endAt = text.indexOf(BLOCK_END, begin);
  if (endAt < 0) return { rest: text, entries: null };
  let stop = endAt + BLOCK_END.length;
  if (text[stop] === "\n") stop++;
  const block = text.slice(begin, stop);
  const parsed = parseDoveconf(block);
  const entries: ManagedEntry[] = [
    ...[...parsed.globals].filter(([k]) => k === "ssl_min_protocol" || k === "ssl_protocols").map(([k, v]) => ({ filter: [], setting: k as DovecotProtocolSetting, value: v })),
    ...parsed.filters.map((f) => ({ filter: f.filter, setting: f.setting, value: f.value })),
  ];
  return { rest: text.slice(0, begin) + text.slice(stop), entries };
}

/** The file with `entries` as its managed block (none: the block removed). */
export function withManagedBlock(text: string, entries: ManagedEntry[]): string {
  const { rest } = splitManagedBlock(text);
  if (entries.length === 0) return rest;
  return `${rest}${rest === "" || rest.endsWith("\n") ? "" : "\n"}${renderManagedBlock(entries)}`;
}

// ---------------------------------------------------------------------------------------------
// State

export interface DovecotState extends ConfigState {
  playbookId: "dovecot";
  version: string | null;
  /** The main configuration file (first line of doveconf -n). */
  configFile: string;
  /** ssl = yes | no | required. */
  ssl: string | null;
  /** ssl_min_protocol (2.3+) or ssl_protocols (2.2). */
  setting: DovecotProtocolSetting;
  global: { value: string; default: string | null; explicit: boolean; enabled: TlsVersion[] | null };
  filters: Array<DoveconfFilterValue & { enabled: TlsVersion[] | null }>;
  /** tlsfleet's block in the main file, if present. */
  managed: ManagedEntry[] | null;
  /** The main file byte-exact: what rollback restores. */
  original: FileSnapshot;
  /** The OpenSSL policy the verdicts account for; null when it could not be read. */
  openssl: OpenSslPolicy | null;
  settings: ProtocolSetting[];
}

export interface DovecotChange extends Change {
  setting: DovecotProtocolSetting;
  filter: string[];
  /** "global" or the filter headers joined with " / ". */
  scope: string;
  from: string | null;
  to: string;
}

const scopeOf = (filter: string[]) => (filter.length === 0 ? "global" : filter.join(" / "));

/** Pure: the state from `doveconf -n`, `doveconf ssl NAME`, `doveconf -d NAME` and the file. */
export function interpretDovecot(input: { n: string; current: string; defaults: string; original: FileSnapshot | null; openssl?: RawOutput | null; raw: RawOutput[]; collectedAt: Date }): DovecotState | string {
  const n = parseDoveconf(input.n);
  if (!n.configFile) return "doveconf -n printed no configuration file path";
  const setting: DovecotProtocolSetting = n.version && compareVersions(n.version, "2.3") < 0 ? "ssl_protocols" : "ssl_min_protocol";
  const current = parseDoveconf(input.current).globals;
  const defaults = parseDoveconf(input.defaults).globals;
  const value = current.get(setting);
  if (value === undefined) return `doveconf did not print ${setting}`;
  const ssl = current.get("ssl") ?? null;
  const global = { value, default: defaults.get(setting) ?? null, explicit: n.globals.has(setting), enabled: evaluateDovecotSetting(setting, value) };
  const filters = n.filters.filter((f) => f.setting === setting).map((f) => ({ ...f, enabled: evaluateDovecotSetting(setting, f.value) }));
  const file = n.configFile.replace(/^.*\//, "");
  // The library's security level (docs/domain.md): ssl_cipher_list's @SECLEVEL, else openssl.cnf's.
  // A filter that sets its own ssl_cipher_list (an indented line in doveconf -n) is not narrowed.
  const openssl = parseOpenSslPolicy(input.openssl ?? undefined);
  const cipherList = current.has("ssl_cipher_list") ? (current.get("ssl_cipher_list") ?? null) : undefined;
  const filterCiphers = /^\s+ssl_cipher_list =/m.test(input.n) ? undefined : cipherList;
  const settings: ProtocolSetting[] =
    ssl === "no"
      ? []
      : [
          { scope: file, setting, value, source: global.explicit ? "explicit" : "default", direction: "inbound" as const, ...narrowByLibrary(global.enabled, cipherList, openssl) },
          ...filters.map((f) => ({ scope: f.filter.join(" / "), setting, value: f.value, source: "explicit" as const, direction: "inbound" as const, ...narrowByLibrary(f.enabled, filterCiphers, openssl) })),
        ];
  const managed = input.original ? splitManagedBlock(bytesOf(input.original).toString("latin1")).entries : null;
  const headline = `Dovecot ${n.version ?? "(unknown version)"}${managed ? ", tlsfleet block present" : ""}`;
  const summary = ssl === "no" ? { legacyEnabled: false, tls12Enabled: false, summary: `${headline}; ssl = no: Dovecot offers no TLS at all`, sides: [{ direction: "inbound" as const, legacyEnabled: false, tls12Enabled: false, tlsOffered: false, summary: "Dovecot ssl = no: no TLS on any listener" }] } : summarizeSettings(settings, headline);
  return {
    playbookId: "dovecot",
    collectedAt: input.collectedAt.toISOString(),
    ...summary,
    rebootPending: false,
    raw: input.raw,
    version: n.version,
    configFile: n.configFile,
    ssl,
    setting,
    global,
    filters,
    managed,
    original: input.original ?? { path: n.configFile, sha256: "", base64: "" },
    openssl,
    settings,
  };
}

/** `doveconf -n` (raw, and the main file's path), the effective and default values, and the main
 *  file byte-exact. Read-only. */
export async function checkDovecot(s: RemoteSession): Promise<DovecotState> {
  const raw: RawOutput[] = [];
  const n = await runChecked(s, ["doveconf", "-n"], raw);
  const parsed = parseDoveconf(n.stdout);
  if (!parsed.configFile) throw new PlaybookError(s.hostLabel, `doveconf -n on ${s.hostLabel} printed no configuration file path.`);
  const setting = parsed.version && compareVersions(parsed.version, "2.3") < 0 ? "ssl_protocols" : "ssl_min_protocol";
  const current = await runChecked(s, ["doveconf", "ssl", setting, "ssl_cipher_list"], raw);
  const defaults = await runChecked(s, ["doveconf", "-d", setting], raw);
  const original = snapshotOf(parsed.configFile, await readRemoteFile(s, parsed.configFile, raw));
  const openssl = await runChecked(s, [...OPENSSL_POLICY_STEP], raw, { okCodes: [0, 127] });
  const state = interpretDovecot({ n: n.stdout, current: current.stdout, defaults: defaults.stdout, original, openssl, raw, collectedAt: new Date() });
  if (typeof state === "string") throw new PlaybookError(s.hostLabel, `${state} on ${s.hostLabel}`);
  return state;
}

// ---------------------------------------------------------------------------------------------
// Plans (pure)

const COMPLIANT: Record<DovecotProtocolSetting, string> = { ssl_min_protocol: "TLSv1.2", ssl_protocols: "!SSLv2 !SSLv3 !TLSv1 !TLSv1.1" };

function plan(state: DovecotState, target: (enabled: TlsVersion[] | null) => string | null, why: string): DovecotChange[] {
  const changes: DovecotChange[] = [];
  const add = (filter: string[], from: string, enabled: TlsVersion[] | null) => {
    const to = target(enabled);
    if (to === null) return;
    changes.push({
      path: state.configFile,
      value: filter.length === 0 ? state.setting : `${filter.join(" / ")} / ${state.setting}`,
      setting: state.setting,
      filter,
      scope: scopeOf(filter),
      from,
      to,
      reason: `${why}: ${scopeOf(filter)} ${state.setting} = ${from} allows ${describeVersions(enabled)}`,
    });
  };
  add([], state.global.value, state.global.enabled);
  for (const f of state.filters) add(f.filter, f.value, f.enabled);
  return changes;
}

export function planDisableLegacy(state: DovecotState): DovecotChange[] {
  return plan(state, (e) => (e === null || e.some((v) => LEGACY_VERSIONS.includes(v)) || !e.includes("TLSv1.2") ? COMPLIANT[state.setting] : null), "disable TLS 1.0/1.1");
}

/** TLS 1.2 on where the minimum is above it (TLSv1.3 / LATEST) or the value is unusable; a lower
 *  minimum already includes TLS 1.2 and is left alone. */
export function planEnableTls12(state: DovecotState): DovecotChange[] {
  return plan(state, (e) => (e !== null && e.includes("TLSv1.2") ? null : COMPLIANT[state.setting]), "enable TLS 1.2");
}

export function planDovecot(state: DovecotState, goal: Goal): DovecotChange[] {
  return goal === "enable-tls12" ? planEnableTls12(state) : planDisableLegacy(state);
}

// ---------------------------------------------------------------------------------------------
// Apply / rollback

const FILTER_HEADER = /^(protocol|local|remote|local_name) [A-Za-z0-9_.:/*!\-[\] ]+$/;
const ALLOWED_VALUES = new Set([...Object.keys(MIN_PROTOCOL), COMPLIANT.ssl_protocols]);

const ChangeSchema = z.object({
  path: z.string().regex(/^\/[^\0\n\r]*$/),
  value: z.string(),
  setting: z.enum(["ssl_min_protocol", "ssl_protocols"]),
  filter: z.array(z.string().regex(FILTER_HEADER).max(200)).max(4),
  from: z.union([z.string(), z.null()]),
  to: z.string().refine((v) => ALLOWED_VALUES.has(v), "not a protocol value tlsfleet writes"),
  reason: z.string(),
});

function effective(state: DovecotState, filter: string[]): string | null {
  if (filter.length === 0) return state.global.value;
  return state.filters.find((f) => f.filter.join("\n") === filter.join("\n"))?.value ?? null;
}

/** Dovecot as apply-steps.ts edits it: `doveconf -n` parses every file Dovecot would read. */
const DOVECOT: FileService<DovecotState> = {
  name: "Dovecot",
  validate: { argv: ["doveconf", "-n"], step: "Validating the new configuration (doveconf -n)" },
  reload: { argv: ["doveadm", "reload"], step: "Reloading Dovecot (doveadm reload)" },
  check: checkDovecot,
};

/** The main file with `next` as its bytes (copy kept as FILE.tlsfleet-bak), through editAndReload. */
function writeMainFile(s: RemoteSession, before: DovecotState, next: Buffer, changes: Change[], verify: (after: DovecotState) => string | null): Promise<DovecotState> {
  const path = before.configFile;
  return editAndReload(s, before, [{ path, original: bytesOf(before.original), next, backupPath: `${path}${BACKUP_SUFFIX}`, changes }], DOVECOT, verify);
}

/** Sets the planned values in tlsfleet's block at the end of the main file (see the top of this
 *  file). Values already in effect are skipped; nothing pending: nothing written. */
export async function applyDovecot(s: RemoteSession, changes: Change[], opts: ApplyOptions<DovecotState> = {}): Promise<Applied> {
  const before = opts.before ?? (await checkDovecot(s));
  await opts.onBefore?.(before);
  const wanted = changes.map((c) => {
    const parsed = ChangeSchema.safeParse(c);
    if (!parsed.success || parsed.data.setting !== before.setting || parsed.data.path !== before.configFile) {
      throw new PlaybookError(s.hostLabel, `Refusing a Dovecot change on ${s.hostLabel} (${String(c.path)} ${String(c.value)}): only ${before.setting} in ${before.configFile} is managed.`, { before });
    }
    return parsed.data;
  });
  const pending = wanted.filter((c) => effective(before, c.filter) !== c.to);
  if (pending.length === 0) return { before, after: before, changes: [], pendingReboot: false };

  const text = bytesOf(before.original).toString("latin1");
  const entries = [...(splitManagedBlock(text).entries ?? [])];
  for (const c of pending) {
    const k = entries.findIndex((e) => e.setting === c.setting && e.filter.join("\n") === c.filter.join("\n"));
    const entry = { filter: c.filter, setting: c.setting, value: c.to };
    if (k >= 0) entries[k] = entry;
    else entries.push(entry);
  }
  // Globals first: a global after a filter draws doveconf's "won't change the setting inside an
  // earlier filter" warning for the block's own filters.
  entries.sort((a, b) => a.filter.length - b.filter.length);
  const next = Buffer.from(withManagedBlock(text, entries), "latin1");
  const written: Change[] = pending.map((c) => ({ ...c, from: effective(before, c.filter) }));
  const after = await writeMainFile(s, before, next, written, (a) => {
    const wrong = pending.filter((c) => effective(a, c.filter) !== c.to);
    return wrong.length === 0 ? null : `doveconf still shows ${wrong.map((c) => `${scopeOf(c.filter)} ${c.setting} = ${effective(a, c.filter) ?? "(unset)"}`).join(", ")}`;
  });
  return { before, after, changes: written, pendingReboot: false };
}

const BeforeSchema = z.object({ playbookId: z.literal("dovecot"), configFile: z.string(), original: FileSnapshotSchema });

/** Puts tlsfleet's block back to what it was in `before` (usually: no block), leaving every other
 *  line of the file as it is now; when nothing else changed the file gets its exact old bytes. */
export async function rollbackDovecot(s: RemoteSession, before: ConfigState): Promise<Applied> {
  const parsed = BeforeSchema.safeParse(before);
  if (!parsed.success) throw new PlaybookError(s.hostLabel, `The snapshot to restore on ${s.hostLabel} is not a Dovecot snapshot.`);
  const current = await checkDovecot(s);
  if (current.configFile !== parsed.data.configFile) {
    throw new PlaybookError(s.hostLabel, `Dovecot on ${s.hostLabel} now reads ${current.configFile}, the snapshot is of ${parsed.data.configFile}; restore by hand.`, { before: current });
  }
  const want = bytesOf(parsed.data.original);
  const now = bytesOf(current.original);
  if (now.equals(want)) return { before: current, after: current, changes: [], pendingReboot: false };
  const wantText = want.toString("latin1");
  const nowText = now.toString("latin1");
  const oldEntries = splitManagedBlock(wantText).entries ?? [];
  // A newline added before the block (the file did not end with one) is not "another change".
  const restOf = (t: string) => trimTrailing(splitManagedBlock(t).rest, "\n");
  const next = restOf(nowText) === restOf(wantText) ? want : Buffer.from(withManagedBlock(nowText, oldEntries), "latin1");
  const show = (e: ManagedEntry[] | null) => (e && e.length > 0 ? e.map((x) => `${scopeOf(x.filter)} ${x.setting} = ${x.value}`).join("; ") : null);
  const changes: Change[] = [{ path: current.configFile, value: "tlsfleet managed block", from: show(current.managed), to: show(oldEntries), reason: "rollback" }];
  const after = await writeMainFile(s, current, next, changes, () => null);
  return { before: current, after, changes, pendingReboot: false };
}

export const dovecotPlaybook = linuxServicePlaybook<DovecotState>("dovecot", { check: checkDovecot, plan: planDovecot, apply: applyDovecot, rollback: rollbackDovecot });
