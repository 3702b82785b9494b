// nginx: which TLS versions each server block allows (ssl_protocols), and changing it by editing
// the file that sets it. DOMAIN.md "Linux / mail servers"; nginx.org ngx_http_ssl_module,
// ngx_stream_ssl_module, ngx_mail_ssl_module ("ssl_protocols", contexts: http|stream|mail, server).
//
// Reading: `nginx -T` tests the configuration and dumps every file it read, each after a line
// "# configuration file PATH:" with the file's bytes verbatim (src/core/nginx.c). The dump is
// parsed per file with nginx's own tokenizer rules (ngx_conf_read_token: quotes, backslash
// escapes, "#" comments at token start, "${var}" braces) and the include directives are
// followed against the dumped files, so every server block gets its effective ssl_protocols:
// its own, else its http/stream/mail block's, else nginx's built-in default, which depends on the
// version (`nginx -v`):
//   before 1.23.4: TLSv1 TLSv1.1 TLSv1.2 (measured here: Debian's 1.22.1 rejects TLS 1.3 and
//                  accepts 1.0 without any ssl_protocols);
//   1.23.4 - 1.27.2: TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 ("TLSv1.3 is now enabled by default");
//   1.27.3 and later: TLSv1.2 TLSv1.3 (TLSv1 and TLSv1.1 dropped from the default).
//
// Writing: the file is read byte-exact (base64), the one directive is replaced (or inserted at
// the top of the http/stream/mail block when no file sets it), the file is written back through a
// constant `sh -c 'base64 -d > "$1"'` with the content on stdin, a copy is kept on the host, then
// `nginx -t` and `nginx -s reload`. Anything failing puts the original bytes back.
//
// Verdicts account for two things besides ssl_protocols (docs/domain.md "nginx: the default server
// decides" and "What the library allows"): on one address:port the default server decides the
// version before nginx knows the SNI name (before 1.29.2 for every name: decidingServer), and
// OpenSSL 3 refuses TLS 1.0/1.1 at every security level above 0 (ssl_ciphers' @SECLEVEL, else
// openssl.cnf's; narrowByLibrary). The plan still changes every directive that allows legacy versions, so the result does not depend
// on either. Not modelled: proxy_ssl_protocols and friends (upstream, client side), Lua
// *_by_lua_block bodies (raw Lua, skipped as opaque blocks), ssl_conf_command (its server is not
// narrowed).

// Any address outside loopback and the lab named in this file's comments is an example, never dialled.
import { z } from "zod";
import type { RemoteSession } from "../transport/types";
import {
  BACKUP_SUFFIX,
  backupRemoteFile,
  bytesOf,
  describeVersions,
  FileSnapshotSchema,
  LEGACY_VERSIONS,
  messageOf,
  readRemoteFile,
  runChecked,
  snapshotOf,
  summarizeSettings,
  TLS_VERSIONS,
  writeRemoteFile,
  type FileSnapshot,
  type ProtocolSetting,
  describeSettings,
  type TlsVersion,
  narrowByLibrary,
  OPENSSL_POLICY_STEP,
  parseOpenSslPolicy,
  type OpenSslPolicy,
} from "./linux-common";
import { compileGlob, hasGlobCharacters, type GlobMatcher, type GlobMeter } from "./glob";
import { countAgainst, keepLine, OUTPUT_LIMITS } from "./output-limits";
import { compareVersions } from "./postfix";
import { PlaybookError, type Applied, type ApplyOptions, type Change, type ConfigState, type Goal, type Host, type Playbook, type RawOutput } from "./types";

// ---------------------------------------------------------------------------------------------
// Tokenizer and parser (pure)

export interface NginxDirective {
  name: string;
  args: string[];
  /** 1-based line of the directive name in its file. */
  line: number;
  /** Offsets in the file's text: from the name to just after ";" or after the block's "}". */
  start: number;
  end: number;
  /** Children for a block directive ("http {...}"), null otherwise. */
  block: NginxDirective[] | null;
  /** Offset just after "{" for a block. */
  blockOpen: number | null;
}

export class NginxSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = "NginxSyntaxError";
  }
}

const ESCAPES: Record<string, string> = { '"': '"', "'": "'", "\\": "\\", t: "\t", r: "\r", n: "\n" };
const isSpace = (c: string) => c === " " || c === "\t" || c === "\r" || c === "\n";

