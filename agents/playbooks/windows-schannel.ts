// Windows SCHANNEL + .NET TLS settings: the fix from Microsoft's KB "Cannot send or receive email
// when using TLS 1.1 or TLS 1.0", completed the way Exchange guidance does (DOMAIN.md "Windows:
// what a complete 'enable TLS 1.2' means"), and judged the way CSS-Exchange HealthChecker judges
// it (Shared/TLS/Get-AllTlsSettingsFromRegistry.ps1 and
// Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecuritySettings.ps1), so our verdicts
// agree with the tool Exchange admins trust.
//
// Everything is read and written with reg.exe through RemoteSession (argv only).
// Changes take effect after a restart: apply() always reports pendingReboot when it wrote.

import { z } from "zod";
import type { RemoteSession } from "../transport/types";
import type { ConfigSide } from "../../lib/compliance/status";
import { regAddDwordArgv, regDeleteValueArgv, regQuery, RegistrySnapshot, normalizeKeyPath } from "./registry";
import {
  PlaybookError,
  type Applied,
  type ApplyOptions,
  type Change,
  type ConfigState,
  type Goal,
  type Host,
  type Playbook,
  type RawOutput,
  type RebootOptions,
} from "./types";

// ---------------------------------------------------------------------------------------------
// Where things live

export const PROTOCOLS_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols";
export const TLS_VERSIONS = ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"] as const;
export type TlsVersionName = (typeof TLS_VERSIONS)[number];
export const SIDES = ["Client", "Server"] as const;
export type Side = (typeof SIDES)[number];
export const SCHANNEL_VALUES = ["Enabled", "DisabledByDefault"] as const;

/** The four .NET keys Exchange guidance sets (HealthChecker's NETv4/NETv2, Microsoft and Wow6432Node). */
export const DOTNET_KEYS = [
  "HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
  "HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\v4.0.30319",
  "HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v2.0.50727",
  "HKLM\\SOFTWARE\\Wow6432Node\\Microsoft\\.NETFramework\\v2.0.50727",
] as const;
export type DotNetKey = (typeof DOTNET_KEYS)[number];
export const DOTNET_VALUES = ["SystemDefaultTlsVersions", "SchUseStrongCrypto"] as const;

const CURRENT_VERSION_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
const CBS_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing";
const WU_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update";
const SESSION_MANAGER_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager";
const EXCHANGE_SETUP_KEYS = ["HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup", "HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup"];

export function protocolKey(version: TlsVersionName, side: Side): string {
  return `${PROTOCOLS_KEY}\\${version}\\${side}`;
}

// ---------------------------------------------------------------------------------------------
// State

/** A DWORD as found: null = absent. */
export type Dword = number | null;

export interface SchannelSideValues {
  Enabled: Dword;
  DisabledByDefault: Dword;
}

export interface OsInfo {
  productName: string | null;
  /** "10.0.17763.5458", "6.3.9600.21620", "6.1.7601". */
  version: string;
  build: number;
  family: "2008 R2" | "2012" | "2012 R2" | "2016" | "2019" | "2022" | "2025" | "unknown";
}

export interface ExchangeInfo {
  /** MsiProductMajor.MsiProductMinor.MsiBuildMajor.MsiBuildMinor, e.g. "15.2.1544.4". */
  version: string;
  product: "Exchange 2010" | "Exchange 2013" | "Exchange 2016" | "Exchange 2019" | "Exchange SE" | "unknown";
  /** Exchange 2019 CU15+ / SE on Windows Server 2022+ (DOMAIN.md): the only place TLS 1.3 belongs. */
  supportsTls13: boolean;
}

export type TlsConfiguration = "Enabled" | "Disabled" | "Half Disabled" | "Misconfigured";

export interface HealthCheckerVersion {
  configuration: TlsConfiguration;
  serverEnabled: boolean;
  serverDisabledByDefault: boolean;
  clientEnabled: boolean;
  clientDisabledByDefault: boolean;
  color: "green" | "yellow" | "red";
}

export interface Finding {
  severity: "red" | "yellow";
  message: string;
}

export interface HealthCheckerReport {
  versions: Record<TlsVersionName, HealthCheckerVersion>;
  findings: Finding[];
  /** Worst finding. */
  color: "green" | "yellow" | "red";
}

export interface SchannelState extends ConfigState {
  playbookId: "windows-schannel";
  protocols: Record<TlsVersionName, Record<Side, SchannelSideValues>>;
  dotnet: Record<DotNetKey, { SystemDefaultTlsVersions: Dword; SchUseStrongCrypto: Dword }>;
  /** Managed values present with a type other than REG_DWORD ("TLS 1.2\\Server\\Enabled: REG_SZ"). */
  wrongTypes: string[];
  rebootIndicators: { componentBasedServicing: boolean; windowsUpdate: boolean; pendingFileRenameOperations: boolean };
  os: OsInfo;
  exchange: ExchangeInfo | null;
  /** .NET Framework 4.x Release (NDP\v4\Full), null when absent. */
  dotnetRelease: number | null;
  /** HealthChecker's reading: absent keys per its rules, not per the OS. */
  healthChecker: HealthCheckerReport;
  /** What SCHANNEL will negotiate after the next restart, with this OS build's defaults for
   *  absent values. Applications using the system defaults (Exchange, IIS) see this. */
  effective: Record<TlsVersionName, { server: boolean; client: boolean }>;
}

