import { describe, expect, it } from "vitest";
import { ACTIONS, can, ROLES, type Action } from "./roles";

// DESIGN.md "Security model", written out as the table a reviewer checks.
const expected: Record<Action, [viewer: boolean, operator: boolean, admin: boolean]> = {
  read: [true, true, true],
  export: [true, true, true],
  "account.password": [true, true, true],
  "hosts.write": [false, true, true],
  "scans.run": [false, true, true],
  "audits.run": [false, true, true],
  "jobs.cancel": [false, true, true],
  "remediation.request": [false, true, true],
  "remediation.run": [false, true, true],
  "exceptions.request": [false, true, true],
  "remediation.approve": [false, false, true],
  "exceptions.approve": [false, false, true],
  "users.manage": [false, false, true],
  "credentials.manage": [false, false, true],
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
