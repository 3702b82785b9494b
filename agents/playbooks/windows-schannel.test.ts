import { describe, expect, it } from "vitest";
import { loadProfile } from "../../tests/lab/windows-double/profiles";
import { type Registry, runReg } from "../../tests/lab/windows-double/registry";
import type { RemoteSession } from "../transport/types";
import { parseRegQuery, RegistrySnapshot } from "./reg-exe";
import {
  CHECK_QUERIES,
  describeSchannel,
  DOTNET_KEYS,
  effectiveVersions,
  evaluateHealthChecker,
  exchangeProduct,
  hcDisabledByDefault,
  hcEnabled,
  interpretSchannel,
  osFamily,
  planDisableLegacy,
  planEnableTls12,
  protocolKey,
  rebootWindows,
  tlsConfiguration,
  windowsSchannel,
  type Dword,
  type SchannelState,
  type Side,
  type TlsVersionName,
} from "./windows-schannel";
import { PlaybookError } from "./types";

type Sides = Record<Side, { Enabled: Dword; DisabledByDefault: Dword }>;
const sides = (sE: Dword, sD: Dword, cE: Dword = sE, cD: Dword = sD): Sides => ({
  Server: { Enabled: sE, DisabledByDefault: sD },
  Client: { Enabled: cE, DisabledByDefault: cD },
});

describe("HealthChecker value rules (Get-TLSMemberValue)", () => {
  it.each([
    [null, "TLS 1.0", true],
    [null, "TLS 1.2", true],
    [null, "TLS 1.3", false],
    [0, "TLS 1.2", false],
    [1, "TLS 1.3", true],
    [0xffffffff, "TLS 1.1", true],
  ] as const)("Enabled %s for %s is %s", (value, version, expected) => {
    expect(hcEnabled(value, version)).toBe(expected);
  });
  it.each([
    [null, false],
    [0, false],
    [1, true],
    [0xffffffff, true],
  ] as const)("DisabledByDefault %s is %s", (value, expected) => {
    expect(hcDisabledByDefault(value)).toBe(expected);
  });
});

describe("tlsConfiguration (HealthChecker's per-version state)", () => {
  it.each([
    ["everything absent, TLS 1.0", "TLS 1.0", sides(null, null), "Enabled"],
    ["everything absent, TLS 1.3", "TLS 1.3", sides(null, null), "Disabled"],
    ["KB fix applied to both sides", "TLS 1.2", sides(1, 0), "Enabled"],
    ["disabled the recommended way", "TLS 1.0", sides(0, 1), "Disabled"],
    ["Enabled=0 with DisabledByDefault absent", "TLS 1.1", sides(0, null), "Disabled"],
    ["Enabled=0 but DisabledByDefault=0 explicitly", "TLS 1.1", sides(0, 0), "Half Disabled"],
    ["Enabled=1 with DisabledByDefault=1", "TLS 1.2", sides(1, 1), "Half Disabled"],
    ["partial fix: Server only", "TLS 1.2", sides(1, 0, 0, 1), "Misconfigured"],
    ["partial fix: Server key only, Client absent", "TLS 1.2", sides(1, 0, null, null), "Enabled"],
    ["0xFFFFFFFF counts as enabled", "TLS 1.2", sides(0xffffffff, 0), "Enabled"],
    ["DisabledByDefault differs between sides", "TLS 1.0", sides(null, 1, null, null), "Misconfigured"],
  ] as const)("%s -> %s", (_name, version, values, expected) => {
    expect(tlsConfiguration(version, values).configuration).toBe(expected);
  });
});

