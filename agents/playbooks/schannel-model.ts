// The SCHANNEL playbook's vocabulary: where the values live, the state a check returns, and the
// operating system's defaults for absent values. Shared by the playbook (windows-schannel.ts), its
// HealthChecker reading (schannel-healthchecker.ts) and the Exchange prerequisites
// (exchange-prerequisites.ts).

import type { ConfigState } from "./types";
import type { HealthCheckerReport } from "./schannel-healthchecker";
import type { ExchangePrerequisites } from "./exchange-prerequisites";

// ---------------------------------------------------------------------------------------------
// Where things live

export const PROTOCOLS_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols";
// SCHANNEL's own registry key names (Protocols\TLS 1.0\Server), not labels for people: they only
// look like lib/tls/types.ts TLS_VERSION_LABEL, and must stay as Windows spells them.
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

export const CURRENT_VERSION_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion";
export const CBS_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing";
export const WU_KEY = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update";
export const SESSION_MANAGER_KEY = "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Session Manager";
export const EXCHANGE_SETUP_KEYS = ["HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup", "HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup"];

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
  /** Exchange 2019 CU15+ / SE on Windows Server 2022+ (docs/domain.md "Windows"): the only place TLS 1.3 belongs. */
  supportsTls13: boolean;
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
  /** The KB's step 1 for the installed Exchange (null: no Exchange, or one that needs nothing). */
  exchangePrerequisites: ExchangePrerequisites | null;
  /** Win32_OperatingSystem.LastBootUpTime in UTC (ISO 8601), null when it could not be read: a
   *  change made before this time is in effect (docs/domain.md "Reboot pending"). */
  lastBootAt: string | null;
  /** What SCHANNEL will negotiate after the next restart, with this OS build's defaults for
   *  absent values. Applications using the system defaults (Exchange, IIS) see this. */
  effective: Record<TlsVersionName, { server: boolean; client: boolean }>;
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

