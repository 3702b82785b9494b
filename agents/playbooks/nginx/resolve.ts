// The effective configuration (pure): the dumped files walked from the main file through their
// includes, every server block with the ssl_protocols that applies to it.

import { messageOf, type TlsVersion } from "../linux-common";
import { compileGlob, hasGlobCharacters, type GlobMatcher, type GlobMeter } from "../glob";
import { countAgainst, keepLine, OUTPUT_LIMITS } from "../output-limits";
import { type NginxDirective, parseNginxConfig } from "./parse";
import { evaluateSslProtocols, type NginxDumpFile } from "./dump";

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

export function dirname(p: string): string {
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
