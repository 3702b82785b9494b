// The SCHANNEL and .NET values judged the way CSS-Exchange HealthChecker judges them
// (Shared/TLS/Get-AllTlsSettingsFromRegistry.ps1 and
// Diagnostics/HealthChecker/Analyzer/Security/Invoke-AnalyzerSecuritySettings.ps1), so our verdicts
// agree with the tool Exchange admins trust. Pure.

import { DOTNET_KEYS, DOTNET_VALUES, SCHANNEL_VALUES, SIDES, TLS_VERSIONS, type DotNetKey, type Dword, type SchannelSideValues, type Side, type TlsVersionName } from "./schannel-model";

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
 *  docs/domain.md "Windows" documents (Exchange 2019 CU15+ / SE on Server 2022+). */
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
