// Postfix: which TLS versions smtpd (server) and smtp (client) allow, and changing that with
// postconf. docs/domain.md "Linux mail and web servers"; postconf(5) "smtpd_tls_protocols" (Postfix 3.7).
//
// Four parameters decide it: smtpd_tls_protocols (server, opportunistic TLS),
// smtpd_tls_mandatory_protocols (server, when TLS is required: smtpd_tls_security_level=encrypt),
// smtp_tls_protocols and smtp_tls_mandatory_protocols (the client, delivering outbound). Any
// master.cf service may override them with "-o name=value" (`postconf -P` lists those as
// service/type/name = value): the classic case is a submission service on 587 with its own,
// older, protocol list while main.cf is fine. The plan fixes those overrides too.
//
// Everything goes through postconf, never by editing main.cf/master.cf text: `postconf -e` and
// `postconf -P -e` rewrite one parameter and keep the rest of the file (comments included).

import { z } from "zod";
import type { RemoteSession } from "../transport/types";
import {
  bytesOf,
  FileSnapshotSchema,
  messageOf,
  checkedOutput,
  readRemoteFile,
  runBatch,
  snapshotOf,
  writeRemoteFile,
  type FileSnapshot,
  summarizeSettings,
  TLS_VERSIONS,
  LEGACY_VERSIONS,
  describeVersions,
  type ProtocolSetting,
  describeSettings,
  type TlsVersion,
  compareVersions,
  narrowByLibrary,
  OPENSSL_POLICY_STEP,
  parseOpenSslPolicy,
  type NoTls,
  type OpenSslPolicy,
} from "./linux-common";
import { failApply, runStep, stepError } from "./apply-steps";
import { countAgainst, keepLine, OUTPUT_LIMITS } from "./output-limits";
import { PlaybookError, type Applied, type ApplyOptions, type Change, type ConfigState, type Goal, type Host, type Playbook, type RawOutput } from "./types";

export const POSTFIX_PROTOCOL_PARAMETERS = ["smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols", "smtp_tls_mandatory_protocols"] as const;
export type PostfixProtocolParameter = (typeof POSTFIX_PROTOCOL_PARAMETERS)[number];
const isProtocolParameter = (name: string): name is PostfixProtocolParameter => (POSTFIX_PROTOCOL_PARAMETERS as readonly string[]).includes(name);
/** smtpd_* govern the server (inbound mail), smtp_* the client Postfix sends with (outbound). */
const sideOf = (p: PostfixProtocolParameter): "client" | "server" => (p.startsWith("smtpd_") ? "server" : "client");

export { compareVersions };

// ---------------------------------------------------------------------------------------------
// The protocol list syntax (pure)

// postconf(5): names as SSL_get_version(3) prints them. Postfix matches them exactly.
const NAMED: Record<string, number> = { SSLv2: 0x0002, SSLv3: 0x0300, TLSv1: 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304 };
const TLS_CODE: Record<TlsVersion, number> = { TLSv1: 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304 };
/** The highest version OpenSSL 3 knows: a hex bound above it is ignored with a warning (postconf(5)). */
const HIGHEST_KNOWN = 0x0304;

export interface PostfixProtocolEvaluation {
  /** Versions left enabled for a server; null when the value cannot be evaluated. */
  enabled: TlsVersion[] | null;
  /** Why it cannot be evaluated, or what Postfix would warn about. */
  problems: string[];
}

// Own keys only: a host printing "constructor" or "__proto__" must not reach Object.prototype.
const namedCode = (name: string): number | undefined => (Object.hasOwn(NAMED, name) ? NAMED[name] : undefined);

/** Parses "301", "0301", "0x301", "0x0301" (postconf(5): leading 0 or 0x optional). */
function parseHexVersion(text: string): number | null {
  const m = /^(?:0x)?([0-9a-fA-F]{3,4})$/.exec(text);
  return m ? parseInt(m[1]!, 16) : null;
}

/**
 * Which TLS versions a Postfix protocol list leaves enabled, as postconf(5) describes it:
 * - empty: every version OpenSSL supports (Postfix sets no bound; on Debian 12 openssl.cnf sets
 *   no MinProtocol either, so that is TLS 1.0-1.3);
 * - ">=V" / "<=V" (Postfix 3.6+): lower / upper bound, V a name or a hex number; a hex version
 *   OpenSSL does not know is ignored (Postfix logs a warning and sets no bound);
 * - "!NAME": exclude; "NAME": include, and every other known protocol is then excluded
 *   ("listing the protocols to include ... is supported, but not recommended");
 * - separators: whitespace, commas or colons.
 * Server semantics: OpenSSL accepts any version that is within the bounds and not excluded, even
 * with a "hole" (measured: `openssl s_server -no_tls1_1` still accepts TLS 1.0).
 * Client semantics (`side: "client"`, the smtp_* parameters and policy "protocols="): OpenSSL's
 * client uses only the LOWEST unbroken run of enabled versions, so a hole cuts off everything
 * above it (docs/domain.md "Version holes"; measured: `openssl s_client -no_tls1_1 -no_tls1_3`
 * offers TLS 1.0 only and a TLS 1.2-only server answers protocol_version; in the lab, a Postfix
 * with smtp_tls_protocols = !SSLv2, !SSLv3, !TLSv1.1, !TLSv1.3 is refused by the outbound sink).
 */