// ---------------------------------------------------------------------------------------------
// Pure evaluation

/** HealthChecker's Get-TLSMemberValue: Enabled is true if present and non-zero (0xFFFFFFFF too);
 *  absent Enabled counts as true for TLS 1.0-1.2 and false for TLS 1.3. */
export function hcEnabled(value: Dword, version: TlsVersionName): boolean {
  return value === null ? version !== "TLS 1.3" : value !== 0;
}

/** HealthChecker: DisabledByDefault is true only if present and non-zero. */
export function hcDisabledByDefault(value: Dword): boolean {
  return value !== null && value !== 0;
}

/** HealthChecker's per-version TLSConfiguration, precedence as in Get-AllTlsSettingsFromRegistry:
 *  Enabled, overridden by Disabled, by Half Disabled, by Misconfigured. */
export function tlsConfiguration(version: TlsVersionName, v: Record<Side, SchannelSideValues>): Omit<HealthCheckerVersion, "color"> {
  const serverEnabled = hcEnabled(v.Server.Enabled, version);
  const clientEnabled = hcEnabled(v.Client.Enabled, version);
  const serverDisabledByDefault = hcDisabledByDefault(v.Server.DisabledByDefault);
  const clientDisabledByDefault = hcDisabledByDefault(v.Client.DisabledByDefault);
  const disabled =
    !serverEnabled &&
    (serverDisabledByDefault || v.Server.DisabledByDefault === null) &&
    !clientEnabled &&
    (clientDisabledByDefault || v.Client.DisabledByDefault === null);
  const misconfigured = serverEnabled !== clientEnabled || serverDisabledByDefault !== clientDisabledByDefault;
  // Only the server side is tested: a client/server difference is already "Misconfigured".
  const halfDisabled = (!serverEnabled && !serverDisabledByDefault && v.Server.DisabledByDefault !== null) || (serverEnabled && serverDisabledByDefault);
  let configuration: TlsConfiguration = "Enabled";
  if (disabled) configuration = "Disabled";
  if (halfDisabled) configuration = "Half Disabled";
  if (misconfigured) configuration = "Misconfigured";
  return { configuration, serverEnabled, serverDisabledByDefault, clientEnabled, clientDisabledByDefault };
}

/** HealthChecker's analysis (Invoke-AnalyzerSecuritySettings, "TLS Settings"). TLS 1.3 "not
 *  disabled" is red there because Exchange did not support it; we make the one exception
 *  DOMAIN.md documents (Exchange 2019 CU15+ / SE on Server 2022+). */
export function evaluateHealthChecker(
  protocols: Record<TlsVersionName, Record<Side, SchannelSideValues>>,
  dotnet: Record<DotNetKey, { SystemDefaultTlsVersions: Dword; SchUseStrongCrypto: Dword }>,
  opts: { tls13Supported?: boolean } = {},
): HealthCheckerReport {
  const findings: Finding[] = [];
  const versions = {} as Record<TlsVersionName, HealthCheckerVersion>;
  for (const version of TLS_VERSIONS) {
    const c = tlsConfiguration(version, protocols[version]);
    let color: HealthCheckerVersion["color"] = "green";
    if (
      c.configuration === "Misconfigured" ||
      c.configuration === "Half Disabled" ||
      (version === "TLS 1.2" && c.configuration === "Disabled") ||
      (version === "TLS 1.3" && c.configuration === "Enabled" && !opts.tls13Supported)
    ) {
      color = "red";
    } else if (c.configuration === "Enabled" && (version === "TLS 1.0" || version === "TLS 1.1")) {
      color = "yellow";
    }
    versions[version] = { ...c, color };
    if (color === "red") findings.push({ severity: "red", message: `${version}: ${c.configuration}` });
    if (color === "yellow") findings.push({ severity: "yellow", message: `${version}: Enabled; Microsoft recommends disabling TLS 1.0/1.1` });

    for (const side of SIDES) {
      for (const name of SCHANNEL_VALUES) {
        const value = protocols[version][side][name];
        if (value !== null && value !== 0 && value !== 1) {
          findings.push({ severity: "red", message: `${version} ${side} ${name} is 0x${value.toString(16)}: must be 0 or 1` });
        }
        if (value === null && version !== "TLS 1.3") {
          findings.push({ severity: "red", message: `${version} ${side} ${name} is not set: it should be defined for consistent results` });
        }
      }
    }
  }

  const v4 = DOTNET_KEYS.filter((k) => k.endsWith("v4.0.30319"));
  for (const key of v4) {
    for (const name of DOTNET_VALUES) {
      if (dotnet[key][name] === null) findings.push({ severity: "red", message: `${key} ${name} is not set: it should be defined for consistent results` });
    }
  }
  // .NET values count only when exactly 1.
  const v4AllOne = v4.every((k) => DOTNET_VALUES.every((n) => dotnet[k][n] === 1));
  const lowerDisabled = versions["TLS 1.0"].configuration === "Disabled" || versions["TLS 1.1"].configuration === "Disabled";
  if (lowerDisabled && !v4AllOne) {
    findings.push({
      severity: "red",
      message: "TLS 1.0/1.1 is disabled but SystemDefaultTlsVersions or SchUseStrongCrypto (.NET v4) is not 1: .NET applications will fail to connect",
    });
  }
  if (TLS_VERSIONS.some((v) => versions[v].configuration === "Misconfigured")) {
    findings.push({ severity: "red", message: "Client and Server settings differ for a TLS version; Exchange is both client and server" });
  }
  if (versions["TLS 1.3"].configuration !== "Disabled" && !opts.tls13Supported) {
    findings.push({ severity: "red", message: "TLS 1.3 is not disabled and this Exchange/Windows combination does not support it" });
  }
  if (!lowerDisabled) {
    findings.push({ severity: "yellow", message: "TLS 1.0/1.1 are not disabled at the operating system level" });
  }
  const color = findings.some((f) => f.severity === "red") ? "red" : findings.length > 0 ? "yellow" : "green";
  return { versions, findings, color };
}