const noDotnet = Object.fromEntries(DOTNET_KEYS.map((k) => [k, { SystemDefaultTlsVersions: null, SchUseStrongCrypto: null }])) as SchannelState["dotnet"];
const allDotnet = (v: Dword) => Object.fromEntries(DOTNET_KEYS.map((k) => [k, { SystemDefaultTlsVersions: v, SchUseStrongCrypto: v }])) as SchannelState["dotnet"];
const protocols = (p: Partial<Record<TlsVersionName, Sides>>): SchannelState["protocols"] => ({
  "TLS 1.0": p["TLS 1.0"] ?? sides(null, null),
  "TLS 1.1": p["TLS 1.1"] ?? sides(null, null),
  "TLS 1.2": p["TLS 1.2"] ?? sides(null, null),
  "TLS 1.3": p["TLS 1.3"] ?? sides(null, null),
});

describe("evaluateHealthChecker", () => {
  it("the KB host: TLS 1.2 disabled is red, TLS 1.0/1.1 enabled are yellow, missing values red", () => {
    const r = evaluateHealthChecker(protocols({ "TLS 1.2": sides(0, 1) }), noDotnet);
    expect(r.versions["TLS 1.2"]).toMatchObject({ configuration: "Disabled", color: "red" });
    expect(r.versions["TLS 1.0"]).toMatchObject({ configuration: "Enabled", color: "yellow" });
    expect(r.versions["TLS 1.3"]).toMatchObject({ configuration: "Disabled", color: "green" });
    expect(r.color).toBe("red");
    expect(r.findings.map((f) => f.message)).toContain("TLS 1.2: Disabled");
    expect(r.findings.some((f) => /TLS 1.0 Server Enabled is not set/.test(f.message))).toBe(true);
    expect(r.findings.some((f) => /v4.0.30319 SchUseStrongCrypto is not set/.test(f.message))).toBe(true);
  });

  it("is green once TLS 1.2 is complete, legacy disabled and .NET set", () => {
    const r = evaluateHealthChecker(protocols({ "TLS 1.0": sides(0, 1), "TLS 1.1": sides(0, 1), "TLS 1.2": sides(1, 0) }), allDotnet(1));
    expect(r.findings).toEqual([]);
    expect(r.color).toBe("green");
  });

  it(".NET values count only when exactly 1: disabling TLS 1.0 with SchUseStrongCrypto=2 is red", () => {
    const r = evaluateHealthChecker(protocols({ "TLS 1.0": sides(0, 1), "TLS 1.1": sides(0, 1), "TLS 1.2": sides(1, 0) }), allDotnet(2));
    expect(r.findings.some((f) => f.severity === "red" && /SystemDefaultTlsVersions or SchUseStrongCrypto/.test(f.message))).toBe(true);
  });

  it("values other than 0 and 1 are red even though 0xFFFFFFFF means enabled", () => {
    const r = evaluateHealthChecker(protocols({ "TLS 1.0": sides(0, 1), "TLS 1.1": sides(0, 1), "TLS 1.2": sides(0xffffffff, 0) }), allDotnet(1));
    expect(r.versions["TLS 1.2"].configuration).toBe("Enabled");
    expect(r.findings.map((f) => f.message)).toContain("TLS 1.2 Server Enabled is 0xffffffff: must be 0 or 1");
  });

  it("a Server-only fix is Misconfigured and red", () => {
    const r = evaluateHealthChecker(protocols({ "TLS 1.2": sides(1, 0, 0, 1) }), allDotnet(1));
    expect(r.versions["TLS 1.2"]).toMatchObject({ configuration: "Misconfigured", color: "red" });
    expect(r.findings.some((f) => /Client and Server settings differ/.test(f.message))).toBe(true);
  });

  it("TLS 1.3 enabled is red unless Exchange and Windows support it", () => {
    const p = protocols({ "TLS 1.0": sides(0, 1), "TLS 1.1": sides(0, 1), "TLS 1.2": sides(1, 0), "TLS 1.3": sides(1, 0) });
    expect(evaluateHealthChecker(p, allDotnet(1)).versions["TLS 1.3"].color).toBe("red");
    expect(evaluateHealthChecker(p, allDotnet(1), { tls13Supported: true }).color).toBe("green");
  });
});

