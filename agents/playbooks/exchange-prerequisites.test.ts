// The dotted numbers here (14.3.382.0, 15.2.221.12, ...) are Exchange build numbers, not addresses: nothing is dialled.
// The KB's step 1 against the build table (docs/domain.md "Exchange prerequisites"): the first
// build on each side of every boundary, and the states the double's profiles give.
import { describe, expect, it } from "vitest";
import { dotnetVersionName, exchangeGoalBlocker, exchangePrerequisites, exchangeReleaseName } from "./exchange-prerequisites";
import { effectiveVersions, type ExchangeInfo, type SchannelState } from "./schannel-model";

type Product = ExchangeInfo["product"];
const NONE = { Enabled: null, DisabledByDefault: null };
const OFF = { Enabled: 0, DisabledByDefault: 1 };
const protocols = (legacyOff = false): SchannelState["protocols"] => ({
  "TLS 1.0": legacyOff ? { Client: OFF, Server: OFF } : { Client: NONE, Server: NONE },
  "TLS 1.1": legacyOff ? { Client: OFF, Server: OFF } : { Client: NONE, Server: NONE },
  "TLS 1.2": { Client: NONE, Server: NONE },
  "TLS 1.3": { Client: NONE, Server: NONE },
});
const state = (product: Product, version: string, o: { dotnetRelease?: number | null; legacyOff?: boolean; osBuild?: number } = {}) => {
  const build = o.osBuild ?? 14393;
  return {
    exchange: { product, version, supportsTls13: false },
    dotnetRelease: o.dotnetRelease === undefined ? 461808 : o.dotnetRelease,
    effective: effectiveVersions(protocols(o.legacyOff), build),
    os: { productName: null, version: `10.0.${build}`, build, family: "unknown" as const },
  };
};

describe("exchangePrerequisites: the build table at its boundaries", () => {
  it.each([
    // product, build, can use TLS 1.2, can run with TLS 1.0/1.1 off, named
    ["Exchange 2016", "15.1.1261.35", false, false, "Exchange 2016 CU7 (15.1.1261)"],
    ["Exchange 2016", "15.1.1261.39", false, false, "Exchange 2016 CU7 (15.1.1261)"], // CU7 + Mar18SU
    ["Exchange 2016", "15.1.1415.2", true, false, "Exchange 2016 CU8 (15.1.1415)"],
    ["Exchange 2016", "15.1.1466.3", true, true, "Exchange 2016 CU9 (15.1.1466)"],
    ["Exchange 2016", "15.1.2507.6", true, true, "Exchange 2016 CU23 (15.1.2507)"],
    ["Exchange 2013", "15.0.1347.2", false, false, "Exchange 2013 CU18 (15.0.1347)"],
    ["Exchange 2013", "15.0.1365.1", true, false, "Exchange 2013 CU19 (15.0.1365)"],
    ["Exchange 2013", "15.0.1367.3", true, true, "Exchange 2013 CU20 (15.0.1367)"],
    ["Exchange 2010", "14.3.352.0", false, false, "Exchange 2010 SP3 RU18 (14.3.352)"],
    ["Exchange 2010", "14.3.382.0", true, false, "Exchange 2010 SP3 RU19 (14.3.382)"],
    ["Exchange 2010", "14.3.389.1", true, true, "Exchange 2010 SP3 RU20 (14.3.389)"],
    ["Exchange 2010", "14.1.218.15", false, false, "Exchange 2010 (14.1.218)"], // SP1: older than every release listed
  ] as const)("%s %s: TLS 1.2 %s, legacy off %s", (product, version, tls12, legacyOff, installed) => {
    const p = exchangePrerequisites(state(product, version))!;
    expect(p.installed).toBe(installed);
    expect(p.tls12 === null).toBe(tls12);
    expect(p.legacyOff === null).toBe(legacyOff);
  });

  it("says what to install, in the operator's terms", () => {
    expect(exchangePrerequisites(state("Exchange 2016", "15.1.1261.35"))!.tls12).toBe(
      "Exchange 2016 CU7 (15.1.1261): TLS 1.2 needs CU8 (15.1.1415) or later; install the latest CU first (KB step 1)",
    );
    expect(exchangePrerequisites(state("Exchange 2016", "15.1.1415.2"))!.legacyOff).toBe(
      "Exchange 2016 CU8 (15.1.1415) cannot run with TLS 1.0/1.1 disabled: that needs CU9 (15.1.1466) or later; install the latest CU first (KB step 1)",
    );
    expect(exchangePrerequisites(state("Exchange 2010", "14.3.352.0"))!.tls12).toMatch(/needs SP3 RU19 \(14\.3\.382\) or later; install the latest update rollup first/);
  });

  it("Exchange 2019, SE and hosts without Exchange need nothing here", () => {
    expect(exchangePrerequisites(state("Exchange 2019", "15.2.221.12"))).toBeNull();
    expect(exchangePrerequisites(state("Exchange SE", "15.2.2562.17"))).toBeNull();
    expect(exchangePrerequisites({ ...state("Exchange 2016", "15.1.1261.35"), exchange: null })).toBeNull();
  });
});