/** SCHANNEL's defaults for absent values, by OS build (Microsoft Learn "Protocols in TLS/SSL
 *  (Schannel SSP)"): Server 2008 R2 supports TLS 1.1/1.2 but leaves them off; 2012-2019 enable
 *  1.0-1.2 and have no 1.3; 2022 and later enable 1.0-1.3. */
export function osDefault(build: number, version: TlsVersionName): { supported: boolean; enabled: boolean } {
  switch (version) {
    case "TLS 1.0":
      return { supported: true, enabled: true };
    case "TLS 1.1":
    case "TLS 1.2":
      return { supported: build >= 7600, enabled: build >= 9200 };
    case "TLS 1.3":
      return { supported: build >= 20348, enabled: build >= 20348 };
  }
}

/** What SCHANNEL negotiates for applications that use the system defaults: Enabled=0 blocks
 *  outright, and DisabledByDefault=1 keeps the version from every caller that does not ask for it
 *  by name (which Exchange and IIS do not). Absent values take the OS default. */
export function effectiveVersions(protocols: Record<TlsVersionName, Record<Side, SchannelSideValues>>, build: number): SchannelState["effective"] {
  const out = {} as SchannelState["effective"];
  for (const version of TLS_VERSIONS) {
    const d = osDefault(build, version);
    const on = (v: SchannelSideValues) =>
      d.supported && (v.Enabled === null ? d.enabled : v.Enabled !== 0) && !(v.DisabledByDefault === null ? !d.enabled : v.DisabledByDefault !== 0);
    out[version] = { server: on(protocols[version].Server), client: on(protocols[version].Client) };
  }
  return out;
}

export function osFamily(major: number, minor: number, build: number): OsInfo["family"] {
  if (major === 6 && minor === 1) return "2008 R2";
  if (build === 9200) return "2012";
  if (build === 9600) return "2012 R2";
  if (build === 14393) return "2016";
  if (build === 17763) return "2019";
  if (build === 20348) return "2022";
  if (build === 26100) return "2025";
  return "unknown";
}

