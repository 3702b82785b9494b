// TEST DOUBLE: SCHANNEL's protocol versions, client and server side, as Microsoft documents them.
// Written from Microsoft's published pages, not from tlsfleet's client code (agents/), so a
// mistake in the client's model shows up as a disagreement in tests:
//
// [PROTOCOLS] Microsoft Learn, "Protocols in TLS/SSL (Schannel SSP)"
//   (learn.microsoft.com/windows/win32/secauthn/protocols-in-tls-ssl--schannel-ssp-): the table
//   "TLS protocol version support", one row per Windows version, each version Enabled / Disabled /
//   Not supported, separately for Client and Server. SCHANNEL_DEFAULTS below is that table.
// [REGISTRY] Microsoft Learn, "Transport Layer Security (TLS) registry settings" ("TLS/SSL
//   Settings", learn.microsoft.com/windows-server/security/tls/tls-registry-settings): under
//   HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\<version>\ the
//   `Client` subkey governs connections the machine makes, the `Server` subkey connections it
//   accepts. `Enabled` = 0 disables the version outright (no application can use it); a non-zero
//   `Enabled` enables it. `DisabledByDefault` = 1 keeps the version out of the default set: it is
//   used only when an application asks for it explicitly (SCHANNEL_CRED / SCH_CREDENTIALS with
//   that version); 0 puts it in the default set. A value that is absent keeps the OS default of
//   [PROTOCOLS]. Only REG_DWORD values are read.
// [NETFX] Microsoft Learn, "Transport Layer Security (TLS) best practices with the .NET Framework"
//   (learn.microsoft.com/dotnet/framework/network-programming/tls): `SystemDefaultTlsVersions`
//   = 1 lets the OS (SCHANNEL's defaults) choose the versions; `SchUseStrongCrypto` = 1 makes
//   the application use TLS 1.0, 1.1 and 1.2 (and refuse weak ones); with neither, an application
//   built for .NET Framework 4.5.2 or earlier, and every .NET 3.5 application, offers SSL 3.0 and
//   TLS 1.0. The values live under HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319 (4.x) and
//   \v2.0.50727 (3.5), and for 32-bit processes on 64-bit Windows under
//   HKLM\SOFTWARE\Wow6432Node\Microsoft\.NETFramework\... . Protocols the application names
//   explicitly still pass through SCHANNEL, which drops any whose Client `Enabled` is 0.
//
// SSL 2.0/3.0 are not modelled: Node's TLS stack cannot speak them, so the double never offers them.

import type { Registry } from "./registry";

export const TLS_VERSIONS = ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"] as const;
export type SchannelVersion = (typeof TLS_VERSIONS)[number];
export type SchannelSide = "Client" | "Server";
export type DefaultState = "Enabled" | "Disabled" | "Not supported";

export const PROTOCOLS_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols";

export interface OsBuild {
  major: number;
  minor: number;
  build: number;
  ubr: number | null;
}

type Row = Record<SchannelVersion, Record<SchannelSide, DefaultState>>;
const E = "Enabled";
const D = "Disabled";
const N = "Not supported";
const row = (t10: [DefaultState, DefaultState], t11: [DefaultState, DefaultState], t12: [DefaultState, DefaultState], t13: [DefaultState, DefaultState]): Row => ({
  "TLS 1.0": { Client: t10[0], Server: t10[1] },
  "TLS 1.1": { Client: t11[0], Server: t11[1] },
  "TLS 1.2": { Client: t12[0], Server: t12[1] },
  "TLS 1.3": { Client: t13[0], Server: t13[1] },
});

/** [PROTOCOLS] "TLS protocol version support", the rows for the server releases the double can
 *  be (each pair is [Client, Server]), keyed by the release's first build number. Builds between
 *  two rows take the earlier row (a Windows 10 build between 1607 and 1809 shares their values). */
