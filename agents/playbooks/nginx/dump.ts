// What `nginx -T` and `nginx -v` print (pure): the dump's files, the version, and the version's
// built-in ssl_protocols.

import { compareVersions, TLS_VERSIONS, type TlsVersion } from "../linux-common";

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
 *  "nginx/1.24.0 (Ubuntu)" and OpenResty's "openresty/1.21.4.1" (a version string, not an address) (its first three numbers are the
 *  nginx core). Other forks: null, their defaults are not assumed. */
export function parseNginxVersion(text: string): string | null {
  const m = /nginx version: (nginx|openresty)\/(\d+\.\d+\.\d+)/.exec(text);
  return m ? m[2]! : null;
}

/** nginx's built-in ssl_protocols for this version (see the top of index.ts); null: unknown. */
export function nginxDefaultProtocols(version: string | null): TlsVersion[] | null {
  if (version === null) return null;
  if (compareVersions(version, "1.27.3") >= 0) return ["TLSv1.2", "TLSv1.3"];
  if (compareVersions(version, "1.23.4") >= 0) return ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
  return ["TLSv1", "TLSv1.1", "TLSv1.2"];
}

export const PROTOCOL_NAMES = ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const;

/** ssl_protocols takes a list of names; nginx refuses any other word ("invalid value"). */
export function evaluateSslProtocols(args: readonly string[]): TlsVersion[] | null {
  if (args.length === 0 || args.some((a) => !(PROTOCOL_NAMES as readonly string[]).includes(a))) return null;
  return TLS_VERSIONS.filter((v) => args.includes(v));
}
