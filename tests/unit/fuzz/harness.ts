// Fuzzing the parsers of remote output (reg.exe, postconf, `nginx -T`, doveconf, WinRM XML):
// every byte they read is written by a host, so none may crash on it (only its own clear errors)
// or take unbounded time. A seeded generator makes every run reproducible: mutations of real
// sample outputs (the ones the parsers' table tests use), random bytes, and pathological inputs
// at and past the caps (deep nesting, huge counts, long runs that make backtracking RegExps slow).
//
// Addresses in the samples (10.0.0.1, 192.0.2.0/24) are text for the parsers, never dialled.
//
// Used by tests/unit/fuzz/*.test.ts (fixed seed, modest count) and scripts/fuzz.ts (many more).
import { ZodError } from "zod";
import { interpretDovecot } from "../../../agents/playbooks/dovecot";
import { compileGlob } from "../../../agents/playbooks/glob";
import { interpretNginx, NginxSyntaxError, parseNginxConfig, planNginx, nginxPlaybook } from "../../../agents/playbooks/nginx";
import { OUTPUT_LIMITS, OutputLimitError } from "../../../agents/playbooks/output-limits";
import { interpretPostfix, planPostfix, postfixPlaybook } from "../../../agents/playbooks/postfix";
import { parseRegQuery, RegistrySnapshot } from "../../../agents/playbooks/reg-exe";
import { extractFault, extractReceive, NS, parseXml, XmlError } from "../../../agents/transport/winrm";
import { CsvByteStream, CsvStreamParser, CsvSyntaxError, parseCsv, type CsvRecord } from "../../../lib/inventory/csv";
import { parseImportCsv } from "../../../lib/inventory/import-rows";

// ---- a seeded generator -------------------------------------------------------------------