export function evaluatePostfixProtocols(value: string, opts: { postfixVersion?: string | null; side?: "client" | "server" } = {}): PostfixProtocolEvaluation {
  const problems: string[] = [];
  const tokens = value.split(/[\s,:]+/).filter(Boolean);
  if (tokens.some((t) => t.includes("$"))) return { enabled: null, problems: ["contains an unexpanded $parameter reference"] };
  let min = 0;
  let max = Number.POSITIVE_INFINITY;
  const excluded = new Set<number>();
  const included = new Set<number>();
  let bounds = false;
  let unknown = false;
  for (const token of tokens) {
    const bound = /^([<>]=)(.*)$/.exec(token);
    if (bound) {
      bounds = true;
      const [, op, v] = bound as unknown as [string, string, string];
      const code = namedCode(v) ?? parseHexVersion(v);
      if (code === null || code === undefined) {
        unknown = true;
        keepLine(problems, `unknown protocol version in "${token}"`);
        continue;
      }
      if (code > HIGHEST_KNOWN) {
        keepLine(problems, `"${token}": version unknown to OpenSSL; Postfix ignores this bound`);
        continue;
      }
      if (op === ">=") min = Math.max(min, code);
      else max = Math.min(max, code);
      continue;
    }
    const negated = token.startsWith("!");
    const name = negated ? token.slice(1) : token;
    const code = namedCode(name);
    if (code === undefined) {
      unknown = true;
      keepLine(problems, `unknown protocol "${token}"`);
      continue;
    }
    (negated ? excluded : included).add(code);
  }
  if (unknown) return { enabled: null, problems };
  if (bounds && opts.postfixVersion && compareVersions(opts.postfixVersion, "3.6") < 0) {
    return { enabled: null, problems: [...problems, `">=" / "<=" bounds need Postfix 3.6 or later; this is ${opts.postfixVersion}`] };
  }
  if (included.size > 0) for (const code of Object.values(NAMED)) if (!included.has(code)) excluded.add(code);
  const enabled = TLS_VERSIONS.filter((v) => TLS_CODE[v] >= min && TLS_CODE[v] <= max && !excluded.has(TLS_CODE[v]));
  if (opts.side !== "client") return { enabled, problems };
  const run = lowestRun(enabled);
  if (run.length < enabled.length) {
    const cut = enabled.filter((v) => !run.includes(v));
    keepLine(problems, `a gap in the list: as a client OpenSSL uses only ${describeVersions(run)}, so ${describeVersions(cut)} ${cut.length > 1 ? "are" : "is"} never offered`);
  }
  return { enabled: run, problems };
}

/** The lowest unbroken run of versions in `enabled` (ordered as TLS_VERSIONS). */
function lowestRun(enabled: readonly TlsVersion[]): TlsVersion[] {
  const run: TlsVersion[] = [];
  for (const v of TLS_VERSIONS) {
    if (enabled.includes(v)) run.push(v);
    else if (run.length > 0) break;
  }
  return run;
}

/** Every version from the lowest in `enabled` up to the highest of `enabled` and `upTo`: no holes. */
function unbrokenUpTo(enabled: readonly TlsVersion[], upTo: TlsVersion): TlsVersion[] {
  const idx = enabled.map((v) => TLS_VERSIONS.indexOf(v));
  const lo = Math.min(...idx, TLS_VERSIONS.indexOf(upTo));
  const hi = Math.max(...idx, TLS_VERSIONS.indexOf(upTo));
  return TLS_VERSIONS.slice(lo, hi + 1);
}


/** The value that enables exactly `enabled`, in the syntax this Postfix understands: bounds on
 *  3.6+ when the set is contiguous ("the preferred way"), else the exclusion syntax. */
export function formatPostfixProtocols(enabled: readonly TlsVersion[], postfixVersion: string | null): string {
  const idx = TLS_VERSIONS.map((v, i) => (enabled.includes(v) ? i : -1)).filter((i) => i >= 0);
  if (idx.length === 0) throw new Error("refusing to disable every TLS version");
  const contiguous = idx.every((n, i) => i === 0 || n === idx[i - 1]! + 1);
  const modern = postfixVersion === null || compareVersions(postfixVersion, "3.6") >= 0;
  if (modern && contiguous) {
    const lo = TLS_VERSIONS[idx[0]!]!;
    const hi = TLS_VERSIONS[idx[idx.length - 1]!]!;
    return hi === "TLSv1.3" ? `>=${lo}` : `>=${lo}, <=${hi}`;
  }
  return ["!SSLv2", "!SSLv3", ...TLS_VERSIONS.filter((v) => !enabled.includes(v)).map((v) => `!${v}`)].join(", ");
}

// ---------------------------------------------------------------------------------------------
// postconf output (pure)

// `postconf NAME` prints "name = value", or "name =" when the value is empty (Postfix 3.7).
// -P names are service/type/name; an inet service may be "host:port" or "[::1]:port".
// A plain RegExp, not a zod schema: the line's shape is all there is to check, and a zod failure
// builds an issue list per line, which made 30,000 garbage lines from a host cost a second.
const POSTCONF_LINE = /^([A-Za-z0-9_.:[\]/-]+) =(?: (.*))?$/;

export interface ParsedPostconf {
  values: Map<string, string>;
  unparsed: string[];
}

/** Parses postconf output. Pure. Throws OutputLimitError past OUTPUT_LIMITS.postconfEntries;
 *  keeps the first unparsed lines only. */
export function parsePostconf(stdout: string): ParsedPostconf {
  const values = new Map<string, string>();
  const unparsed: string[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const m = POSTCONF_LINE.exec(line);
    if (!m) {
      keepLine(unparsed, line);
      continue;
    }
    values.set(m[1]!, m[2] ?? "");
    countAgainst(values.size, OUTPUT_LIMITS.postconfEntries, "postconf output", "parameters");
  }
  return { values, unparsed };
}

/** "submission/inet/smtpd_tls_protocols" -> parts; the service name may itself hold ":" or "[]",
 *  never "/", so the last two slashes split it. */
