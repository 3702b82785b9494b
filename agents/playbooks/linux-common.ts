// What the Linux playbooks (postfix, nginx, dovecot) share: the TLS version vocabulary, the
// reduction of many per-service settings to the two compliance questions, checked remote
// commands, and byte-exact remote file reads and writes through argv only.

import { createHash, randomBytes } from "node:crypto";
import { z } from "zod";
import { quotePosix } from "../transport/quote";
import type { ExecOptions, RemoteSession } from "../transport/types";
import type { ConfigSide, Direction } from "../../lib/compliance/status";
import { keepLine } from "./output-limits";
import { TLS_VERSION_LABEL as LABEL } from "../../lib/tls/types";
import { PlaybookError, type ConfigState, type Host, type Playbook, type RawOutput } from "./types";

/** The versions the product reports on, in order (the prober's names, lib/tls/types.ts). */
export const TLS_VERSIONS = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];
export const LEGACY_VERSIONS: readonly TlsVersion[] = ["TLSv1", "TLSv1.1"];

export const versionLabel = (v: TlsVersion): string => LABEL[v];

/** "TLS 1.0-1.3", "TLS 1.2, 1.3", "none". */
export function describeVersions(enabled: readonly TlsVersion[] | null): string {
  if (enabled === null) return "cannot tell";
  if (enabled.length === 0) return "no TLS version";
  const idx = enabled.map((v) => TLS_VERSIONS.indexOf(v)).sort((a, b) => a - b);
  const contiguous = idx.every((n, i) => i === 0 || n === idx[i - 1]! + 1);
  const short = (n: number) => LABEL[TLS_VERSIONS[n]!].replace("TLS ", "");
  if (contiguous && idx.length > 2) return `TLS ${short(idx[0]!)}-${short(idx[idx.length - 1]!)}`;
  return `TLS ${idx.map(short).join(", ")}`;
}

/** One place in a service's configuration that decides which TLS versions some listener (or the
 *  outbound client) allows. */
export interface ProtocolSetting {
  /** Where it applies, in the operator's terms: "main.cf", "master.cf submission/inet",
   *  "server web.example (conf.d/site.conf:3)", "protocol imap". */
  scope: string;
  /** The parameter / directive name. */
  setting: string;
  /** As configured; null when absent (the software default applies). */
  value: string | null;
  /** explicit: set here; inherited: from an enclosing scope; default: nothing set anywhere. */
  source: "explicit" | "inherited" | "default";
  /** inbound: a listener (the host as TLS server); outbound: the host's own client (Postfix smtp). */
  direction: Direction;
  /** The versions this setting leaves enabled as the host behaves: the setting, narrowed by what
   *  the TLS library allows (see `library`); null when it cannot be told (unknown syntax or
   *  version, or a value we cannot evaluate). */
  enabled: TlsVersion[] | null;
  /** Why the library (or another setting, e.g. nginx's default server) narrows what this setting
   *  alone allows: "OpenSSL 3.0.11 refuses TLS 1.0/1.1 at security level 2". */
  library?: string;
}

export type SettingsSummary = Pick<ConfigState, "legacyEnabled" | "tls12Enabled" | "summary" | "sides">;

const show = (s: ProtocolSetting) => `${s.scope === "" ? "" : `${s.scope}: `}${s.setting} = ${s.value ?? "(default)"}${s.library ? ` (${s.library})` : ""}`;
const list = (xs: readonly ProtocolSetting[]) => `${xs.slice(0, 3).map(show).join("; ")}${xs.length > 3 ? `; +${xs.length - 3} more` : ""}`;

function verdictOf(settings: readonly ProtocolSetting[]): { legacyEnabled: boolean | null; tls12Enabled: boolean | null; parts: string[] } {
  const known = settings.filter((s) => s.enabled !== null);
  const unknown = settings.length - known.length;
  const legacy = known.filter((s) => s.enabled!.some((v) => LEGACY_VERSIONS.includes(v)));
  const no12 = known.filter((s) => !s.enabled!.includes("TLSv1.2"));
  const parts: string[] = [];
  if (legacy.length > 0) parts.push(`TLS 1.0/1.1 enabled by ${list(legacy)}`);
  if (no12.length > 0) parts.push(`TLS 1.2 disabled by ${list(no12)}`);
  if (unknown > 0) parts.push(`cannot evaluate ${list(settings.filter((s) => s.enabled === null))}`);
  if (legacy.length === 0 && no12.length === 0 && unknown === 0) parts.push(`TLS 1.0/1.1 off, TLS 1.2 on in all ${settings.length} settings (${list(settings)})`);
  return { legacyEnabled: legacy.length > 0 ? true : unknown > 0 ? null : false, tls12Enabled: no12.length > 0 ? false : unknown > 0 ? null : true, parts };
}