describe("effectiveVersions (OS defaults for absent values)", () => {
  const on = (e: ReturnType<typeof effectiveVersions>) => (Object.keys(e) as TlsVersionName[]).filter((v) => e[v].server);
  it.each([
    ["2008 R2, nothing set", 7601, protocols({}), ["TLS 1.0"]],
    ["2008 R2 after the KB fix", 7601, protocols({ "TLS 1.2": sides(1, 0) }), ["TLS 1.0", "TLS 1.2"]],
    ["2008 R2 with Enabled=1 but DisabledByDefault absent: still off by default", 7601, protocols({ "TLS 1.2": sides(1, null) }), ["TLS 1.0"]],
    ["2012 R2, nothing set", 9600, protocols({}), ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
    ["2012 R2, TLS 1.2 disabled (the KB host)", 9600, protocols({ "TLS 1.2": sides(0, 1) }), ["TLS 1.0", "TLS 1.1"]],
    ["2019, DisabledByDefault=1 alone keeps TLS 1.0 away from default callers", 17763, protocols({ "TLS 1.0": sides(null, 1) }), ["TLS 1.1", "TLS 1.2"]],
    ["2019, TLS 1.3 keys set but unsupported", 17763, protocols({ "TLS 1.3": sides(1, 0) }), ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
    ["2022, nothing set", 20348, protocols({}), ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"]],
    ["2022, legacy disabled", 20348, protocols({ "TLS 1.0": sides(0, 1), "TLS 1.1": sides(0, 1) }), ["TLS 1.2", "TLS 1.3"]],
  ] as const)("%s", (_name, build, p, expected) => {
    expect(on(effectiveVersions(p, build))).toEqual(expected);
  });
});

describe("names", () => {
  const namers = { osFamily, exchangeProduct } as const;
  it.each([
    ["osFamily", 6, 1, 7601, "2008 R2"],
    ["osFamily", 6, 3, 9600, "2012 R2"],
    ["osFamily", 10, 0, 17763, "2019"],
    ["osFamily", 10, 0, 20348, "2022"],
    ["osFamily", 10, 0, 26100, "2025"],
    ["osFamily", 10, 0, 19045, "unknown"],
    ["exchangeProduct", 14, 3, 123, "Exchange 2010"],
    ["exchangeProduct", 15, 0, 1497, "Exchange 2013"],
    ["exchangeProduct", 15, 1, 2507, "Exchange 2016"],
    ["exchangeProduct", 15, 2, 1544, "Exchange 2019"],
    ["exchangeProduct", 15, 2, 2562, "Exchange SE"],
  ] as const)("%s %d.%d.%d = %s", (namer, a, b, c, expected) => expect(namers[namer](a, b, c)).toBe(expected));
});

// State as check() would build it, from reg.exe output produced by the Windows test double's
// reg emulation over one of its profiles.
function stateFromProfile(name: string, edit?: (r: Registry) => void): SchannelState {
  const registry = loadProfile(name).registry;
  edit?.(registry);
  const snapshot = new RegistrySnapshot();
  const queries = [...CHECK_QUERIES, { key: "HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup", recursive: false }, { key: "HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup", recursive: false }];
  for (const q of queries) {
    const r = runReg(registry, ["reg", "query", q.key, ...(q.recursive ? ["/s"] : [])], "");
    parseRegQuery(r.stdout).keys.forEach((k) => snapshot.add(k));
  }
  const state = interpretSchannel(snapshot, [], new Date("2026-11-28T10:00:00Z"));
  if (typeof state === "string") throw new Error(state);
  return state;
}

describe("SCHANNEL evidence per direction", () => {
  it("the KB host: Server and Client both lack TLS 1.2, each named with its values", () => {
    const s = stateFromProfile("legacy-2012r2");
    expect(s.sides.map((x) => [x.direction, x.tls12Enabled, x.legacyEnabled])).toEqual([
      ["inbound", false, true],
      ["outbound", false, true],
    ]);
    expect(s.sides[0]!.summary).toMatch(/^SCHANNEL TLS 1.2 Server disabled \(Enabled=0, DisabledByDefault=1\)/);
    expect(s.sides[1]!.summary).toMatch(/^SCHANNEL TLS 1.2 Client disabled \(Enabled=0, DisabledByDefault=1\)/);
  });
  it("TLS 1.2 Client disabled on an otherwise fixed host: only the outbound side says so", () => {
    const s = stateFromProfile("modern-2019", (r) => r.setValue(protocolKey("TLS 1.2", "Client"), "Enabled", { type: "REG_DWORD", data: 0 }));
    expect(s.sides[0]).toMatchObject({ direction: "inbound", tls12Enabled: true });
    expect(s.sides[1]).toMatchObject({ direction: "outbound", tls12Enabled: false, summary: expect.stringMatching(/^SCHANNEL TLS 1.2 Client disabled \(Enabled=0, DisabledByDefault=absent\)/) });
  });
  it("missing .NET values leave outbound TLS 1.2 'cannot tell' and name the values", () => {
    const s = stateFromProfile("modern-2019", (r) => r.deleteValue("HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319", "SchUseStrongCrypto"));
    expect(s.sides[1]).toMatchObject({ tls12Enabled: null, summary: expect.stringContaining("SchUseStrongCrypto=absent") });
    expect(s.sides[0]!.tls12Enabled).toBe(true);
  });
});

describe("interpretSchannel", () => {
  it("reads the KB host: 2012 R2, Exchange 2013, TLS 1.2 disabled, only 1.0/1.1 after restart", () => {
    const s = stateFromProfile("legacy-2012r2");
    expect(s.os).toMatchObject({ family: "2012 R2", build: 9600, version: "6.3.9600.21620" });
    expect(s.exchange).toEqual({ version: "15.0.1497.2", product: "Exchange 2013", supportsTls13: false });
    expect(s.protocols["TLS 1.2"]).toEqual(sides(0, 1));
    expect(s.healthChecker.versions["TLS 1.2"].configuration).toBe("Disabled");
    expect(s.tls12Enabled).toBe(false);
    expect(s.legacyEnabled).toBe(true);
    expect(s.rebootPending).toBe(false);
    expect(s.summary).toMatch(/TLS 1.2: Disabled \(Server Enabled=0, DisabledByDefault=1\).*offers TLS 1.0, TLS 1.1$/);
  });

  it("reads Exchange 2010 on 2008 R2 from the v14 key", () => {
    const s = stateFromProfile("legacy-2008r2");
    expect(s.exchange?.product).toBe("Exchange 2010");
    expect(s.os.family).toBe("2008 R2");
    expect(s.tls12Enabled).toBe(false);
  });

  it("sees each reboot-pending indicator", () => {
    const cbs = stateFromProfile("modern-2019", (r) => r.createKey("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending"));
    expect(cbs.rebootIndicators).toEqual({ componentBasedServicing: true, windowsUpdate: false, pendingFileRenameOperations: false });
    const wu = stateFromProfile("modern-2019", (r) => r.createKey("HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired"));
    expect(wu.rebootPending).toBe(true);
    const pfro = stateFromProfile("modern-2019", (r) =>
      r.setValue("HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager", "PendingFileRenameOperations", { type: "REG_MULTI_SZ", data: ["\\??\\C:\\x.dll", ""] }),
    );
    expect(pfro.rebootIndicators.pendingFileRenameOperations).toBe(true);
    expect(stateFromProfile("modern-2019").rebootPending).toBe(false);
  });

  it("flags managed values of the wrong type", () => {
    const s = stateFromProfile("modern-2019", (r) => r.setValue(protocolKey("TLS 1.2", "Server"), "Enabled", { type: "REG_SZ", data: "1" }));
    expect(s.wrongTypes).toEqual(["TLS 1.2\\Server\\Enabled: REG_SZ"]);
    expect(s.protocols["TLS 1.2"].Server.Enabled).toBeNull();
    expect(s.healthChecker.color).toBe("red");
  });

  it("refuses output without a build number", () => {
    expect(interpretSchannel(new RegistrySnapshot(), [], new Date())).toMatch(/build number/);
  });
});

describe("plans", () => {
  it("enable-tls12 on the KB host is the complete fix: both sides and all four .NET keys", () => {
    const changes = planEnableTls12(stateFromProfile("legacy-2012r2"));
    const tls12 = (side: Side) => protocolKey("TLS 1.2", side);
    expect(changes.map((c) => [c.path, c.value, c.from, c.to])).toEqual([
      [tls12("Client"), "Enabled", 0, 1],
      [tls12("Client"), "DisabledByDefault", 1, 0],
      [tls12("Server"), "Enabled", 0, 1],
      [tls12("Server"), "DisabledByDefault", 1, 0],
      ...DOTNET_KEYS.flatMap((k) => [
        [k, "SystemDefaultTlsVersions", null, 1],
        [k, "SchUseStrongCrypto", null, 1],
      ]),
    ]);
    expect(changes.filter((c) => c.path.includes("Wow6432Node"))).toHaveLength(4);
  });

  it("plans nothing on a host that is already fixed", () => {
    const s = stateFromProfile("compliant-2022");
    expect(planEnableTls12(s)).toEqual([]);
    expect(planDisableLegacy(s)).toEqual([]);
  });

  it("disable-legacy writes Enabled=0 and DisabledByDefault=1 for TLS 1.0 and 1.1, both sides", () => {
    const changes = planDisableLegacy(stateFromProfile("modern-2019"));
    expect(changes).toHaveLength(8);
    expect(new Set(changes.map((c) => `${c.value}=${String(c.to)}`))).toEqual(new Set(["Enabled=0", "DisabledByDefault=1"]));
    expect(changes.every((c) => c.from === null)).toBe(true);
  });

  it("on Server 2022 with an Exchange before 2019 CU15, enable-tls12 also turns TLS 1.3 off", () => {
    const s = stateFromProfile("compliant-2022", (r) => {
      r.deleteKey(protocolKey("TLS 1.3", "Client"));
      r.deleteKey(protocolKey("TLS 1.3", "Server"));
    });
    expect(s.effective["TLS 1.3"].server).toBe(true);
    expect(planEnableTls12(s).map((c) => [c.path, c.value, c.to])).toEqual([
      [protocolKey("TLS 1.3", "Client"), "Enabled", 0],
      [protocolKey("TLS 1.3", "Client"), "DisabledByDefault", 1],
      [protocolKey("TLS 1.3", "Server"), "Enabled", 0],
      [protocolKey("TLS 1.3", "Server"), "DisabledByDefault", 1],
    ]);
    const cu15 = { ...s, exchange: { ...s.exchange!, supportsTls13: true } };
    expect(planEnableTls12(cu15)).toEqual([]);
  });

  it("plan() dispatches on the goal", () => {
    const s = stateFromProfile("legacy-2012r2");
    expect(windowsSchannel.plan(s, "enable-tls12")).toEqual(planEnableTls12(s));
    expect(windowsSchannel.plan(s, "disable-legacy")).toEqual(planDisableLegacy(s));
  });
});

describe("guards before anything reaches the host", () => {
  const untouchable: RemoteSession = {
    hostLabel: "ex1 (198.18.0.20)",
    kind: "winrm",
    remoteOs: "windows",
    exec: () => Promise.reject(new Error("must not be called")),
    close: () => Promise.resolve(),
  };

  it("apply refuses registry values the playbook does not manage", async () => {
    await expect(
      windowsSchannel.apply(untouchable, [{ path: "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run", value: "evil", from: null, to: 1, reason: "x" }]),
    ).rejects.toThrow(/outside the SCHANNEL\/.NET values/);
    await expect(windowsSchannel.apply(untouchable, [{ path: protocolKey("TLS 1.2", "Server"), value: "Enabled", from: 0, to: "1" as unknown as number, reason: "x" }])).rejects.toThrow(
      PlaybookError,
    );
  });

  it("rollback refuses a snapshot of another playbook", async () => {
    await expect(windowsSchannel.rollback(untouchable, { playbookId: "postfix" } as never)).rejects.toThrow(/not a windows-schannel snapshot/);
  });

  it("reboot checks shutdown.exe's limits", async () => {
    await expect(rebootWindows(untouchable, { delaySeconds: -1, message: "x" })).rejects.toThrow(/delay/);
    await expect(rebootWindows(untouchable, { delaySeconds: 60, message: "x".repeat(513) })).rejects.toThrow(/512/);
  });

  it("applies to Windows hosts only", () => {
    expect(windowsSchannel.appliesTo({ name: "ex1", platform: "windows", roles: ["exchange"] })).toBe(true);
    expect(windowsSchannel.appliesTo({ name: "mx1", platform: "linux", roles: ["postfix"] })).toBe(false);
  });
});

describe("the KB's step 1 in check, plan and apply (Exchange prerequisites)", () => {
  const untouchable: RemoteSession = { hostLabel: "ex2016", kind: "winrm", remoteOs: "windows", exec: () => Promise.reject(new Error("must not be called")), close: () => Promise.resolve() };

  it("Exchange 2016 CU7 with .NET 4.7 (the double's profile): both findings in the state, and the state carries them to status", () => {
    const s = stateFromProfile("exchange2016-cu7");
    expect(s.exchange).toMatchObject({ product: "Exchange 2016", version: "15.1.1261.35" });
    expect(s.dotnetRelease).toBe(460805);
    expect(s.prerequisites).toEqual([
      "Exchange 2016 CU7 (15.1.1261): TLS 1.2 needs CU8 (15.1.1415) or later; install the latest CU first (KB step 1)",
      "Exchange 2016 needs .NET Framework 4.7.1 or later for TLS 1.2: Release 460805 (4.7) found, 461308 (4.7.1) needed; install it first (KB step 1)",
    ]);
    expect(windowsSchannel.prerequisites?.(s, "enable-tls12")).toMatch(/TLS 1\.2 needs CU8 \(15\.1\.1415\)/);
    expect(windowsSchannel.prerequisites?.(s, "disable-legacy")).toMatch(/cannot run with TLS 1\.0\/1\.1 disabled: that needs CU9 \(15\.1\.1466\)/);
    expect(describeSchannel(s)).toContain(`windows-schannel: ${s.prerequisites!.join("; ")}`);
  });

  it("TLS 1.0 disabled on Exchange 2013 CU19 (before CU20): a finding", () => {
    const cu19 = (r: Registry) => r.setValue("HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup", "MsiBuildMajor", { type: "REG_DWORD", data: 1365 });
    expect(stateFromProfile("legacy-2012r2", cu19).prerequisites).toEqual([]);
    const off = stateFromProfile("legacy-2012r2", (r) => {
      cu19(r);
      r.createKey(protocolKey("TLS 1.0", "Server"));
      r.setValue(protocolKey("TLS 1.0", "Server"), "Enabled", { type: "REG_DWORD", data: 0 });
    });
    expect(off.prerequisites).toEqual([expect.stringMatching(/^Exchange 2013 CU19 \(15\.0\.1365\) cannot run with TLS 1\.0\/1\.1 disabled: that needs CU20 \(15\.0\.1367\)/)]);
  });

  it("Exchange 2013 CU23 and 2019: no findings, nothing refused", () => {
    for (const name of ["legacy-2012r2", "modern-2019"]) {
      const s = stateFromProfile(name);
      expect(s.prerequisites).toEqual([]);
      expect(windowsSchannel.prerequisites?.(s, "disable-legacy")).toBeNull();
    }
  });

  it("apply refuses to disable TLS 1.0/1.1 on a build that cannot run without them, before writing anything", async () => {
    const s = stateFromProfile("exchange2016-cu7");
    await expect(windowsSchannel.apply(untouchable, planDisableLegacy(s), { before: s })).rejects.toThrow(/Refusing to disable TLS 1\.0\/1\.1 on ex2016: .*needs CU9/);
  });
});
