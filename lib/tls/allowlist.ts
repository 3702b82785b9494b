import { BlockList, isIP } from "node:net";

/**
 * Where probes may go (DESIGN.md "Security model"): a scanner that probes whatever it is given
 * is a weapon. Entries are CIDRs ("198.18.0.0/15", "::1/128"), single addresses, or DNS
 * suffixes ("lab.example" allows lab.example and every name below it; a leading dot is optional).
 */
export interface AllowList {
  readonly ranges: BlockList;
  readonly suffixes: readonly string[];
  /** The entries as given, for messages. */
  readonly entries: readonly string[];
}

export class AllowListSyntaxError extends Error {
  constructor(readonly entry: string) {
    super(`allowed-targets entry is neither a CIDR, an address nor a DNS suffix: '${entry}'`);
    this.name = "AllowListSyntaxError";
  }
}

const DNS_SUFFIX = /^\.?(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?$/i;

/** Parses comma/whitespace separated entries (the TLSFLEET_ALLOWED_TARGETS format) or a list. */
export function parseAllowList(entries: string | readonly string[]): AllowList {
  const list = (typeof entries === "string" ? entries.split(/[\s,]+/) : entries).map((e) => e.trim()).filter(Boolean);
  const ranges = new BlockList();
  const suffixes: string[] = [];
  for (const entry of list) {
    const slash = entry.indexOf("/");
    const address = stripBrackets(slash >= 0 ? entry.slice(0, slash) : entry);
    const family = isIP(address);
    if (family !== 0) {
      const maxPrefix = family === 4 ? 32 : 128;
      const prefix = slash >= 0 ? Number(entry.slice(slash + 1)) : maxPrefix;
      if (!Number.isInteger(prefix) || prefix < 0 || prefix > maxPrefix || (slash >= 0 && !/^\d+$/.test(entry.slice(slash + 1)))) {
        throw new AllowListSyntaxError(entry);
      }
      ranges.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
    } else if (slash < 0 && DNS_SUFFIX.test(entry)) {
      suffixes.push(entry.replace(/^\./, "").replace(/\.$/, "").toLowerCase());
    } else {
      throw new AllowListSyntaxError(entry);
    }
  }
  return { ranges, suffixes, entries: list };
}

/**
 * Whether a host name or address may be probed. An address matches by range (IPv4-mapped IPv6
 * addresses match IPv4 ranges); a name matches by DNS suffix on a label boundary, so
 * "evil-lab.example" is not under "lab.example". Callers check the resolved address too, so
 * "localhost" is allowed by 127.0.0.0/8 without a suffix entry.
 */
export function isTargetAllowed(hostOrAddress: string, allowList: AllowList): boolean {
  const candidate = stripBrackets(hostOrAddress.trim());
  const family = isIP(candidate);
  if (family !== 0) {
    try {
      return allowList.ranges.check(candidate, family === 4 ? "ipv4" : "ipv6");
    } catch {
      // e.g. a zone index ("fe80::1%eth0") BlockList cannot represent: refuse rather than guess.
      return false;
    }
  }
  const name = candidate.replace(/\.$/, "").toLowerCase();
  if (!name) return false;
  return allowList.suffixes.some((suffix) => name === suffix || name.endsWith(`.${suffix}`));
}

function stripBrackets(text: string): string {
  return text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
}