export function splitMasterName(name: string): { service: string; type: string; parameter: string } | null {
  const parts = name.split("/");
  if (parts.length < 3) return null;
  const parameter = parts.pop()!;
  const type = parts.pop()!;
  const service = parts.join("/");
  if (!service || !/^(inet|unix|unix-dgram|fifo|pass)$/.test(type)) return null;
  return { service, type, parameter };
}

// ---------------------------------------------------------------------------------------------
// State

export interface PostfixParameterState {
  parameter: PostfixProtocolParameter;
  /** What `postconf NAME` prints: main.cf's value or the default. */
  value: string;
  /** With $parameter references expanded (`postconf -x`). */
  expanded: string;
  /** The value set in main.cf (`postconf -n`); null: not set, the default applies. */
  explicit: string | null;
  /** This Postfix's built-in default (`postconf -d`): ">=TLSv1" on 3.6+, "!SSLv2, !SSLv3" before. */
  default: string;
  enabled: TlsVersion[] | null;
  problems: string[];
}

export interface PostfixMasterOverride {
  service: string;
  type: string;
  parameter: PostfixProtocolParameter;
  /** As in master.cf (`postconf -P`). */
  value: string;
  expanded: string;
  enabled: TlsVersion[] | null;
  problems: string[];
}

export interface PostfixState extends ConfigState {
  playbookId: "postfix";
  /** mail_version, e.g. "3.7.11". */
  mailVersion: string | null;
  /** config_directory: where main.cf and master.cf live. */
  configDirectory: string;
  smtpdTlsSecurityLevel: string | null;
  parameters: Record<PostfixProtocolParameter, PostfixParameterState>;
  /** master.cf "-o" overrides of the four parameters. */
  masterOverrides: PostfixMasterOverride[];
  /** master.cf byte-exact, read only when it has overrides (the only case apply edits it):
   *  `postconf -P -e` re-indents the whole service entry it edits, so rollback uses these bytes
   *  to leave the file exactly as it was, not just equivalent. */
  masterCf: FileSnapshot | null;
  /** smtp_tls_security_level as the client uses it ("none": it sends no STARTTLS at all). */
  smtpTlsSecurityLevel: string | null;
  /** An inet service runs postscreen (master.cf): STARTTLS on it may go through tlsproxy. */
  postscreenServices: string[];
  /** smtp_tls_policy_maps entries that change TLS for a destination (level and protocols=). */
  policyEntries: PostfixPolicyEntry[];
  /** The OpenSSL policy the verdicts account for; null when it could not be read. */
  openssl: OpenSslPolicy | null;
  /** What the verdicts could not account for. */
  notes: string[];
  /** Every place that decides versions, for the UI and for compliance. */
  settings: ProtocolSetting[];
}

export interface PostfixPolicyEntry {
  map: string;
  destination: string;
  level: string | null;
  protocols: string | null;
}

export interface PostfixChange extends Change {
  /** "main" or "master:SERVICE/TYPE". */
  scope: string;
  parameter: PostfixProtocolParameter;
  from: string | null;
  to: string | null;
}

