// Addresses outside loopback and the lab (10.x, 1.2.3.4) in this file are data only: parsed, matched or stored, never dialled.
import { describe, expect, it } from "vitest";
import { outOfScopeMessage, scopeEntryProblems, scopeMatch, type CredentialScope } from "./scope-match";

const scope: CredentialScope = { scopeHosts: ["mx1.example.test"], scopeGroups: ["DMZ"], scopeCidrs: ["198.18.0.0/24", "198.19.0.7", "2001:db8::/64"] };

describe("scopeMatch", () => {
  it.each([
    ["a listed name", { name: "mx1.example.test", group: null, address: "mx1.example.test" }, "host mx1.example.test"],
    ["a listed group", { name: "x", group: "DMZ", address: "x.example.test" }, "group DMZ"],
    ["an address in a range", { name: "x", group: null, address: "198.18.0.77" }, "range 198.18.0.0/24"],
    ["a bare address entry", { name: "x", group: null, address: "198.19.0.7" }, "range 198.19.0.7/32"],
    ["IPv6 in a range", { name: "x", group: null, address: "2001:db8::5" }, "range 2001:db8::/64"],
    ["an address outside", { name: "x", group: null, address: "198.18.1.1" }, null],
    ["a DNS name is not matched by ranges", { name: "x", group: null, address: "h.example.test" }, null],
    ["a group differing in case", { name: "x", group: "dmz", address: "198.18.1.1" }, null],
  ])("%s", (_what, host, want) => {
    expect(scopeMatch(scope, host)).toBe(want);
  });

  it("an empty scope matches nothing and says so", () => {
    const empty = { scopeHosts: [], scopeGroups: [], scopeCidrs: [] };
    expect(scopeMatch(empty, { name: "mx1.example.test", group: "DMZ", address: "198.18.0.1" })).toBeNull();
    expect(outOfScopeMessage("root", { name: "a", group: null, address: "198.18.0.1" }, empty)).toMatch(/has no scope yet/);
  });

  it("reports entries that are not ranges", () => {
    expect(scopeEntryProblems(["198.18.0.0/24", "lab.example", "10.0.0.0/33"])).toHaveLength(2);
  });
});