export function exchangeProduct(major: number, minor: number, buildMajor: number): ExchangeInfo["product"] {
  if (major === 14) return "Exchange 2010";
  if (major === 15 && minor === 0) return "Exchange 2013";
  if (major === 15 && minor === 1) return "Exchange 2016";
  // Exchange Server SE kept 15.2; its RTM build is 15.2.2562.
  if (major === 15 && minor === 2) return buildMajor >= 2562 ? "Exchange SE" : "Exchange 2019";
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// Plans (pure)

interface Target {
  path: string;
  value: string;
  to: number;
  reason: string;
}

function currentValue(state: SchannelState, path: string, value: string): Dword {
  for (const version of TLS_VERSIONS) {
    for (const side of SIDES) {
      if (normalizeKeyPath(protocolKey(version, side)) === normalizeKeyPath(path)) {
        return state.protocols[version][side][value as (typeof SCHANNEL_VALUES)[number]] ?? null;
      }
    }
  }
  const key = DOTNET_KEYS.find((k) => normalizeKeyPath(k) === normalizeKeyPath(path));
  if (key) return state.dotnet[key][value as (typeof DOTNET_VALUES)[number]] ?? null;
  throw new Error(`not a managed registry path: ${path}`);
}

function diff(state: SchannelState, targets: Target[]): Change[] {
  return targets
    .map((t) => ({ path: t.path, value: t.value, from: currentValue(state, t.path, t.value), to: t.to, reason: t.reason }))
    .filter((c) => c.from !== c.to);
}

/** The complete TLS 1.2 fix: Client and Server Enabled=1 / DisabledByDefault=0, and all four .NET
 *  keys SystemDefaultTlsVersions=1 / SchUseStrongCrypto=1 (a Server-only fix is what HealthChecker
 *  calls "Misconfigured"). On Windows Server 2022+ with an Exchange that does not support TLS 1.3,
 *  TLS 1.3 is disabled too, because SCHANNEL enables it there by default and Exchange guidance
 *  requires it off. */
export function planEnableTls12(state: SchannelState): Change[] {
  const targets: Target[] = [];
  for (const side of SIDES) {
    targets.push({ path: protocolKey("TLS 1.2", side), value: "Enabled", to: 1, reason: `KB fix: enable TLS 1.2 (${side})` });
    targets.push({ path: protocolKey("TLS 1.2", side), value: "DisabledByDefault", to: 0, reason: `KB fix: offer TLS 1.2 by default (${side})` });
  }
  for (const key of DOTNET_KEYS) {
    targets.push({ path: key, value: "SystemDefaultTlsVersions", to: 1, reason: ".NET uses the OS TLS versions (Exchange guidance)" });
    targets.push({ path: key, value: "SchUseStrongCrypto", to: 1, reason: ".NET uses strong crypto, TLS 1.2 (Exchange guidance)" });
  }
  if (state.exchange && !state.exchange.supportsTls13 && osDefault(state.os.build, "TLS 1.3").supported) {
    for (const side of SIDES) {
      targets.push({ path: protocolKey("TLS 1.3", side), value: "Enabled", to: 0, reason: `${state.exchange.product} does not support TLS 1.3 (${side})` });
      targets.push({ path: protocolKey("TLS 1.3", side), value: "DisabledByDefault", to: 1, reason: `${state.exchange.product} does not support TLS 1.3 (${side})` });
    }
  }
  return diff(state, targets);
}

/** TLS 1.0 and 1.1 off, Client and Server: Enabled=0, DisabledByDefault=1. */
export function planDisableLegacy(state: SchannelState): Change[] {
  const targets: Target[] = [];
  for (const version of ["TLS 1.0", "TLS 1.1"] as const) {
    for (const side of SIDES) {
      targets.push({ path: protocolKey(version, side), value: "Enabled", to: 0, reason: `disable ${version} (${side})` });
      targets.push({ path: protocolKey(version, side), value: "DisabledByDefault", to: 1, reason: `disable ${version} (${side})` });
    }
  }
  return diff(state, targets);
}

// ---------------------------------------------------------------------------------------------
// Remote steps

/** The values this playbook may write: SCHANNEL protocol values and the .NET values, nothing
 *  else, whatever a job payload says. */
const MANAGED = new Set<string>([
  ...TLS_VERSIONS.flatMap((v) => SIDES.flatMap((s) => SCHANNEL_VALUES.map((n) => `${normalizeKeyPath(protocolKey(v, s))}|${n.toLowerCase()}`))),
  ...DOTNET_KEYS.flatMap((k) => DOTNET_VALUES.map((n) => `${normalizeKeyPath(k)}|${n.toLowerCase()}`)),
]);

const ChangeSchema = z.object({
  path: z.string(),
  value: z.string(),
  from: z.union([z.number(), z.string(), z.null()]),
  to: z.union([z.number().int().min(0).max(0xffffffff), z.null()]),
  reason: z.string(),
});

function emptySides(): Record<Side, SchannelSideValues> {
  return { Client: { Enabled: null, DisabledByDefault: null }, Server: { Enabled: null, DisabledByDefault: null } };
}

function summarize(state: Pick<SchannelState, "healthChecker" | "protocols" | "effective">): string {
  const part = (v: TlsVersionName) => {
    const s = state.protocols[v].Server;
    const show = (x: Dword) => (x === null ? "absent" : String(x));
    return `${v}: ${state.healthChecker.versions[v].configuration} (Server Enabled=${show(s.Enabled)}, DisabledByDefault=${show(s.DisabledByDefault)})`;
  };
  const onWire = TLS_VERSIONS.filter((v) => state.effective[v].server);
  return `${TLS_VERSIONS.map(part).join("; ")}; after restart the server offers ${onWire.length > 0 ? onWire.join(", ") : "no TLS version"}`;
}

const showDword = (x: Dword) => (x === null ? "absent" : x > 1 ? `0x${x.toString(16).toUpperCase()}` : String(x));
const sideValues = (v: SchannelSideValues) => `Enabled=${showDword(v.Enabled)}, DisabledByDefault=${showDword(v.DisabledByDefault)}`;

/**
 * The two directions (docs/domain.md "Two directions"): inbound is the `Server` subkeys (what
 * Microsoft 365 meets when it delivers to this host), outbound the `Client` subkeys plus the .NET
 * values, which decide what .NET code such as Exchange's transport offers when it sends (.NET
 * Framework "TLS best practices": SystemDefaultTlsVersions=1 lets the OS choose, SchUseStrongCrypto=1
 * keeps legacy protocols out; without them an application built for an older framework offers
 * only its framework's defaults). Missing .NET values therefore make TLS 1.2 outbound "cannot
 * tell", not "disabled": an application built for .NET 4.7+ uses the OS defaults anyway.
 */
export function schannelSides(state: Pick<SchannelState, "protocols" | "effective" | "dotnet">): ConfigSide[] {
  const side = (direction: ConfigSide["direction"], name: Side, key: "server" | "client"): ConfigSide => {
    const on = (v: TlsVersionName) => state.effective[v][key];
    const legacy = (["TLS 1.0", "TLS 1.1"] as const).filter(on);
    const parts: string[] = [];
    if (!on("TLS 1.2")) parts.push(`SCHANNEL TLS 1.2 ${name} disabled (${sideValues(state.protocols["TLS 1.2"][name])})`);
    for (const v of legacy) parts.push(`SCHANNEL ${v} ${name} enabled (${sideValues(state.protocols[v][name])}${state.protocols[v][name].Enabled === null ? ": the OS default" : ""})`);
    let tls12Enabled: boolean | null = on("TLS 1.2");
    if (direction === "outbound") {
      const v4 = DOTNET_KEYS.filter((k) => k.endsWith("v4.0.30319"));
      const notOne = v4.flatMap((k) => DOTNET_VALUES.filter((n) => state.dotnet[k][n] !== 1).map((n) => `${k.includes("Wow6432Node") ? "Wow6432Node " : ""}${n}=${showDword(state.dotnet[k][n])}`));
      if (notOne.length > 0) {
        parts.push(`.NET v4.0.30319 ${notOne.join(", ")} (not 1): .NET code such as Exchange transport may not offer TLS 1.2`);
        if (tls12Enabled) tls12Enabled = null;
      }
    }
    if (parts.length === 0) parts.push(`SCHANNEL TLS 1.2 ${name} enabled, TLS 1.0/1.1 ${name} disabled${direction === "outbound" ? ", .NET values 1" : ""}`);
    return { direction, legacyEnabled: legacy.length > 0, tls12Enabled, summary: parts.join("; ") };
  };
  return [side("inbound", "Server", "server"), side("outbound", "Client", "client")];
}

export const NDP_V4_FULL_KEY = "HKLM\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full";

/** The registry keys check() reads, in order. Exchange keys are read until one is found. */
export const CHECK_QUERIES: ReadonlyArray<{ key: string; recursive: boolean }> = [
  { key: PROTOCOLS_KEY, recursive: true },
  ...DOTNET_KEYS.map((key) => ({ key, recursive: false })),
  // Parents, not the indicator keys themselves: their subkey listing shows whether RebootPending /
  // RebootRequired exist without relying on reg.exe's (localised) "not found" message.
  { key: CBS_KEY, recursive: false },
  { key: WU_KEY, recursive: false },
  { key: SESSION_MANAGER_KEY, recursive: false },
  { key: CURRENT_VERSION_KEY, recursive: false },
  // .NET Framework 4.x "Release" (DOMAIN.md "Exchange prerequisites"): 461308 = 4.7.1.
  { key: NDP_V4_FULL_KEY, recursive: false },
];

/** Reads SCHANNEL, .NET, reboot indicators, Exchange and OS build. Read-only. */
export async function checkSchannel(s: RemoteSession): Promise<SchannelState> {
  if (s.remoteOs !== "windows") throw new PlaybookError(s.hostLabel, `${s.hostLabel} is not a Windows host; the SCHANNEL playbook does not apply.`);
  const raw: RawOutput[] = [];
  const snapshot = new RegistrySnapshot();
  const read = async (key: string, recursive: boolean) => {
    const r = await regQuery(s, key, { recursive });
    raw.push(r.raw);
    r.parsed.keys.forEach((b) => snapshot.add(b));
    return r.found;
  };
  for (const q of CHECK_QUERIES) await read(q.key, q.recursive);
  for (const key of EXCHANGE_SETUP_KEYS) if (await read(key, false)) break;
  const state = interpretSchannel(snapshot, raw, new Date());
  if (typeof state === "string") throw new PlaybookError(s.hostLabel, `${state} on ${s.hostLabel}`);
  return state;
}

/** Pure: the state from what the registry queries printed. Returns an error text when the
 *  output cannot be a Windows registry (no build number). */
export function interpretSchannel(snapshot: RegistrySnapshot, raw: RawOutput[], collectedAt: Date): SchannelState | string {
  const wrongTypes: string[] = [];
  const dword = (key: string, name: string, label: string): Dword => {
    const d = snapshot.dword(key, name);
    if (d.wrongType) wrongTypes.push(`${label}\\${name}: ${d.wrongType}`);
    return d.value;
  };
  const protocols = {} as SchannelState["protocols"];
  for (const version of TLS_VERSIONS) {
    protocols[version] = emptySides();
    for (const side of SIDES) {
      for (const name of SCHANNEL_VALUES) protocols[version][side][name] = dword(protocolKey(version, side), name, `${version}\\${side}`);
    }
  }
  const dotnet = {} as SchannelState["dotnet"];
  for (const key of DOTNET_KEYS) {
    dotnet[key] = {
      SystemDefaultTlsVersions: dword(key, "SystemDefaultTlsVersions", key),
      SchUseStrongCrypto: dword(key, "SchUseStrongCrypto", key),
    };
  }

  const str = (name: string): string | null => {
    const v = snapshot.value(CURRENT_VERSION_KEY, name);
    return v && (v.type === "REG_SZ" || v.type === "REG_EXPAND_SZ") ? v.data : null;
  };
  const build = Number(str("CurrentBuildNumber") ?? str("CurrentBuild"));
  if (!Number.isInteger(build) || build <= 0) return "Cannot read the Windows build number (CurrentBuildNumber)";
  const [legacyMajor, legacyMinor] = (str("CurrentVersion") ?? "").split(".").map(Number);
  // Windows 10 / Server 2016 and later keep CurrentVersion at "6.3" and add these two DWORDs.
  const major = snapshot.dword(CURRENT_VERSION_KEY, "CurrentMajorVersionNumber").value ?? legacyMajor ?? 0;
  const minor = snapshot.dword(CURRENT_VERSION_KEY, "CurrentMinorVersionNumber").value ?? legacyMinor ?? 0;
  const ubr = snapshot.dword(CURRENT_VERSION_KEY, "UBR").value;
  const os: OsInfo = {
    productName: str("ProductName"),
    version: `${major}.${minor}.${build}${ubr !== null ? `.${ubr}` : ""}`,
    build,
    family: osFamily(major, minor, build),
  };

  let exchange: ExchangeInfo | null = null;
  for (const key of EXCHANGE_SETUP_KEYS) {
    const num = (n: string) => snapshot.dword(key, n).value;
    const [maj, min, bmaj, bmin] = [num("MsiProductMajor"), num("MsiProductMinor"), num("MsiBuildMajor"), num("MsiBuildMinor")];
    if (maj === null || min === null || bmaj === null || bmin === null) continue;
    exchange = {
      version: `${maj}.${min}.${bmaj}.${bmin}`,
      product: exchangeProduct(maj, min, bmaj),
      // Exchange 2019 CU15 is build 15.2.1748; TLS 1.3 also needs Windows Server 2022 (20348).
      supportsTls13: maj === 15 && min === 2 && bmaj >= 1748 && build >= 20348,
    };
    break;
  }

  // Any one indicator means Windows itself waits for a restart (DOMAIN.md "Reboot pending").
  const pfro = snapshot.value(SESSION_MANAGER_KEY, "PendingFileRenameOperations");
  const rebootIndicators = {
    componentBasedServicing: snapshot.hasKey(`${CBS_KEY}\\RebootPending`),
    windowsUpdate: snapshot.hasKey(`${WU_KEY}\\RebootRequired`),
    pendingFileRenameOperations: pfro !== undefined && pfro.data.replace(/\\0/g, "").trim() !== "",
  };

  const healthChecker = evaluateHealthChecker(protocols, dotnet, { tls13Supported: exchange?.supportsTls13 ?? false });
  for (const w of wrongTypes) healthChecker.findings.push({ severity: "red", message: `${w} must be REG_DWORD; SCHANNEL and .NET ignore it` });
  if (wrongTypes.length > 0) healthChecker.color = "red";
  const effective = effectiveVersions(protocols, build);
  return {
    playbookId: "windows-schannel",
    collectedAt: collectedAt.toISOString(),
    legacyEnabled: effective["TLS 1.0"].server || effective["TLS 1.0"].client || effective["TLS 1.1"].server || effective["TLS 1.1"].client,
    tls12Enabled: effective["TLS 1.2"].server && effective["TLS 1.2"].client,
    rebootPending: Object.values(rebootIndicators).some(Boolean),
    summary: summarize({ healthChecker, protocols, effective }),
    sides: schannelSides({ protocols, effective, dotnet }),
    raw,
    protocols,
    dotnet,
    wrongTypes,
    rebootIndicators,
    os,
    exchange,
    dotnetRelease: snapshot.dword(NDP_V4_FULL_KEY, "Release").value,
    healthChecker,
    effective,
  };
}

// Exchange Team's TLS guidance (DOMAIN.md "Exchange prerequisites"), as build numbers from
// Microsoft's "Exchange Server build numbers and release dates": the first build that can use
// TLS 1.2, and the .NET Framework it needs (461308 = 4.7.1; Exchange 2010 uses .NET 3.5.1).
const EXCHANGE_TLS12_MINIMUM: Partial<Record<ExchangeInfo["product"], { build: [number, number, number]; cu: string; dotnetRelease: number | null }>> = {
  "Exchange 2010": { build: [14, 3, 382], cu: "SP3 RU19", dotnetRelease: null },
  "Exchange 2013": { build: [15, 0, 1365], cu: "CU19", dotnetRelease: 461308 },
  "Exchange 2016": { build: [15, 1, 1415], cu: "CU8", dotnetRelease: 461308 },
};

/**
 * The KB's step 1: an Exchange build that cannot use TLS 1.2 whatever the registry says. Returns
 * the reason to refuse "Enable TLS 1.2", or null. Exchange 2019 and SE use TLS 1.2 from RTM.
 */
export function exchangeTls12Prerequisite(state: Pick<SchannelState, "exchange" | "dotnetRelease">): string | null {
  const ex = state.exchange;
  if (!ex) return null;
  const min = EXCHANGE_TLS12_MINIMUM[ex.product];
  if (!min) return null;
  const v = ex.version.split(".").map(Number);
  const older = v[0]! < min.build[0] || (v[0] === min.build[0] && (v[1]! < min.build[1] || (v[1] === min.build[1] && v[2]! < min.build[2])));
  if (older) return `${ex.product} ${ex.version} cannot use TLS 1.2: install ${min.cu} (${min.build.join(".")}) or later first`;
  if (min.dotnetRelease !== null && state.dotnetRelease !== null && state.dotnetRelease < min.dotnetRelease) {
    return `${ex.product} needs .NET Framework 4.7.1 or later for TLS 1.2 (Release ${state.dotnetRelease} found, ${min.dotnetRelease} needed)`;
  }
  return null;
}

async function writeValue(s: RemoteSession, path: string, name: string, to: number | null): Promise<void> {
  const argv = to === null ? regDeleteValueArgv(path, name) : regAddDwordArgv(path, name, to);
  const r = await s.exec(argv, { timeoutMs: 30_000 });
  if (r.exitCode !== 0) {
    throw new Error(`${argv.slice(0, 2).join(" ")} "${path}" /v ${name} failed (exit code ${r.exitCode ?? "none"}): ${r.stderr.trim().slice(0, 300) || r.stdout.trim().slice(0, 300)}`);
  }
}

function validateChanges(hostLabel: string, changes: Change[]): Array<Change & { to: number | null }> {
  return changes.map((c) => {
    const parsed = ChangeSchema.safeParse(c);
    if (!parsed.success || !MANAGED.has(`${normalizeKeyPath(c.path)}|${String(c.value).toLowerCase()}`)) {
      throw new PlaybookError(hostLabel, `Refusing a change outside the SCHANNEL/.NET values this playbook manages: ${String(c.path)} ${String(c.value)}`);
    }
    return parsed.data;
  });
}

/** Writes the changes that are not already in place, then reads back and verifies them. */
export async function applySchannel(s: RemoteSession, changes: Change[], opts: ApplyOptions<SchannelState> = {}): Promise<Applied> {
  const wanted = validateChanges(s.hostLabel, changes);
  const before = opts.before ?? (await checkSchannel(s));
  await opts.onBefore?.(before);
  const written: Change[] = [];
  for (const c of wanted) {
    const from = currentValue(before, c.path, c.value);
    if (from === c.to) continue;
    try {
      await writeValue(s, c.path, c.value, c.to);
    } catch (e) {
      throw new PlaybookError(s.hostLabel, `Changing ${c.path}\\${c.value} on ${s.hostLabel} failed: ${(e as Error).message}`, { before, written, cause: e });
    }
    written.push({ ...c, from });
  }
  const after = await checkSchannel(s);
  const notApplied = wanted.filter((c) => currentValue(after, c.path, c.value) !== c.to);
  if (notApplied.length > 0) {
    throw new PlaybookError(
      s.hostLabel,
      `After writing, ${s.hostLabel} still shows ${notApplied.map((c) => `${c.path}\\${c.value}=${String(currentValue(after, c.path, c.value))}`).join(", ")}.`,
      { before, written },
    );
  }
  return { before, after, changes: written, pendingReboot: written.length > 0 };
}

const DwordSchema = z.number().int().min(0).max(0xffffffff).nullable();
const SideSchema = z.object({ Enabled: DwordSchema, DisabledByDefault: DwordSchema });
const BeforeSchema = z.object({
  playbookId: z.literal("windows-schannel"),
  protocols: z.object(Object.fromEntries(TLS_VERSIONS.map((v) => [v, z.object({ Client: SideSchema, Server: SideSchema })])) as Record<TlsVersionName, z.ZodObject<{ Client: typeof SideSchema; Server: typeof SideSchema }>>),
  dotnet: z.object(
    Object.fromEntries(DOTNET_KEYS.map((k) => [k, z.object({ SystemDefaultTlsVersions: DwordSchema, SchUseStrongCrypto: DwordSchema })])) as Record<
      DotNetKey,
      z.ZodObject<{ SystemDefaultTlsVersions: typeof DwordSchema; SchUseStrongCrypto: typeof DwordSchema }>
    >,
  ),
});

/** Puts every managed value back to what `before` recorded; values absent then are deleted.
 *  Keys created by apply stay (an empty key reads exactly like an absent one). */
export async function rollbackSchannel(s: RemoteSession, before: ConfigState): Promise<Applied> {
  const parsed = BeforeSchema.safeParse(before);
  if (!parsed.success) throw new PlaybookError(s.hostLabel, `The snapshot to restore on ${s.hostLabel} is not a windows-schannel snapshot.`);
  const target = parsed.data;
  const changes: Change[] = [];
  for (const version of TLS_VERSIONS) {
    for (const side of SIDES) {
      for (const name of SCHANNEL_VALUES) {
        changes.push({ path: protocolKey(version, side), value: name, from: null, to: target.protocols[version][side][name], reason: "rollback" });
      }
    }
  }
  for (const key of DOTNET_KEYS) {
    for (const name of DOTNET_VALUES) changes.push({ path: key, value: name, from: null, to: target.dotnet[key][name], reason: "rollback" });
  }
  return applySchannel(s, changes);
}

/** shutdown /r /t N /c "message" /d p:2:17 (planned, "Operating System: Security fix"). */
export async function rebootWindows(s: RemoteSession, opts: RebootOptions): Promise<void> {
  if (!Number.isInteger(opts.delaySeconds) || opts.delaySeconds < 0 || opts.delaySeconds > 315_360_000) {
    throw new PlaybookError(s.hostLabel, `Restart delay must be 0..315360000 seconds, got ${opts.delaySeconds}.`);
  }
  if (opts.message.length > 512) throw new PlaybookError(s.hostLabel, "The restart message is limited to 512 characters by shutdown.exe.");
  const argv = ["shutdown", "/r", "/t", String(opts.delaySeconds), "/c", opts.message, "/d", "p:2:17"];
  const r = await s.exec(argv, { timeoutMs: 30_000 });
  if (r.exitCode === 1190) throw new PlaybookError(s.hostLabel, `${s.hostLabel} already has a shutdown scheduled; cancel it (shutdown /a) or wait.`);
  if (r.exitCode !== 0) throw new PlaybookError(s.hostLabel, `shutdown /r on ${s.hostLabel} failed (exit code ${r.exitCode ?? "none"}): ${r.stderr.trim().slice(0, 300)}`);
}

export const windowsSchannel: Playbook<SchannelState> & { reboot: typeof rebootWindows } = {
  id: "windows-schannel",
  appliesTo: (host: Host) => host.platform === "windows",
  check: checkSchannel,
  plan: (state: SchannelState, goal: Goal) => (goal === "enable-tls12" ? planEnableTls12(state) : planDisableLegacy(state)),
  apply: applySchannel,
  rollback: rollbackSchannel,
  reboot: rebootWindows,
  describe: describeSchannel,
  prerequisites: (state, goal) => (goal === "enable-tls12" ? exchangeTls12Prerequisite(state) : null),
  // Windows flags servicing reboots, not registry edits: a SCHANNEL change (ours or anyone's)
  // only shows as "the values differ from the last read" until the wire serves what they say.
  effectiveAfterRestart: {
    what: "SCHANNEL/.NET values",
    // "" for a snapshot that holds no values (nothing to compare with).
    managedValues: (state) => (state.protocols ? JSON.stringify({ protocols: state.protocols, dotnet: state.dotnet }) : ""),
    wireServes: (state, seen) =>
      ([["TLS 1.0", "TLSv1"], ["TLS 1.1", "TLSv1.1"], ["TLS 1.2", "TLSv1.2"]] as const).every(
        ([v, wire]) => seen[wire] === "unknown" || (seen[wire] === "accepted") === state.effective[v].server,
      ),
  },
};

/** Task-log lines: each version's four values and HealthChecker's reading, then the summary. */
export function describeSchannel(s: SchannelState): string[] {
  const id = s.playbookId;
  const dword = (v: number | null) => (v === null ? "absent" : String(v));
  const lines = (["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"] as const).map((v) => {
    const p = s.protocols?.[v];
    const hc = s.healthChecker?.versions?.[v]?.configuration ?? "?";
    if (!p) return `${id}: ${v}: not read`;
    return `${id}: ${v} Server: Enabled=${dword(p.Server.Enabled)}, DisabledByDefault=${dword(p.Server.DisabledByDefault)}; Client: Enabled=${dword(p.Client.Enabled)}, DisabledByDefault=${dword(p.Client.DisabledByDefault)} -> HealthChecker: ${hc}`;
  });
  return [...lines, `${id}: ${s.summary}`];
}