/** Pure: the state from what the postconf commands printed. */
export function interpretPostfix(input: {
  basics: string;
  values: string;
  expanded: string | null;
  defaults: string;
  explicit: string;
  master: string;
  masterExpanded: string | null;
  masterCf?: FileSnapshot | null;
  /** `postconf -x` of TLS_QUERY (levels, cipher grades and lists, tlsproxy, policy maps). */
  tls?: string | null;
  /** `postconf -M`: the master.cf services. */
  services?: string | null;
  /** OPENSSL_POLICY_STEP's output. */
  openssl?: RawOutput | null;
  /** POLICY_DUMP_STEP's output. */
  policy?: string | null;
  raw: RawOutput[];
  collectedAt: Date;
}): PostfixState | string {
  const basics = parsePostconf(input.basics).values;
  const values = parsePostconf(input.values).values;
  const expanded = input.expanded ? parsePostconf(input.expanded).values : values;
  const defaults = parsePostconf(input.defaults).values;
  const explicit = parsePostconf(input.explicit).values;
  const configDirectory = basics.get("config_directory");
  if (!configDirectory || !configDirectory.startsWith("/")) return "postconf did not report config_directory";
  const mailVersion = basics.get("mail_version") ?? null;
  const parameters = {} as Record<PostfixProtocolParameter, PostfixParameterState>;
  for (const p of POSTFIX_PROTOCOL_PARAMETERS) {
    const value = values.get(p);
    if (value === undefined) return `postconf did not print ${p} (Postfix older than 2.6?)`;
    const exp = expanded.get(p) ?? value;
    const ev = evaluatePostfixProtocols(exp, { postfixVersion: mailVersion, side: sideOf(p) });
    parameters[p] = { parameter: p, value, expanded: exp, explicit: explicit.get(p) ?? null, default: defaults.get(p) ?? "", enabled: ev.enabled, problems: ev.problems };
  }
  const masterExpanded = input.masterExpanded ? parsePostconf(input.masterExpanded).values : null;
  const masterOverrides: PostfixMasterOverride[] = [];
  for (const [name, value] of parsePostconf(input.master).values) {
    const parts = splitMasterName(name);
    if (!parts || !isProtocolParameter(parts.parameter)) continue;
    const exp = masterExpanded?.get(name) ?? value;
    const ev = evaluatePostfixProtocols(exp, { postfixVersion: mailVersion, side: sideOf(parts.parameter) });
    masterOverrides.push({ service: parts.service, type: parts.type, parameter: parts.parameter, value, expanded: exp, enabled: ev.enabled, problems: ev.problems });
  }
  const tls = input.tls ? parsePostconf(input.tls).values : new Map<string, string>();
  const openssl = parseOpenSslPolicy(input.openssl ?? undefined);
  const notes: string[] = [];
  if (!input.tls) notes.push("cipher lists not read: the OpenSSL security level is not accounted for");
  else if (!openssl) notes.push("openssl did not answer: the OpenSSL security level is not accounted for");
  else for (const n of openssl.notes) keepLine(notes, n);
  // The cipher list a parameter's sessions use: its grade (smtpd_tls_ciphers = medium, ...)
  // names tls_<grade>_cipherlist (postconf(5)); undefined when not read.
  const cipherList = (p: PostfixProtocolParameter): string | null | undefined => {
    if (!input.tls) return undefined;
    const grade = tls.get(CIPHER_GRADE_OF[p]);
    const list = grade ? tls.get(`tls_${grade}_cipherlist`) : undefined;
    return list ?? undefined;
  };
  const cipherOverrides = new Set(
    [...parsePostconf(input.master).values.keys()].flatMap((k) => {
      const parts = splitMasterName(k);
      return parts && /cipher/.test(parts.parameter) ? [`${parts.service}/${parts.type}`] : [];
    }),
  );
  const setting = (scope: string, p: PostfixProtocolParameter, value: string, source: ProtocolSetting["source"], enabled: TlsVersion[] | null, ciphers = cipherList(p)): ProtocolSetting => ({
    scope,
    setting: p,
    value,
    source,
    direction: p.startsWith("smtpd_") ? "inbound" : "outbound",
    // Postfix sets the security level itself: 0 unless its cipher list says @SECLEVEL (measured on
    // the lab's Postfix 3.7 with Debian 12's OpenSSL 3.0: the stock tls_medium_cipherlist accepts
    // TLS 1.0 under >=TLSv1; "...:@SECLEVEL=1" refuses it). docs/domain.md.
    ...narrowByLibrary(enabled, ciphers, openssl, { appDefaultLevel: 0 }),
  });
  const settings: ProtocolSetting[] = [
    ...POSTFIX_PROTOCOL_PARAMETERS.map((p) => setting("main.cf", p, parameters[p].value, parameters[p].explicit === null ? "default" : "explicit", parameters[p].enabled)),
    // A service that overrides a cipher setting with -o is not narrowed: its list is not read.
    ...masterOverrides.map((o) => setting(`master.cf ${o.service}/${o.type}`, o.parameter, o.value, "explicit", o.enabled, cipherOverrides.has(`${o.service}/${o.type}`) ? undefined : cipherList(o.parameter))),
  ];

  // postscreen in front of smtpd (master.cf): with its after-greeting tests on, postscreen runs
  // the STARTTLS itself through tlsproxy, whose tlsproxy_tls_* settings default to smtpd's but
  // may differ (postscreen(8), tlsproxy(8)). Both then serve that port.
  const postscreenServices = parseMasterServices(input.services ?? "").filter((x) => x.type === "inet" && x.command === "postscreen").map((x) => x.service);
  if (postscreenServices.length > 0 && tls.get("postscreen_tls_security_level") !== "none") {
    for (const [name, as] of [["tlsproxy_tls_protocols", "smtpd_tls_protocols"], ["tlsproxy_tls_mandatory_protocols", "smtpd_tls_mandatory_protocols"]] as const) {
      const value = tls.get(name);
      if (value === undefined) continue;
      const lists = tls.get("tlsproxy_tls_ciphers");
      const grade = lists ? tls.get(`tls_${lists}_cipherlist`) : undefined;
      settings.push({
        ...setting(`master.cf ${postscreenServices.join(", ")} (postscreen, tlsproxy)`, as, value, "inherited", evaluatePostfixProtocols(value, { postfixVersion: mailVersion }).enabled, grade ?? cipherList(as)),
        setting: name,
      });
    }
  }

  // smtp_tls_policy_maps: per-destination levels and "protocols=" (postconf(5)
  // smtp_tls_policy_maps). A destination of Microsoft 365 with level none sends no STARTTLS there.
  const policyEntries = parsePolicyDump(input.policy ?? "", notes);
  for (const e of policyEntries) {
    const scope = `smtp_tls_policy_maps ${e.map} ${e.destination}`;
    if (e.protocols !== null) {
      const enabled = evaluatePostfixProtocols(e.protocols, { postfixVersion: mailVersion, side: "client" }).enabled;
      settings.push({ ...setting(scope, "smtp_tls_mandatory_protocols", e.protocols, "explicit", enabled), setting: "protocols" });
    } else if (e.level === "none" && MICROSOFT_365.test(e.destination)) {
      settings.push({ scope, setting: "level", value: "none", source: "explicit", direction: "outbound", enabled: [] });
    }
  }
  if ((tls.get("smtp_tls_policy_maps") ?? "") !== "" && input.policy === undefined) notes.push("smtp_tls_policy_maps not read");

  const level = basics.get("smtpd_tls_security_level") ?? null;
  const clientLevel = smtpClientLevel(tls);
  const headline = level === "none" || level === "" ? `smtpd_tls_security_level = ${level || "(empty)"}: the server offers no STARTTLS` : undefined;
  const noTls: NoTls = {};
  if (headline) noTls.inbound = headline;
  if (clientLevel === "none") noTls.outbound = `smtp_tls_security_level = ${tls.get("smtp_tls_security_level") || "(empty)"}: no STARTTLS to other servers, Microsoft 365 included`;
  return {
    playbookId: "postfix",
    collectedAt: input.collectedAt.toISOString(),
    ...summarizeSettings(settings, headline, noTls),
    rebootPending: false,
    raw: input.raw,
    mailVersion,
    configDirectory,
    smtpdTlsSecurityLevel: level,
    smtpTlsSecurityLevel: input.tls ? clientLevel : null,
    parameters,
    masterOverrides,
    masterCf: input.masterCf ?? null,
    postscreenServices,
    policyEntries,
    openssl,
    notes,
    settings,
  };
}

