// The KB's step 1 ("install the latest Windows and Exchange updates") as a check: whether the
// installed Exchange build can use TLS 1.2 at all, whether it can run with TLS 1.0/1.1 disabled,
// and whether the .NET Framework 4.x it runs on is new enough. No registry value fixes any of
// these; each needs an update installed first. Facts and build numbers with their sources:
// docs/domain.md "Exchange prerequisites". Pure.

import type { Goal } from "./types";
import { osDefault, type ExchangeInfo, type SchannelState, type TlsVersionName } from "./schannel-model";

type Build = readonly [major: number, minor: number, build: number];

interface Release {
  name: string;
  build: Build;
}

interface ExchangeMinimums {
  /** The first build that can use TLS 1.2. */
  tls12: Release;
  /** The first build that runs with TLS 1.0 and 1.1 disabled. */
  legacyOff: Release;
  /** The .NET Framework 4.x the TLS 1.2 builds need; null: not a 4.x requirement (Exchange 2010
   *  runs on .NET 3.5.1, whose version this check does not read). */
  dotnet: { name: string; release: number } | null;
  /** What an update of this product is called, for "install the latest CU first". */
  update: "CU" | "update rollup";
}

// Exchange Team, "Exchange Server TLS guidance, part 1: Getting Ready for TLS 1.2" (2018), with
// the builds from Microsoft Learn "Exchange Server build numbers and release dates" (CSS-Exchange
// HealthChecker keeps the same numbers: Shared/Get-ExchangeBuildVersionInformation.ps1).
// Exchange 2019 and SE use TLS 1.2 from RTM and run without TLS 1.0/1.1.
export const EXCHANGE_TLS_MINIMUMS: Partial<Record<ExchangeInfo["product"], ExchangeMinimums>> = {
  "Exchange 2010": { tls12: { name: "SP3 RU19", build: [14, 3, 382] }, legacyOff: { name: "SP3 RU20", build: [14, 3, 389] }, dotnet: null, update: "update rollup" },
  "Exchange 2013": { tls12: { name: "CU19", build: [15, 0, 1365] }, legacyOff: { name: "CU20", build: [15, 0, 1367] }, dotnet: { name: "4.7.1", release: 461308 }, update: "CU" },
  "Exchange 2016": { tls12: { name: "CU8", build: [15, 1, 1415] }, legacyOff: { name: "CU9", build: [15, 1, 1466] }, dotnet: { name: "4.7.1", release: 461308 }, update: "CU" },
};

// Release builds, to name what is installed ("CU7"); a build between two entries carries security
// updates on top of the lower one. Same sources as above.
const RELEASES: Partial<Record<ExchangeInfo["product"], ReadonlyArray<readonly [string, number]>>> = {
  "Exchange 2010": [["SP3", 123], ["SP3 RU18", 352], ["SP3 RU19", 382], ["SP3 RU20", 389]],
  "Exchange 2013": [
    ["CU1", 620], ["CU2", 712], ["CU3", 775], ["CU4", 847], ["CU5", 913], ["CU6", 995], ["CU7", 1044], ["CU8", 1076], ["CU9", 1104], ["CU10", 1130], ["CU11", 1156], ["CU12", 1178],
    ["CU13", 1210], ["CU14", 1236], ["CU15", 1263], ["CU16", 1293], ["CU17", 1320], ["CU18", 1347], ["CU19", 1365], ["CU20", 1367], ["CU21", 1395], ["CU22", 1473], ["CU23", 1497],
  ],
  "Exchange 2016": [
    ["CU1", 396], ["CU2", 466], ["CU3", 544], ["CU4", 669], ["CU5", 845], ["CU6", 1034], ["CU7", 1261], ["CU8", 1415], ["CU9", 1466], ["CU10", 1531], ["CU11", 1591], ["CU12", 1713],
    ["CU13", 1779], ["CU14", 1847], ["CU15", 1913], ["CU16", 1979], ["CU17", 2044], ["CU18", 2106], ["CU19", 2176], ["CU20", 2242], ["CU21", 2308], ["CU22", 2375], ["CU23", 2507],
  ],
};

// Microsoft Learn, "How to: Determine which .NET Framework versions are installed": the minimum
// NDP\v4\Full Release of each version.
const DOTNET_RELEASES: ReadonlyArray<readonly [string, number]> = [
  ["4.5", 378389], ["4.5.1", 378675], ["4.5.2", 379893], ["4.6", 393295], ["4.6.1", 394254], ["4.6.2", 394802],
  ["4.7", 460798], ["4.7.1", 461308], ["4.7.2", 461808], ["4.8", 528040], ["4.8.1", 533320],
];