/**
 * Parses one nginx configuration file into directives with their positions. Follows
 * ngx_conf_read_token (src/core/ngx_conf_file.c): words end at whitespace, ";" or "{"; "}" ends a
 * block only at the start of a token; "#" starts a comment only at the start of a token; single
 * and double quotes with backslash escapes; "{" right after "$" belongs to a ${variable}.
 * Blocks whose name ends in "_by_lua_block" hold Lua and are skipped as balanced braces.
 */
export function parseNginxConfig(text: string): NginxDirective[] {
  let i = 0;
  let line = 1;
  const n = text.length;

  const advance = () => {
    if (text[i] === "\n") line++;
    i++;
  };

  type Token = { kind: "word"; value: string; start: number; line: number } | { kind: ";" | "{" | "}"; start: number; line: number } | { kind: "eof" };

  const next = (): Token => {
    for (;;) {
      while (i < n && isSpace(text[i]!)) advance();
      if (i >= n) return { kind: "eof" };
      if (text[i] === "#") {
        while (i < n && text[i] !== "\n") i++;
        continue;
      }
      break;
    }
    const start = i;
    const startLine = line;
    const c = text[i]!;
    if (c === ";" || c === "{" || c === "}") {
      i++;
      return { kind: c, start, line: startLine };
    }
    if (c === '"' || c === "'") {
      i++;
      // Runs between escapes are sliced, not appended a character at a time: a host can send a
      // quoted string of many megabytes.
      let value = "";
      let run = i;
      for (;;) {
        if (i >= n) throw new NginxSyntaxError(startLine, "unexpected end of file in a quoted string");
        const ch = text[i]!;
        if (ch === "\\" && i + 1 < n) {
          const e = text[i + 1]!;
          value += text.slice(run, i) + (ESCAPES[e] ?? `\\${e}`);
          advance();
          advance();
          run = i;
          continue;
        }
        if (ch === c) {
          value += text.slice(run, i);
          i++;
          break;
        }
        advance();
      }
      if (i < n && !isSpace(text[i]!) && text[i] !== ";" && text[i] !== "{") throw new NginxSyntaxError(line, `unexpected "${text[i]}" after a quoted string`);
      return { kind: "word", value, start, line: startLine };
    }
    let value = "";
    let run = i;
    let variable = false;
    let inBraces = false;
    while (i < n) {
      const ch = text[i]!;
      if (inBraces) {
        advance();
        if (ch === "}") inBraces = false;
        continue;
      }
      if (ch === "{" && variable) {
        inBraces = true;
        variable = false;
        advance();
        continue;
      }
      if (isSpace(ch) || ch === ";" || ch === "{") break;
      variable = ch === "$";
      if (ch === "\\" && i + 1 < n) {
        const e = text[i + 1]!;
        value += text.slice(run, i) + (ESCAPES[e] ?? `\\${e}`);
        advance();
        advance();
        run = i;
        continue;
      }
      advance();
    }
    value += text.slice(run, i);
    return { kind: "word", value, start, line: startLine };
  };

  // Lua text: braces are counted outside Lua strings ('...', "..." with backslash escapes) and
  // "--" comments; long brackets ([[...]]) are not understood.
  const skipLuaBlock = (openLine: number) => {
    let depth = 1;
    while (i < n && depth > 0) {
      const ch = text[i]!;
      if (ch === "'" || ch === '"') {
        advance();
        while (i < n && text[i] !== ch && text[i] !== "\n") {
          if (text[i] === "\\") advance();
          advance();
        }
      } else if (ch === "-" && text[i + 1] === "-") {
        while (i < n && text[i] !== "\n") advance();
        continue;
      } else if (ch === "{") depth++;
      else if (ch === "}") depth--;
      advance();
    }
    if (depth > 0) throw new NginxSyntaxError(openLine, "unterminated Lua block");
  };

  const parseBlock = (depth: number): { directives: NginxDirective[]; closed: boolean } => {
    if (depth > 64) throw new NginxSyntaxError(line, "blocks nested too deeply");
    const directives: NginxDirective[] = [];
    for (;;) {
      const t = next();
      if (t.kind === "eof") return { directives, closed: false };
      if (t.kind === "}") {
        if (depth === 0) throw new NginxSyntaxError(t.line, 'unexpected "}"');
        return { directives, closed: true };
      }
      if (t.kind !== "word") throw new NginxSyntaxError(t.line, `unexpected "${t.kind}"`);
      const name = t.value;
      const args: string[] = [];
      for (;;) {
        const a = next();
        if (a.kind === "word") {
          args.push(a.value);
          continue;
        }
        if (a.kind === ";") {
          directives.push({ name, args, line: t.line, start: t.start, end: a.start + 1, block: null, blockOpen: null });
          break;
        }
        if (a.kind === "{") {
          const blockOpen = a.start + 1;
          if (/_by_lua_block$/.test(name)) {
            skipLuaBlock(a.line);
            directives.push({ name, args, line: t.line, start: t.start, end: i, block: [], blockOpen });
            break;
          }
          const inner = parseBlock(depth + 1);
          if (!inner.closed) throw new NginxSyntaxError(t.line, `"${name}" block is not closed`);
          directives.push({ name, args, line: t.line, start: t.start, end: i, block: inner.directives, blockOpen });
          break;
        }
        throw new NginxSyntaxError(a.kind === "eof" ? line : a.line, `directive "${name}" is not terminated by ";"`);
      }
    }
  };

  return parseBlock(0).directives;
}