// Microsoft 365's inbound MX hosts (docs/domain.md "Two directions": "*.mail.protection.outlook.com").
const MICROSOFT_365 = /(^|\.)(mail\.protection\.outlook\.com|outlook\.com)\]?(:\d+)?$/i;

const CIPHER_GRADE_OF: Record<PostfixProtocolParameter, string> = {
  smtpd_tls_protocols: "smtpd_tls_ciphers",
  smtpd_tls_mandatory_protocols: "smtpd_tls_mandatory_ciphers",
  smtp_tls_protocols: "smtp_tls_ciphers",
  smtp_tls_mandatory_protocols: "smtp_tls_mandatory_ciphers",
};

/** The client's effective level: smtp_tls_security_level, or (when empty) the obsolete
 *  smtp_enforce_tls / smtp_use_tls it replaced, else none (postconf(5)). */
function smtpClientLevel(tls: Map<string, string>): string | null {
  if (tls.size === 0) return null;
  const level = tls.get("smtp_tls_security_level") ?? "";
  if (level !== "") return level;
  if (tls.get("smtp_enforce_tls") === "yes") return "encrypt";
  if (tls.get("smtp_use_tls") === "yes") return "may";
  return "none";
}

/** `postconf -M` lines: "smtp      inet  n       -       y       -       1       postscreen". */
export function parseMasterServices(stdout: string): Array<{ service: string; type: string; command: string }> {
  const out: Array<{ service: string; type: string; command: string }> = [];
  for (const line of stdout.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || line.startsWith(" ")) continue;
    out.push({ service: f[0]!, type: f[1]!, command: f[7]! });
    countAgainst(out.length, OUTPUT_LIMITS.postconfEntries, "postconf -M output", "services");
  }
  return out;
}

/** POLICY_DUMP_STEP output: "@@map TYPE:NAME" then `postmap -s` lines "key value", or
 *  "@@failed TYPE:NAME" when the map cannot be listed (a note, never a guess). */
export function parsePolicyDump(stdout: string, notes: string[]): PostfixPolicyEntry[] {
  const entries: PostfixPolicyEntry[] = [];
  let map = "";
  for (const line of stdout.split("\n")) {
    if (line.startsWith("@@map ")) {
      map = line.slice(6).trim();
      continue;
    }
    if (line.startsWith("@@failed ")) {
      keepLine(notes, `smtp_tls_policy_maps ${line.slice(9).trim()} could not be listed (postmap -s)`);
      continue;
    }
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m || !map) continue;
    const words = m[2]!.split(/\s+/);
    const level = words[0] && !words[0].includes("=") ? words[0] : null;
    const protocols = words.find((w) => w.startsWith("protocols="))?.slice("protocols=".length) ?? null;
    if (level === null && protocols === null) continue;
    entries.push({ map, destination: m[1]!, level, protocols });
    countAgainst(entries.length, OUTPUT_LIMITS.postconfEntries, "smtp_tls_policy_maps", "entries");
  }
  return entries;
}

const NAMES = [...POSTFIX_PROTOCOL_PARAMETERS];
/** What decides the library's security level and the client's STARTTLS, besides the four. */
const TLS_QUERY = [
  "smtp_tls_security_level",
  "smtp_use_tls",
  "smtp_enforce_tls",
  ...Object.values(CIPHER_GRADE_OF),
  "tls_high_cipherlist",
  "tls_medium_cipherlist",
  "tls_low_cipherlist",
  "tls_null_cipherlist",
  "smtp_tls_policy_maps",
  "postscreen_tls_security_level",
  "tlsproxy_tls_protocols",
  "tlsproxy_tls_mandatory_protocols",
  "tlsproxy_tls_ciphers",
];
// A constant script: every map of smtp_tls_policy_maps listed with `postmap -s` (the map names
// come from the host's own postconf, never from us).
const POLICY_DUMP_STEP = [
  "sh",
  "-c",
  `set -f
for m in $(postconf -xh smtp_tls_policy_maps | tr ',' ' '); do
  printf '@@map %s\\n' "$m"
  postmap -s "$m" 2>/dev/null || printf '@@failed %s\\n' "$m"
done
exit 0`,
];
/** What a check asks postconf, in one remote shell (runBatch). The two -x queries expand $name
 *  references; Postfix before 2.10 has no -x, which matters only when a value holds a "$". */
const CHECK_STEPS: string[][] = [
  ["postconf", "mail_version", "config_directory", "smtpd_tls_security_level"],
  ["postconf", ...NAMES],
  ["postconf", "-x", ...NAMES],
  ["postconf", "-d", ...NAMES],
  ["postconf", "-n"],
  ["postconf", "-P"],
  ["postconf", "-P", "-x"],
  // Not gates: an older Postfix or a host without the openssl CLI still gets its four parameters.
  ["postconf", "-x", ...TLS_QUERY],
  ["postconf", "-M"],
  [...OPENSSL_POLICY_STEP],
  [...POLICY_DUMP_STEP],
];

/** The state from the outputs of CHECK_STEPS; reads master.cf's bytes (one more command) only
 *  when it has protocol overrides, the only case apply edits it. */
