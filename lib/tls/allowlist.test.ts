import { describe, expect, it } from "vitest";
import { AllowListSyntaxError, isTargetAllowed, parseAllowList } from "./allowlist";

const lab = parseAllowList("127.0.0.0/8, ::1, 198.18.0.0/15 lab.example");

describe("isTargetAllowed", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.255.0.9", true],
    ["::1", true],
    ["[::1]", true],
    ["::ffff:127.0.0.1", true],
    ["198.18.0.1", true],
    ["198.19.255.254", true],
    ["198.20.0.1", false],
    ["10.0.0.1", false],
    ["::2", false],
    ["lab.example", true],
    ["mx1.lab.example", true],
    ["MX1.Lab.Example.", true],
    ["evil-lab.example", false],
    ["lab.example.evil", false],
    ["example", false],
    ["", false],
    ["fe80::1%eth0", false],
  ])("%s -> %s", (target, allowed) => {
    expect(isTargetAllowed(target, lab)).toBe(allowed);
  });

  it("allows nothing with an empty list", () => {
    const none = parseAllowList("");
    expect(isTargetAllowed("127.0.0.1", none)).toBe(false);
    expect(isTargetAllowed("lab.example", none)).toBe(false);
  });

  it("accepts a leading-dot suffix and a list of entries", () => {
    const list = parseAllowList([".corp.example", "10.1.0.0/16"]);
    expect(isTargetAllowed("mx.corp.example", list)).toBe(true);
    expect(isTargetAllowed("10.1.200.3", list)).toBe(true);
    expect(isTargetAllowed("10.2.0.1", list)).toBe(false);
  });

  it.each(["10.0.0.0/33", "10.0.0.0/x", "::1/129", "bad!.example", "http://x", "10.0.0.0/", "lab.example/24"])("refuses the entry '%s'", (entry) => {
    expect(() => parseAllowList(entry)).toThrow(AllowListSyntaxError);
  });
});