// ---------------------------------------------------------------------------------------------
// nginx -T and -v output (pure)

export interface NginxDumpFile {
  path: string;
  text: string;
}

const FILE_MARKER = /^# configuration file (\/[^\n]*):$/;

/** Splits `nginx -T` stdout into files. Each file is printed as the marker line, its bytes, and
 *  a newline (src/core/nginx.c); a marker-looking line inside a file would split it wrongly, which
 *  is why edits re-read and re-check the real file before touching it. */
export function splitNginxDump(stdout: string): NginxDumpFile[] {
  const files: NginxDumpFile[] = [];
  const lines = stdout.split("\n");
  let current: { path: string; lines: string[] } | null = null;
  const flush = (last: boolean) => {
    if (!current) return;
    // Between files, the newline nginx adds after each file is the one that ends the line before
    // the next marker; after the last file it is the dump's final newline.
    const text = current.lines.join("\n");
    files.push({ path: current.path, text: last && text.endsWith("\n") ? text.slice(0, -1) : text });
  };
  for (const l of lines) {
    const m = FILE_MARKER.exec(l);
    if (m) {
      flush(false);
      current = { path: m[1]!, lines: [] };
      continue;
    }
    current?.lines.push(l);
  }
  flush(true);
  return files;
}

/** The nginx core version from `nginx -v` (stderr): "nginx version: nginx/1.22.1", also
 *  "nginx/1.24.0 (Ubuntu)" and OpenResty's "openresty/1.21.4.1" (its first three numbers are the
 *  nginx core). Other forks: null, their defaults are not assumed. */
export function parseNginxVersion(text: string): string | null {
  const m = /nginx version: (nginx|openresty)\/(\d+\.\d+\.\d+)/.exec(text);
  return m ? m[2]! : null;
}

/** nginx's built-in ssl_protocols for this version (see the top of this file); null: unknown. */
export function nginxDefaultProtocols(version: string | null): TlsVersion[] | null {
  if (version === null) return null;
  if (compareVersions(version, "1.27.3") >= 0) return ["TLSv1.2", "TLSv1.3"];
  if (compareVersions(version, "1.23.4") >= 0) return ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
  return ["TLSv1", "TLSv1.1", "TLSv1.2"];
}

const PROTOCOL_NAMES = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;

/** ssl_protocols takes a list of names; nginx refuses any other word ("invalid value"). */
export function evaluateSslProtocols(args: readonly string[]): TlsVersion[] | null {
  if (args.length === 0 || args.some((a) => !(PROTOCOL_NAMES as readonly string[]).includes(a))) return null;
  return TLS_VERSIONS.filter((v) => args.includes(v));
}

// ---------------------------------------------------------------------------------------------
// The effective configuration (pure)

export type NginxContext = "http" | "stream" | "mail";
const CONTEXTS: readonly NginxContext[] = ["http", "stream", "mail"];

export interface NginxProtocolDirective {
  context: NginxContext;
  /** "http" (block level) or "server". */
  level: "block" | "server";
  file: string;
  line: number;
  args: string[];
  enabled: TlsVersion[] | null;
}

export interface NginxServer {
  context: NginxContext;
  file: string;
  line: number;
  serverNames: string[];
  listen: string[];
  /** Listens with "ssl" (or "quic"), has "ssl on", or (mail) uses STARTTLS. */
  tls: boolean;
  /** The directive that decides, null when the built-in default applies. */
  protocols: { source: "server" | "block" | "default"; file: string | null; line: number | null; value: string | null; enabled: TlsVersion[] | null };
  /** ssl_ciphers in effect (the server's, else its block's); null: nginx's default list (no
   *  @SECLEVEL); undefined: an ssl_conf_command may change protocols or the level, not evaluated. */
  ciphers?: string | null;
}

