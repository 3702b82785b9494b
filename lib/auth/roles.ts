// Roles and what each may do (../shared/DESIGN.md "Security model"). Pure: used by the
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
  "jobs.cancel": "operator",
  "remediation.request": "operator",
  // Start, pause, resume, cancel and roll back an approved rollout.
  "remediation.run": "operator",
  "exceptions.request": "operator",
  "remediation.approve": "admin",
  "exceptions.approve": "admin",
  "users.manage": "admin",
  "credentials.manage": "admin",
  "tokens.manage": "admin",
  "settings.manage": "admin",
} as const satisfies Record<string, Role>;

export type Action = keyof typeof ACTIONS;

export function can(role: Role | undefined | null, action: Action): boolean {
  if (!role) return false;
  return roleAtLeast(role, ACTIONS[action]);
}
