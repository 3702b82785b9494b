// The nginx state a check reads: which versions each TLS server block allows, and why.
// Addresses in this file's comments are examples, never dialled.

import type { RemoteSession } from "../../transport/types";
import { compareVersions, readRemoteFile, runChecked, snapshotOf, summarizeSettings, type FileSnapshot, type ProtocolSetting, type TlsVersion, narrowByLibrary, OPENSSL_POLICY_STEP, parseOpenSslPolicy, type OpenSslPolicy } from "../linux-common";
import { PlaybookError, type Change, type ConfigState, type RawOutput } from "../types";
import { nginxDefaultProtocols, parseNginxVersion, splitNginxDump } from "./dump";
import { type NginxBlock, type NginxContext, type NginxProtocolDirective, type NginxServer, resolveNginx } from "./resolve";

export interface NginxState extends ConfigState {
  playbookId: "nginx";
  version: string | null;
  /** The built-in ssl_protocols of this version; null when unknown. */
  defaultProtocols: TlsVersion[] | null;
  mainConfigFile: string;
  /** Every file nginx read, in dump order. */
  files: string[];
  blocks: NginxBlock[];
  servers: NginxServer[];
  directives: NginxProtocolDirective[];
  notes: string[];
  /** The OpenSSL policy the verdicts account for; null when it could not be read. */
  openssl: OpenSslPolicy | null;
  /** Exact bytes of every file that sets ssl_protocols or holds an http/stream/mail block: the
   *  only files apply may edit, and what rollback restores. */
  originals: FileSnapshot[];
  settings: ProtocolSetting[];
}

export interface NginxChange extends Change {
  /** replace: the directive at `line`; insert: a new directive at the top of the block at `line`. */
  action: "replace" | "insert";
  line: number;
  context: NginxContext;
  from: string | null;
  to: string;
}

function serverLabel(s: NginxServer): string {
  const name = s.serverNames.find((x) => x !== "" && x !== "_") ?? s.listen[0] ?? "(unnamed)";
  return `${s.context === "http" ? "" : `${s.context} `}server ${name} (${s.file}:${s.line})`;
}

/** Pure: the state from `nginx -v`, `nginx -T` and the candidate files' bytes. */
/** "443 ssl default_server" -> "*:443"; "[::]:443 ssl" -> "[::]:443"; "10.0.0.1" -> "10.0.0.1:80" (listen directives as text, data only: nothing is dialled). */
export function listenAddress(listen: string): { address: string; isDefault: boolean } {
  const [first = "", ...rest] = listen.split(/\s+/);
  const isDefault = rest.includes("default_server") || rest.includes("default");
  if (first.startsWith("unix:")) return { address: first, isDefault };
  if (/^\d+$/.test(first)) return { address: `*:${first}`, isDefault };
  const m = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(first);
  const host = (m ? m[1]! : first).replace(/^0\.0\.0\.0$/, "*");
  return { address: `${host}:${m ? m[2]! : "80"}`, isDefault };
}

/**
 * nginx negotiates the version with the default server of the address:port (the one whose listen
 * says default_server, else the first server with that listen) before it knows the SNI name;
 * before 1.29.2 the default server's ssl_protocols apply to every name on that address:port
 * (nginx.org ssl_protocols, 1.29.2 CHANGES: per-server values via the ClientHello callback).
 * One pass over the http servers: address:port -> its default server.
 */
export function defaultServers(servers: readonly NginxServer[]): Map<string, NginxServer> {
  const first = new Map<string, NginxServer>();
  const marked = new Map<string, NginxServer>();
  for (const x of servers) {
    if (x.context !== "http") continue;
    for (const l of x.listen.map(listenAddress)) {
      if (!first.has(l.address)) first.set(l.address, x);
      if (l.isDefault && !marked.has(l.address)) marked.set(l.address, x);
    }
  }
  for (const [address, x] of marked) first.set(address, x);
  return first;
}

/** The default server that decides for `s` (see defaultServers), or null when `s` decides for itself. */
export function decidingServer(s: NginxServer, defaults: ReadonlyMap<string, NginxServer>, version: string | null): { server: NginxServer; listen: string } | null {
  if (s.context !== "http" || (version !== null && compareVersions(version, "1.29.2") >= 0)) return null;
  const same = (a: NginxServer) => a.protocols.source === s.protocols.source && a.protocols.value === s.protocols.value;
  for (const l of s.listen.map(listenAddress)) {
    const def = defaults.get(l.address);
    if (def && def !== s && !same(def)) return { server: def, listen: l.address };
  }
  return null;
}