export interface NginxBlock {
  context: NginxContext;
  file: string;
  line: number;
  /** ssl_protocols set directly in the block, if any. */
  protocols: NginxProtocolDirective | null;
}

export interface NginxResolved {
  blocks: NginxBlock[];
  servers: NginxServer[];
  directives: NginxProtocolDirective[];
  /** Include patterns that matched no dumped file, and other oddities worth showing. */
  notes: string[];
}

function dirname(p: string): string {
  const k = p.lastIndexOf("/");
  return k <= 0 ? "/" : p.slice(0, k);
}

/**
 * Walks the configuration from the main file (the first file of the dump), following include
 * directives against the dumped files: relative patterns resolve against the main file's
 * directory (nginx's conf prefix when started with -c), glob matches in sorted order (glob(3)).
 */
export function resolveNginx(files: NginxDumpFile[]): NginxResolved {
  const what = "`nginx -T` output";
  countAgainst(files.length, OUTPUT_LIMITS.nginxFiles, what, "configuration files");
  const parsed = new Map<string, NginxDirective[]>();
  const notes: string[] = [];
  for (const f of files) {
    try {
      parsed.set(f.path, parseNginxConfig(f.text));
    } catch (e) {
      keepLine(notes, `${f.path}: ${messageOf(e)}`);
      parsed.set(f.path, []);
    }
  }
  const main = files[0]?.path;
  const blocks: NginxBlock[] = [];
  const servers: NginxServer[] = [];
  const directives: NginxProtocolDirective[] = [];
  if (!main) return { blocks, servers, directives, notes: ["nginx -T printed no configuration file"] };
  const prefix = dirname(main);
  const paths = files.map((f) => f.path);

  // Every file may include every other one, 16 levels deep: without a budget a small dump fans
  // out into more directives than memory holds. Matches are computed once per pattern.
  let expanded = 0;
  let globTests = 0;
  const meter: GlobMeter = { steps: 0 };
  const matchesOf = new Map<string, string[]>();
  const matching = (pattern: string): string[] => {
    let hit = matchesOf.get(pattern);
    if (hit) return hit;
    globTests = countAgainst(globTests + paths.length, OUTPUT_LIMITS.nginxGlobTests, what, "include pattern tests (patterns x files)");
    const glob: GlobMatcher = compileGlob(pattern);
    hit = paths
      .filter((p) => {
        const m = glob.test(p, meter);
        countAgainst(meter.steps, OUTPUT_LIMITS.nginxGlobSteps, what, "glob matching steps");
        return m;
      })
      .sort();
    matchesOf.set(pattern, hit);
    return hit;
  };
  const expand = (dirs: NginxDirective[], file: string, depth: number): Array<{ d: NginxDirective; file: string }> => {
    const out: Array<{ d: NginxDirective; file: string }> = [];
    for (const d of dirs) {
      if (d.name === "include" && d.block === null && d.args.length === 1 && depth < 16) {
        const pattern = d.args[0]!.startsWith("/") ? d.args[0]! : `${prefix}/${d.args[0]}`;
        const matched = matching(pattern);
        if (matched.length === 0 && !hasGlobCharacters(pattern)) keepLine(notes, `${file}:${d.line}: include ${d.args[0]} is not in the dump`);
        for (const m of matched) for (const x of expand(parsed.get(m) ?? [], m, depth + 1)) out.push(x);
        continue;
      }
      expanded = countAgainst(expanded + 1, OUTPUT_LIMITS.nginxExpandedDirectives, what, "directives after following includes");
      out.push({ d, file });
    }
    return out;
  };

  const protocolDirective = (context: NginxContext, level: "block" | "server", items: Array<{ d: NginxDirective; file: string }>): NginxProtocolDirective | null => {
    // nginx refuses a second ssl_protocols in one block ("is duplicate"); the first is taken.
    const hit = items.find((x) => x.d.name === "ssl_protocols" && x.d.block === null);
    if (!hit) return null;
    const found: NginxProtocolDirective = { context, level, file: hit.file, line: hit.d.line, args: hit.d.args, enabled: evaluateSslProtocols(hit.d.args) };
    directives.push(found);
    return found;
  };

  for (const top of expand(parsed.get(main) ?? [], main, 0)) {
    const context = top.d.name as NginxContext;
    if (!CONTEXTS.includes(context) || top.d.block === null) continue;
    const items = expand(top.d.block, top.file, 1);
    const blockProtocols = protocolDirective(context, "block", items);
    blocks.push({ context, file: top.file, line: top.d.line, protocols: blockProtocols });
    const blockStarttls = items.find((x) => x.d.name === "starttls")?.d.args[0];
    const cipherOf = (xs: Array<{ d: NginxDirective }>) => xs.find((x) => x.d.name === "ssl_ciphers" && x.d.block === null)?.d.args.join(":");
    const confCommand = (xs: Array<{ d: NginxDirective }>) => xs.some((x) => x.d.name === "ssl_conf_command");
    for (const s of items) {
      if (s.d.name !== "server" || s.d.block === null) continue;
      const inner = expand(s.d.block, s.file, 2);
      const own = protocolDirective(context, "server", inner);
      const listen = inner.filter((x) => x.d.name === "listen").map((x) => x.d.args.join(" "));
      const starttls = inner.find((x) => x.d.name === "starttls")?.d.args[0] ?? blockStarttls;
      const tls =
        inner.some((x) => x.d.name === "listen" && x.d.args.slice(1).some((a) => a === "ssl" || a === "quic")) ||
        inner.some((x) => x.d.name === "ssl" && x.d.args[0] === "on") ||
        (context === "mail" && (starttls === "on" || starttls === "only"));
      const decided = own ?? blockProtocols;
      const ciphers = confCommand(inner) || confCommand(items) ? undefined : (cipherOf(inner) ?? cipherOf(items) ?? null);
      servers.push({
        ciphers,
        context,
        file: s.file,
        line: s.d.line,
        serverNames: inner.filter((x) => x.d.name === "server_name").flatMap((x) => x.d.args),
        listen,
        tls,
        protocols: decided
          ? { source: own ? "server" : "block", file: decided.file, line: decided.line, value: decided.args.join(" "), enabled: decided.enabled }
          : { source: "default", file: null, line: null, value: null, enabled: null },
      });
    }
  }
  return { blocks, servers, directives, notes };
}

