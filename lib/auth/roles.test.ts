import { describe, expect, it } from "vitest";
import { ACTIONS, can, ROLES, scopesFor, tokenRole, type Action } from "./roles";

// SECURITY.md "Threat model: who can do what", written out as the table a reviewer checks.
const expected: Record<Action, [viewer: boolean, operator: boolean, admin: boolean]> = {
  read: [true, true, true],
  export: [true, true, true],
  "account.password": [true, true, true],
  "hosts.write": [false, true, true],
  "scans.run": [false, true, true],
  "audits.run": [false, true, true],
  "outbound.run": [false, true, true],
  "jobs.cancel": [false, true, true],
  "remediation.request": [false, true, true],
  "remediation.run": [false, true, true],
  "exceptions.request": [false, true, true],
  "remediation.approve": [false, false, true],
  "exceptions.approve": [false, false, true],
  "users.manage": [false, false, true],
  "credentials.manage": [false, false, true],
  "tokens.own": [true, true, true],
  "tokens.manage": [false, false, true],
  "settings.manage": [false, false, true],
};

describe("role table", () => {
  it("covers every action", () => {
    expect(Object.keys(ACTIONS).sort()).toEqual(Object.keys(expected).sort());
  });
  for (const [action, allowed] of Object.entries(expected) as Array<[Action, boolean[]]>) {
    it.each(ROLES.map((r, i) => [r, allowed[i]] as const))(`${action}: %s -> %s`, (role, ok) => {
      expect(can(role, action)).toBe(ok);
    });
  }
  it("nobody signed out may do anything", () => {
    for (const action of Object.keys(ACTIONS) as Action[]) expect(can(null, action)).toBe(false);
  });
});

describe("API token scopes", () => {
  it("offers each user the scopes up to their own role", () => {
    expect(scopesFor("viewer")).toEqual(["read"]);
    expect(scopesFor("operator")).toEqual(["read", "operate"]);
    expect(scopesFor("admin")).toEqual(["read", "operate", "admin"]);
  });

  it.each([
    ["admin", ["read"], "viewer"],
    ["admin", ["operate"], "operator"],
    ["admin", ["admin"], "admin"],
    // The owner's role was lowered after minting: the token is capped with it.
    ["operator", ["admin"], "operator"],
    ["viewer", ["operate"], "viewer"],
    ["operator", ["read", "operate"], "operator"],
    ["admin", [], null],
    ["admin", ["everything"], null],
  ] as const)("owner %s with scopes %j acts as %s", (owner, scopes, role) => {
    expect(tokenRole(owner, scopes)).toBe(role);
  });
});
