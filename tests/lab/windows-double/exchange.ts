// TEST DOUBLE: which TLS versions Exchange's SMTP transport uses, inbound (receive connectors) and
// outbound (send connectors), given the installed build.
//
// [EXCHANGE] Exchange Team Blog, "Exchange Server TLS guidance, part 1: Getting Ready for TLS 1.2"
//   and Microsoft Learn "Exchange Server TLS configuration best practices": TLS 1.2 support came
//   with Exchange 2010 SP3 Update Rollup 19 (14.3.382.0), Exchange 2013 CU19 and Exchange 2016
//   CU8; those builds use SCHANNEL's system defaults, once the .NET Framework values
//   (SystemDefaultTlsVersions, SchUseStrongCrypto under v4.0.30319 and v2.0.50727, both views)
//   are set. An Exchange 2010 older than SP3 RU19 has its transport ask SCHANNEL for TLS 1.0 by
//   name, so its SMTP port negotiates TLS 1.0 only whatever the SCHANNEL defaults say (and fails
//   STARTTLS if TLS 1.0 is disabled outright). Build numbers: Microsoft Learn "Exchange Server
//   build numbers and release dates".

import type { Registry } from "./registry";
import { dotNetClientVersions, explicitVersions, systemDefaultVersions, type OsBuild, type SchannelVersion } from "./schannel";

const SETUP_KEYS = ["HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v15\\Setup", "HKLM\\SOFTWARE\\Microsoft\\ExchangeServer\\v14\\Setup"];
const EXCHANGE_2010_SP3_RU19: [number, number, number] = [14, 3, 382];

export function exchangeBuild(registry: Registry): [number, number, number, number] | null {
  for (const key of SETUP_KEYS) {
    const n = (name: string) => {
      const v = registry.getValue(key, name);
      return v?.type === "REG_DWORD" ? v.data : null;
    };
    const parts = [n("MsiProductMajor"), n("MsiProductMinor"), n("MsiBuildMajor"), n("MsiBuildMinor")];
    if (parts.every((p) => p !== null)) return parts as [number, number, number, number];
  }
  return null;
}

/** Exchange 2010 before SP3 RU19: SMTP is TLS 1.0 only, in both directions. */
export function smtpIsTls10Only(registry: Registry): boolean {
  const b = exchangeBuild(registry);
  if (!b || b[0] !== 14) return false;
  const [, minor, build] = EXCHANGE_2010_SP3_RU19;
  return b[1] < minor || (b[1] === minor && b[2] < build);
}

/** What the SMTP receive connector (port 25) accepts. */
export function smtpServerVersions(registry: Registry, os: OsBuild): SchannelVersion[] {
  if (smtpIsTls10Only(registry)) return explicitVersions(registry, os, "Server", ["TLS 1.0"]);
  return systemDefaultVersions(registry, os, "Server");
}

/** What Exchange's transport offers when it sends mail out: a 64-bit .NET process, .NET 3.5 for
 *  Exchange 2010 and 4.x for 2013 and later. */
export function smtpClientVersions(registry: Registry, os: OsBuild): SchannelVersion[] | null {
  const b = exchangeBuild(registry);
  if (!b) return null;
  if (smtpIsTls10Only(registry)) return explicitVersions(registry, os, "Client", ["TLS 1.0"]);
  return dotNetClientVersions(registry, os, b[0] === 14 ? "v2.0.50727" : "v4.0.30319", "64-bit");
}