async function stateFromCheck(s: RemoteSession, outputs: RawOutput[]): Promise<PostfixState> {
  if (outputs.length !== CHECK_STEPS.length) throw new PlaybookError(s.hostLabel, `postconf on ${s.hostLabel} answered ${outputs.length} of ${CHECK_STEPS.length} queries`);
  const [basics, values, expanded, defaults, explicit, master, masterExpanded, tls, services, openssl, policy] = outputs;
  const optional = (o: RawOutput | undefined) => (o && o.exitCode === 0 ? o.stdout : null);
  const must = (o: RawOutput | undefined) => checkedOutput(s.hostLabel, o!);
  const expansion = (plain: RawOutput, x: RawOutput | undefined) => (plain.stdout.includes("$") ? must(x) : null);
  const raw = [...outputs];
  must(basics);
  must(values);
  must(defaults);
  must(explicit);
  must(master);
  const configDirectory = parsePostconf(basics!.stdout).values.get("config_directory");
  const hasOverrides = [...parsePostconf(master!.stdout).values.keys()].some((k) => isProtocolParameter(splitMasterName(k)?.parameter ?? ""));
  const masterCfPath = `${configDirectory}/master.cf`;
  const masterCf = hasOverrides && configDirectory?.startsWith("/") ? snapshotOf(masterCfPath, await readRemoteFile(s, masterCfPath, raw)) : null;
  const state = interpretPostfix({
    basics: basics!.stdout,
    values: values!.stdout,
    expanded: expansion(values!, expanded)?.stdout ?? null,
    defaults: defaults!.stdout,
    explicit: explicit!.stdout,
    master: master!.stdout,
    masterExpanded: expansion(master!, masterExpanded)?.stdout ?? null,
    masterCf,
    tls: optional(tls),
    services: optional(services),
    openssl: openssl ?? null,
    policy: optional(policy) ?? undefined,
    raw,
    collectedAt: new Date(),
  });
  if (typeof state === "string") throw new PlaybookError(s.hostLabel, `${state} on ${s.hostLabel}`);
  return state;
}

/** Reads the four parameters (value, expanded, default, explicit) and the master.cf overrides,
 *  in one remote shell. Read-only: postconf without -e / -X changes nothing. */
export async function checkPostfix(s: RemoteSession): Promise<PostfixState> {
  return stateFromCheck(s, await runBatch(s, CHECK_STEPS));
}

// ---------------------------------------------------------------------------------------------
// Plans (pure)

function mainChange(state: PostfixState, p: PostfixProtocolParameter, to: string, reason: string): PostfixChange {
  return { path: `${state.configDirectory}/main.cf`, value: p, scope: "main", parameter: p, from: state.parameters[p].explicit, to, reason };
}

function masterChange(state: PostfixState, o: PostfixMasterOverride, to: string, reason: string): PostfixChange {
  return {
    path: `${state.configDirectory}/master.cf`,
    value: `${o.service}/${o.type}/${o.parameter}`,
    scope: `master:${o.service}/${o.type}`,
    parameter: o.parameter,
    from: o.value,
    to,
    reason,
  };
}

/** TLS 1.0 and 1.1 off everywhere: ">=TLSv1.2" (or the exclusion list before Postfix 3.6) on each
 *  of the four parameters and each master.cf override that still allows them or lacks TLS 1.2.
 *  Values already compliant are left as the operator wrote them. */
export function planDisableLegacy(state: PostfixState): PostfixChange[] {
  const target = formatPostfixProtocols(["TLSv1.2", "TLSv1.3"], state.mailVersion);
  const needs = (enabled: TlsVersion[] | null) => enabled === null || enabled.some((v) => LEGACY_VERSIONS.includes(v)) || !enabled.includes("TLSv1.2");
  const why = (enabled: TlsVersion[] | null) => (enabled === null ? "value cannot be evaluated" : `allows ${describeVersions(enabled)}`);
  const changes: PostfixChange[] = [];
  for (const p of POSTFIX_PROTOCOL_PARAMETERS) {
    const cur = state.parameters[p];
    if (needs(cur.enabled)) changes.push(mainChange(state, p, target, `disable TLS 1.0/1.1: ${p} ${why(cur.enabled)}`));
  }
  for (const o of state.masterOverrides) {
    if (needs(o.enabled)) changes.push(masterChange(state, o, target, `disable TLS 1.0/1.1: the ${o.service}/${o.type} override ${why(o.enabled)}`));
  }
  return changes;
}

/** TLS 1.2 on everywhere, nothing else changed: TLS 1.2 is added to the versions each setting
 *  already allows. A value that cannot be evaluated is replaced by this Postfix's default. */
