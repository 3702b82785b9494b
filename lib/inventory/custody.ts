// Who may change what decides where a credential goes (docs/security.md "Credential scope"):
// the address, transport, port and credential of a host decide which machine receives the
// credential's secret. Pure: the host form, the API and the CSV import all decide with it.
//
// The rule: only an admin attaches a credential or changes these fields of a host that keeps
// one (and the result must be inside the credential's scope). Anyone else (operators, hosts.write)
// may change them too, but then the host keeps no credential until an admin re-attaches it.

export const CUSTODY_FIELDS = ["address", "transport", "port", "credential"] as const;
export type CustodyField = (typeof CUSTODY_FIELDS)[number];

export interface CustodyState {
  address: string;
  transport: string;
  port: number | null;
  credentialId: string | null;
}

export interface CustodyDecision {
  /** The custody fields that differ from the stored host (none for a new host). */
  changed: CustodyField[];
  /** The credential the host ends up with. */
  credentialId: string | null;
  /** The host had a credential and loses it because a non-admin changed a custody field. */
  credentialDropped: boolean;
  /** Address, transport or port changed: another machine as far as the pinned key is concerned. */
  identityReset: boolean;
  /** Why the change is refused, written for the user; null when it may go ahead. */
  refusal: string | null;
  /** The resulting credential must be checked against its scope (an admin attached or moved it). */
  checkScope: boolean;
}

export function decideCustody(before: CustodyState | null, wanted: CustodyState, isAdmin: boolean): CustodyDecision {
  const changed: CustodyField[] = [];
  if (before) {
    if (before.address !== wanted.address) changed.push("address");
    if (before.transport !== wanted.transport) changed.push("transport");
    if ((before.port ?? null) !== (wanted.port ?? null)) changed.push("port");
    if (before.credentialId !== wanted.credentialId) changed.push("credential");
  }
  const identityReset = changed.some((f) => f !== "credential");
  const had = before?.credentialId ?? null;
  if (isAdmin) {
    return { changed, credentialId: wanted.credentialId, credentialDropped: false, identityReset, refusal: null, checkScope: wanted.credentialId !== null && (before === null || changed.length > 0) };
  }
  if (wanted.credentialId !== null && wanted.credentialId !== had && had === null) {
    return { changed, credentialId: null, credentialDropped: false, identityReset, refusal: "Only an admin attaches a credential to a host (Settings > Credentials sets where each may be used); save the host without one and ask an admin", checkScope: false };
  }
  if (had !== null && changed.length > 0) return { changed, credentialId: null, credentialDropped: true, identityReset, refusal: null, checkScope: false };
  return { changed, credentialId: wanted.credentialId, credentialDropped: false, identityReset, refusal: null, checkScope: false };
}

/** What a stored host loses when its identity changes: pins and the admin's trust decisions. */
export const IDENTITY_RESET = { pinnedKey: null, pinnedKeyPending: null, pinnedAt: null, trustOnFirstUse: false, allowWinrmHttp: false } as const;
