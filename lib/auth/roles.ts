// Roles and what each may do (SECURITY.md "Threat model: who can do what"). Pure: used by the
// server-side checks and, only to hide controls, by the UI.

export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return RANK[role] >= RANK[minimum];
}

/**
 * Every mutation and protected read names its action here with the least role that may do it.
 * Route handlers and server actions look their action up instead of repeating role names, so the
 * table-driven authorization test can walk this one list.
 */
export const ACTIONS = {
  "read": "viewer",
  "export": "viewer",
  // Change one's own password (the current one is required).
  "account.password": "viewer",
  "hosts.write": "operator",
  "scans.run": "operator",
  "audits.run": "operator",
  "outbound.run": "operator",
  "jobs.cancel": "operator",
  "remediation.request": "operator",
  // Start, pause, resume, cancel and roll back an approved rollout.
  "remediation.run": "operator",
  "exceptions.request": "operator",
  "remediation.approve": "admin",
  "exceptions.approve": "admin",
  "users.manage": "admin",
  "credentials.manage": "admin",
  // Mint, list and revoke one's own API tokens (never with more than one's own role).
  "tokens.own": "viewer",
  // See and revoke every user's API tokens.
  "tokens.manage": "admin",
  "settings.manage": "admin",
} as const satisfies Record<string, Role>;

export type Action = keyof typeof ACTIONS;

export function can(role: Role | undefined | null, action: Action): boolean {
  if (!role) return false;
  return roleAtLeast(role, ACTIONS[action]);
}

/**
 * API token scopes, each the name of one role's reach. A token acts with the lesser of its scope's
 * role and its owner's role at the time of each request, so lowering the owner's role lowers the
 * token with it.
 */
export const TOKEN_SCOPES = ["read", "operate", "admin"] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const SCOPE_ROLE: Record<TokenScope, Role> = { read: "viewer", operate: "operator", admin: "admin" };

/** The scopes a user with `role` may give a token. */
export function scopesFor(role: Role): TokenScope[] {
  return TOKEN_SCOPES.filter((s) => roleAtLeast(role, SCOPE_ROLE[s]));
}

/**
 * The role a token acts with: the highest known scope it lists, capped by its owner's role.
 * null (the token is refused) when it lists no known scope.
 */
export function tokenRole(ownerRole: Role, scopes: readonly string[]): Role | null {
  const known = TOKEN_SCOPES.filter((s) => scopes.includes(s));
  if (known.length === 0) return null;
  const scopeRole = SCOPE_ROLE[known[known.length - 1]!];
  return roleAtLeast(ownerRole, scopeRole) ? scopeRole : ownerRole;
}
