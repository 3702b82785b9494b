// The four protocol parameters and their list syntax, as Postfix and OpenSSL read it: which
// versions a value leaves enabled (a client stops at the first hole) and the value that enables a
// given set (pure).

import { compareVersions, describeVersions, TLS_VERSIONS, type TlsVersion } from "../linux-common";
import { keepLine } from "../output-limits";

export const POSTFIX_PROTOCOL_PARAMETERS = ["smtpd_tls_protocols", "smtpd_tls_mandatory_protocols", "smtp_tls_protocols", "smtp_tls_mandatory_protocols"] as const;
export type PostfixProtocolParameter = (typeof POSTFIX_PROTOCOL_PARAMETERS)[number];
export const isProtocolParameter = (name: string): name is PostfixProtocolParameter => (POSTFIX_PROTOCOL_PARAMETERS as readonly string[]).includes(name);
/** smtpd_* govern the server (inbound mail), smtp_* the client Postfix sends with (outbound). */
export const sideOf = (p: PostfixProtocolParameter): "client" | "server" => (p.startsWith("smtpd_") ? "server" : "client");

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
export function unbrokenUpTo(enabled: readonly TlsVersion[], upTo: TlsVersion): TlsVersion[] {
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
