// Addresses outside loopback and the lab (10.x, 1.2.3.4) in this file are data only: parsed, matched or stored, never dialled.
// Pure: every address here (10.0.0.0/8, 10.1.2.3, ...) is only parsed and compared with the
// list; nothing here opens a connection.
import { describe, expect, it } from "vitest";
import { AllowListSyntaxError, formatAddress, isNameAllowed, isTargetAllowed, parseAddress, parseAllowList } from "./allowlist";

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

describe("parseAllowList refuses entries that would allow more than they say", () => {
  it.each(["10", "192.168.1", ".10", "10.", "0x7f.1", "lab.example.0x7f"])("the all-numeric suffix '%s', with a message that points at CIDRs", (entry) => {
    const err = (() => {
      try {
        parseAllowList(["198.18.0.0/15", entry]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AllowListSyntaxError);
    expect((err as AllowListSyntaxError).entry).toBe(entry);
    expect((err as Error).message).toMatch(/cannot end in a number.*CIDR such as 10\.0\.0\.0\/8/);
  });

  it.each(["::/0", "::/8", "::ffff:0:0/96", "::ffff:0:0/100", "::ffff:127.0.0.1", "::ffff:10.0.0.0/104", "64:ff9b::/96", "64:ff9b::7f00:1"])(
    "the IPv6 range '%s', which covers IPv4 addresses",
    (entry) => {
      expect(() => parseAllowList(entry)).toThrow(/covers (::ffff:0:0\/96|64:ff9b::\/96).*write IPv4 ranges as IPv4 CIDRs/);
    },
  );

  it.each(["::1", "::1/128", "2001:db8::/32", "fe80::/10", "fd00::/8", "0.0.0.0/0", "10.0.0.0/8", "lab1.example", "x1.example", "10.example"])("still accepts '%s'", (entry) => {
    expect(() => parseAllowList(entry)).not.toThrow();
  });
});

describe("addresses", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["::ffff:127.0.0.1", "127.0.0.1"],
    ["::ffff:7f00:1", "127.0.0.1"],
    ["[::1]", "::1"],
    ["fd00:ec2:0:0:0:0:0:254", "fd00:ec2::254"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["::", "::"],
  ])("%s reads as %s", (text, canonical) => {
    expect(formatAddress(parseAddress(text)!)).toBe(canonical);
  });

  it("matches IPv4-mapped addresses against IPv4 ranges only", () => {
    const list = parseAllowList("10.0.0.0/8");
    expect(isTargetAllowed("::ffff:10.1.2.3", list)).toBe(true);
    expect(isTargetAllowed("::ffff:11.1.2.3", list)).toBe(false);
  });

  it("a name must be under a suffix only when the list has suffixes", () => {
    expect(isNameAllowed("mx1.corp.example", parseAllowList("10.0.0.0/8"))).toBe(true);
    expect(isNameAllowed("mx1.corp.example", parseAllowList("10.0.0.0/8, lab.example"))).toBe(false);
    expect(isNameAllowed("mx1.lab.example", parseAllowList("10.0.0.0/8, lab.example"))).toBe(true);
  });
});