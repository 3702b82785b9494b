// Windows SCHANNEL + .NET TLS settings: the fix from Microsoft's KB "Cannot send or receive email
// when using TLS 1.1 or TLS 1.0", completed the way Exchange guidance does (docs/domain.md
// "Windows SCHANNEL"), judged the way CSS-Exchange HealthChecker judges it
// (schannel-healthchecker.ts), and refused where the installed Exchange build cannot take it
// (exchange-prerequisites.ts: the KB's step 1).
//
// Everything is read and written with reg.exe through RemoteSession (argv only); the boot time
// comes from Win32_OperatingSystem (boot-identity.ts). Changes take effect after a restart:
// apply() always reports pendingReboot when it wrote.

import { z } from "zod";
import type { RemoteSession } from "../transport/types";
import type { ConfigSide } from "../../lib/compliance/status";
import { runStep } from "./apply-steps";
import { readBootIdentity } from "./boot-identity";
import { exchangeGoalBlocker, exchangePrerequisites } from "./exchange-prerequisites";
import { regAddDwordArgv, regDeleteValueArgv, regQuery, RegistrySnapshot, normalizeKeyPath } from "./reg-exe";
import { evaluateHealthChecker } from "./schannel-healthchecker";
import {
  CBS_KEY,
  CURRENT_VERSION_KEY,
  DOTNET_KEYS,
  DOTNET_VALUES,
  EXCHANGE_SETUP_KEYS,
  PROTOCOLS_KEY,
  SCHANNEL_VALUES,
  SESSION_MANAGER_KEY,
  SIDES,
  TLS_VERSIONS,
  WU_KEY,
  effectiveVersions,
  exchangeProduct,
  osDefault,
  osFamily,
  protocolKey,
  type DotNetKey,
  type Dword,
  type ExchangeInfo,
  type OsInfo,
  type SchannelSideValues,
  type SchannelState,
  type Side,
  type TlsVersionName,
} from "./schannel-model";
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

export * from "./schannel-model";
export * from "./schannel-healthchecker";
export * from "./exchange-prerequisites";

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
  // .NET Framework 4.x "Release" (docs/domain.md "Exchange prerequisites"): 461308 = 4.7.1.
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
  const state = interpretSchannel(snapshot, raw, new Date(), await lastBootAt(s));
  if (typeof state === "string") throw new PlaybookError(s.hostLabel, `${state} on ${s.hostLabel}`);
  return state;
}

/** When the host last started (UTC, ISO 8601), or null when Windows would not say: the reboot
 *  bookkeeping then keeps a change pending rather than guess. A lost connection still throws. */
async function lastBootAt(s: RemoteSession): Promise<string | null> {
  try {
    return (await readBootIdentity(s)).replace(/^windows-boot:/, "");
  } catch (err) {
    if (err instanceof PlaybookError) return null;
    throw err;
  }
}

/** Pure: the state from what the registry queries printed (and the boot time). Returns an error
 *  text when the output cannot be a Windows registry (no build number). */
export function interpretSchannel(snapshot: RegistrySnapshot, raw: RawOutput[], collectedAt: Date, lastBootAt: string | null = null): SchannelState | string {
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

  // Any one indicator means Windows itself waits for a restart (docs/domain.md "Reboot pending").
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
  const dotnetRelease = snapshot.dword(NDP_V4_FULL_KEY, "Release").value;
  const prerequisites = exchangePrerequisites({ exchange, dotnetRelease, effective, os });
  return {
    playbookId: "windows-schannel",
    collectedAt: collectedAt.toISOString(),
    legacyEnabled: effective["TLS 1.0"].server || effective["TLS 1.0"].client || effective["TLS 1.1"].server || effective["TLS 1.1"].client,
    tls12Enabled: effective["TLS 1.2"].server && effective["TLS 1.2"].client,
    rebootPending: Object.values(rebootIndicators).some(Boolean),
    summary: summarize({ healthChecker, protocols, effective }),
    sides: schannelSides({ protocols, effective, dotnet }),
    prerequisites: prerequisites?.findings ?? [],
    raw,
    protocols,
    dotnet,
    wrongTypes,
    rebootIndicators,
    os,
    exchange,
    dotnetRelease,
    exchangePrerequisites: prerequisites,
    lastBootAt,
    healthChecker,
    effective,
  };
}

