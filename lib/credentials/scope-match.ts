// Whether a credential may be used for a host (docs/security.md "Credential scope"). Pure: the
// same function decides when a credential is attached (lib/inventory) and before it is decrypted
// for a session (agents/transport/open-session.ts).
import { cidrContains, parseAddress, parseCidr, type Cidr } from "../tls/allowlist";

export interface CredentialScope {
  /** Host names, exactly as in the inventory. */
  scopeHosts: readonly string[];
  /** Host groups, exactly as in the inventory. */
  scopeGroups: readonly string[];
  /** CIDR ranges ("198.18.0.0/24", "2001:db8::/64"); they match hosts whose address is an IP
   *  address inside them (a host addressed by a DNS name is matched by name or group). */
  scopeCidrs: readonly string[];
}

export interface ScopedHost {
  name: string;
  group: string | null;
  address: string;
}

export function isScopeEmpty(scope: CredentialScope): boolean {
  return scope.scopeHosts.length === 0 && scope.scopeGroups.length === 0 && scope.scopeCidrs.length === 0;
}

function ranges(cidrs: readonly string[]): Cidr[] {
  const out: Cidr[] = [];
  for (const text of cidrs) {
    try {
      out.push(parseCidr(text.includes("/") ? text : `${text}/${text.includes(":") ? 128 : 32}`));
    } catch {
      // Stored entries were validated on save; one that no longer parses matches nothing.
    }
  }
  return out;
}

/** What in the scope lets `host` use the credential ("host mx1", "group DMZ", "range 198.18.0.0/24"), or null. */
export function scopeMatch(scope: CredentialScope, host: ScopedHost): string | null {
  if (scope.scopeHosts.includes(host.name)) return `host ${host.name}`;
  if (host.group && scope.scopeGroups.includes(host.group)) return `group ${host.group}`;
  const address = parseAddress(host.address);
  if (address) {
    const range = ranges(scope.scopeCidrs).find((r) => cidrContains(r, address));
    if (range) return `range ${range.text}`;
  }
  return null;
}

/** The message for a host outside the scope, written for whoever attached or runs it. */
export function outOfScopeMessage(credentialName: string, host: ScopedHost, scope: CredentialScope): string {
  if (isScopeEmpty(scope)) return `Credential "${credentialName}" has no scope yet, so it may be used for no host: an admin sets its hosts, groups or address ranges in Settings > Credentials`;
  return `Credential "${credentialName}" may not be used for ${host.name} (${host.address}${host.group ? `, group ${host.group}` : ""}): it is outside the credential's scope; an admin can widen the scope in Settings > Credentials`;
}

/** Validates scope entries typed by an admin; returns the problems, one per bad entry. */
export function scopeEntryProblems(cidrs: readonly string[]): string[] {
  const problems: string[] = [];
  for (const text of cidrs) {
    const withPrefix = text.includes("/") ? text : `${text}/${text.includes(":") ? 128 : 32}`;
    try {
      parseCidr(withPrefix);
    } catch {
      problems.push(`"${text}" is not an address range: write a CIDR such as 198.18.0.0/24`);
    }
  }
  return problems;
}