export type Rng = () => number;

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function seeded(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: Rng, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[int(r, xs.length)]!;

/** Random bytes read as the transports decode them (UTF-8, so invalid sequences become U+FFFD). */
export function randomBytes(r: Rng, maxLength: number): string {
  const buf = Buffer.alloc(int(r, maxLength + 1));
  for (let i = 0; i < buf.length; i++) buf[i] = int(r, 256);
  return buf.toString("utf8");
}

/** One to eight edits of a sample: flips, inserted tokens, cuts, splices, and repeats (huge counts). */
export function mutate(r: Rng, seeds: readonly string[], tokens: readonly string[]): string {
  let s = pick(r, seeds);
  const edits = 1 + int(r, 8);
  for (let e = 0; e < edits; e++) {
    const at = int(r, s.length + 1);
    const op = int(r, 9);
    if (op === 0) s = s.slice(0, at) + String.fromCharCode(int(r, 0x80)) + s.slice(at + 1);
    else if (op === 1) s = s.slice(0, at) + pick(r, tokens) + s.slice(at);
    else if (op === 2) s = s.slice(0, at) + s.slice(at + int(r, 64));
    else if (op === 3) {
      // A chunk repeated: many keys, many files, deep nesting when the chunk opens a block.
      const len = 1 + int(r, 80);
      const times = pick(r, [2, 10, 100, 1_000, 5_000]);
      s = s.slice(0, at) + s.slice(at, at + len).repeat(times) + s.slice(at);
    } else if (op === 4) {
      const other = pick(r, seeds);
      const from = int(r, other.length + 1);
      s = s.slice(0, at) + other.slice(from, from + int(r, 400)) + s.slice(at);
    } else if (op === 5) s = s.replace(/\r\n/g, "\n");
    else if (op === 6) s = s.replace(/\n/g, "\r\n");
    else if (op === 7) s = s.slice(0, at) + pick(r, tokens).repeat(1 + int(r, 2_000)) + s.slice(at);
    else s = s.slice(0, at) + randomBytes(r, 16) + s.slice(at);
  }
  return s;
}

// ---- the parsers under test -----------------------------------------------------------------

export interface Pathological {
  label: string;
  input: () => string;
  /** Megabytes of input: run by scripts/fuzz.ts, left out of the unit suite to keep it fast. */
  heavy?: boolean;
}

export interface FuzzTarget {
  name: string;
  /** Real outputs, as the parsers' table tests use them. */
  seeds: string[];
  /** Pieces of the format that mutations insert. */
  tokens: string[];
  /** Feeds one input through the parser and what is built on its result. */
  run(input: string): void;
  /** The parser's own clear errors; anything else thrown is a crash. */
  expected(e: unknown): boolean;
  pathological: Pathological[];
}

const collectedAt = new Date("2026-12-07T10:00:00Z");
const limitOnly = (e: unknown) => e instanceof OutputLimitError;

const TLS12 = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2";

export const regTarget: FuzzTarget = {
  name: "reg.exe (reg query)",
  seeds: [
    `\r\n${TLS12}\\Server\r\n    Enabled    REG_DWORD    0x1\r\n\r\n`,
    `\r\n${TLS12}\r\n${TLS12}\\Client\r\n    DisabledByDefault    REG_DWORD    0x0\r\n    Enabled    REG_DWORD    0x1\r\n\r\n${TLS12}\\Server\r\n    DisabledByDefault    REG_DWORD    0x1\r\n    Enabled    REG_DWORD    0x0\r\n\r\n`,
    "\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\X\r\n    (Default)    REG_SZ    \r\n    ProductName    REG_SZ    Windows Server 2012 R2 Standard\r\n    Enabled    REG_DWORD    0xffffffff\r\n    PendingFileRenameOperations    REG_MULTI_SZ    \\??\\C:\\a\\0\\??\\C:\\b\r\n    InstallTime    REG_QWORD    0x1d9f1c0a2b3c4d5\r\n\r\n",
    `\n${TLS12}\\Server\n    Enabled    REG_DWORD    0x0\n\nEnd of search: 1 match(es) found.\n`,
  ],
  tokens: ["    ", "REG_DWORD", "REG_QWORD", "REG_SZ", "0x", "ffffffffffffffffff", "\r\n", "HKEY_LOCAL_MACHINE\\", "\\", "(Default)", "End of search: 9 match(es) found.", "constructor", "__proto__"],
  run(input) {
    const parsed = parseRegQuery(input);
    const snap = new RegistrySnapshot(parsed.keys);
    snap.dword(`${TLS12}\\Server`, "Enabled");
    snap.hasKey(`${TLS12}\\Client`);
    for (const k of parsed.keys.slice(0, 5)) for (const v of k.values.slice(0, 5)) snap.value(k.path, v.name);
  },
  expected: limitOnly,
  pathological: [
    { label: "a 4 MiB line of spaces", heavy: true, input: () => `${TLS12}\r\n${" ".repeat(4 << 20)}x` },
    { label: "a value line with 100,000 REG_ look-alikes", input: () => `${TLS12}\r\n    a${"    REG_A x".repeat(100_000)}` },
    { label: "keys past the cap", input: () => Array.from({ length: OUTPUT_LIMITS.regKeys + 5 }, (_, i) => `${TLS12}\\K${i}`).join("\r\n") },
    { label: "values past the cap", heavy: true, input: () => `${TLS12}\r\n${"    Enabled    REG_DWORD    0x1\r\n".repeat(OUTPUT_LIMITS.regValues + 5)}` },
    { label: "200,000 garbage lines", heavy: true, input: () => "garbage line\r\n".repeat(200_000) },
    // Found by scripts/fuzz.ts: `path.replace(/\\+$/, "")` took 104 s on this (quadratic).
    // Found by scripts/fuzz.ts: "." in the value-line RegExp stopped at a late "\r" (quadratic).
    { label: "5,000 REG_ look-alikes before a stray CR", input: () => `${TLS12}\r\n    Name${"    REG_MULTI_SZ  ".repeat(5_000)}\r x\r\n` },
    { label: "a key path with a run of 200,000 backslashes", input: () => `HKEY_LOCAL_MACHINE\\SYSTEM\\X${"\\".repeat(200_000)}Y\r\n    Enabled    REG_DWORD    0x1\r\n` },
  ],
};

const POSTCONF = [
  "mail_version = 3.7.11\nconfig_directory = /etc/postfix\nsmtpd_tls_security_level = may\n",
  "smtpd_tls_protocols = >=TLSv1\nsmtpd_tls_mandatory_protocols = >=TLSv1\nsmtp_tls_protocols = !SSLv2, !SSLv3\nsmtp_tls_mandatory_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1\n",
  "submission/inet/smtpd_tls_protocols = >=TLSv1.1\n[::1]:587/inet/smtpd_tls_protocols = !SSLv2, !SSLv3\nsmtps/inet/smtpd_tls_wrappermode = yes\n",
  "smtpd_tls_protocols = $my_protocols\nmy_protocols = >=TLSv1.2, <=0x0305\n",
];

export const postconfTarget: FuzzTarget = {
  name: "postconf",
  // One text holds every answer (basics, values, defaults, master.cf), so mutations reach the
  // interpretation and the plans, not only the line parser.
  seeds: [POSTCONF.join(""), `${POSTCONF[0]}${POSTCONF[1]}`, `${POSTCONF[0]}${POSTCONF[1]}${POSTCONF[3]}`, POSTCONF[2]!],
  tokens: [" = ", " =", "\n", ">=", "<=", "!", "TLSv1", "TLSv1.3", "0x0304", "$", ", ", ":", "/inet/", "smtpd_tls_protocols", "constructor", "__proto__", "[::1]"],
  run(input) {
    const state = interpretPostfix({ basics: input, values: input, expanded: input, defaults: input, explicit: input, master: input, masterExpanded: input, raw: [], collectedAt });
    if (typeof state === "string") return;
    postfixPlaybook.describe(state);
    planPostfix(state, "disable-legacy");
    planPostfix(state, "enable-tls12");
  },
  expected: limitOnly,
  pathological: [
    { label: "parameters past the cap", heavy: true, input: () => `${POSTCONF[0]}${Array.from({ length: OUTPUT_LIMITS.postconfEntries + 5 }, (_, i) => `p${i} = v`).join("\n")}` },
    { label: "a 4 MiB value of spaces", heavy: true, input: () => `${POSTCONF[0]}smtpd_tls_protocols =${" ".repeat(4 << 20)}x\n` },
    { label: "a protocol list of 500,000 tokens", heavy: true, input: () => `${POSTCONF[0]}${POSTCONF[1]}smtpd_tls_protocols = ${"!x, ".repeat(500_000)}\n` },
    { label: "20,000 master.cf overrides", heavy: true, input: () => `${POSTCONF[0]}${POSTCONF[1]}${Array.from({ length: 20_000 }, (_, i) => `s${i}/inet/smtpd_tls_protocols = >=TLSv1`).join("\n")}` },
  ],
};

const NGINX_MAIN = `user www-data;\nworker_processes 1;\nevents {\n    worker_connections 512;\n}\nhttp {\n    access_log off;\n    include /etc/nginx/conf.d/*.conf;\n}\nstream {\n    server { listen 993 ssl; ssl_protocols TLSv1.2; }\n}\n`;
const NGINX_SITE = `server {\n    listen 198.18.0.21:443 ssl;\n    server_name web-legacy.lab.tlsfleet.test;\n    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n    ssl_ciphers ALL:@SECLEVEL=0;\n    location / {\n        return 200 "web-legacy\\n";\n    }\n    content_by_lua_block { ngx.say("}") }\n}\n`;
const nginxDump = (files: Array<[string, string]>) => files.map(([p, t]) => `# configuration file ${p}:\n${t}\n`).join("");

export const nginxTarget: FuzzTarget = {
  name: "nginx -T",
  seeds: [
    nginxDump([["/etc/nginx/nginx.conf", NGINX_MAIN], ["/etc/nginx/conf.d/tls-site.conf", NGINX_SITE]]),
    nginxDump([["/etc/nginx/nginx.conf", "mail {\n    starttls on;\n    server { listen 143; protocol imap; }\n}\nhttp { ssl_protocols TLSv1.2 TLSv1.3; include sites/[a-z]*; }\n"], ["/etc/nginx/sites/a", "server { listen 443 ssl; set $x '${y}'; }"]]),
  ],
  tokens: ["{", "}", ";", "\"", "'", "\\", "#", "${", "include ", "/etc/nginx/conf.d/*.conf", "*", "?", "[", "]", "[!a-", "server {", "listen 443 ssl;", "ssl_protocols TLSv1.2;", "http {", "_by_lua_block {", "\n# configuration file /etc/nginx/conf.d/x.conf:\n", "--", "[["],
  run(input) {
    try {
      parseNginxConfig(input);
    } catch (e) {
      if (!(e instanceof NginxSyntaxError)) throw e;
    }
    const state = interpretNginx({ versionText: "nginx version: nginx/1.22.1", dump: input, originals: [], raw: [], collectedAt });
    if (typeof state === "string") return;
    nginxPlaybook.describe(state);
    planNginx(state, "disable-legacy");
    planNginx(state, "enable-tls12");
  },
  expected: limitOnly,
  pathological: [
    { label: "the crafted include glob against a 100,000-character path", input: () => nginxDump([["/etc/nginx/nginx.conf", "http { include /a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b; }"], [`/${"a".repeat(100_000)}`, "server { listen 443 ssl; }"]]) },
    { label: "every file includes every file (fan-out)", input: () => nginxDump([["/etc/nginx/nginx.conf", "include /e/*;"], ...Array.from({ length: 40 }, (_, i): [string, string] => [`/e/f${i}`, "include /e/*;\nx 1;"])]) },
    { label: "10,000 nested blocks", input: () => nginxDump([["/etc/nginx/nginx.conf", `${"a {".repeat(10_000)}${"}".repeat(10_000)}`]]) },
    { label: "files past the cap", heavy: true, input: () => nginxDump(Array.from({ length: OUTPUT_LIMITS.nginxFiles + 5 }, (_, i): [string, string] => [`/etc/nginx/f${i}`, ""])) },
    { label: "an unterminated 4 MiB quoted string", heavy: true, input: () => nginxDump([["/etc/nginx/nginx.conf", `a "${"x".repeat(4 << 20)}`]]) },
    { label: "an unterminated ${ of 4 MiB", heavy: true, input: () => nginxDump([["/etc/nginx/nginx.conf", `a \${${"x".repeat(4 << 20)}`]]) },
    { label: "a 4 MiB Lua block", heavy: true, input: () => nginxDump([["/etc/nginx/nginx.conf", `content_by_lua_block {${"'{' -- }\n".repeat(400_000)}`]]) },
    { label: "5,000 include patterns x 5,000 files", heavy: true, input: () => nginxDump([["/etc/nginx/nginx.conf", Array.from({ length: 5_000 }, (_, i) => `include /etc/nginx/*${i}*;`).join("\n")], ...Array.from({ length: 5_000 }, (_, i): [string, string] => [`/etc/nginx/f${i}`, ""])]) },
    { label: "class-heavy glob patterns", input: () => nginxDump([["/etc/nginx/nginx.conf", `include /${"[[:alpha:]a-z!]*".repeat(2_000)};`], [`/${"b".repeat(50_000)}`, ""]]) },
  ],
};

const DOVECOT_N = `# 2.3.19.1 (9b53102964): /etc/dovecot/dovecot.conf\n# Pigeonhole version 0.5.19 (4eae2f79)\nbase_dir = /run/dovecot\npassdb {\n  args = password=#hidden_use-P_to_show#\n  driver = static\n}\nprotocols = imap pop3\nservice imap-login {\n  inet_listener imaps {\n    port = 993\n    ssl = yes\n  }\n}\nssl = yes\nssl_min_protocol = TLSv1\n`;
const DOVECOT_FILTERS = `${DOVECOT_N}local 10.0.0.1 {\n  protocol imap {\n    ssl_min_protocol = TLSv1.1\n  }\n}\nprotocol pop3 {\n  ssl_min_protocol = TLSv1.2\n}\nremote 192.0.2.0/24 {\n  ssl_min_protocol = ANY\n}\n`;

export const doveconfTarget: FuzzTarget = {
  name: "doveconf",
  seeds: [DOVECOT_N, DOVECOT_FILTERS, "# 2.2.36 (1f10bfa63): /etc/dovecot/dovecot.conf\nssl_protocols = !SSLv2 !SSLv3\nprotocol imap {\n  ssl_protocols = !SSLv3 !TLSv1\n}\n"],
  tokens: ["{", "}", " {", "\n", " = ", "#", "protocol imap {", "local 10.0.0.1 {", "ssl_min_protocol = ", "TLSv1.2", "ANY", "LATEST", "constructor", "# 2.3.19.1 (9b53102964): /", "  "],
  run(input) {
    const state = interpretDovecot({ n: input, current: input, defaults: input, original: null, raw: [], collectedAt });
    if (typeof state === "string") return;
  },
  expected: limitOnly,
  pathological: [
    { label: "sections nested past the cap", input: () => `${DOVECOT_N}${"service x {\n".repeat(1_000)}` },
    { label: "a filter line with a 1 MiB run of spaces", heavy: true, input: () => `${DOVECOT_N}protocol x${" ".repeat(1 << 20)}y {\n` },
    { label: "a section line with a 1 MiB run of spaces", heavy: true, input: () => `${DOVECOT_N}service${" ".repeat(1 << 20)}y z {\n` },
    { label: "lines past the cap", heavy: true, input: () => `${DOVECOT_N}${"a = b\n".repeat(OUTPUT_LIMITS.doveconfEntries + 5)}` },
    { label: "100,000 closing braces", input: () => `${"}\n".repeat(100_000)}${DOVECOT_N}` },
  ],
};

const soap = (body: string, header = "") =>
  `<s:Envelope xmlns:s="${NS.soap}" xmlns:a="${NS.wsa}" xmlns:rsp="${NS.shell}"><s:Header>${header}<a:RelatesTo>uuid:1</a:RelatesTo></s:Header><s:Body>${body}</s:Body></s:Envelope>`;

export const winrmTarget: FuzzTarget = {
  name: "WinRM XML",
  seeds: [
    soap(
      `<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="AB-1">aGk=</rsp:Stream><rsp:Stream Name="stderr" CommandId="AB-1" End="true"></rsp:Stream>` +
        `<rsp:CommandState CommandId="AB-1" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"><rsp:ExitCode>-1073741510</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>`,
    ),
    soap(
      `<s:Fault><s:Code><s:Value>s:Receiver</s:Value><s:Subcode><s:Value>w:TimedOut</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">timed out</s:Text></s:Reason>` +
        `<s:Detail><f:WSManFault xmlns:f="${NS.wsmanFault}" Code="2150858793" Machine="x"><f:Message>The operation timed out.&#x7;</f:Message></f:WSManFault></s:Detail></s:Fault>`,
    ),
    `<?xml version="1.0" encoding="utf-8"?>${soap("<x:ResourceCreated xmlns:x='urn:x'><![CDATA[<shell>]]><!-- c --></x:ResourceCreated>")}`,
  ],
  tokens: ["<", ">", "</", "/>", "=", '"', "'", "&amp;", "&#x10FFFF;", "&#0;", "&", ";", "<![CDATA[", "]]>", "<!--", "-->", "<?", "?>", "<!DOCTYPE x>", "xmlns:q=\"urn:q\"", "q:", ":", "<rsp:Stream Name=\"stdout\" CommandId=\"A\">", "</rsp:Stream>"],
  run(input) {
    const env = parseXml(input);
    extractFault(env);
    if (input.includes("ReceiveResponse")) extractReceive(env);
  },
  expected: (e) => e instanceof XmlError || e instanceof ZodError,
  pathological: [
    { label: "10,000 nested elements", input: () => `${"<a>".repeat(10_000)}${"</a>".repeat(10_000)}` },
    { label: "elements past the cap", input: () => `<a>${"<b/>".repeat(60_000)}</a>` },
    { label: "200,000 attributes on one element", heavy: true, input: () => `<a ${Array.from({ length: 200_000 }, (_, i) => `a${i}=""`).join(" ")}/>` },
    { label: "2 MiB of entity references", heavy: true, input: () => `<a>${"&amp;&#x41;".repeat(200_000)}</a>` },
    { label: "a document past the size cap", heavy: true, input: () => `<a>${"x".repeat(8 * 1024 * 1024 + 1)}</a>` },
    { label: "namespaces declared at every level", input: () => `${Array.from({ length: 47 }, (_, d) => `<p${d}:e ${Array.from({ length: 60 }, (_, k) => `xmlns:p${d}x${k}="urn:${k}"`).join(" ")} xmlns:p${d}="urn:d">`).join("")}${Array.from({ length: 47 }, (_, d) => `</p${46 - d}:e>`).join("")}` },
    { label: "a 4 MiB base64 stream", heavy: true, input: () => soap(`<rsp:ReceiveResponse><rsp:Stream Name="stdout" CommandId="A">${"QUFB\n".repeat(800_000)}</rsp:Stream></rsp:ReceiveResponse>`) },
  ],
};

export const globTarget: FuzzTarget = {
  name: "include glob",
  seeds: ["/etc/nginx/conf.d/*.conf\n/etc/nginx/conf.d/default.conf", "/etc/[!a-c]x/?*\n/etc/dx/.y", "/a*a*a*b\n/aaaaaaaaaaaaaaaaaaaaaaaaa"],
  tokens: ["*", "?", "[", "]", "!", "^", "-", "/", ".", "\\", "[:alpha:]", "[:bogus:]", "a"],
  run(input) {
    const nl = input.indexOf("\n");
    const pattern = nl < 0 ? input : input.slice(0, nl);
    compileGlob(pattern).test(nl < 0 ? "" : input.slice(nl + 1));
  },
  expected: () => false,
  pathological: [
    { label: "the crafted pattern against 200,000 a's", heavy: true, input: () => `/a*a*a*a*a*a*a*a*a*a*a*a*b\n/${"a".repeat(200_000)}` },
    { label: "1,000 stars against 20,000 a's", input: () => `/${"*a".repeat(1_000)}b\n/${"a".repeat(20_000)}` },
    { label: "100 stars against 15 segments of NAME_MAX a's", input: () => `${`/${"*a".repeat(100)}b`.repeat(15)}\n${`/${"a".repeat(255)}`.repeat(15)}` },
  ],
};

// The CSV import's parser reads what a user uploads, not what a host answers, but it is as exposed:
// one string or chunks as they arrive must give the same records or the same error (message and
// line), wherever the chunks are cut; a difference is reported as a crash.
const csvOutcome = (parse: () => CsvRecord[]) => {
  try {
    return JSON.stringify(parse());
  } catch (err) {
    if (err instanceof CsvSyntaxError) return `error ${err.message}`;
    throw err;
  }
};

function chunkedCsv(input: string, r: Rng, asBytes: boolean): CsvRecord[] {
  // Tiny chunks put a boundary everywhere in a small input; a big one (the mutations repeat
  // pieces thousands of times) gets upload-sized chunks, or the fuzz would spend its time on calls.
  const size = () => pick(r, input.length > 65_536 ? [64, 1000, 65_536] : [1, 2, 3, 7, 64, 1000, 65_536]);
  const bytes = Buffer.from(input, "utf8");
  const bytesParser = new CsvByteStream();
  const textParser = new CsvStreamParser();
  const length = asBytes ? bytes.length : input.length;
  const push = (from: number, to: number) => (asBytes ? bytesParser.push(bytes.subarray(from, to)) : textParser.push(input.slice(from, to)));
  const out: CsvRecord[] = [];
  for (let at = 0; at < length; ) {
    const to = at + size();
    out.push(...push(at, to));
    at = to;
  }
  out.push(...(asBytes ? bytesParser.end() : textParser.end()));
  return out;
}

export const csvTarget: FuzzTarget = {
  name: "CSV (import upload)",
  seeds: [
    'name,address,platform,roles,tags,group,owner,transport,port,credential,endpoints\r\nmx1.example.com,192.0.2.10,linux,postfix,prod;eu,Frankfurt,mail-team@example.com,ssh,22,,\r\nexch01.example.com,192.0.2.20,windows,exchange,prod,HQ,"Windows team, ops",winrm,5986,,25/smtp;587/submission;443/https\r\n',
    '\uFEFFname,address,owner\r\n"mx ""one""",192.0.2.1,"Jürgen\r\nMüller"\r\n\r\nmx2,192.0.2.2,😀\n',
    "name,address\rmx1,192.0.2.1\rmx2,192.0.2.2\r",
  ],
  tokens: [",", '"', '""', "\r\n", "\n", "\r", "\uFEFF", "ü", "😀", "name", "address", " "],
  run(input) {
    // The chunk sizes follow from the input, so a failure replays.
    const r = seeded(input.length * 2654435761);
    for (const asBytes of input.length > 65_536 ? [true] : [false, true]) {
      // As bytes, the text is what survives UTF-8 (a lone surrogate of a mutation becomes U+FFFD).
      const whole = csvOutcome(() => parseCsv(asBytes ? Buffer.from(input, "utf8").toString("utf8") : input));
      const chunked = csvOutcome(() => chunkedCsv(input, r, asBytes));
      // Streaming refuses a record held open past CSV_MAX_RECORD_CHARS, which one string has no need to.
      if (chunked !== whole && !chunked.includes("is longer than")) throw new Error(`chunked ${asBytes ? "bytes" : "text"} differ: ${chunked.slice(0, 200)} vs ${whole.slice(0, 200)}`);
    }
    if (input.length <= 65_536) parseImportCsv(input);
  },
  expected: (e) => e instanceof CsvSyntaxError,
  pathological: [
    { label: "100,000 empty fields in one record", input: () => `${",".repeat(100_000)}\r\n` },
    { label: "20,000 doubled quotes in one field", input: () => `"${'""'.repeat(20_000)}"\r\n` },
    { label: "a quote never closed over 2 MiB", heavy: true, input: () => `name\r\n"${"x\r\n".repeat(700_000)}` },
    { label: "200,000 blank lines", heavy: true, input: () => "\r\n".repeat(200_000) },
  ],
};

export const TARGETS: readonly FuzzTarget[] = [regTarget, postconfTarget, nginxTarget, doveconfTarget, winrmTarget, globTarget, csvTarget];

// ---- running --------------------------------------------------------------------------------

export interface Crash {
  target: string;
  label: string;
  error: string;
  /** The start of the input, to reproduce it (the seed and iteration reproduce it exactly). */
  inputHead: string;
}

export interface FuzzReport {
  target: string;
  inputs: number;
  expectedErrors: number;
  crashes: Crash[];
  /** Inputs that took longer than the bound (each one is also a failure). */
  slow: Array<{ label: string; ms: number }>;
  slowest: { label: string; ms: number; chars: number };
  totalMs: number;
}

function runOne(t: FuzzTarget, label: string, input: string, report: FuzzReport, boundMs: number): void {
  const started = performance.now();
  try {
    t.run(input);
  } catch (e) {
    if (t.expected(e)) report.expectedErrors++;
    else report.crashes.push({ target: t.name, label, error: e instanceof Error ? `${e.name}: ${e.message.slice(0, 300)}` : String(e), inputHead: JSON.stringify(input.slice(0, 200)) });
  }
  const ms = performance.now() - started;
  report.inputs++;
  report.totalMs += ms;
  if (ms > report.slowest.ms) report.slowest = { label, ms, chars: input.length };
  if (ms > boundMs) report.slow.push({ label, ms });
}

/** Input number `i` of a run; call in order with one Rng to replay a run exactly. */
export function nextInput(t: FuzzTarget, r: Rng, i: number): { input: string; label: string } {
  const kind = r();
  if (kind < 0.7) return { input: mutate(r, t.seeds, t.tokens), label: `mutation #${i}` };
  if (kind < 0.85) return { input: randomBytes(r, 4_096), label: `random bytes #${i}` };
  return { input: Array.from({ length: int(r, 400) }, () => pick(r, t.tokens)).join(pick(r, ["", " ", "\n"])), label: `token soup #${i}` };
}

/**
 * Runs `iterations` generated inputs (mutations, random bytes, random token soup) through the
 * target, then every pathological input once. Same seed, same inputs.
 */
export function fuzzTarget(t: FuzzTarget, opts: { iterations: number; seed: number; boundMs: number; pathological?: "all" | "light" | "none" }): FuzzReport {
  const r = seeded(opts.seed);
  const report: FuzzReport = { target: t.name, inputs: 0, expectedErrors: 0, crashes: [], slow: [], slowest: { label: "", ms: 0, chars: 0 }, totalMs: 0 };
  for (let i = 0; i < opts.iterations; i++) {
    const { input, label } = nextInput(t, r, i);
    runOne(t, `${label} (seed ${opts.seed})`, input, report, opts.boundMs);
  }
  const which = opts.pathological ?? "all";
  for (const p of t.pathological) if (which === "all" || (which === "light" && !p.heavy)) runOne(t, p.label, p.input(), report, opts.boundMs);
  return report;
}