export const SCHANNEL_DEFAULTS: ReadonlyArray<{ windows: string; firstBuild: number; defaults: Row }> = [
  { windows: "Windows Vista / Windows Server 2008", firstBuild: 6000, defaults: row([E, E], [N, N], [N, N], [N, N]) },
  { windows: "Windows 7 / Windows Server 2008 R2", firstBuild: 7600, defaults: row([E, E], [D, D], [D, D], [N, N]) },
  { windows: "Windows 8 / Windows Server 2012", firstBuild: 9200, defaults: row([E, E], [E, E], [E, E], [N, N]) },
  { windows: "Windows 8.1 / Windows Server 2012 R2", firstBuild: 9600, defaults: row([E, E], [E, E], [E, E], [N, N]) },
  { windows: "Windows 10 1607 / Windows Server 2016", firstBuild: 14393, defaults: row([E, E], [E, E], [E, E], [N, N]) },
  { windows: "Windows 10 1809 / Windows Server 2019", firstBuild: 17763, defaults: row([E, E], [E, E], [E, E], [N, N]) },
  { windows: "Windows Server 2022", firstBuild: 20348, defaults: row([E, E], [E, E], [E, E], [E, E]) },
];

export function defaultState(os: OsBuild, version: SchannelVersion, side: SchannelSide): DefaultState {
  const r = [...SCHANNEL_DEFAULTS].reverse().find((x) => os.build >= x.firstBuild);
  if (!r) throw new Error(`the double has no SCHANNEL defaults for Windows build ${os.build}`);
  return r.defaults[version][side];
}

/** One version on one side after the registry: [REGISTRY] with [PROTOCOLS] for absent values. */
export interface ProtocolSetting {
  supported: boolean;
  /** False: no application can use the version (Enabled=0, or off by OS default). */
  enabled: boolean;
  /** True: used only when an application names the version. */
  disabledByDefault: boolean;
}

export function protocolSetting(registry: Registry, os: OsBuild, version: SchannelVersion, side: SchannelSide): ProtocolSetting {
  const state = defaultState(os, version, side);
  if (state === "Not supported") return { supported: false, enabled: false, disabledByDefault: true };
  const key = `${PROTOCOLS_KEY}\\${version}\\${side}`;
  const dword = (name: string): number | null => {
    const v = registry.getValue(key, name);
    return v?.type === "REG_DWORD" ? v.data : null;
  };
  const enabled = dword("Enabled");
  const disabledByDefault = dword("DisabledByDefault");
  return {
    supported: true,
    enabled: enabled === null ? state === "Enabled" : enabled !== 0,
    disabledByDefault: disabledByDefault === null ? state !== "Enabled" : disabledByDefault !== 0,
  };
}

/** Versions an application gets when it leaves the choice to SCHANNEL (Exchange's receive
 *  connectors, HTTP.sys for WinRM, any client passing no protocol list). */
export function systemDefaultVersions(registry: Registry, os: OsBuild, side: SchannelSide): SchannelVersion[] {
  return TLS_VERSIONS.filter((v) => {
    const s = protocolSetting(registry, os, v, side);
    return s.supported && s.enabled && !s.disabledByDefault;
  });
}

/** Versions an application gets when it names them: DisabledByDefault does not apply, Enabled=0
 *  (or an unsupported version) still removes them. */
export function explicitVersions(registry: Registry, os: OsBuild, side: SchannelSide, requested: readonly SchannelVersion[]): SchannelVersion[] {
  return TLS_VERSIONS.filter((v) => {
    if (!requested.includes(v)) return false;
    const s = protocolSetting(registry, os, v, side);
    return s.supported && s.enabled;
  });
}

export type DotNetRuntime = "v4.0.30319" | "v2.0.50727";
export type Bitness = "64-bit" | "32-bit";

export function dotNetKey(runtime: DotNetRuntime, bitness: Bitness): string {
  return bitness === "64-bit" ? `HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\${runtime}` : `HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\${runtime}`;
}

/** [NETFX]: the versions an outbound connection of a .NET Framework application offers, for an
 *  application that does not set ServicePointManager.SecurityProtocol itself and is built for
 *  4.5.2 or earlier (Exchange 2013/2016 era) or runs on 3.5 (Exchange 2010). */
export function dotNetClientVersions(registry: Registry, os: OsBuild, runtime: DotNetRuntime, bitness: Bitness): SchannelVersion[] {
  const key = dotNetKey(runtime, bitness);
  const on = (name: string) => {
    const v = registry.getValue(key, name);
    return v?.type === "REG_DWORD" && v.data === 1;
  };
  if (on("SystemDefaultTlsVersions")) return systemDefaultVersions(registry, os, "Client");
  if (on("SchUseStrongCrypto")) return explicitVersions(registry, os, "Client", ["TLS 1.0", "TLS 1.1", "TLS 1.2"]);
  return explicitVersions(registry, os, "Client", ["TLS 1.0"]);
}
