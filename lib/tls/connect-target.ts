// The one check every outgoing connection goes through (probe, SSH, WinRM, the drift webhook):
// resolve the name once, check every address it resolves to against the allowed targets and the
// built-in deny list, and connect to that checked address. Connecting to the name instead would
// let DNS answer differently the second time (DNS rebinding): x.allowed.example resolves to an
// allowed address for the check and to 127.0.0.1 for the connection. The name is still used
// where the protocol wants it: TLS SNI, the HTTP Host header, certificate name checks.
// Any address outside loopback and the lab named in this file's comments is an example, never dialled.
import { lookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import { env } from "../env";
import { cidrContains, cidrWithin, formatAddress, isNameAllowed, parseAddress, parseCidr, type AllowList, type Cidr } from "./allowlist";

/** Every address a name resolves to, in the resolver's order. Injectable for tests. */
export type Resolver = (name: string) => Promise<readonly string[]>;

export const systemResolver: Resolver = async (name) => (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);

export interface DenyEntry {
  readonly range: Cidr;
  /** Why it is denied, for messages: "loopback", "cloud metadata service". */
  readonly why: string;
}

// Addresses that reach this machine or its cloud control plane rather than a fleet host. A broad
// allowed range ("10.0.0.0/8", "0.0.0.0/0") never opens them; only an allowed range that lies
// inside one of them does ("127.0.0.0/8" or "127.0.0.1" for loopback test servers).
const BUILT_IN: ReadonlyArray<readonly [string, string]> = [
  // RFC 1122 3.2.1.3: "this host on this network"; Linux connects 0.0.0.0 to the local host.
  ["0.0.0.0/8", "this host (0.0.0.0/8)"],
  ["127.0.0.0/8", "loopback"],
  // RFC 3927 link-local. Holds the metadata services of AWS, GCP, Azure and OCI (169.254.169.254)
  // and ECS task credentials (169.254.170.2).
  ["169.254.169.254/32", "the cloud metadata service"],
  ["169.254.0.0/16", "link-local (cloud metadata services live here)"],
  // Alibaba Cloud's metadata service (ECS "Instance metadata" documentation).
  ["100.100.100.200/32", "the cloud metadata service (Alibaba)"],
  // Azure's WireServer, which hands out VM extension settings (Azure docs "What is IP address 168.63.129.16?").
  ["168.63.129.16/32", "the cloud platform service (Azure WireServer)"],
  ["::/128", "the unspecified address"],
  ["::1/128", "loopback"],
  ["fe80::/10", "link-local"],
  // The IPv6 endpoint of the AWS instance metadata service (EC2 user guide, "IMDS").
  ["fd00:ec2::254/128", "the cloud metadata service (AWS IPv6)"],
];

export const BUILT_IN_DENY: readonly DenyEntry[] = BUILT_IN.map(([range, why]) => ({ range: parseCidr(range), why }));

export type RefusalKind = "outside" | "denied" | "name";

/** The target may not be connected to; nothing was sent to it. */
export class TargetRefusedError extends Error {
  constructor(
    /** The host as given (name or address). */
    readonly host: string,
    /** The address that was refused, or null when the name itself was. */
    readonly address: string | null,
    readonly kind: RefusalKind,
    /** The whole reason: "it resolves to 127.0.0.1, which is loopback, ...". */
    readonly reason: string,
    /** What is wrong with the address alone: "which is loopback, ...". */
    readonly detail: string = reason,
  ) {
    super(`${host} is not an allowed target: ${reason}; no connection was made`);
    this.name = "TargetRefusedError";
  }
}

/** The name did not resolve (or not in time); nothing was sent. */
export class TargetUnresolvedError extends Error {
  constructor(
    readonly host: string,
    readonly detail: string,
  ) {
    super(`cannot resolve ${host}: ${detail}`);
    this.name = "TargetUnresolvedError";
  }
}

export interface TargetPolicy {
  /** Null: no allow-list and no deny list (the `tlsfleet probe` CLI run without configuration). */
  allowList: AllowList | null;
  /** Default: the system resolver (getaddrinfo, every address). */
  resolver?: Resolver;
  /** Default: BUILT_IN_DENY plus the database host of DATABASE_URL (see defaultDenyList). */
  deny?: readonly DenyEntry[];
  /** Limit for the DNS answer. Default 8000 ms. */
  timeoutMs?: number;
}

export interface CheckedTarget {
  /** The host as given, brackets and trailing dot removed. */
  readonly host: string;
  /** The DNS name (for SNI, Host header), or null when the host was given as an address. */
  readonly name: string | null;
  /** Connect here, and only here. */
  readonly address: string;
  readonly family: 4 | 6;
  /** Every address the name resolved to; all of them passed the check. */
  readonly addresses: readonly string[];
}

/**
 * Resolves `host` once and checks every address. Throws TargetRefusedError (nothing may be sent)
 * or TargetUnresolvedError; otherwise returns the address to connect to.
 */
export async function checkTarget(hostOrAddress: string, policy: TargetPolicy): Promise<CheckedTarget> {
  const trimmed = hostOrAddress.trim();
  const bracketless = trimmed.startsWith("[") && trimmed.endsWith("]") ? trimmed.slice(1, -1) : trimmed;
  const isAddress = isIP(bracketless) !== 0;
  const host = isAddress ? bracketless : bracketless.replace(/\.$/, "");
  if (!host) throw new TargetUnresolvedError(hostOrAddress, "empty host");
  const list = policy.allowList;
  if (!isAddress && list && !isNameAllowed(host, list)) {
    const detail = `which is not under an allowed DNS suffix (${list.suffixes.join(", ")})`;
    throw new TargetRefusedError(host, null, "name", `the name is not under an allowed DNS suffix (${list.suffixes.join(", ")})`, detail);
  }

  let addresses: readonly string[];
  if (isAddress) {
    addresses = [host];
  } else {
    addresses = await resolveWithin(policy.resolver ?? systemResolver, host, policy.timeoutMs ?? 8_000);
    if (!addresses.length) throw new TargetUnresolvedError(host, "no address");
  }

  if (list) {
    const deny = policy.deny ?? (await defaultDenyList());
    for (const address of addresses) {
      const refusal = refusalFor(address, list, deny);
      if (refusal) {
        throw new TargetRefusedError(host, address, refusal.kind, isAddress ? refusal.reason : `it resolves to ${address}, ${refusal.reason}`, refusal.reason);
      }
    }
  }
  const first = addresses[0]!;
  return { host, name: isAddress ? null : host, address: first, family: isIP(first) === 4 ? 4 : 6, addresses };
}

/** Why one address is refused, or null when it may be connected to. Pure. */
export function refusalFor(addressText: string, list: AllowList, deny: readonly DenyEntry[] = BUILT_IN_DENY): { kind: Exclude<RefusalKind, "name">; reason: string } | null {
  const address = parseAddress(addressText);
  if (!address) return { kind: "outside", reason: "which is not an address that can be checked" };
  const allowedBy = list.ranges.filter((r) => cidrContains(r, address));
  if (!allowedBy.length) return { kind: "outside", reason: "which is outside the allowed target ranges" };
  for (const entry of deny) {
    if (!cidrContains(entry.range, address)) continue;
    // Explicit: an allowed range that lies inside the denied one, e.g. 127.0.0.0/8 for loopback.
    if (allowedBy.some((r) => cidrWithin(r, entry.range))) continue;
    return {
      kind: "denied",
      reason: `which is ${entry.why}, on the built-in deny list (allow it explicitly with an entry inside ${entry.range.text} if it is really a target)`,
    };
  }
  return null;
}

/** For net/http/tls `lookup`: answers with the checked address whatever name is asked, so the
 *  socket goes to that address while Host and SNI keep the name. */
export function checkedLookup(target: CheckedTarget): LookupFunction {
  return ((_name: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as LookupFunction;
}

let databaseDeny: { url: string | undefined; at: number; entries: Promise<DenyEntry[]> } | null = null;
const DATABASE_DENY_TTL_MS = 60_000;

/**
 * BUILT_IN_DENY plus the addresses of the app's own PostgreSQL (DATABASE_URL's host, resolved
 * with the system resolver and cached for a minute; a name that does not resolve adds nothing).
 */
export async function defaultDenyList(): Promise<readonly DenyEntry[]> {
  const url = env.DATABASE_URL;
  if (!databaseDeny || databaseDeny.url !== url || Date.now() - databaseDeny.at > DATABASE_DENY_TTL_MS) {
    databaseDeny = { url, at: Date.now(), entries: databaseDenyEntries(url, systemResolver) };
  }
  return [...BUILT_IN_DENY, ...(await databaseDeny.entries)];
}

/**
 * The deny entries for the database of `databaseUrl` (postgres:// URL; a socket path adds none).
 * A database on an address the built-in list already denies (the embedded one on 127.0.0.1) gets
 * no entry of its own: it is covered by that entry and follows its rule, so an admin who allows
 * loopback explicitly (test servers on 127.0.0.0/8) has allowed it too. Elsewhere (10.0.0.5 in an
 * allowed 10.0.0.0/8) only an entry naming that address allows it.
 */
export async function databaseDenyEntries(databaseUrl: string | undefined, resolver: Resolver): Promise<DenyEntry[]> {
  const hosts = databaseHosts(databaseUrl);
  const entries: DenyEntry[] = [];
  for (const h of hosts) {
    const addresses = isIP(h) ? [h] : await resolver(h).catch(() => [] as string[]);
    for (const a of addresses) {
      const address = parseAddress(a);
      if (address && !BUILT_IN_DENY.some((d) => cidrContains(d.range, address))) entries.push({ range: parseCidr(`${formatAddress(address)}/${address.family === 4 ? 32 : 128}`), why: "the host of tlsfleet's own database (DATABASE_URL)" });
    }
  }
  return entries;
}

function databaseHosts(databaseUrl: string | undefined): string[] {
  if (!databaseUrl) return [];
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return [];
  }
  // libpq also takes hosts from ?host= (several, comma separated); "/..." there is a socket directory.
  const hosts = [url.hostname, ...(url.searchParams.get("host")?.split(",") ?? [])].map((h) => decodeURIComponent(h).replace(/^\[|\]$/g, "").trim());
  return hosts.filter((h) => h && !h.startsWith("/"));
}

async function resolveWithin(resolver: Resolver, name: string, timeoutMs: number): Promise<readonly string[]> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      resolver(name),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no DNS answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (error) {
    throw new TargetUnresolvedError(name, error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error));
  } finally {
    clearTimeout(timer);
  }
}