describe(".NET Framework 4.x Release", () => {
  it.each([
    [461307, false, "4.7"],
    [461308, true, "4.7.1"],
    [461808, true, "4.7.2"],
    [528040, true, "4.8"],
  ] as const)("Release %i: enough for Exchange 2016 CU8 = %s", (release, ok, name) => {
    const p = exchangePrerequisites(state("Exchange 2016", "15.1.1415.2", { dotnetRelease: release }))!;
    expect(p.dotnet === null).toBe(ok);
    expect(dotnetVersionName(release)).toBe(name);
  });
  it("names what was found and what is needed", () => {
    expect(exchangePrerequisites(state("Exchange 2013", "15.0.1497.2", { dotnetRelease: 460805 }))!.dotnet).toBe(
      "Exchange 2013 needs .NET Framework 4.7.1 or later for TLS 1.2: Release 460805 (4.7) found, 461308 (4.7.1) needed; install it first (KB step 1)",
    );
  });
  it("an absent Release is not a finding (cannot tell), and Exchange 2010 (.NET 3.5.1) is not judged on it", () => {
    expect(exchangePrerequisites(state("Exchange 2016", "15.1.1415.2", { dotnetRelease: null }))!.dotnet).toBeNull();
    expect(exchangePrerequisites(state("Exchange 2010", "14.3.389.1", { dotnetRelease: 378389 }))!.dotnet).toBeNull();
  });
});

describe("findings and refusals", () => {
  it("a build that cannot run without TLS 1.0/1.1 is a finding only once they are disabled", () => {
    expect(exchangePrerequisites(state("Exchange 2016", "15.1.1415.2"))!.findings).toEqual([]);
    expect(exchangePrerequisites(state("Exchange 2016", "15.1.1415.2", { legacyOff: true }))!.findings).toEqual([expect.stringMatching(/cannot run with TLS 1\.0\/1\.1 disabled: that needs CU9/)]);
  });
  it("TLS 1.1 off by default on Server 2008 R2 is not 'disabled'", () => {
    expect(exchangePrerequisites(state("Exchange 2010", "14.3.382.0", { osBuild: 7601 }))!.findings).toEqual([]);
  });
  it("CU7 with .NET 4.7: both findings, the TLS 1.2 one first", () => {
    expect(exchangePrerequisites(state("Exchange 2016", "15.1.1261.35", { dotnetRelease: 460805 }))!.findings).toEqual([
      expect.stringMatching(/TLS 1\.2 needs CU8/),
      expect.stringMatching(/needs \.NET Framework 4\.7\.1/),
    ]);
  });
  it("the plan refuses each goal with the update it needs", () => {
    const cu8 = exchangePrerequisites(state("Exchange 2016", "15.1.1415.2"));
    expect(exchangeGoalBlocker(cu8, "enable-tls12")).toBeNull();
    expect(exchangeGoalBlocker(cu8, "disable-legacy")).toMatch(/needs CU9 \(15\.1\.1466\)/);
    const cu7 = exchangePrerequisites(state("Exchange 2016", "15.1.1261.35"));
    expect(exchangeGoalBlocker(cu7, "enable-tls12")).toMatch(/needs CU8 \(15\.1\.1415\)/);
    expect(exchangeGoalBlocker(exchangePrerequisites(state("Exchange 2016", "15.1.1466.3", { dotnetRelease: 460805 })), "disable-legacy")).toMatch(/4\.7\.1/);
    expect(exchangeGoalBlocker(null, "disable-legacy")).toBeNull();
  });
  it("names releases only within the product's own major.minor", () => {
    expect(exchangeReleaseName("Exchange 2016", [15, 0, 1497])).toBeNull();
    expect(exchangeReleaseName("Exchange 2013", [15, 0, 1497])).toBe("CU23");
  });
});
