// The state from what the check read: every setting that decides a version, in both directions,
// as OpenSSL narrows it (pure).

import { narrowByLibrary, parseOpenSslPolicy, summarizeSettings, type FileSnapshot, type NoTls, type OpenSslPolicy, type ProtocolSetting, type TlsVersion } from "../linux-common";
import { keepLine } from "../output-limits";
import type { Change, ConfigState, RawOutput } from "../types";
import { parseMasterServices, parsePolicyDump, parsePostconf, splitMasterName, type PostfixPolicyEntry } from "./postconf";
import { evaluatePostfixProtocols, isProtocolParameter, POSTFIX_PROTOCOL_PARAMETERS, sideOf, type PostfixProtocolParameter } from "./protocols";

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

export const CIPHER_GRADE_OF: Record<PostfixProtocolParameter, string> = {
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