// ---------------------------------------------------------------------------------------------
// State

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
/** "443 ssl default_server" -> "*:443"; "[::]:443 ssl" -> "[::]:443"; "10.0.0.1" -> "10.0.0.1:80". */
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

// ---------------------------------------------------------------------------------------------
// Plans (pure)

export const COMPLIANT_PROTOCOLS = "TLSv1.2 TLSv1.3";

function planFor(state: NginxState, target: (enabled: TlsVersion[] | null, args: string[] | null) => string | null, why: string): NginxChange[] {
  const changes: NginxChange[] = [];
  for (const d of state.directives) {
    const to = target(d.enabled, d.args);
    if (to === null) continue;
    changes.push({
      path: d.file,
      value: "ssl_protocols",
      action: "replace",
      line: d.line,
      context: d.context,
      from: d.args.join(" "),
      to,
      reason: `${why}: ${d.level === "block" ? `${d.context} block` : "server"} at ${d.file}:${d.line} allows ${describeVersions(d.enabled)}`,
    });
  }
  // A block whose TLS servers rely on the built-in default gets an explicit directive.
  for (const b of state.blocks) {
    if (b.protocols) continue;
    const relying = state.servers.filter((s) => s.context === b.context && s.tls && s.protocols.source === "default");
    if (relying.length === 0) continue;
    const to = target(state.defaultProtocols, null);
    if (to === null) continue;
    changes.push({
      path: b.file,
      value: "ssl_protocols",
      action: "insert",
      line: b.line,
      context: b.context,
      from: null,
      to,
      reason: `${why}: ${relying.length} TLS server block${relying.length === 1 ? "" : "s"} use nginx ${state.version ?? "?"}'s default (${describeVersions(state.defaultProtocols)}); set it in the ${b.context} block at ${b.file}:${b.line}`,
    });
  }
  return changes;
}

/** ssl_protocols TLSv1.2 TLSv1.3 wherever TLS 1.0/1.1 is allowed or TLS 1.2 missing. */
export function planDisableLegacy(state: NginxState): NginxChange[] {
  return planFor(state, (enabled) => (enabled === null || enabled.some((v) => LEGACY_VERSIONS.includes(v)) || !enabled.includes("TLSv1.2") ? COMPLIANT_PROTOCOLS : null), "disable TLS 1.0/1.1");
}

/** TLSv1.2 added where it is missing; the other versions stay as configured. */
export function planEnableTls12(state: NginxState): NginxChange[] {
  return planFor(
    state,
    (enabled, args) => {
      if (enabled === null) return COMPLIANT_PROTOCOLS;
      if (enabled.includes("TLSv1.2")) return null;
      const keep = (args ?? enabled).filter((a) => a !== "TLSv1.2");
      const order = (a: string) => (PROTOCOL_NAMES as readonly string[]).indexOf(a);
      return [...keep, "TLSv1.2"].sort((a, b) => order(a) - order(b)).join(" ");
    },
    "enable TLS 1.2",
  );
}

