// The connect-time check without any connection: names are answered by injected resolvers, and
// addresses such as 169.254.169.254, 10.0.0.11 or 10.1.2.3 are only ever compared, never dialled.
import { describe, expect, it } from "vitest";
import { parseAllowList } from "./allowlist";
import { BUILT_IN_DENY, checkTarget, databaseDenyEntries, refusalFor, TargetRefusedError, TargetUnresolvedError, type Resolver } from "./connect-target";

const answer =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses;

describe("the built-in deny list", () => {
  // A list as broad as an admin could write: every IPv4 address and all of IPv6 that is not IPv4.
  // (::/96 holds ::1 and fe80::/9 holds fe80::/10: broader than the denied ranges, so not explicit.)
  const everything = parseAllowList("0.0.0.0/0, ::/96, 2000::/3, fc00::/7, fe80::/9");

  it.each([
    ["127.0.0.1", /loopback/],
    ["127.8.9.10", /loopback/],
    ["0.0.0.0", /this host/],
    ["169.254.169.254", /cloud metadata service/],
    ["169.254.170.2", /link-local/],
    ["100.100.100.200", /metadata service \(Alibaba\)/],
    ["168.63.129.16", /Azure WireServer/],
    ["::1", /loopback/],
    ["::ffff:127.0.0.1", /loopback/],
    ["::ffff:169.254.169.254", /cloud metadata service/],
    ["fe80::1", /link-local/],
    ["fd00:ec2::254", /metadata service \(AWS IPv6\)/],
  ])("refuses %s even when a broad range allows it", (address, why) => {
    const refusal = refusalFor(address, everything);
    expect(refusal?.kind).toBe("denied");
    expect(refusal?.reason).toMatch(why);
    expect(refusal?.reason).toMatch(/built-in deny list/);
  });

  it.each(["10.0.0.1", "198.18.0.11", "2001:db8::1", "fd00:ec2::253"])("lets %s through when a range allows it", (address) => {
    expect(refusalFor(address, everything)).toBeNull();
  });

  it("allows a denied address only through an allowed range that lies inside the denied one", () => {
    expect(refusalFor("127.0.0.1", parseAllowList("127.0.0.0/8"))).toBeNull();
    expect(refusalFor("127.0.0.1", parseAllowList("127.0.0.1"))).toBeNull();
    expect(refusalFor("::1", parseAllowList("::1"))).toBeNull();
    // link-local allowed explicitly still leaves the metadata address closed...
    expect(refusalFor("169.254.169.254", parseAllowList("169.254.0.0/16"))?.kind).toBe("denied");
    expect(refusalFor("169.254.10.1", parseAllowList("169.254.0.0/16"))).toBeNull();
    // ...which needs its own entry.
    expect(refusalFor("169.254.169.254", parseAllowList("169.254.169.254/32"))).toBeNull();
    expect(refusalFor("fd00:ec2::254", parseAllowList("fd00::/8"))?.kind).toBe("denied");
  });

  it("refuses what no range allows, and what cannot be read as an address", () => {
    expect(refusalFor("198.18.5.77", parseAllowList("198.18.0.0/24"))).toMatchObject({ kind: "outside" });
    expect(refusalFor("fe80::1%eth0", parseAllowList("fe80::/10"))).toMatchObject({ kind: "outside" });
  });

  it("has one entry per documented address", () => {
    expect(BUILT_IN_DENY.map((d) => d.range.text)).toEqual([
      "0.0.0.0/8",
      "127.0.0.0/8",
      "169.254.169.254/32",
      "169.254.0.0/16",
      "100.100.100.200/32",
      "168.63.129.16/32",
      "::/128",
      "::1/128",
      "fe80::/10",
      "fd00:ec2::254/128",
    ]);
  });
});

