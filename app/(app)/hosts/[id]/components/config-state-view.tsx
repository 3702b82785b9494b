// One playbook's snapshot in the operator's terms: SCHANNEL values per version and side with
// HealthChecker's reading; Postfix parameters, nginx ssl_protocols per server block, Dovecot
// ssl_min_protocol, each with its value, where it comes from and what it enables. The stored
// state is read defensively: a snapshot from an older playbook version falls back to a list.
import { TLS_VERSION_LABEL, type ConfigValue, type TlsVersion } from "@/lib/hosts/evidence";
import { formatUtc } from "@/lib/time";

type Dword = number | null;
interface SideValues {
  Enabled: Dword;
  DisabledByDefault: Dword;
}
interface SchannelView {
  protocols: Record<string, { Client: SideValues; Server: SideValues }>;
  healthChecker?: { versions?: Record<string, { configuration?: string; color?: string }>; findings?: Array<{ severity: string; message: string }> };
  dotnet?: Record<string, { SystemDefaultTlsVersions: Dword; SchUseStrongCrypto: Dword }>;
  os?: { productName?: string | null; version?: string; family?: string };
  exchange?: { version?: string; product?: string } | null;
  exchangePrerequisites?: { installed?: string; tls12?: string | null; legacyOff?: string | null; dotnet?: string | null; findings?: string[] } | null;
  dotnetRelease?: number | null;
  lastBootAt?: string | null;
  rebootIndicators?: Record<string, boolean>;
  changeAwaitingReboot?: { reason: string } | null;
}
interface Setting {
  scope: string;
  setting: string;
  value: string | null;
  source: string;
  enabled: string[] | null;
  direction?: string;
  library?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function asSchannel(state: unknown): SchannelView | null {
  if (!isObject(state) || !isObject(state.protocols)) return null;
  return state as unknown as SchannelView;
}

function asSettings(state: unknown): Setting[] | null {
  if (!isObject(state) || !Array.isArray(state.settings)) return null;
  return (state.settings as unknown[]).filter((s): s is Setting => isObject(s) && typeof s.setting === "string" && typeof s.scope === "string");
}

// "TLS 1.0, 1.1": the list says "TLS" once.
const shortLabel = (v: string) => (Object.hasOwn(TLS_VERSION_LABEL, v) ? TLS_VERSION_LABEL[v as TlsVersion].replace("TLS ", "") : v);

function enablesText(enabled: string[] | null): { text: string; bad: boolean } {
  if (enabled === null) return { text: "cannot tell", bad: false };
  const legacy = enabled.filter((v) => v === "TLSv1" || v === "TLSv1.1");
  const list = enabled.length ? `TLS ${enabled.map(shortLabel).join(", ")}` : "no TLS version";
  return { text: list, bad: legacy.length > 0 || !enabled.includes("TLSv1.2") };
}

const dword = (v: Dword | undefined) => (v === null || v === undefined ? "absent" : String(v));

const HC_STYLE: Record<string, string> = {
  Enabled: "text-slate-900",
  Disabled: "text-slate-600",
  "Half Disabled": "font-medium text-red-800",
  Misconfigured: "font-medium text-red-800",
};

function SchannelTable({ s }: { s: SchannelView }) {
  const versions = ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"].filter((v) => s.protocols[v]);
  return (
    <div className="flex flex-col gap-3">
      {(s.os || s.exchange) && (
        <p className="text-xs text-slate-600">
          {s.os?.productName ?? (s.os?.family ? `Windows Server ${s.os.family}` : "Windows")}
          {s.os?.version ? ` (${s.os.version})` : ""}
          {s.exchange ? `; ${s.exchange.product ?? "Exchange"} ${s.exchange.version ?? ""}` : ""}
          {s.lastBootAt ? `; last boot ${formatUtc(s.lastBootAt)}` : ""}
        </p>
      )}
      {s.exchangePrerequisites && <ExchangePrerequisitesView p={s.exchangePrerequisites} dotnetRelease={s.dotnetRelease ?? null} />}
      <table className="w-full text-xs" data-testid="schannel-values">
        <caption className="sr-only">SCHANNEL protocol values per version and side, with HealthChecker&apos;s reading</caption>
        <thead>
          <tr className="text-left text-slate-600">
            <th scope="col" className="py-1 pr-2 font-medium">Version</th>
            <th scope="col" className="py-1 pr-2 font-medium">Server</th>
            <th scope="col" className="py-1 pr-2 font-medium">Client</th>
            <th scope="col" className="py-1 font-medium">HealthChecker</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 font-mono">
          {versions.map((v) => {
            const p = s.protocols[v]!;
            const hc = s.healthChecker?.versions?.[v]?.configuration ?? "–";
            return (
              <tr key={v}>
                <th scope="row" className="py-1 pr-2 text-left font-sans font-medium">{v}</th>
                <td className="py-1 pr-2">Enabled={dword(p.Server?.Enabled)}, DisabledByDefault={dword(p.Server?.DisabledByDefault)}</td>
                <td className="py-1 pr-2">Enabled={dword(p.Client?.Enabled)}, DisabledByDefault={dword(p.Client?.DisabledByDefault)}</td>
                <td className={`py-1 font-sans ${HC_STYLE[hc] ?? ""}`}>{hc}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {s.dotnet && (
        <details className="text-xs">
          <summary className="cursor-pointer text-slate-700">.NET Framework values (SystemDefaultTlsVersions / SchUseStrongCrypto)</summary>
          <ul className="mt-1 space-y-0.5 font-mono">
            {Object.entries(s.dotnet).map(([key, v]) => (
              <li key={key} className="break-all">
                {key.replace("HKLM\\SOFTWARE\\", "")}: {dword(v.SystemDefaultTlsVersions)} / {dword(v.SchUseStrongCrypto)}
              </li>
            ))}
          </ul>
        </details>
      )}
      {s.healthChecker?.findings && s.healthChecker.findings.length > 0 && (
        <ul className="list-disc pl-5 text-xs">
          {s.healthChecker.findings.map((f, i) => (
            <li key={i} className={f.severity === "red" ? "text-red-800" : "text-amber-800"}>{f.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** The KB's step 1: what the installed Exchange build and .NET Framework allow, answer first. */
function ExchangePrerequisitesView({ p, dotnetRelease }: { p: NonNullable<SchannelView["exchangePrerequisites"]>; dotnetRelease: number | null }) {
  const rows: Array<[string, string | null | undefined, string]> = [
    ["TLS 1.2", p.tls12, "usable"],
    ["TLS 1.0/1.1 disabled", p.legacyOff, "supported"],
    [".NET Framework", p.dotnet, dotnetRelease === null ? "Release not found: not judged" : `Release ${dotnetRelease}: enough`],
  ];
  const blocked = (p.findings?.length ?? 0) > 0;
  return (
    <div className={`rounded border px-3 py-2 text-xs ${blocked ? "border-red-300 bg-red-50" : "border-slate-200"}`} data-testid="exchange-prerequisites">
      <p className={`font-medium ${blocked ? "text-red-900" : "text-slate-900"}`}>
        Exchange prerequisites (KB step 1): {blocked ? "update needed" : "met"}
        {p.installed ? <span className="font-normal text-slate-700"> for {p.installed}</span> : null}
      </p>
      <ul className="mt-1 space-y-0.5">
        {rows.map(([what, problem, fine]) => (
          <li key={what} className={!problem ? "text-green-800" : p.findings?.includes(problem) ? "text-red-800" : "text-amber-800"}>
            <span className="font-medium">{what}:</span> {problem ?? fine}
          </li>
        ))}
      </ul>
    </div>
  );
}

function SettingsTable({ settings, playbook }: { settings: Setting[]; playbook: string }) {
  return (
    <table className="w-full text-xs" data-testid={`${playbook}-settings`}>
      <caption className="sr-only">{playbook} TLS protocol settings</caption>
      <thead>
        <tr className="text-left text-slate-600">
          <th scope="col" className="py-1 pr-2 font-medium">Direction</th>
          <th scope="col" className="py-1 pr-2 font-medium">Where</th>
          <th scope="col" className="py-1 pr-2 font-medium">Setting</th>
          <th scope="col" className="py-1 pr-2 font-medium">Value (source)</th>
          <th scope="col" className="py-1 font-medium">Enables</th>
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">
        {settings.map((st, i) => {
          const e = enablesText(st.enabled);
          return (
            <tr key={i}>
              <td className="py-1 pr-2 text-slate-700">{st.direction === "outbound" ? "outbound (client)" : "inbound (server)"}</td>
              <td className="break-all py-1 pr-2 text-slate-700">{st.scope || "global"}</td>
              <td className="py-1 pr-2 font-mono">{st.setting}</td>
              <td className="py-1 pr-2 font-mono">
                {st.value ?? "(default)"} <span className="font-sans text-slate-500">({st.source})</span>
              </td>
              <td className={`py-1 ${e.bad ? "font-medium text-red-800" : "text-green-800"}`}>
                {e.text}
                {st.library && <span className="block font-normal text-slate-600">{st.library}</span>}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function ConfigStateView({ playbook, state, values }: { playbook: string; state: unknown; values: Array<[string, ConfigValue]> }) {
  const schannel = playbook === "windows-schannel" ? asSchannel(state) : null;
  if (schannel) return <SchannelTable s={schannel} />;
  const settings = asSettings(state);
  if (settings && settings.length > 0) return <SettingsTable settings={settings} playbook={playbook} />;
  const shown = values.filter(([k]) => k !== "summary");
  if (shown.length === 0) return <p className="text-xs text-slate-600">The snapshot holds no parsed values.</p>;
  return (
    <dl className="grid grid-cols-[minmax(0,1fr)_auto] gap-x-4 gap-y-0.5 text-xs">
      {shown.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="truncate font-mono text-slate-600" title={k}>{k}</dt>
          <dd className="text-right font-mono text-slate-900">{v === null ? "(absent)" : String(v)}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Why a reboot is pending, when the snapshot says so. */
export function rebootReason(state: unknown): string | null {
  if (!isObject(state)) return null;
  const change = state.changeAwaitingReboot;
  if (isObject(change) && typeof change.reason === "string") return change.reason;
  if (state.hostRebootIndicators === true || isObject(state.rebootIndicators)) return "the host reports a pending restart (servicing indicators)";
  return null;
}