export function planNginx(state: NginxState, goal: Goal): NginxChange[] {
  return goal === "enable-tls12" ? planEnableTls12(state) : planDisableLegacy(state);
}

// ---------------------------------------------------------------------------------------------
// Editing one file (pure; text is the file's bytes as latin1, so offsets are byte offsets)

const MARKER = "# tlsfleet: TLS protocol versions set by tlsfleet";

function findAll(dirs: NginxDirective[], pred: (d: NginxDirective) => boolean, out: NginxDirective[] = []): NginxDirective[] {
  for (const d of dirs) {
    if (pred(d)) out.push(d);
    if (d.block) findAll(d.block, pred, out);
  }
  return out;
}

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

function indentOf(text: string, offset: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, offset)))![0];
}

export type EditOutcome = { text: string; applied: NginxChange[]; skipped: NginxChange[] };

/** Applies the changes for one file. A change whose directive is not where the plan saw it, or
 *  holds another value than the plan's "from", is refused (the file changed since the plan);
 *  one that already holds "to" is skipped (re-applying is a no-op). */
export function editNginxFile(text: string, changes: NginxChange[]): EditOutcome | string {
  let tree: NginxDirective[];
  try {
    tree = parseNginxConfig(text);
  } catch (e) {
    return `cannot parse the file: ${messageOf(e)}`;
  }
  const edits: Array<{ start: number; end: number; insert: string }> = [];
  const applied: NginxChange[] = [];
  const skipped: NginxChange[] = [];
  for (const c of changes) {
    if (c.action === "replace") {
      const d = findAll(tree, (x) => x.name === "ssl_protocols" && x.block === null && x.line === c.line)[0];
      if (!d) return `no ssl_protocols directive on line ${c.line} any more`;
      const now = d.args.join(" ");
      if (now === c.to) {
        skipped.push(c);
        continue;
      }
      if (now !== c.from) return `ssl_protocols on line ${c.line} is "${now}", the plan expected "${c.from ?? ""}"`;
      edits.push({ start: d.start, end: d.end, insert: `ssl_protocols ${c.to};` });
      applied.push(c);
    } else {
      const b = findAll(tree, (x) => x.name === c.context && x.block !== null && x.line === c.line)[0];
      if (!b || b.blockOpen === null) return `no ${c.context} block on line ${c.line} any more`;
      const existing = b.block!.find((x) => x.name === "ssl_protocols" && x.block === null);
      if (existing) {
        if (existing.args.join(" ") === c.to) {
          skipped.push(c);
          continue;
        }
        return `the ${c.context} block on line ${c.line} already sets ssl_protocols ${existing.args.join(" ")}`;
      }
      const indent = `${indentOf(text, b.start)}    `;
      edits.push({ start: b.blockOpen, end: b.blockOpen, insert: `\n${indent}${MARKER}\n${indent}ssl_protocols ${c.to};` });
      applied.push(c);
    }
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.insert + out.slice(e.end);
  return { text: out, applied, skipped };
}

/** The file without its ssl_protocols directives and tlsfleet marker lines: two versions of a
 *  file that compare equal this way differ only in what this playbook manages. */
export function withoutManaged(text: string): string | null {
  let tree: NginxDirective[];
  try {
    tree = parseNginxConfig(text);
  } catch {
    return null;
  }
  let out = text;
  for (const d of findAll(tree, (x) => x.name === "ssl_protocols" && x.block === null).sort((a, b) => b.start - a.start)) out = out.slice(0, d.start) + out.slice(d.end);
  return out
    .split("\n")
    .filter((l) => l.trim() !== MARKER)
    .map((l) => l.trimEnd())
    .filter((l) => l !== "")
    .join("\n");
}

// ---------------------------------------------------------------------------------------------
// Apply / rollback

const ChangeSchema = z.object({
  path: z.string().regex(/^\/[^\0\n\r]*$/),
  value: z.literal("ssl_protocols"),
  action: z.enum(["replace", "insert"]),
  line: z.number().int().positive(),
  context: z.enum(["http", "stream", "mail"]),
  from: z.union([z.string(), z.null()]),
  // Names only, as ssl_protocols takes them: nothing else can reach the file.
  to: z.string().regex(/^(SSLv2|SSLv3|TLSv1|TLSv1\.1|TLSv1\.2|TLSv1\.3)( (SSLv2|SSLv3|TLSv1|TLSv1\.1|TLSv1\.2|TLSv1\.3))*$/),
  reason: z.string(),
});

/** Where the on-host copy goes: next to the file, unless an include pattern of this
 *  configuration would pick the copy up too (Debian's "include sites-enabled/*;"). */
export function backupPathFor(state: Pick<NginxState, "files" | "mainConfigFile">, path: string, includePatterns: string[]): string {
  const candidate = `${path}${BACKUP_SUFFIX}`;
  const prefix = dirname(state.mainConfigFile);
  const hit = includePatterns.some((p) => compileGlob(p.startsWith("/") ? p : `${prefix}/${p}`).test(candidate));
  return hit ? `${dirname(state.mainConfigFile)}/${path.replace(/^\//, "").replace(/\//g, "_")}${BACKUP_SUFFIX}` : candidate;
}

function includePatterns(state: NginxState): string[] {
  const out: string[] = [];
  for (const o of state.originals) {
    try {
      for (const d of findAll(parseNginxConfig(bytesOf(o).toString("latin1")), (x) => x.name === "include")) out.push(...d.args);
    } catch {
      /* reported by check */
    }
  }
  return out;
}

async function nginxStep(s: RemoteSession, argv: string[], what: string): Promise<void> {
  const r = await s.exec(argv, { timeoutMs: 60_000 });
  if (r.exitCode !== 0) throw new Error(`${what} failed (exit code ${r.exitCode ?? "none"}): ${(r.stderr.trim() || r.stdout.trim()).slice(0, 500) || "no message"}`);
}

async function restoreFiles(s: RemoteSession, originals: Array<{ path: string; bytes: Buffer }>, reload: boolean): Promise<string | null> {
  try {
    for (const o of originals) await writeRemoteFile(s, o.path, o.bytes);
    await nginxStep(s, ["nginx", "-t"], "nginx -t");
    if (reload) await nginxStep(s, ["nginx", "-s", "reload"], "nginx -s reload");
    return null;
  } catch (e) {
    return messageOf(e);
  }
}

/**
 * Edits each file the plan names (only files check() found to hold ssl_protocols or a context
 * block), keeps FILE.tlsfleet-bak on the host, `nginx -t`, `nginx -s reload`, reads back.
 * Failure at any step writes the original bytes back (and reloads if the reload had happened).
 */
export async function applyNginx(s: RemoteSession, changes: Change[], opts: ApplyOptions<NginxState> = {}): Promise<Applied> {
  const before = opts.before ?? (await checkNginx(s));
  await opts.onBefore?.(before);
  const wanted: NginxChange[] = changes.map((c) => {
    const parsed = ChangeSchema.safeParse(c);
    if (!parsed.success) throw new PlaybookError(s.hostLabel, `Refusing an nginx change on ${s.hostLabel} (${String(c.path)} ${String(c.value)}): only ssl_protocols with protocol names is managed.`, { before });
    if (!before.originals.some((o) => o.path === parsed.data.path)) {
      throw new PlaybookError(s.hostLabel, `Refusing to edit ${parsed.data.path} on ${s.hostLabel}: nginx does not read ssl_protocols or a context block from it.`, { before });
    }
    return { ...parsed.data };
  });
  const byFile = new Map<string, NginxChange[]>();
  for (const c of wanted) byFile.set(c.path, [...(byFile.get(c.path) ?? []), c]);

  // Compute every edit before writing anything: a stale plan is refused with nothing changed.
  const edits: Array<{ path: string; original: Buffer; next: Buffer; applied: NginxChange[] }> = [];
  for (const [path, list] of byFile) {
    const original = bytesOf(before.originals.find((o) => o.path === path)!);
    const out = editNginxFile(original.toString("latin1"), list);
    if (typeof out === "string") throw new PlaybookError(s.hostLabel, `The plan no longer fits ${path} on ${s.hostLabel}: ${out}. Run a new check and plan.`, { before });
    if (out.applied.length > 0) edits.push({ path, original, next: Buffer.from(out.text, "latin1"), applied: out.applied });
  }
  if (edits.length === 0) return { before, after: before, changes: [], pendingReboot: false };

  const patterns = includePatterns(before);
  const written: typeof edits = [];
  let reloaded = false;
  const fail = async (step: string, cause: unknown): Promise<never> => {
    const restored = written.length > 0 ? await restoreFiles(s, written.map((w) => ({ path: w.path, bytes: w.original })), reloaded) : null;
    const outcome =
      written.length === 0
        ? "Nothing had been changed."
        : restored === null
          ? `The original file${written.length === 1 ? " was" : "s were"} put back${reloaded ? " and nginx reloaded" : ""}.`
          : `Putting the original files back failed too (${restored}); roll back from the before-snapshot (copies: ${written.map((w) => backupPathFor(before, w.path, patterns)).join(", ")}).`;
    throw new PlaybookError(s.hostLabel, `${step} on ${s.hostLabel} failed: ${messageOf(cause)}. ${outcome}`, {
      before,
      written: restored === null ? [] : written.flatMap((w) => w.applied),
      cause,
    });
  };

  for (const e of edits) {
    try {
      await backupRemoteFile(s, e.path, backupPathFor(before, e.path, patterns));
      written.push(e);
      await writeRemoteFile(s, e.path, e.next);
    } catch (err) {
      return fail(`Writing ${e.path}`, err);
    }
  }
  try {
    await nginxStep(s, ["nginx", "-t"], "nginx -t");
  } catch (err) {
    return fail("Testing the new configuration (nginx -t)", err);
  }
  try {
    reloaded = true;
    await nginxStep(s, ["nginx", "-s", "reload"], "nginx -s reload");
  } catch (err) {
    return fail("Reloading nginx", err);
  }
  let after: NginxState;
  try {
    after = await checkNginx(s);
  } catch (err) {
    return fail("Reading the configuration back", err);
  }
  const appliedChanges = edits.flatMap((e) => e.applied);
  const stillWrong = appliedChanges.filter((c) => !after.directives.some((d) => d.file === c.path && d.args.join(" ") === c.to));
  if (stillWrong.length > 0) return fail("Verifying the change", new Error(`nginx -T does not show ssl_protocols ${stillWrong[0]!.to} in ${stillWrong[0]!.path}`));
  return { before, after, changes: appliedChanges, pendingReboot: false };
}

const BeforeSchema = z.object({ playbookId: z.literal("nginx"), originals: z.array(FileSnapshotSchema) });

/**
 * Puts back the bytes recorded before, file by file, then `nginx -t` and reload. A file that was
 * also changed in other ways since (anything but ssl_protocols lines) is not overwritten: that
 * would undo someone else's work; the error names it and its on-host copy.
 */
export async function rollbackNginx(s: RemoteSession, before: ConfigState): Promise<Applied> {
  const parsed = BeforeSchema.safeParse(before);
  if (!parsed.success) throw new PlaybookError(s.hostLabel, `The snapshot to restore on ${s.hostLabel} is not an nginx snapshot.`);
  const current = await checkNginx(s);
  const restore: Array<{ path: string; bytes: Buffer; from: string; to: string }> = [];
  for (const o of parsed.data.originals) {
    const want = bytesOf(o);
    const now = await readRemoteFile(s, o.path);
    if (now.equals(want)) continue;
    if (withoutManaged(now.toString("latin1")) !== withoutManaged(want.toString("latin1"))) {
      throw new PlaybookError(
        s.hostLabel,
        `${o.path} on ${s.hostLabel} was changed in other ways since tlsfleet's snapshot; restoring it would undo those changes. Restore ssl_protocols by hand (the snapshot and ${o.path}${BACKUP_SUFFIX} hold the previous content).`,
        { before },
      );
    }
    const protocolsIn = (b: Buffer) => {
      try {
        return findAll(parseNginxConfig(b.toString("latin1")), (x) => x.name === "ssl_protocols" && x.block === null).map((d) => d.args.join(" ")).join("; ");
      } catch {
        return "?";
      }
    };
    restore.push({ path: o.path, bytes: want, from: protocolsIn(now), to: protocolsIn(want) });
  }
  if (restore.length === 0) return { before: current, after: current, changes: [], pendingReboot: false };
  const problem = await restoreFiles(s, restore, true);
  if (problem !== null) throw new PlaybookError(s.hostLabel, `Rolling back nginx on ${s.hostLabel} failed: ${problem}.`, { before: current });
  const after = await checkNginx(s);
  return {
    before: current,
    after,
    changes: restore.map((r) => ({ path: r.path, value: "ssl_protocols", from: r.from || null, to: r.to || null, reason: "rollback" })),
    pendingReboot: false,
  };
}

export const nginxPlaybook: Playbook<NginxState> = {
  id: "nginx",
  appliesTo: (host: Host) => host.platform === "linux" && host.roles.includes("nginx"),
  check: checkNginx,
  plan: planNginx,
  apply: applyNginx,
  rollback: rollbackNginx,
  describe: describeSettings,
};
