// The Windows TEST DOUBLE's SCHANNEL, .NET, Exchange and locale models against Microsoft's
// documentation, written as literal rows (not computed), so the double cannot drift towards
// whatever tlsfleet's client (agents/) believes. Sources are the ones cited in
// tests/lab/windows-double/schannel.ts, exchange.ts and locale.ts.

import { describe, expect, it } from "vitest";
import { smtpClientVersions, smtpServerVersions } from "../../lab/windows-double/exchange";
import { CP852_POLISH, encodeConsole, LOCALES } from "../../lab/windows-double/locale";
import { clientVersions, readOsBuild } from "../../lab/windows-double/machine";
import { loadProfile } from "../../lab/windows-double/profiles";
import { Registry, runReg, type RegistryFile } from "../../lab/windows-double/registry";
import {
  defaultState,
  dotNetClientVersions,
  explicitVersions,
  PROTOCOLS_KEY,
  systemDefaultVersions,
  type OsBuild,
} from "../../lab/windows-double/schannel";

const os = (build: number): OsBuild => ({ major: 10, minor: 0, build, ubr: null });

describe("SCHANNEL default protocol versions (\"Protocols in TLS/SSL (Schannel SSP)\", table \"TLS protocol version support\")", () => {
  // Windows | TLS 1.0 client | TLS 1.0 server | TLS 1.1 client | TLS 1.1 server | TLS 1.2 client | TLS 1.2 server | TLS 1.3 client | TLS 1.3 server
  const TABLE = [
    ["Windows Vista/Windows Server 2008", 6002, "Enabled", "Enabled", "Not supported", "Not supported", "Not supported", "Not supported", "Not supported", "Not supported"],
    ["Windows 7/Windows Server 2008 R2", 7601, "Enabled", "Enabled", "Disabled", "Disabled", "Disabled", "Disabled", "Not supported", "Not supported"],
    ["Windows 8/Windows Server 2012", 9200, "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Not supported", "Not supported"],
    ["Windows 8.1/Windows Server 2012 R2", 9600, "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Not supported", "Not supported"],
    ["Windows 10 version 1607/Windows Server 2016", 14393, "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Not supported", "Not supported"],
    ["Windows 10 version 1809/Windows Server 2019", 17763, "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Not supported", "Not supported"],
    ["Windows Server 2022", 20348, "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Enabled", "Enabled"],
  ] as const;
  it.each(TABLE)("%s (build %d)", (_windows, build, ...cells) => {
    const got = (["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"] as const).flatMap((v) => [defaultState(os(build), v, "Client"), defaultState(os(build), v, "Server")]);
    expect(got).toEqual(cells);
  });
});

function registryWith(values: Record<string, Record<string, number>>): Registry {
  const file: RegistryFile = {};
  for (const [key, vals] of Object.entries(values)) file[key] = Object.fromEntries(Object.entries(vals).map(([n, d]) => [n, { type: "REG_DWORD", data: d }]));
  return new Registry(file);
}
const P = (version: string, side: string) => `${PROTOCOLS_KEY}\\${version}\\${side}`;