export function interpretNginx(input: { versionText: string; dump: string; originals: FileSnapshot[]; openssl?: RawOutput | null; raw: RawOutput[]; collectedAt: Date }): NginxState | string {
  const files = splitNginxDump(input.dump);
  if (files.length === 0) return "nginx -T printed no configuration";
  const version = parseNginxVersion(input.versionText);
  const defaults = nginxDefaultProtocols(version);
  const resolved = resolveNginx(files);
  const tlsServers = resolved.servers.filter((s) => s.tls);
  const openssl = parseOpenSslPolicy(input.openssl ?? undefined);
  const byAddress = defaultServers(resolved.servers);
  const settings: ProtocolSetting[] = tlsServers.map((s) => {
    const own = s.protocols.source === "default" ? defaults : s.protocols.enabled;
    const decider = decidingServer(s, byAddress, version);
    const deciderEnabled = decider ? (decider.server.protocols.source === "default" ? defaults : decider.server.protocols.enabled) : own;
    const narrowed = narrowByLibrary(deciderEnabled, (decider?.server ?? s).ciphers, openssl);
    const notes = [decider ? `nginx ${version} is older than 1.29.2: the default server of ${decider.listen}, ${serverLabel(decider.server)}, decides the version for every name (ssl_protocols ${decider.server.protocols.value ?? "(default)"})` : null, narrowed.library ?? null].filter(Boolean);
    return {
      scope: serverLabel(s),
      setting: "ssl_protocols",
      value: s.protocols.value,
      source: s.protocols.source === "server" ? "explicit" : s.protocols.source === "block" ? "inherited" : "default",
      direction: "inbound" as const,
      enabled: narrowed.enabled,
      ...(notes.length ? { library: notes.join("; ") } : {}),
    };
  });
  for (const s of resolved.servers) if (s.protocols.source === "default") s.protocols.enabled = defaults;
  const headline = tlsServers.length === 0 ? "no server block listens with TLS" : `nginx ${version ?? "(unknown version)"}, ${tlsServers.length} TLS server block${tlsServers.length === 1 ? "" : "s"}`;
  const summary = tlsServers.length === 0 ? { legacyEnabled: false, tls12Enabled: null, summary: headline, sides: [] } : summarizeSettings(settings, headline);
  return {
    playbookId: "nginx",
    collectedAt: input.collectedAt.toISOString(),
    ...summary,
    rebootPending: false,
    raw: input.raw,
    version,
    defaultProtocols: defaults,
    mainConfigFile: files[0]!.path,
    files: files.map((f) => f.path),
    blocks: resolved.blocks,
    servers: resolved.servers,
    directives: resolved.directives,
    notes: resolved.notes,
    originals: input.originals,
    openssl,
    settings,
  };
}

/** The files apply may have to edit: those with an ssl_protocols directive or a context block. */
export function candidateFiles(dump: string): string[] {
  const r = resolveNginx(splitNginxDump(dump));
  return [...new Set([...r.directives.map((d) => d.file), ...r.blocks.map((b) => b.file)])];
}

/** `nginx -v`, `nginx -T`, and the candidate files byte-exact. Read-only. */
export async function checkNginx(s: RemoteSession): Promise<NginxState> {
  const raw: RawOutput[] = [];
  const v = await runChecked(s, ["nginx", "-v"], raw);
  const dump = await runChecked(s, ["nginx", "-T"], raw, { maxOutputBytes: 32 * 1024 * 1024 });
  const openssl = await runChecked(s, [...OPENSSL_POLICY_STEP], raw, { okCodes: [0, 127] });
  const originals: FileSnapshot[] = [];
  for (const path of candidateFiles(dump.stdout)) originals.push(snapshotOf(path, await readRemoteFile(s, path, raw)));
  const state = interpretNginx({ versionText: `${v.stderr}\n${v.stdout}`, dump: dump.stdout, originals, openssl, raw, collectedAt: new Date() });
  if (typeof state === "string") throw new PlaybookError(s.hostLabel, `${state} on ${s.hostLabel}`);
  return state;
}
