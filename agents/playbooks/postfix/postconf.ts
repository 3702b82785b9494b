// What postconf, `postconf -M` and the policy-map dump print (pure).

import { countAgainst, keepLine, OUTPUT_LIMITS } from "../output-limits";

// `postconf NAME` prints "name = value", or "name =" when the value is empty (Postfix 3.7).
// -P names are service/type/name; an inet service may be "host:port" or "[::1]:port".
// A plain RegExp, not a zod schema: the line's shape is all there is to check, and a zod failure
// builds an issue list per line, which made 30,000 garbage lines from a host cost a second.
const POSTCONF_LINE = /^([A-Za-z0-9_.:[\]/-]+) =(?: (.*))?$/;

export interface ParsedPostconf {
  values: Map<string, string>;
  unparsed: string[];
}

/** Parses postconf output. Pure. Throws OutputLimitError past OUTPUT_LIMITS.postconfEntries;
 *  keeps the first unparsed lines only. */
export function parsePostconf(stdout: string): ParsedPostconf {
  const values = new Map<string, string>();
  const unparsed: string[] = [];
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    const m = POSTCONF_LINE.exec(line);
    if (!m) {
      keepLine(unparsed, line);
      continue;
    }
    values.set(m[1]!, m[2] ?? "");
    countAgainst(values.size, OUTPUT_LIMITS.postconfEntries, "postconf output", "parameters");
  }
  return { values, unparsed };
}

/** "submission/inet/smtpd_tls_protocols" -> parts; the service name may itself hold ":" or "[]",
 *  never "/", so the last two slashes split it. */
export function splitMasterName(name: string): { service: string; type: string; parameter: string } | null {
  const parts = name.split("/");
  if (parts.length < 3) return null;
  const parameter = parts.pop()!;
  const type = parts.pop()!;
  const service = parts.join("/");
  if (!service || !/^(inet|unix|unix-dgram|fifo|pass)$/.test(type)) return null;
  return { service, type, parameter };
}

export interface PostfixPolicyEntry {
  map: string;
  destination: string;
  level: string | null;
  protocols: string | null;
}

/** `postconf -M` lines: "smtp      inet  n       -       y       -       1       postscreen". */
export function parseMasterServices(stdout: string): Array<{ service: string; type: string; command: string }> {
  const out: Array<{ service: string; type: string; command: string }> = [];
  for (const line of stdout.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || line.startsWith(" ")) continue;
    out.push({ service: f[0]!, type: f[1]!, command: f[7]! });
    countAgainst(out.length, OUTPUT_LIMITS.postconfEntries, "postconf -M output", "services");
  }
  return out;
}

/** POLICY_DUMP_STEP output: "@@map TYPE:NAME" then `postmap -s` lines "key value", or
 *  "@@failed TYPE:NAME" when the map cannot be listed (a note, never a guess). */
export function parsePolicyDump(stdout: string, notes: string[]): PostfixPolicyEntry[] {
  const entries: PostfixPolicyEntry[] = [];
  let map = "";
  for (const line of stdout.split("\n")) {
    if (line.startsWith("@@map ")) {
      map = line.slice(6).trim();
      continue;
    }
    if (line.startsWith("@@failed ")) {
      keepLine(notes, `smtp_tls_policy_maps ${line.slice(9).trim()} could not be listed (postmap -s)`);
      continue;
    }
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m || !map) continue;
    const words = m[2]!.split(/\s+/);
    const level = words[0] && !words[0].includes("=") ? words[0] : null;
    const protocols = words.find((w) => w.startsWith("protocols="))?.slice("protocols=".length) ?? null;
    if (level === null && protocols === null) continue;
    entries.push({ map, destination: m[1]!, level, protocols });
    countAgainst(entries.length, OUTPUT_LIMITS.postconfEntries, "smtp_tls_policy_maps", "entries");
  }
  return entries;
}