/** A direction that uses no TLS at all (the security level says so), with the operator's reason. */
export type NoTls = Partial<Record<Direction, string>>;

/** The ConfigEvidence fields (lib/compliance/status.ts) from a list of settings, per direction and
 *  both together: legacy is enabled when ANY setting enables TLS 1.0 or 1.1 (one listener is
 *  enough for a peer to negotiate it); TLS 1.2 is enabled only when EVERY setting enables it (a
 *  listener without it breaks mail flow with Microsoft 365). A setting we cannot evaluate makes
 *  the answer "cannot tell" (null) unless another setting already decides it. `noTls` marks a
 *  direction that offers no TLS whatever its versions. */
export function summarizeSettings(settings: readonly ProtocolSetting[], headline?: string, noTls: NoTls = {}): SettingsSummary {
  const sides: ConfigSide[] = [];
  for (const direction of ["inbound", "outbound"] as const) {
    const mine = settings.filter((s) => s.direction === direction);
    const off = noTls[direction];
    if (off !== undefined) sides.push({ direction, legacyEnabled: false, tls12Enabled: false, tlsOffered: false, summary: off });
    else if (mine.length > 0) {
      const v = verdictOf(mine);
      sides.push({ direction, legacyEnabled: v.legacyEnabled, tls12Enabled: v.tls12Enabled, summary: v.parts.join("; ") });
    }
  }
  if (settings.length === 0) return { legacyEnabled: null, tls12Enabled: null, summary: headline ?? "no TLS protocol settings found", sides };
  const all = verdictOf(settings);
  return { legacyEnabled: all.legacyEnabled, tls12Enabled: all.tls12Enabled, summary: [...(headline ? [headline] : []), ...all.parts].join("; "), sides };
}

function versionsVerdict(enabled: ProtocolSetting["enabled"]): string {
  if (enabled === null) return "cannot tell which versions";
  const legacy = enabled.filter((v) => LEGACY_VERSIONS.includes(v));
  if (legacy.length === 2) return "TLS 1.0/1.1 enabled";
  if (legacy.length === 1) return `${versionLabel(legacy[0]!)} enabled`;
  if (!enabled.includes("TLSv1.2")) return "TLS 1.2 disabled";
  return `${describeVersions(enabled)} only`;
}

/** Task-log lines for a service playbook's settings: "postfix: smtpd_tls_protocols = >=TLSv1 -> TLS 1.0/1.1 enabled". */
export function describeSettings(state: Pick<ConfigState, "playbookId" | "summary"> & { settings?: readonly ProtocolSetting[] }): string[] {
  const id = state.playbookId;
  const settings = Array.isArray(state.settings) ? state.settings : [];
  const lines = settings.map(
    (st) => `${id}: ${st.direction === "outbound" ? "outbound: " : ""}${st.scope ? `${st.scope}: ` : ""}${st.setting} = ${st.value ?? "(default)"}${st.source === "explicit" ? "" : ` (${st.source})`} -> ${versionsVerdict(st.enabled)}${st.library ? ` (${st.library})` : ""}`,
  );
  return lines.length ? lines : [`${id}: ${state.summary}`];
}

/** A Linux service's playbook: it applies to Linux hosts that have the role its id names
 *  ("postfix", "nginx", "dovecot"), and describes its state setting by setting. */
export function linuxServicePlaybook<S extends ConfigState & { settings: readonly ProtocolSetting[] }>(id: string, steps: Pick<Playbook<S>, "check" | "plan" | "apply" | "rollback">): Playbook<S> {
  return { id, appliesTo: (host: Host) => host.platform === "linux" && host.roles.includes(id), ...steps, describe: describeSettings };
}

