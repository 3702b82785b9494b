import { describe, expect, it } from "vitest";
import { PLAYBOOK_IDS, PLAYBOOKS, playbookById, playbooksFor } from "./index";

describe("playbook registry", () => {
  it("has one playbook per id, in the documented order", () => {
    expect(PLAYBOOKS.map((p) => p.id)).toEqual([...PLAYBOOK_IDS]);
  });

  it.each([
    [{ name: "mx1", platform: "linux" as const, roles: ["postfix", "dovecot"] }, ["postfix", "dovecot"]],
    [{ name: "web1", platform: "linux" as const, roles: ["nginx"] }, ["nginx"]],
    [{ name: "ex1", platform: "windows" as const, roles: ["exchange"] }, ["windows-schannel"]],
    [{ name: "box", platform: "other" as const, roles: ["postfix"] }, []],
    [{ name: "bare", platform: "linux" as const, roles: [] }, []],
  ])("playbooksFor(%j)", (host, ids) => {
    expect(playbooksFor(host).map((p) => p.id)).toEqual(ids);
  });

  it("finds a playbook by the id stored with a snapshot", () => {
    expect(playbookById("nginx")?.id).toBe("nginx");
    expect(playbookById("apache")).toBeUndefined();
  });
});