describe("the database host", () => {
  it("is denied inside an allowed range, by address and by the name DATABASE_URL gives", async () => {
    const byAddress = await databaseDenyEntries("postgresql://app@10.1.2.3:5432/tlsfleet", answer());
    const byName = await databaseDenyEntries("postgresql://app:secret@db.internal.example/tlsfleet?sslmode=require", answer("10.1.2.4", "fd12::4"));
    const list = parseAllowList("10.0.0.0/8, fd00::/8");
    const deny = [...BUILT_IN_DENY, ...byAddress, ...byName];
    for (const address of ["10.1.2.3", "10.1.2.4", "fd12::4", "::ffff:10.1.2.3"]) {
      expect(refusalFor(address, list, deny)).toMatchObject({ kind: "denied", reason: expect.stringMatching(/tlsfleet's own database/) });
    }
    expect(refusalFor("10.1.2.5", list, deny)).toBeNull();
    expect(refusalFor("10.1.2.3", parseAllowList("10.0.0.0/8, 10.1.2.3"), deny)).toBeNull();
  });

  it("on loopback is covered by the loopback entry: denied unless loopback is allowed explicitly", async () => {
    const local = await databaseDenyEntries("postgresql://postgres@127.0.0.1:5432/test", answer());
    expect(local).toEqual([]);
    expect(await databaseDenyEntries("postgresql://postgres@localhost/test", answer("127.0.0.1", "::1"))).toEqual([]);
    expect(refusalFor("127.0.0.1", parseAllowList("0.0.0.0/0"), [...BUILT_IN_DENY, ...local])?.kind).toBe("denied");
    expect(refusalFor("127.0.0.1", parseAllowList("127.0.0.0/8"), [...BUILT_IN_DENY, ...local])).toBeNull();
  });

  it("adds nothing for a socket directory, a bad URL or a name that does not resolve", async () => {
    expect(await databaseDenyEntries("postgresql://app@%2Fvar%2Frun%2Fpostgresql/tlsfleet", answer("10.9.9.9"))).toEqual([]);
    expect(await databaseDenyEntries("postgresql:///tlsfleet?host=/var/run/postgresql", answer("10.9.9.9"))).toEqual([]);
    expect(await databaseDenyEntries("not a url", answer("10.9.9.9"))).toEqual([]);
    expect(await databaseDenyEntries("postgresql://db.gone.example/x", () => Promise.reject(new Error("ENOTFOUND")))).toEqual([]);
  });
});

describe("checkTarget", () => {
  const list = parseAllowList("allowed.example, 198.18.0.0/24, 10.0.0.0/8");
  const deny = BUILT_IN_DENY;

  it("returns the one address to connect to and keeps the name for SNI", async () => {
    await expect(checkTarget("MX1.allowed.example.", { allowList: list, resolver: answer("198.18.0.11", "10.0.0.11"), deny })).resolves.toEqual({
      host: "MX1.allowed.example",
      name: "MX1.allowed.example",
      address: "198.18.0.11",
      family: 4,
      addresses: ["198.18.0.11", "10.0.0.11"],
    });
    await expect(checkTarget("[198.18.0.11]", { allowList: list, resolver: () => Promise.reject(new Error("must not be asked")), deny })).resolves.toMatchObject({ name: null, address: "198.18.0.11" });
  });

  const broad = parseAllowList("allowed.example, 0.0.0.0/0, fc00::/7");
  it.each([
    ["169.254.169.254", "denied", broad],
    ["fd00:ec2::254", "denied", broad],
    ["::ffff:169.254.169.254", "denied", broad],
    ["127.0.0.1", "denied", broad],
    ["198.18.5.77", "outside", list],
    ["127.0.0.1", "outside", list],
  ])("refuses a name under the allowed suffix resolving to %s (%s)", async (address, kind, allowList) => {
    const err = await checkTarget("x.allowed.example", { allowList, resolver: answer("198.18.0.11", address), deny }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetRefusedError);
    expect(err).toMatchObject({ kind, address, host: "x.allowed.example" });
    expect((err as Error).message).toContain(`it resolves to ${address}`);
  });

  it("refuses a name outside every suffix before resolving it", async () => {
    let asked = false;
    const err = await checkTarget("mx1.elsewhere.example", {
      allowList: list,
      resolver: async () => {
        asked = true;
        return ["198.18.0.11"];
      },
      deny,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: "name", address: null });
    expect(asked).toBe(false);
  });

  it("says when a name does not resolve, or not in time", async () => {
    await expect(checkTarget("x.allowed.example", { allowList: list, resolver: answer(), deny })).rejects.toBeInstanceOf(TargetUnresolvedError);
    await expect(checkTarget("x.allowed.example", { allowList: list, resolver: () => new Promise(() => undefined), deny, timeoutMs: 50 })).rejects.toThrow(/no DNS answer within 50 ms/);
  });

  it("checks nothing without an allow-list (the probe CLI unconfigured) but still resolves once", async () => {
    await expect(checkTarget("anything.example", { allowList: null, resolver: answer("127.0.0.1") })).resolves.toMatchObject({ address: "127.0.0.1" });
  });
});