describe("SCHANNEL registry values (\"Transport Layer Security (TLS) registry settings\")", () => {
  // registry values | OS build | side | versions for an application using the system defaults | versions for one naming TLS 1.0-1.2
  const ROWS: Array<[string, Record<string, Record<string, number>>, number, "Client" | "Server", string[], string[]]> = [
    ["no keys, 2012 R2: OS defaults", {}, 9600, "Server", ["TLS 1.0", "TLS 1.1", "TLS 1.2"], ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
    ["no keys, 2008 R2: 1.1/1.2 off by default", {}, 7601, "Server", ["TLS 1.0"], ["TLS 1.0"]],
    ["2008 R2, TLS 1.2 Server Enabled=1 DisabledByDefault=0", { [P("TLS 1.2", "Server")]: { Enabled: 1, DisabledByDefault: 0 } }, 7601, "Server", ["TLS 1.0", "TLS 1.2"], ["TLS 1.0", "TLS 1.2"]],
    ["2008 R2, TLS 1.2 Server Enabled=1 only: still disabled by default", { [P("TLS 1.2", "Server")]: { Enabled: 1 } }, 7601, "Server", ["TLS 1.0"], ["TLS 1.0", "TLS 1.2"]],
    ["2012 R2, TLS 1.2 Enabled=0 DisabledByDefault=1 (the KB host)", { [P("TLS 1.2", "Server")]: { Enabled: 0, DisabledByDefault: 1 } }, 9600, "Server", ["TLS 1.0", "TLS 1.1"], ["TLS 1.0", "TLS 1.1"]],
    ["2012 R2, TLS 1.0 DisabledByDefault=1 only: named requests still get it", { [P("TLS 1.0", "Server")]: { DisabledByDefault: 1 } }, 9600, "Server", ["TLS 1.1", "TLS 1.2"], ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
    ["2012 R2, Enabled=0xffffffff counts as enabled", { [P("TLS 1.1", "Server")]: { Enabled: 0xffffffff } }, 9600, "Server", ["TLS 1.0", "TLS 1.1", "TLS 1.2"], ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
    ["2012 R2, Server keys do not touch the Client side", { [P("TLS 1.2", "Server")]: { Enabled: 0, DisabledByDefault: 1 } }, 9600, "Client", ["TLS 1.0", "TLS 1.1", "TLS 1.2"], ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
    ["2012 R2, TLS 1.2 Client disabled", { [P("TLS 1.2", "Client")]: { Enabled: 0, DisabledByDefault: 1 } }, 9600, "Client", ["TLS 1.0", "TLS 1.1"], ["TLS 1.0", "TLS 1.1"]],
    ["2019, TLS 1.3 Enabled=1: not supported before 2022", { [P("TLS 1.3", "Server")]: { Enabled: 1, DisabledByDefault: 0 } }, 17763, "Server", ["TLS 1.0", "TLS 1.1", "TLS 1.2"], ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
    ["2022, no keys: TLS 1.3 too", {}, 20348, "Server", ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"], ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
  ];
  it.each(ROWS)("%s", (_name, values, build, side, systemDefault, named) => {
    const r = registryWith(values);
    expect(systemDefaultVersions(r, os(build), side)).toEqual(systemDefault);
    expect(explicitVersions(r, os(build), side, ["TLS 1.0", "TLS 1.1", "TLS 1.2"])).toEqual(named);
  });

  it("ignores a value that is not a REG_DWORD (OS default applies)", () => {
    const r = new Registry({ [P("TLS 1.2", "Server")]: { Enabled: { type: "REG_SZ", data: "0" } } });
    expect(systemDefaultVersions(r, os(9600), "Server")).toEqual(["TLS 1.0", "TLS 1.1", "TLS 1.2"]);
  });
});

describe(".NET Framework outbound versions (\".NET Framework TLS best practices\")", () => {
  const V4 = "HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319";
  const V4_32 = "HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\v4.0.30319";
  const V2 = "HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v2.0.50727";
  // values | runtime | bitness | versions offered (2012 R2, SCHANNEL defaults unless stated)
  const ROWS: Array<[string, Record<string, Record<string, number>>, "v4.0.30319" | "v2.0.50727", "64-bit" | "32-bit", string[]]> = [
    ["no values: SSL 3.0 + TLS 1.0 (the double offers no SSL)", {}, "v4.0.30319", "64-bit", ["TLS 1.0"]],
    ["SchUseStrongCrypto=1: TLS 1.0-1.2", { [V4]: { SchUseStrongCrypto: 1 } }, "v4.0.30319", "64-bit", ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
    ["SystemDefaultTlsVersions=1: SCHANNEL's client defaults", { [V4]: { SystemDefaultTlsVersions: 1 }, [P("TLS 1.0", "Client")]: { Enabled: 0 } }, "v4.0.30319", "64-bit", ["TLS 1.1", "TLS 1.2"]],
    ["SchUseStrongCrypto=1 with TLS 1.2 Client Enabled=0: SCHANNEL drops it", { [V4]: { SchUseStrongCrypto: 1 }, [P("TLS 1.2", "Client")]: { Enabled: 0, DisabledByDefault: 1 } }, "v4.0.30319", "64-bit", ["TLS 1.0", "TLS 1.1"]],
    ["64-bit values do not reach 32-bit processes", { [V4]: { SchUseStrongCrypto: 1, SystemDefaultTlsVersions: 1 } }, "v4.0.30319", "32-bit", ["TLS 1.0"]],
    ["Wow6432Node values reach 32-bit processes", { [V4_32]: { SchUseStrongCrypto: 1 } }, "v4.0.30319", "32-bit", ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
    ["v4.0.30319 values do not reach .NET 3.5", { [V4]: { SchUseStrongCrypto: 1 } }, "v2.0.50727", "64-bit", ["TLS 1.0"]],
    [".NET 3.5 with SystemDefaultTlsVersions=1", { [V2]: { SystemDefaultTlsVersions: 1 } }, "v2.0.50727", "64-bit", ["TLS 1.0", "TLS 1.1", "TLS 1.2"]],
  ];
  it.each(ROWS)("%s", (_name, values, runtime, bitness, expected) => {
    expect(dotNetClientVersions(registryWith(values), os(9600), runtime, bitness)).toEqual(expected);
  });
});

describe("profiles: both directions as status.json reports them", () => {
  it("the KB host (legacy-2012r2): inbound and outbound without TLS 1.2", () => {
    const p = loadProfile("legacy-2012r2");
    const b = readOsBuild(p.registry);
    expect(smtpServerVersions(p.registry, b)).toEqual(["TLS 1.0", "TLS 1.1"]);
    expect(clientVersions(p.registry, b)).toEqual({
      os: ["TLS 1.0", "TLS 1.1"],
      dotnet: { "v4.0.30319": { "64-bit": ["TLS 1.0"], "32-bit": ["TLS 1.0"] }, "v2.0.50727": { "64-bit": ["TLS 1.0"], "32-bit": ["TLS 1.0"] } },
      exchangeSmtp: ["TLS 1.0"],
    });
  });

  it("compliant-2022: TLS 1.2 only, both directions", () => {
    const p = loadProfile("compliant-2022");
    const b = readOsBuild(p.registry);
    expect(smtpServerVersions(p.registry, b)).toEqual(["TLS 1.2"]);
    const only12 = { "64-bit": ["TLS 1.2"], "32-bit": ["TLS 1.2"] };
    expect(clientVersions(p.registry, b)).toEqual({ os: ["TLS 1.2"], dotnet: { "v4.0.30319": only12, "v2.0.50727": only12 }, exchangeSmtp: ["TLS 1.2"] });
  });

  it("Exchange 2010 SP3 RU18: SMTP stays TLS 1.0 while SCHANNEL (HTTP.sys) offers 1.2; RU19 follows SCHANNEL", () => {
    const p = loadProfile("exchange2010-sp3ru18");
    const b = readOsBuild(p.registry);
    expect(systemDefaultVersions(p.registry, b, "Server")).toEqual(["TLS 1.0", "TLS 1.1", "TLS 1.2"]);
    expect(smtpServerVersions(p.registry, b)).toEqual(["TLS 1.0"]);
    expect(smtpClientVersions(p.registry, b)).toEqual(["TLS 1.0"]);
    p.registry.setValue("HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup", "MsiBuildMajor", { type: "REG_DWORD", data: 382 });
    expect(smtpServerVersions(p.registry, b)).toEqual(["TLS 1.0", "TLS 1.1", "TLS 1.2"]);
    expect(smtpClientVersions(p.registry, b)).toEqual(["TLS 1.0", "TLS 1.1", "TLS 1.2"]);
  });

  it("derived profiles: removeKeys takes the keys away, the base stays as it was", () => {
    const p = loadProfile("legacy-2012r2-pl-no-wow64");
    expect(p.locale.name).toBe("pl-PL");
    expect(p.registry.keyExists("HKLM\\SOFTWARE\\Wow6432Node")).toBe(false);
    expect(p.registry.keyExists("HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v2.0.50727")).toBe(true);
    expect(loadProfile("legacy-2012r2").registry.keyExists("HKLM\\SOFTWARE\\Wow6432Node")).toBe(true);
    expect(loadProfile("legacy-2012r2-pl-no-netfx2").registry.keyExists("HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\v2.0.50727")).toBe(false);
    expect(loadProfile("modern-2019-pl-no-exchange").registry.keyExists("HKLM\\SOFTWARE\\Microsoft\\ExchangeServer")).toBe(false);
  });
});

describe("Polish Windows (pl-PL)", () => {
  it("reg.exe: a missing key is exit 1, nothing on stdout, the Polish message on stderr", () => {
    const r = runReg(new Registry(), ["reg", "query", "HKLM\\SOFTWARE\\Brak"], "", LOCALES["pl-PL"].reg);
    expect(r).toMatchObject({ exitCode: 1, stdout: "", stderr: "BŁĄD: System nie może odnaleźć określonego klucza rejestru lub wartości.\r\n" });
  });

  it("reg.exe: the unnamed value is (Domyślna)", () => {
    const reg = new Registry({ "HKLM\\SOFTWARE\\K": { "": { type: "REG_SZ", data: "x" } } });
    expect(runReg(reg, ["reg", "query", "HKLM\\SOFTWARE\\K"], "", LOCALES["pl-PL"].reg).stdout).toBe("\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\K\r\n    (Domyślna)    REG_SZ    x\r\n\r\n");
  });

  it("console code page 852 (OEM Latin 2), as iconv's CP852 has it; 65001 is UTF-8", () => {
    // `printf %s "BŁĄD: może odnaleźć" | iconv -f utf-8 -t cp852 | xxd -p`
    expect(encodeConsole("BŁĄD: może odnaleźć", 852).toString("hex")).toBe("429da4443a206d6fbe65206f646e616c65ab86");
    expect(encodeConsole("Ąą€", 852)).toEqual(Buffer.from([0xa4, 0xa5, 0x3f]));
    expect(encodeConsole("Ł", 65001)).toEqual(Buffer.from("Ł", "utf8"));
    expect(Object.keys(CP852_POLISH)).toHaveLength(18);
  });
});