export function planEnableTls12(state: PostfixState): PostfixChange[] {
  const next = (p: PostfixProtocolParameter, enabled: TlsVersion[] | null, fallback: string): string | null => {
    if (enabled === null) return fallback || formatPostfixProtocols(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"], state.mailVersion);
    if (enabled.includes("TLSv1.2")) return null;
    // A client offers only its lowest unbroken run (evaluatePostfixProtocols): TLS 1.2 added above
    // a gap would never be offered, so the gap is filled.
    return formatPostfixProtocols(sideOf(p) === "client" ? unbrokenUpTo(enabled, "TLSv1.2") : [...enabled, "TLSv1.2"], state.mailVersion);
  };
  const why = (p: PostfixProtocolParameter, enabled: TlsVersion[] | null) => {
    const filled = sideOf(p) === "client" && enabled?.length ? unbrokenUpTo(enabled, "TLSv1.2").filter((v) => v !== "TLSv1.2" && !enabled.includes(v)) : [];
    return `allows ${describeVersions(enabled)}${filled.length ? ` (${describeVersions(filled)} enabled too: a client never offers a version above a gap)` : ""}`;
  };
  const changes: PostfixChange[] = [];
  for (const p of POSTFIX_PROTOCOL_PARAMETERS) {
    const to = next(p, state.parameters[p].enabled, state.parameters[p].default);
    if (to !== null) changes.push(mainChange(state, p, to, `enable TLS 1.2: ${p} ${why(p, state.parameters[p].enabled)}`));
  }
  for (const o of state.masterOverrides) {
    const to = next(o.parameter, o.enabled, state.parameters[o.parameter].default);
    if (to !== null) changes.push(masterChange(state, o, to, `enable TLS 1.2: the ${o.service}/${o.type} override ${why(o.parameter, o.enabled)}`));
  }
  return changes;
}

export function planPostfix(state: PostfixState, goal: Goal): PostfixChange[] {
  return goal === "enable-tls12" ? planEnableTls12(state) : planDisableLegacy(state);
}

// ---------------------------------------------------------------------------------------------
// Apply / rollback

// A protocol list as Postfix accepts it, or a $reference (only ever written back by rollback).
// No line breaks: postconf -e would write them into main.cf verbatim.
const PROTOCOL_VALUE = /^[A-Za-z0-9.!<>=:,\t $_{}()-]*$/;

const ChangeSchema = z.object({
  path: z.string().regex(/^\/[^\0\n\r]*\/(main|master)\.cf$/),
  value: z.string(),
  from: z.union([z.string(), z.null()]),
  to: z.union([z.string().regex(PROTOCOL_VALUE).max(500), z.null()]),
  reason: z.string(),
});

interface Target {
  change: Change;
  master: { service: string; type: string } | null;
  parameter: PostfixProtocolParameter;
  to: string | null;
}

function validate(hostLabel: string, state: PostfixState, changes: Change[]): Target[] {
  return changes.map((c) => {
    const parsed = ChangeSchema.safeParse(c);
    const refuse = (why: string) => new PlaybookError(hostLabel, `Refusing a Postfix change on ${hostLabel} (${String(c.path)} ${String(c.value)}): ${why}.`, { before: state });
    if (!parsed.success) throw refuse("not a protocol parameter change this playbook makes");
    const isMaster = parsed.data.path.endsWith("/master.cf");
    if (parsed.data.path !== `${state.configDirectory}/${isMaster ? "master" : "main"}.cf`) throw refuse(`this Postfix's configuration is in ${state.configDirectory}`);
    if (isMaster) {
      const parts = splitMasterName(parsed.data.value);
      if (!parts || !isProtocolParameter(parts.parameter) || !/^[A-Za-z0-9_.:[\]-]+$/.test(parts.service)) throw refuse("not a master.cf protocol override");
      return { change: c, master: { service: parts.service, type: parts.type }, parameter: parts.parameter, to: parsed.data.to };
    }
    if (!isProtocolParameter(parsed.data.value)) throw refuse("only the four *_tls_*protocols parameters are managed");
    return { change: c, master: null, parameter: parsed.data.value, to: parsed.data.to };
  });
}

function currentOf(state: PostfixState, t: Pick<Target, "master" | "parameter">): string | null {
  if (!t.master) return state.parameters[t.parameter].explicit;
  const o = state.masterOverrides.find((x) => x.service === t.master!.service && x.type === t.master!.type && x.parameter === t.parameter);
  return o ? o.value : null;
}

function writeArgv(t: Pick<Target, "master" | "parameter">, to: string | null): string[] {
  if (!t.master) return to === null ? ["postconf", "-X", t.parameter] : ["postconf", "-e", `${t.parameter}=${to}`];
  const name = `${t.master.service}/${t.master.type}/${t.parameter}`;
  return to === null ? ["postconf", "-P", "-X", name] : ["postconf", "-P", "-e", `${name}=${to}`];
}

/** The first step that failed, as an Error saying what it was for, or null. */
function firstFailure(ran: RawOutput[], what: (index: number) => string): { index: number; error: Error } | null {
  const index = ran.findIndex((r) => r.exitCode !== 0);
  if (index < 0) return null;
  const r = ran[index]!;
  return { index, error: stepError(what(index), r) };
}

const describeWrite = (t: Target, to: string | null) => `postconf ${t.master ? "-P " : ""}${to === null ? "-X" : "-e"} ${t.parameter}`;

/** Puts back the values found before, newest first, then check + reload, in one remote shell.
 *  Returns what went wrong, or null when the host is back where it was. */
async function restore(s: RemoteSession, written: Array<{ target: Target; from: string | null }>): Promise<string | null> {
  const back = [...written].reverse();
  const steps = [...back.map((w) => writeArgv(w.target, w.from)), ["postfix", "reload"]];
  try {
    const failed = firstFailure(await runBatch(s, steps, { stopOnFailure: true }), (i) => (i < back.length ? `restoring ${back[i]!.target.parameter}` : "postfix reload"));
    return failed ? failed.error.message : null;
  } catch (e) {
    return messageOf(e);
  }
}

/**
 * Writes the changes that are not in place yet (postconf -e / postconf -P -e), then `postfix
 * reload`, then reads back: all in one remote shell that stops at the first failing step.
 * No `postfix check`: it checks ownership and permissions of Postfix's files, not the values of
 * the four protocol parameters (smtpd parses those only when a TLS session starts, and the wire
 * verification after apply is what proves them), and right after a write it cost ~0.6 s of CPU
 * per host (Postfix re-reads a main.cf younger than a second until it is older; measured on the
 * 50-host bench, where it was the largest part of the hosts' work). Any failure restores the previous values and reloads, and is reported with the
 * before-state. A shell cut off midway (a lost connection) may have written any of the values, so
 * all of them count as written. Re-applying the same plan writes nothing.
 */
export async function applyPostfix(s: RemoteSession, changes: Change[], opts: ApplyOptions<PostfixState> = {}): Promise<Applied> {
  const before = opts.before ?? (await checkPostfix(s));
  await opts.onBefore?.(before);
  const targets = validate(s.hostLabel, before, changes);
  const pending = targets.filter((t) => currentOf(before, t) !== t.to);
  if (pending.length === 0) return { before, after: before, changes: [], pendingReboot: false };

  const written: Array<{ target: Target; from: string | null }> = [];
  const writtenChanges = () => written.map((w) => ({ ...w.target.change, from: w.from, to: w.target.to }));
  const fail = (step: string, cause: unknown): Promise<never> =>
    failApply(s, before, step, cause, {
      wrote: written.length > 0,
      restore: () => restore(s, written),
      restored: "The previous values were restored and Postfix reloaded.",
      notRestored: (problem) => `Restoring the previous values failed too (${problem}); roll back from the before-snapshot.`,
      written: writtenChanges,
    });

  const writes = pending.map((t) => writeArgv(t, t.to));
  const reloadAt = writes.length;
  const readBackAt = reloadAt + 1;
  let ran: RawOutput[];
  try {
    // A longer budget than a read: a write cut off by the timeout leaves the host half-changed
    // until the restore (measured: 50 hosts at once on 2 cores passed 60 s).
    ran = await runBatch(s, [...writes, ["postfix", "reload"], ...CHECK_STEPS], { stopOnFailure: readBackAt, timeoutMs: 180_000 });
  } catch (e) {
    for (const t of pending) written.push({ target: t, from: currentOf(before, t) });
    return fail(`Changing ${pending.map((t) => t.change.value).join(", ")}`, e);
  }
  // Every write that ran, including a failed one (it may have written before failing).
  for (const t of pending.slice(0, Math.min(ran.length, writes.length))) written.push({ target: t, from: currentOf(before, t) });
  const failed = firstFailure(ran.slice(0, readBackAt), (i) => (i < reloadAt ? describeWrite(pending[i]!, pending[i]!.to) : "postfix reload"));
  if (failed) {
    const step = failed.index < reloadAt ? `Changing ${pending[failed.index]!.change.value}` : "Reloading Postfix";
    return fail(step, failed.error);
  }
  let after: PostfixState;
  try {
    after = await stateFromCheck(s, ran.slice(readBackAt));
  } catch (e) {
    return fail("Reading the configuration back", e);
  }
  const wrong = pending.filter((t) => currentOf(after, t) !== t.to);
  if (wrong.length > 0) return fail("Verifying the change", new Error(`still shows ${wrong.map((t) => `${t.change.value} = ${currentOf(after, t) ?? "(unset)"}`).join(", ")}`));
  return { before, after, changes: writtenChanges(), pendingReboot: false };
}

const NullableString = z.union([z.string(), z.null()]);
const BeforeSchema = z.object({
  playbookId: z.literal("postfix"),
  configDirectory: z.string(),
  masterCf: FileSnapshotSchema.nullable().optional(),
  parameters: z.object(Object.fromEntries(POSTFIX_PROTOCOL_PARAMETERS.map((p) => [p, z.object({ explicit: NullableString })])) as Record<PostfixProtocolParameter, z.ZodObject<{ explicit: typeof NullableString }>>),
  masterOverrides: z.array(z.object({ service: z.string(), type: z.string(), parameter: z.enum(POSTFIX_PROTOCOL_PARAMETERS), value: z.string() })),
});

/** Restores the four parameters in main.cf (unset ones are removed, so the default applies
 *  again) and every master.cf override recorded in `before`. Overrides added since are left. */
export async function rollbackPostfix(s: RemoteSession, before: ConfigState): Promise<Applied> {
  const parsed = BeforeSchema.safeParse(before);
  if (!parsed.success) throw new PlaybookError(s.hostLabel, `The snapshot to restore on ${s.hostLabel} is not a Postfix snapshot.`);
  const b = parsed.data;
  const changes: Change[] = [
    ...POSTFIX_PROTOCOL_PARAMETERS.map((p) => ({ path: `${b.configDirectory}/main.cf`, value: p, from: null, to: b.parameters[p].explicit, reason: "rollback" })),
    ...b.masterOverrides.map((o) => ({ path: `${b.configDirectory}/master.cf`, value: `${o.service}/${o.type}/${o.parameter}`, from: null, to: o.value, reason: "rollback" })),
  ];
  const applied = await applyPostfix(s, changes);
  // postconf -P -e re-indents the entries it edits (measured on Postfix 3.7: "  -o" becomes
  // "    -o", and the type column is re-padded). With the values back, a master.cf that differs
  // from the snapshot only in whitespace gets its exact old bytes; one changed in other ways
  // since is left as postconf wrote it.
  if (b.masterCf) {
    const want = bytesOf(b.masterCf);
    const now = await readRemoteFile(s, b.masterCf.path);
    const squash = (x: Buffer) => x.toString("latin1").replace(/\s+/g, " ").trim();
    if (!now.equals(want) && squash(now) === squash(want)) {
      await writeRemoteFile(s, b.masterCf.path, want);
      try {
        await runStep(s, ["postfix", "check"]);
      } catch (e) {
        await writeRemoteFile(s, b.masterCf.path, now);
        throw new PlaybookError(s.hostLabel, `Restoring ${b.masterCf.path} byte for byte on ${s.hostLabel}: ${messageOf(e)}; the file was left as postconf wrote it.`, { cause: e });
      }
    }
  }
  return applied;
}

export const postfixPlaybook: Playbook<PostfixState> = {
  id: "postfix",
  appliesTo: (host: Host) => host.platform === "linux" && host.roles.includes("postfix"),
  check: checkPostfix,
  plan: planPostfix,
  apply: applyPostfix,
  rollback: rollbackPostfix,
  describe: describeSettings,
};