export function raw(argv: string[], r: { exitCode: number | null; stdout: string; stderr: string }): RawOutput {
  return { argv, exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a read-only command; a non-zero exit code is a PlaybookError naming the command. */
export async function runChecked(s: RemoteSession, argv: string[], log: RawOutput[] | null, opts: ExecOptions & { okCodes?: number[] } = {}): Promise<RawOutput> {
  const r = await s.exec(argv, { timeoutMs: 60_000, ...opts });
  const out = raw(argv, r);
  log?.push(out);
  return checkedOutput(s.hostLabel, out, opts.okCodes);
}

/** `out` when its exit code is one of `okCodes` (default 0); otherwise a PlaybookError naming the command. */
export function checkedOutput(hostLabel: string, out: RawOutput, okCodes: readonly number[] = [0]): RawOutput {
  if (out.exitCode === null || !okCodes.includes(out.exitCode)) {
    const detail = (out.stderr.trim() || out.stdout.trim()).slice(0, 400) || "no message";
    const hint = out.exitCode === 127 ? " (command not found: is the software installed, and in PATH for this login?)" : "";
    throw new PlaybookError(hostLabel, `\`${out.argv.slice(0, 3).join(" ")}\` failed on ${hostLabel} (exit code ${out.exitCode ?? "none"})${hint}: ${detail}`);
  }
  return out;
}

// One remote shell for several commands. Every command over SSH costs a channel and a start of
// the login user's shell, which on a real server reads its rc files (measured on the lab with a
// pyenv-initialising ~/.bashrc: 90 ms of CPU per start, against 4 ms with an empty home); a check
// that runs seven postconf queries one by one pays that seven times. The script below runs the
// steps in one shell, each writing its stdout and stderr to files of its own, and prints each
// step's exit code on a line as the step ends, marked with a nonce of the batch, so a noisy rc
// file printing to stdout cannot be mistaken for the script's output. When the shell exits
// (after the last step, or at a failing gate) it prints every file's size (one `wc -c`) and all
// of them concatenated as one base64 line (one `cat`, `base64`, `tr`): six helper processes per
// batch whatever its length. Framing each step on its own (two base64 and two tr per step) cost
// the 11-step Postfix check 0.13 s of the host's CPU instead of 0.09 s (measured in a lab
// namespace, 30 runs each), which counts when a rollout runs two such checks on every host of a
// fleet. The steps are argv arrays quoted with quotePosix, as the transport quotes a single
// command; the nonce is hex.
const batchScript = (mark: string) => `d=$(mktemp -d) || exit 125
n=0
dump() {
  set --
  i=1
  while [ "$i" -le "$n" ]; do set -- "$@" "$d/o$i" "$d/e$i"; i=$((i+1)); done
  if [ "$#" -gt 0 ]; then
    printf '\n${mark}-sizes\n'
    wc -c -- "$@"
    printf '\n${mark}-data '
    cat -- "$@" | base64 | tr -d '\n'
    printf '\n'
  fi
  rm -rf -- "$d"
}
trap dump EXIT
step() {
  n=$((n+1))
  "$@" >"$d/o$n" 2>"$d/e$n"
  rc=$?
  printf '\n${mark} %s %s\n' "$n" "$rc"
  return "$rc"
}`;

export interface BatchOptions {
  /** Stop at the first step that exits non-zero (the steps after it do not run); a number:
   *  only the first N steps are gates, the ones after them all run whatever they exit with. */
  stopOnFailure?: boolean | number;
  timeoutMs?: number;
  maxOutputBytes?: number;
}

/** The exit codes the script printed, in step order, until a line breaks the order. */
function exitCodes(lines: string[], mark: string, steps: number): number[] {
  const codes: number[] = [];
  for (const line of lines) {
    if (!line.startsWith(`${mark} `)) continue;
    const [, n, rc] = line.split(" ");
    // Steps report in order; anything else is not our script's output.
    if (Number(n) - 1 !== codes.length || codes.length >= steps || !/^\d+$/.test(rc ?? "")) break;
    codes.push(Number(rc));
  }
  return codes;
}

/** Each step's stdout and stderr from the dump at exit, or null when there is none or it does not add up. */
function dumpedOutputs(lines: string[], mark: string, count: number): Array<{ stdout: string; stderr: string }> | null {
  const sizesAt = lines.lastIndexOf(`${mark}-sizes`);
  const dataLine = lines.findLast((l) => l.startsWith(`${mark}-data `));
  if (sizesAt < 0 || dataLine === undefined) return null;
  // wc -c prints "SIZE NAME" per file in argument order (and a total line after two or more).
  const sizes = lines.slice(sizesAt + 1, sizesAt + 1 + 2 * count).map((l) => /^\s*(\d+)\s/.exec(l)?.[1]);
  if (sizes.length !== 2 * count || sizes.some((x) => x === undefined)) return null;
  const data = Buffer.from(dataLine.slice(mark.length + 6), "base64");
  const total = sizes.reduce((sum, x) => sum + Number(x), 0);
  if (total !== data.length) return null;
  const out: Array<{ stdout: string; stderr: string }> = [];
  let at = 0;
  const take = (size: number) => data.subarray(at, (at += size)).toString("utf8");
  for (let i = 0; i < count; i++) out.push({ stdout: take(Number(sizes[2 * i])), stderr: take(Number(sizes[2 * i + 1])) });
  return out;
}

/**
 * Runs `steps` in order in one remote shell and returns the output of each step that ran, in
 * order: all of them, or with `stopOnFailure` up to and including the first that failed. A
 * step's exit code is its own (127: not installed). Throws a PlaybookError when the shell itself
 * failed (no mktemp, killed, output cut off), naming how far it got.
 */
export async function runBatch(s: RemoteSession, steps: readonly string[][], opts: BatchOptions = {}): Promise<RawOutput[]> {
  const gates = opts.stopOnFailure === true ? steps.length : opts.stopOnFailure || 0;
  const lines = steps.map((argv, i) => `step ${quotePosix(argv)}${i < gates ? " || exit 0" : ""}`);
  const mark = `@@tlsfleet-step-${randomBytes(8).toString("hex")}`;
  const r = await s.exec(["sh", "-c", `${batchScript(mark)}\n${lines.join("\n")}\n`, "sh"], {
    timeoutMs: opts.timeoutMs ?? 60_000,
    maxOutputBytes: opts.maxOutputBytes ?? 16 * 1024 * 1024,
  });
  const printed = r.stdout.split("\n");
  const codes = exitCodes(printed, mark, steps.length);
  const outputs = codes.length > 0 ? dumpedOutputs(printed, mark, codes.length) : [];
  const stoppedAt = codes.findIndex((rc) => rc !== 0);
  const complete = codes.length === steps.length || (stoppedAt >= 0 && stoppedAt < gates && stoppedAt === codes.length - 1);
  if (!complete || outputs === null || r.truncated) {
    // Without the dump (the shell was killed) the steps that ran have no output to show.
    const ran = codes.length;
    const next = steps[ran];
    const detail = (r.stderr.trim() || "no message").slice(0, 300);
    throw new PlaybookError(
      s.hostLabel,
      `A batch of ${steps.length} commands on ${s.hostLabel} stopped after ${ran}${next ? ` (next: \`${next.slice(0, 3).join(" ")}\`)` : ""}${r.truncated ? ": its output was cut off" : ""} (exit code ${r.exitCode ?? "none"}): ${detail}`,
    );
  }
  return codes.map((rc, i) => ({ argv: [...steps[i]!], exitCode: rc, ...outputs[i]! }));
}

/** A configuration file as read from the host: exact bytes (base64 keeps any encoding intact). */
export interface FileSnapshot {
  path: string;
  sha256: string;
  base64: string;
}

export const FileSnapshotSchema = z.object({
  path: z.string().regex(/^\/[^\0\n\r]*$/),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  base64: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/),
});

const ABSOLUTE_PATH = /^\/[^\0\n\r]*$/;

export function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export function snapshotOf(path: string, bytes: Buffer): FileSnapshot {
  return { path, sha256: sha256(bytes), base64: bytes.toString("base64") };
}

export function bytesOf(snapshot: FileSnapshot): Buffer {
  return Buffer.from(snapshot.base64, "base64");
}

function assertPath(hostLabel: string, path: string): void {
  if (!ABSOLUTE_PATH.test(path)) throw new PlaybookError(hostLabel, `Refusing to touch "${path.slice(0, 200)}" on ${hostLabel}: not an absolute file path.`);
}

/** Reads a file's exact bytes: `base64 -- PATH` (coreutils), the path as one argv element. */
export async function readRemoteFile(s: RemoteSession, path: string, log: RawOutput[] | null = null): Promise<Buffer> {
  assertPath(s.hostLabel, path);
  const argv = ["base64", "--", path];
  const r = await s.exec(argv, { timeoutMs: 30_000, maxOutputBytes: 16 * 1024 * 1024 });
  // The content is kept in the snapshot's own field; the raw log only records that it was read.
  log?.push({ argv, exitCode: r.exitCode, stdout: `(${r.stdout.length} base64 characters)`, stderr: r.stderr });
  if (r.exitCode !== 0) {
    throw new PlaybookError(s.hostLabel, `Cannot read ${path} on ${s.hostLabel} (exit code ${r.exitCode ?? "none"}): ${r.stderr.trim().slice(0, 300) || "no message"}`);
  }
  const text = r.stdout.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new PlaybookError(s.hostLabel, `Reading ${path} on ${s.hostLabel} returned something other than base64.`);
  return Buffer.from(text, "base64");
}

// Constant scripts: the path arrives as "$1", the content on stdin, never in the command line.
// Writing in place (truncate + write) keeps the file's inode, owner, mode and SELinux label.
const WRITE_SCRIPT = 'base64 -d > "$1"';

/** Replaces a file's content with exactly these bytes and reads it back to prove it. */
export async function writeRemoteFile(s: RemoteSession, path: string, bytes: Buffer): Promise<void> {
  assertPath(s.hostLabel, path);
  const r = await s.exec(["sh", "-c", WRITE_SCRIPT, "sh", path], { stdin: bytes.toString("base64"), timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    throw new PlaybookError(s.hostLabel, `Writing ${path} on ${s.hostLabel} failed (exit code ${r.exitCode ?? "none"}): ${r.stderr.trim().slice(0, 300) || "no message"}`);
  }
  const back = await readRemoteFile(s, path);
  if (!back.equals(bytes)) throw new PlaybookError(s.hostLabel, `${path} on ${s.hostLabel} does not read back as written.`);
}

/** `cp -p -- PATH BACKUP`: an on-host copy for an operator working without tlsfleet. */
export async function backupRemoteFile(s: RemoteSession, path: string, backupPath: string): Promise<void> {
  assertPath(s.hostLabel, path);
  assertPath(s.hostLabel, backupPath);
  const r = await s.exec(["cp", "-p", "--", path, backupPath], { timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    throw new PlaybookError(s.hostLabel, `Backing up ${path} to ${backupPath} on ${s.hostLabel} failed: ${r.stderr.trim().slice(0, 300) || "no message"}`);
  }
}

export const BACKUP_SUFFIX = ".tlsfleet-bak";

/** Message for an error that may carry an operator-facing text. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------------
// The TLS library's own policy (docs/domain.md "What the library allows")

/** What OpenSSL itself imposes on an application, read from `openssl version` and the
 *  [system_default] section of OPENSSLDIR/openssl.cnf (config(5): openssl_conf -> ssl_conf ->
 *  system_default). */
export interface OpenSslPolicy {
  /** "3.0.11" from `openssl version`; null when it could not be read. */
  version: string | null;
  configFile: string | null;
  /** [system_default] MinProtocol / CipherString, null when not set. Postfix, nginx and Dovecot
   *  set their own version range, so MinProtocol is shown, not applied to them. */
  minProtocol: string | null;
  cipherString: string | null;
  /** @SECLEVEL=n in that CipherString; null: the build's default (1 upstream, 2 on Debian). */
  securityLevel: number | null;
  notes: string[];
}

// A constant script (no host data in the command line): the openssl CLI's version, its
// OPENSSLDIR, and openssl.cnf from there. The CLI and the services normally share libssl.
export const OPENSSL_POLICY_STEP: readonly string[] = [
  "sh",
  "-c",
  `command -v openssl >/dev/null 2>&1 || exit 127
openssl version
d=$(openssl version -d | sed -n 's/^OPENSSLDIR: "\\(.*\\)"$/\\1/p')
printf 'OPENSSLDIR=%s\\n' "$d"
if [ -n "$d" ] && [ -r "$d/openssl.cnf" ]; then cat -- "$d/openssl.cnf"; fi
exit 0`,
];

const SECLEVEL = /@SECLEVEL=(\d)/g;

/** The last @SECLEVEL=n of a cipher list (OpenSSL applies them in order), or null. */
export function securityLevelIn(cipherList: string | null | undefined): number | null {
  if (!cipherList) return null;
  const all = [...cipherList.matchAll(SECLEVEL)];
  return all.length ? Number(all[all.length - 1]![1]) : null;
}

/** Pure: the policy from OPENSSL_POLICY_STEP's output; null when openssl did not answer. */
export function parseOpenSslPolicy(out: RawOutput | undefined): OpenSslPolicy | null {
  if (!out || out.exitCode !== 0) return null;
  const lines = out.stdout.split("\n");
  const version = /^OpenSSL (\d+\.\d+\.\d+)/.exec(lines[0] ?? "")?.[1] ?? null;
  const dirLine = lines.findIndex((l) => l.startsWith("OPENSSLDIR="));
  const dir = dirLine >= 0 ? lines[dirLine]!.slice("OPENSSLDIR=".length) : "";
  const notes: string[] = [];
  // config(5): "[ name ]" starts a section, "name = value" sets, "#" comments; keys are case
  // sensitive. The part before the first section is the default section.
  const sections = new Map<string, Map<string, string>>([["", new Map()]]);
  let current = sections.get("")!;
  for (const raw of dirLine >= 0 ? lines.slice(dirLine + 1) : []) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const section = /^\[\s*([^\]\s]+)\s*\]$/.exec(line);
    if (section) {
      current = sections.get(section[1]!) ?? new Map();
      sections.set(section[1]!, current);
      continue;
    }
    if (/^\.include\b/.test(line)) keepLine(notes, `openssl.cnf includes ${line.slice(8).trim()} (not read)`);
    const kv = /^([A-Za-z0-9_.$-]+)\s*=\s*(.*)$/.exec(line);
    if (kv) current.set(kv[1]!, kv[2]!.replace(/^"(.*)"$/, "$1"));
  }
  const section = (name: string | undefined) => (name === undefined ? undefined : sections.get(name));
  const init = section(sections.get("")!.get("openssl_conf"));
  const ssl = section(init?.get("ssl_conf"));
  const sys = section(ssl?.get("system_default"));
  const cipherString = sys?.get("CipherString") ?? null;
  return {
    version,
    configFile: dir ? `${dir}/openssl.cnf` : null,
    minProtocol: sys?.get("MinProtocol") ?? null,
    cipherString,
    securityLevel: securityLevelIn(cipherString),
    notes,
  };
}

/**
 * What a setting's versions become with the library's security level: OpenSSL 3 refuses TLS 1.0
 * and 1.1 at every level above 0 (their handshakes need SHA-1/MD5-SHA1 signatures; OpenSSL 3.0
 * "SSL/TLS security level" changes, measured on Debian 12's 3.0: a TLS 1.0 handshake fails with
 * an internal_error alert at the default level and at @SECLEVEL=1, succeeds at @SECLEVEL=0).
 * `appCipherList` is the application's own cipher list (its @SECLEVEL wins); `undefined` means
 * the application may change the level in a way not read here, so nothing is narrowed.
 * `appDefaultLevel`: the level an application sets itself when its list names none (Postfix
 * sets 0, measured; nginx and Dovecot keep the library's).
 */
export function narrowByLibrary(
  enabled: TlsVersion[] | null,
  appCipherList: string | null | undefined,
  policy: OpenSslPolicy | null,
  opts: { appDefaultLevel?: number } = {},
): { enabled: TlsVersion[] | null; library?: string } {
  if (enabled === null || appCipherList === undefined || !policy?.version) return { enabled };
  if (!enabled.some((v) => LEGACY_VERSIONS.includes(v))) return { enabled };
  if (compareVersions(policy.version, "3.0.0") < 0) return { enabled };
  const own = securityLevelIn(appCipherList);
  const level = own ?? opts.appDefaultLevel ?? policy.securityLevel;
  if (level === 0) return { enabled };
  const why = own !== null ? "its cipher list" : level !== null ? `${policy.configFile ?? "openssl.cnf"} CipherString` : "the library default";
  return {
    enabled: enabled.filter((v) => !LEGACY_VERSIONS.includes(v)),
    library: `OpenSSL ${policy.version} refuses TLS 1.0/1.1 at security level ${level ?? "1+"} (${why}); the setting alone allows ${describeVersions(enabled)}`,
  };
}

/** Compares dotted versions numerically ("3.10" > "3.6"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