async function writeValue(s: RemoteSession, path: string, name: string, to: number | null): Promise<void> {
  const argv = to === null ? regDeleteValueArgv(path, name) : regAddDwordArgv(path, name, to);
  await runStep(s, argv, { what: `${argv.slice(0, 2).join(" ")} "${path}" /v ${name}`, timeoutMs: 30_000 });
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
  // The plan refuses this already; apply is where it would do the damage, so it refuses too
  // (a rollback puts back what was there, whatever it was).
  const blocker = wanted.some((c) => c.reason !== "rollback" && turnsLegacyOff(c)) ? exchangeGoalBlocker(exchangePrerequisites(before), "disable-legacy") : null;
  if (blocker) throw new PlaybookError(s.hostLabel, `Refusing to disable TLS 1.0/1.1 on ${s.hostLabel}: ${blocker}.`);
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
  prerequisites: (state, goal) => exchangeGoalBlocker(exchangePrerequisites(state), goal),
  // Windows flags servicing reboots, not registry edits: a SCHANNEL change (ours or anyone's)
  // shows as "the values differ from the last read" and is in effect once the host has booted
  // after it. Client and .NET values as much as Server ones: the inbound wire cannot tell.
  effectiveAfterRestart: {
    what: "SCHANNEL/.NET values",
    // In a fixed order, not the objects' key order: a stored snapshot comes back from jsonb with
    // its keys reordered. "" for a snapshot that holds no values (nothing to compare with).
    managedValues: (state) =>
      state.protocols && state.dotnet
        ? JSON.stringify([
            ...TLS_VERSIONS.flatMap((v) => SIDES.flatMap((side) => SCHANNEL_VALUES.map((n) => state.protocols[v]?.[side]?.[n] ?? null))),
            ...DOTNET_KEYS.flatMap((k) => DOTNET_VALUES.map((n) => state.dotnet[k]?.[n] ?? null)),
          ])
        : "",
    lastBootAt: (state) => state.lastBootAt ?? null,
  },
};

/** A change that turns TLS 1.0 or 1.1 off (Enabled=0 or DisabledByDefault=1). */
function turnsLegacyOff(c: Change & { to: number | null }): boolean {
  const legacy = (["TLS 1.0", "TLS 1.1"] as const).some((v) => SIDES.some((side) => normalizeKeyPath(protocolKey(v, side)) === normalizeKeyPath(c.path)));
  return legacy && ((c.value === "Enabled" && c.to === 0) || (c.value === "DisabledByDefault" && c.to === 1));
}

/** Task-log lines: each version's four values and HealthChecker's reading, the summary, the
 *  Exchange prerequisites and the boot time. */
export function describeSchannel(s: SchannelState): string[] {
  const id = s.playbookId;
  const dword = (v: number | null) => (v === null ? "absent" : String(v));
  const lines = (["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"] as const).map((v) => {
    const p = s.protocols?.[v];
    const hc = s.healthChecker?.versions?.[v]?.configuration ?? "?";
    if (!p) return `${id}: ${v}: not read`;
    return `${id}: ${v} Server: Enabled=${dword(p.Server.Enabled)}, DisabledByDefault=${dword(p.Server.DisabledByDefault)}; Client: Enabled=${dword(p.Client.Enabled)}, DisabledByDefault=${dword(p.Client.DisabledByDefault)} -> HealthChecker: ${hc}`;
  });
  const p = s.exchangePrerequisites;
  const exchange = p ? [`${id}: ${p.findings.length > 0 ? p.findings.join("; ") : `${p.installed}: TLS 1.2 prerequisites met`}`] : [];
  const boot = `${id}: last boot ${s.lastBootAt ? s.lastBootAt.slice(0, 19).replace("T", " ") + " UTC" : "unknown (Win32_OperatingSystem not readable)"}`;
  return [...lines, `${id}: ${s.summary}`, ...exchange, boot];
}

