// Any address outside loopback and the lab named in this file's comments is an example, never dialled.
import { isIP } from "node:net";

/**
 * Where probes, remote sessions and the drift webhook may go (docs/security.md "Allowed targets"): a
 * scanner that probes whatever it is given is a weapon. Entries are CIDRs ("198.18.0.0/15",
 * "::1/128"), single addresses, or DNS suffixes ("lab.example": lab.example and every name below
 * it; a leading dot is optional).
 *
 * This file only parses the list and matches entries. Whether a connection may be made is decided
 * by `checkTarget` (connect-target.ts): it resolves a name once, requires every address to be in
 * a range here and off the built-in deny list, and hands back the address to connect to.
 */
export interface AllowList {
  readonly ranges: readonly Cidr[];
  readonly suffixes: readonly string[];
  /** The entries as given, for messages. */
  readonly entries: readonly string[];
}

/** An address as a number: IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are their IPv4 address. */
export interface Address {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export interface Cidr {
  readonly family: 4 | 6;
  /** The network address (host bits cleared). */
  readonly base: bigint;
  readonly prefix: number;
  /** Canonical text, e.g. "10.0.0.0/8". */
  readonly text: string;
}

export class AllowListSyntaxError extends Error {
  constructor(
    readonly entry: string,
    /** What is wrong, written for the admin who typed it. */
    readonly reason: string = "neither a CIDR, an address nor a DNS suffix",
  ) {
    super(`allowed-targets entry '${entry}': ${reason}`);
    this.name = "AllowListSyntaxError";
  }
}

const DNS_SUFFIX = /^\.?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?$/i;

// A last label of digits (or a 0x number) is an address fragment, not a domain: no TLD is
// all-numeric (RFC 3696 2), and getaddrinfo reads "10", "192.168.1" or "0x7f.1" as IPv4
// addresses (inet_aton's short and hex forms), so such a "suffix" would match addresses by text.
const NUMERIC_LABEL = /^(?:\d+|0x[0-9a-f]*)$/i;

// IPv6 ranges that contain IPv4 addresses in another spelling. Allowing one of them would allow
// IPv4 addresses the IPv4 entries do not: ::ffff:127.0.0.1 is 127.0.0.1 on a dual-stack socket
// (RFC 4291 2.5.5.2), and 64:ff9b::7f00:1 is 127.0.0.1 behind a NAT64 gateway (RFC 6052 2.1).
const IPV4_EMBEDDING: readonly Cidr[] = [cidrOf(6, 0xffffn << 32n, 96), cidrOf(6, 0x64ff9bn << 96n, 96)];

/** Parses comma/whitespace separated entries (the TLSFLEET_ALLOWED_TARGETS format) or a list. */
export function parseAllowList(entries: string | readonly string[]): AllowList {
  const list = (typeof entries === "string" ? entries.split(/[\s,]+/) : entries).map((e) => e.trim()).filter(Boolean);
  const ranges: Cidr[] = [];
  const suffixes: string[] = [];
  for (const entry of list) {
    const slash = entry.indexOf("/");
    const addressText = stripBrackets(slash >= 0 ? entry.slice(0, slash) : entry);
    const family = isIP(addressText);
    if (family !== 0) {
      const maxPrefix = family === 4 ? 32 : 128;
      const prefixText = slash >= 0 ? entry.slice(slash + 1) : String(maxPrefix);
      const prefix = Number(prefixText);
      const raw = parseRawAddress(addressText);
      if (!raw || !/^\d+$/.test(prefixText) || prefix > maxPrefix) throw new AllowListSyntaxError(entry);
      const range = cidrOf(raw.family, raw.value, prefix);
      const embedding = range.family === 6 ? IPV4_EMBEDDING.find((e) => cidrOverlaps(range, e)) : undefined;
      if (embedding) {
        throw new AllowListSyntaxError(
          entry,
          `this IPv6 range covers ${embedding.text}, where IPv4 addresses are written as IPv6, so it would allow IPv4 addresses no IPv4 entry allows; write IPv4 ranges as IPv4 CIDRs (e.g. 10.0.0.0/8)`,
        );
      }
      ranges.push(range);
    } else if (slash < 0 && DNS_SUFFIX.test(entry)) {
      const suffix = entry.replace(/^\./, "").replace(/\.$/, "").toLowerCase();
      if (NUMERIC_LABEL.test(suffix.slice(suffix.lastIndexOf(".") + 1))) {
        throw new AllowListSyntaxError(entry, "a DNS suffix cannot end in a number (resolvers read it as an address); for a network write a CIDR such as 10.0.0.0/8");
      }
      suffixes.push(suffix);
    } else {
      throw new AllowListSyntaxError(entry);
    }
  }
  return { ranges, suffixes, entries: list };
}

/**
 * Whether a host name or address matches an entry: an address by range, a name by DNS suffix on
 * a label boundary ("evil-lab.example" is not under "lab.example"). This is not a connect check:
 * a name matching a suffix says nothing about where it resolves to (use checkTarget).
 */
export function isTargetAllowed(hostOrAddress: string, allowList: AllowList): boolean {
  const candidate = stripBrackets(hostOrAddress.trim());
  if (isIP(candidate) !== 0) {
    const address = parseAddress(candidate);
    return address !== null && allowList.ranges.some((r) => cidrContains(r, address));
  }
  const name = candidate.replace(/\.$/, "").toLowerCase();
  return name !== "" && allowList.suffixes.some((suffix) => name === suffix || name.endsWith(`.${suffix}`));
}

/**
 * Whether a name may be used at all: when the list has DNS suffixes, only names under one of
 * them; without suffixes any name (its addresses decide).
 */
export function isNameAllowed(name: string, allowList: AllowList): boolean {
  return allowList.suffixes.length === 0 || isTargetAllowed(name, allowList);
}

/** An address as a number, IPv4-mapped IPv6 as IPv4; null for anything else (names, zone ids). */
export function parseAddress(text: string): Address | null {
  const raw = parseRawAddress(stripBrackets(text.trim()));
  if (raw && raw.family === 6 && raw.value >> 32n === 0xffffn) return { family: 4, value: raw.value & 0xffffffffn };
  return raw;
}

export function formatAddress(address: Address): string {
  if (address.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((address.value >> s) & 0xffn)).join(".");
  const groups = Array.from({ length: 8 }, (_, k) => ((address.value >> BigInt(112 - 16 * k)) & 0xffffn).toString(16));
  // RFC 5952 4.2: the longest run of two or more zero groups (the first of equals) becomes "::".
  let best = { at: -1, length: 1 };
  for (let k = 0; k < 8; k++) {
    let n = 0;
    while (k + n < 8 && groups[k + n] === "0") n++;
    if (n > best.length) best = { at: k, length: n };
  }
  if (best.at < 0) return groups.join(":");
  return `${groups.slice(0, best.at).join(":")}::${groups.slice(best.at + best.length).join(":")}`;
}

export function parseCidr(text: string): Cidr {
  const list = parseAllowList([text]);
  if (list.ranges.length !== 1) throw new AllowListSyntaxError(text, "not a CIDR");
  return list.ranges[0]!;
}

export function cidrContains(range: Cidr, address: Address): boolean {
  if (range.family !== address.family) return false;
  const shift = BigInt((range.family === 4 ? 32 : 128) - range.prefix);
  return address.value >> shift === range.base >> shift;
}

/** Whether every address of `inner` is also in `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.family === outer.family && inner.prefix >= outer.prefix && cidrContains(outer, { family: inner.family, value: inner.base });
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return cidrWithin(a, b) || cidrWithin(b, a);
}

function cidrOf(family: 4 | 6, value: bigint, prefix: number): Cidr {
  const bits = family === 4 ? 32 : 128;
  const shift = BigInt(bits - prefix);
  const base = (value >> shift) << shift;
  return { family, base, prefix, text: `${formatAddress({ family, value: base })}/${prefix}` };
}

/** The address as written (no IPv4-mapped folding); null for names and zone ids ("fe80::1%eth0"). */
function parseRawAddress(text: string): Address | null {
  const family = isIP(text);
  if (family === 4) return { family: 4, value: ipv4Value(text) };
  if (family !== 6 || text.includes("%")) return null;
  let s = text;
  if (s.includes(".")) {
    const at = s.lastIndexOf(":");
    const v4 = Number(ipv4Value(s.slice(at + 1)));
    s = `${s.slice(0, at + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, tail] = s.split("::") as [string, string | undefined];
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  if (groups.length !== 8) return null;
  return { family: 6, value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n) };
}

function ipv4Value(text: string): bigint {
  return text.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function stripBrackets(text: string): string {
  return text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
}