export interface ExchangePrerequisites {
  /** "Exchange 2016 CU7 (15.1.1261)". */
  installed: string;
  /** Why TLS 1.2 cannot work on this build, or null. */
  tls12: string | null;
  /** Why this build cannot run with TLS 1.0/1.1 disabled, or null. */
  legacyOff: string | null;
  /** Why the .NET Framework is too old for TLS 1.2, or null (also when it cannot be told). */
  dotnet: string | null;
  /** The ones that hold on this host now, in the operator's terms: each makes the host at_risk.
   *  `legacyOff` counts only while TLS 1.0 or 1.1 is actually disabled. */
  findings: string[];
}

const older = (v: Build, than: Build) => v[0] < than[0] || (v[0] === than[0] && (v[1] < than[1] || (v[1] === than[1] && v[2] < than[2])));
const show = (b: Build) => b.join(".");

export function dotnetVersionName(release: number): string | null {
  return [...DOTNET_RELEASES].reverse().find(([, min]) => release >= min)?.[0] ?? null;
}

/** "CU7", "SP3 RU18", or null when the build is older than every release we list. */
export function exchangeReleaseName(product: ExchangeInfo["product"], build: Build): string | null {
  const list = RELEASES[product];
  const minor = EXCHANGE_TLS_MINIMUMS[product]?.tls12.build;
  if (!list || !minor || build[0] !== minor[0] || build[1] !== minor[1]) return null;
  return [...list].reverse().find(([, b]) => build[2] >= b)?.[0] ?? null;
}

/** TLS 1.0 or 1.1 turned off on either side where the OS would otherwise have it on (TLS 1.1 is
 *  off by default on Server 2008 R2: that alone is not "disabled"). */
function legacyDisabled(state: Pick<SchannelState, "effective" | "os">): boolean {
  return (["TLS 1.0", "TLS 1.1"] as TlsVersionName[]).some(
    (v) => osDefault(state.os.build, v).enabled && (!state.effective[v].server || !state.effective[v].client),
  );
}

/** The verdict for the installed Exchange, or null when there is none (or one we have no
 *  minimums for: 2019 and SE need nothing here). */
export function exchangePrerequisites(state: Pick<SchannelState, "exchange" | "dotnetRelease" | "effective" | "os">): ExchangePrerequisites | null {
  const ex = state.exchange;
  const min = ex ? EXCHANGE_TLS_MINIMUMS[ex.product] : undefined;
  if (!ex || !min) return null;
  const parts = ex.version.split(".").map(Number);
  const build: Build = [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0];
  const name = exchangeReleaseName(ex.product, build);
  const installed = `${ex.product}${name ? ` ${name}` : ""} (${show(build)})`;
  const first = `install the latest ${min.update} first (KB step 1)`;
  const tls12 = older(build, min.tls12.build) ? `${installed}: TLS 1.2 needs ${min.tls12.name} (${show(min.tls12.build)}) or later; ${first}` : null;
  const legacyOff = older(build, min.legacyOff.build)
    ? `${installed} cannot run with TLS 1.0/1.1 disabled: that needs ${min.legacyOff.name} (${show(min.legacyOff.build)}) or later; ${first}`
    : null;
  let dotnet: string | null = null;
  if (min.dotnet && state.dotnetRelease !== null && state.dotnetRelease < min.dotnet.release) {
    const found = dotnetVersionName(state.dotnetRelease);
    dotnet = `${ex.product} needs .NET Framework ${min.dotnet.name} or later for TLS 1.2: Release ${state.dotnetRelease}${found ? ` (${found})` : ""} found, ${min.dotnet.release} (${min.dotnet.name}) needed; install it first (KB step 1)`;
  }
  const findings = [tls12, legacyOff !== null && legacyDisabled(state) ? legacyOff : null, dotnet].filter((f): f is string => f !== null);
  return { installed, tls12, legacyOff, dotnet, findings };
}

/**
 * Why a goal cannot work on this build whatever the registry says, or null: the plan refuses the
 * host with it. "Disable TLS 1.0/1.1" on a build that cannot run without them would stop Exchange
 * talking TLS (and one that cannot use TLS 1.2 would be left with nothing).
 */
export function exchangeGoalBlocker(p: ExchangePrerequisites | null, goal: Goal): string | null {
  if (!p) return null;
  return goal === "enable-tls12" ? (p.tls12 ?? p.dotnet) : (p.legacyOff ?? p.dotnet);
}
