// Addresses outside loopback and the lab (10.x, 1.2.3.4) in this file are data only: parsed, matched or stored, never dialled.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { snapshotOf } from "./linux-common";
import {
  backupPathFor,
  editNginxFile,
  evaluateSslProtocols,
  interpretNginx,
  listenAddress,
  nginxDefaultProtocols,
  nginxPlaybook,
  parseNginxConfig,
  parseNginxVersion,
  planNginx,
  resolveNginx,
  splitNginxDump,
  withoutManaged,
  type NginxChange,
  type NginxState,
} from "./nginx";

/** What `nginx -T` prints: each file after its marker line, plus one newline. */
function dump(files: Array<[string, string]>): string {
  return files.map(([p, t]) => `# configuration file ${p}:\n${t}\n`).join("");
}

// The lab's web-legacy host, as nginx -T printed it.
const LAB_MAIN = `# nginx for lab host web-legacy. The TLS settings live in
# conf.d/tls-site.conf, as they would in a Debian site file.
user www-data;
worker_processes 1;
events {
    worker_connections 512;
}
http {
    access_log off;
    default_type text/plain;
    include /etc/nginx/conf.d/*.conf;
}
`;
const LAB_SITE = `server {
    listen 198.18.0.21:443 ssl;
    server_name web-legacy.lab.tlsfleet.test;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
    ssl_ciphers ALL:@SECLEVEL=0;
    location / {
        return 200 "web-legacy\\n";
    }
}
`;

const OPENSSL_DEBIAN12 = { argv: ["sh"], exitCode: 0, stdout: readFileSync(new URL("./testdata/openssl-policy-debian12.out", import.meta.url), "utf8"), stderr: "" };

function state(files: Array<[string, string]>, versionText = "nginx version: nginx/1.22.1", openssl = false): NginxState {
  const text = dump(files);
  const originals = files.map(([p, t]) => snapshotOf(p, Buffer.from(t, "latin1")));
  const s = interpretNginx({ versionText, dump: text, originals, openssl: openssl ? OPENSSL_DEBIAN12 : null, raw: [], collectedAt: new Date("2026-11-28T10:00:00Z") });
  if (typeof s === "string") throw new Error(s);
  return s;
}

describe("nginx tokenizer (ngx_conf_read_token rules)", () => {
  it("parses directives, blocks, lines and offsets", () => {
    const text = "events {\n    worker_connections 512;\n}\nhttp {\n  ssl_protocols TLSv1 TLSv1.2;\n}\n";
    const tree = parseNginxConfig(text);
    expect(tree.map((d) => [d.name, d.line])).toEqual([
      ["events", 1],
      ["http", 4],
    ]);
    const sp = tree[1]!.block![0]!;
    expect(sp).toMatchObject({ name: "ssl_protocols", args: ["TLSv1", "TLSv1.2"], line: 5 });
    expect(text.slice(sp.start, sp.end)).toBe("ssl_protocols TLSv1 TLSv1.2;");
    expect(text.slice(tree[1]!.start, tree[1]!.end)).toBe("http {\n  ssl_protocols TLSv1 TLSv1.2;\n}");
  });

  it.each([
    ["a comment at token start", "# ssl_protocols TLSv1;\nssl_protocols TLSv1.2; # trailing TLSv1\n", [["ssl_protocols", ["TLSv1.2"]]]],
    ["a # inside a word is part of it", "return 200 a#b;\n", [["return", ["200", "a#b"]]]],
    ["double quotes with escapes", 'return 200 "x;\\"y{}";\n', [["return", ["200", 'x;"y{}']]]],
    ["single quotes", "add_header X 'a b; c';\n", [["add_header", ["X", "a b; c"]]]],
    ["${var} braces belong to the word", "set $a ${b}c;\n", [["set", ["$a", "${b}c"]]]],
    ["a } inside a word is part of it", "return 200 a}b;\n", [["return", ["200", "a}b"]]]],
    ["a backslash keeps ; in a word (and stays, as nginx keeps it)", "return 200 a\\;b;\n", [["return", ["200", "a\\;b"]]]],
    ["several directives on one line", "ssl_protocols TLSv1; ssl_ciphers HIGH;", [["ssl_protocols", ["TLSv1"]], ["ssl_ciphers", ["HIGH"]]]],
    ["CRLF line ends", "ssl_protocols TLSv1.2\r\n   TLSv1.3;\r\n", [["ssl_protocols", ["TLSv1.2", "TLSv1.3"]]]],
  ])("%s", (_name, text, expected) => {
    expect(parseNginxConfig(text).map((d) => [d.name, d.args])).toEqual(expected);
  });

  it("skips Lua blocks as opaque", () => {
    const tree = parseNginxConfig("location / {\n content_by_lua_block { ngx.say('}') if x then y() end }\n}\nssl_protocols TLSv1.2;\n");
    expect(tree.map((d) => d.name)).toEqual(["location", "ssl_protocols"]);
  });

  it.each([
    ["an unterminated directive", "ssl_protocols TLSv1", /not terminated/],
    ["an unclosed block", "http {\n ssl_protocols TLSv1;\n", /not closed/],
    ["a stray }", "}\n", /unexpected "}"/],
    ["an unterminated string", 'return "abc;\n', /quoted string/],
  ])("refuses %s", (_n, text, re) => {
    expect(() => parseNginxConfig(text)).toThrow(re);
  });
});

describe("nginx -T and -v output", () => {
  it("splits the dump into files with their exact text", () => {
    const files = splitNginxDump(dump([["/etc/nginx/nginx.conf", LAB_MAIN], ["/etc/nginx/conf.d/tls-site.conf", LAB_SITE]]));
    expect(files.map((f) => f.path)).toEqual(["/etc/nginx/nginx.conf", "/etc/nginx/conf.d/tls-site.conf"]);
    expect(files[0]!.text).toBe(LAB_MAIN);
    expect(files[1]!.text).toBe(LAB_SITE);
  });

  it("keeps a file without a final newline exact", () => {
    const files = splitNginxDump(dump([["/a.conf", "events {}"], ["/b.conf", "x y;"]]));
    expect(files.map((f) => f.text)).toEqual(["events {}", "x y;"]);
  });

  it.each([
    ["nginx version: nginx/1.22.1", "1.22.1"],
    ["nginx version: nginx/1.24.0 (Ubuntu)", "1.24.0"],
    ["nginx version: openresty/1.21.4.1", "1.21.4"],
    ["nginx version: freenginx/1.27.4", null],
    ["bash: nginx: command not found", null],
  ])("version from %j", (text, v) => {
    expect(parseNginxVersion(text)).toBe(v);
  });

  it.each([
    ["1.22.1", ["TLSv1", "TLSv1.1", "TLSv1.2"]],
    ["1.23.3", ["TLSv1", "TLSv1.1", "TLSv1.2"]],
    ["1.23.4", ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]],
    ["1.27.2", ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]],
    ["1.27.3", ["TLSv1.2", "TLSv1.3"]],
    ["1.28.0", ["TLSv1.2", "TLSv1.3"]],
    [null, null],
  ])("default ssl_protocols of nginx %s", (v, d) => {
    expect(nginxDefaultProtocols(v)).toEqual(d);
  });

  it.each([
    [["TLSv1", "TLSv1.1", "TLSv1.2"], ["TLSv1", "TLSv1.1", "TLSv1.2"]],
    [["TLSv1.2", "TLSv1.3"], ["TLSv1.2", "TLSv1.3"]],
    [["SSLv3", "TLSv1"], ["TLSv1"]],
    [["TLSv1.2", "$var"], null],
  ])("ssl_protocols %j enables %j", (args, enabled) => {
    expect(evaluateSslProtocols(args)).toEqual(enabled);
  });
});

describe("effective ssl_protocols per server block", () => {
  it("follows include globs from the main file (the lab's web-legacy)", () => {
    const s = state([["/etc/nginx/nginx.conf", LAB_MAIN], ["/etc/nginx/conf.d/tls-site.conf", LAB_SITE]]);
    expect(s.servers).toEqual([
      {
        context: "http",
        file: "/etc/nginx/conf.d/tls-site.conf",
        line: 1,
        serverNames: ["web-legacy.lab.tlsfleet.test"],
        listen: ["198.18.0.21:443 ssl"],
        tls: true,
        protocols: { source: "server", file: "/etc/nginx/conf.d/tls-site.conf", line: 4, value: "TLSv1 TLSv1.1 TLSv1.2", enabled: ["TLSv1", "TLSv1.1", "TLSv1.2"] },
        ciphers: "ALL:@SECLEVEL=0",
      },
    ]);
    expect(s).toMatchObject({ legacyEnabled: true, tls12Enabled: true, version: "1.22.1" });
    expect(s.summary).toContain("TLS 1.0/1.1 enabled by server web-legacy.lab.tlsfleet.test (/etc/nginx/conf.d/tls-site.conf:1): ssl_protocols = TLSv1 TLSv1.1 TLSv1.2");
  });

  it("inherits from the http block, a server's own directive wins, and the version's default applies when none is set", () => {
    const main = `http {
    ssl_protocols TLSv1.2 TLSv1.3;
    include sites/*;
    server { listen 443 ssl; server_name a.example; }
}
stream {
    server { listen 993 ssl; proxy_pass 10.0.0.1:143; }
}
mail {
    server { listen 25; protocol smtp; starttls on; }
    server { listen 110; protocol pop3; }
}
`;
    const siteB = `server {
    listen 443 ssl;   # comment: ssl_protocols TLSv1;
    server_name b.example;
    ssl_protocols TLSv1 TLSv1.2;
}
`;
    const s = state([["/etc/nginx/nginx.conf", main], ["/etc/nginx/sites/b", siteB], ["/etc/nginx/sites/.hidden", "server { listen 8443 ssl; }\n"]], "nginx version: nginx/1.24.0");
    const table = s.servers.map((x) => [x.context, x.serverNames[0] ?? x.listen[0], x.tls, x.protocols.source, x.protocols.value, x.protocols.enabled]);
    expect(table).toEqual([
      ["http", "b.example", true, "server", "TLSv1 TLSv1.2", ["TLSv1", "TLSv1.2"]],
      ["http", "a.example", true, "block", "TLSv1.2 TLSv1.3", ["TLSv1.2", "TLSv1.3"]],
      ["stream", "993 ssl", true, "default", null, ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]],
      ["mail", "25", true, "default", null, ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]],
      ["mail", "110", false, "default", null, ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]],
    ]);
    expect(s.settings).toHaveLength(4); // the plain-text POP3 server negotiates no TLS
    expect(s.legacyEnabled).toBe(true);
  });

  it("relative include patterns resolve against the main file's directory; a missing file is noted", () => {
    const r = resolveNginx(splitNginxDump(dump([["/srv/ng/nginx.conf", "http {\n include conf.d/x.conf;\n include missing.conf;\n}\n"], ["/srv/ng/conf.d/x.conf", "ssl_protocols TLSv1.3;\n"]])));
    expect(r.blocks[0]!.protocols).toMatchObject({ file: "/srv/ng/conf.d/x.conf", line: 1, args: ["TLSv1.3"] });
    expect(r.notes).toEqual(["/srv/ng/nginx.conf:3: include missing.conf is not in the dump"]);
  });

  it("is compliant with TLSv1.2 TLSv1.3 everywhere (web-modern), and says so", () => {
    const s = state([["/etc/nginx/nginx.conf", LAB_MAIN], ["/etc/nginx/conf.d/tls-site.conf", LAB_SITE.replace("TLSv1 TLSv1.1 TLSv1.2", "TLSv1.2 TLSv1.3")]]);
    expect(s).toMatchObject({ legacyEnabled: false, tls12Enabled: true });
  });

  it("has no TLS evidence without a TLS listener", () => {
    const s = state([["/etc/nginx/nginx.conf", "http { server { listen 80; } }\n"]]);
    expect(s).toMatchObject({ legacyEnabled: false, tls12Enabled: null, summary: "no server block listens with TLS" });
  });

  it("cannot tell the default of an unknown fork", () => {
    const s = state([["/etc/nginx/nginx.conf", "http { server { listen 443 ssl; } }\n"]], "nginx version: freenginx/1.27.4");
    expect(s).toMatchObject({ legacyEnabled: null, tls12Enabled: null });
  });
});

describe("nginx plans (dry-run diff)", () => {
  const row = (c: NginxChange) => [c.path, c.action, c.line, c.from, c.to];

  it("disable-legacy replaces the directive in the file that sets it (web-legacy)", () => {
    const s = state([["/etc/nginx/nginx.conf", LAB_MAIN], ["/etc/nginx/conf.d/tls-site.conf", LAB_SITE]]);
    expect(planNginx(s, "disable-legacy").map(row)).toEqual([["/etc/nginx/conf.d/tls-site.conf", "replace", 4, "TLSv1 TLSv1.1 TLSv1.2", "TLSv1.2 TLSv1.3"]]);
  });

  it("disable-legacy inserts into the http block when TLS servers use an old nginx's default", () => {
    const s = state([["/etc/nginx/nginx.conf", LAB_MAIN], ["/etc/nginx/conf.d/tls-site.conf", LAB_SITE.replace(/ +ssl_protocols.*\n/, "")]]);
    expect(planNginx(s, "disable-legacy").map(row)).toEqual([["/etc/nginx/nginx.conf", "insert", 8, null, "TLSv1.2 TLSv1.3"]]);
  });

  it("disable-legacy plans nothing on nginx 1.27.3+ with no directive (the default is compliant)", () => {
    const s = state([["/etc/nginx/nginx.conf", LAB_MAIN], ["/etc/nginx/conf.d/tls-site.conf", LAB_SITE.replace(/ +ssl_protocols.*\n/, "")]], "nginx version: nginx/1.28.0");
    expect(planNginx(s, "disable-legacy")).toEqual([]);
  });

  it("enable-tls12 adds TLSv1.2 to what is there, in order", () => {
    const s = state([["/etc/nginx/nginx.conf", "http {\n  ssl_protocols TLSv1 TLSv1.3;\n  server { listen 443 ssl; }\n}\n"]]);
    expect(planNginx(s, "enable-tls12").map(row)).toEqual([["/etc/nginx/nginx.conf", "replace", 2, "TLSv1 TLSv1.3", "TLSv1 TLSv1.2 TLSv1.3"]]);
    expect(planNginx(state([["/etc/nginx/nginx.conf", LAB_MAIN], ["/etc/nginx/conf.d/tls-site.conf", LAB_SITE]]), "enable-tls12")).toEqual([]);
  });
});

describe("editing an nginx file", () => {
  const replace: NginxChange = { path: "/x", value: "ssl_protocols", action: "replace", line: 4, context: "http", from: "TLSv1 TLSv1.1 TLSv1.2", to: "TLSv1.2 TLSv1.3", reason: "" };

  it("replaces exactly the directive, keeping everything else byte for byte", () => {
    const out = editNginxFile(LAB_SITE, [replace]);
    if (typeof out === "string") throw new Error(out);
    expect(out.text).toBe(LAB_SITE.replace("ssl_protocols TLSv1 TLSv1.1 TLSv1.2;", "ssl_protocols TLSv1.2 TLSv1.3;"));
    expect(out.applied).toHaveLength(1);
  });

  it("is a no-op when the directive already holds the target (re-apply)", () => {
    const once = editNginxFile(LAB_SITE, [replace]) as { text: string };
    const twice = editNginxFile(once.text, [replace]);
    expect(twice).toEqual({ text: once.text, applied: [], skipped: [replace] });
  });

  it("refuses a plan the file no longer matches", () => {
    expect(editNginxFile(LAB_SITE.replace("TLSv1 TLSv1.1", "TLSv1.1"), [replace])).toMatch(/the plan expected "TLSv1 TLSv1.1 TLSv1.2"/);
    expect(editNginxFile(`\n${LAB_SITE}`, [replace])).toMatch(/no ssl_protocols directive on line 4/);
  });

  it("inserts at the top of the http block, indented, with a marker line; again is a no-op", () => {
    const insert: NginxChange = { ...replace, path: "/etc/nginx/nginx.conf", action: "insert", line: 8, from: null };
    const out = editNginxFile(LAB_MAIN, [insert]);
    if (typeof out === "string") throw new Error(out);
    expect(out.text).toContain("http {\n    # tlsfleet: TLS protocol versions set by tlsfleet\n    ssl_protocols TLSv1.2 TLSv1.3;\n    access_log off;");
    expect(parseNginxConfig(out.text).find((d) => d.name === "http")!.block![0]).toMatchObject({ name: "ssl_protocols", args: ["TLSv1.2", "TLSv1.3"] });
    expect(editNginxFile(out.text, [insert])).toMatchObject({ applied: [], skipped: [insert] });
    expect(withoutManaged(out.text)).toBe(withoutManaged(LAB_MAIN));
  });

  it("tells managed-only differences from other edits", () => {
    expect(withoutManaged(LAB_SITE.replace("TLSv1 TLSv1.1 TLSv1.2", "TLSv1.2 TLSv1.3"))).toBe(withoutManaged(LAB_SITE));
    expect(withoutManaged(LAB_SITE.replace("ALL:@SECLEVEL=0", "HIGH"))).not.toBe(withoutManaged(LAB_SITE));
  });

  it("keeps the on-host copy out of include globs that would load it", () => {
    const s = { mainConfigFile: "/etc/nginx/nginx.conf", files: [] };
    expect(backupPathFor(s, "/etc/nginx/conf.d/site.conf", ["conf.d/*.conf"])).toBe("/etc/nginx/conf.d/site.conf.tlsfleet-bak");
    expect(backupPathFor(s, "/etc/nginx/sites-enabled/default", ["/etc/nginx/sites-enabled/*"])).toBe("/etc/nginx/etc_nginx_sites-enabled_default.tlsfleet-bak");
  });

  it("applies to Linux hosts with the nginx role", () => {
    expect(nginxPlaybook.appliesTo({ name: "web1", platform: "linux", roles: ["nginx"] })).toBe(true);
    expect(nginxPlaybook.appliesTo({ name: "mx1", platform: "linux", roles: ["postfix"] })).toBe(false);
  });
});

describe("a hostile nginx -T dump (trust boundaries: the host writes the dump)", () => {
  it("a crafted include glob against a long dumped path finishes in milliseconds, not minutes", () => {
    // Compiled to a backtracking RegExp this pattern took O(n^10) steps against the long name.
    const longName = `/${"a".repeat(20_000)}`;
    const main = `http {\n    include /a*a*a*a*a*a*a*a*a*a*b;\n    include /a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b;\n}\n`;
    const started = performance.now();
    const s = state([
      ["/etc/nginx/nginx.conf", main],
      [longName, "server { listen 443 ssl; }"],
    ]);
    expect(performance.now() - started).toBeLessThan(500);
    expect(s.servers).toHaveLength(0);
  });

  it("stops an include fan-out (every file including every file) at the expansion cap, with a clear error", () => {
    const files: Array<[string, string]> = [["/etc/nginx/nginx.conf", "include /etc/nginx/conf.d/*.conf;\n"]];
    for (let i = 0; i < 30; i++) files.push([`/etc/nginx/conf.d/f${i}.conf`, "include /etc/nginx/conf.d/*.conf;\nworker_processes 1;\n"]);
    const started = performance.now();
    expect(() => state(files)).toThrow(/`nginx -T` output has more than 200,000 directives after following includes \(the cap\)/);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("keeps at most 100 notes however many files fail to parse", () => {
    const files: Array<[string, string]> = [["/etc/nginx/nginx.conf", "include /etc/nginx/conf.d/*.conf;\n"]];
    for (let i = 0; i < 500; i++) files.push([`/etc/nginx/conf.d/f${i}.conf`, "}"]);
    expect(state(files).notes).toHaveLength(100);
  });
});

describe("nginx as it behaves", () => {
  const TWO_NAMES = `http {
    server { listen 443 ssl; server_name old.example; ssl_protocols TLSv1 TLSv1.1 TLSv1.2; ssl_ciphers ALL:@SECLEVEL=0; }
    server { listen 443 ssl default_server; server_name new.example; ssl_protocols TLSv1.2 TLSv1.3; }
}
`;
  it("before 1.29.2 the default server of an address:port decides the version for every name on it", () => {
    const s = state([["/etc/nginx/nginx.conf", TWO_NAMES]], "nginx version: nginx/1.22.1", true);
    const old = s.settings.find((x) => x.scope.includes("old.example"))!;
    expect(old.value).toBe("TLSv1 TLSv1.1 TLSv1.2");
    expect(old.enabled).toEqual(["TLSv1.2", "TLSv1.3"]);
    expect(old.library).toMatch(/older than 1.29.2: the default server of \*:443, server new.example \(\/etc\/nginx\/nginx.conf:3\), decides the version for every name/);
    expect(s.sides).toEqual([expect.objectContaining({ direction: "inbound", legacyEnabled: false, tls12Enabled: true })]);
  });
  it("from 1.29.2 each name's own ssl_protocols applies to clients that send SNI", () => {
    const s = state([["/etc/nginx/nginx.conf", TWO_NAMES]], "nginx version: nginx/1.29.2", true);
    expect(s.settings.find((x) => x.scope.includes("old.example"))!.enabled).toEqual(["TLSv1", "TLSv1.1", "TLSv1.2"]);
    expect(s.sides[0]).toMatchObject({ legacyEnabled: true });
  });
  it("without default_server the first server of the address:port is the default", () => {
    const s = state([["/etc/nginx/nginx.conf", TWO_NAMES.replace(" default_server", "")]], "nginx version: nginx/1.22.1", true);
    expect(s.settings.find((x) => x.scope.includes("new.example"))!.library).toMatch(/default server of \*:443, server old.example/);
    expect(s.sides[0]).toMatchObject({ legacyEnabled: true });
  });
  it("OpenSSL 3 refuses TLS 1.0/1.1 for a server whose ssl_ciphers sets no @SECLEVEL=0; ssl_conf_command is not guessed at", () => {
    const one = (extra: string) => state([["/etc/nginx/nginx.conf", `http {\n    server { listen 443 ssl; server_name a.example; ssl_protocols TLSv1 TLSv1.1 TLSv1.2;${extra} }\n}\n`]], "nginx version: nginx/1.22.1", true);
    expect(one("").settings[0]).toMatchObject({ enabled: ["TLSv1.2"], library: expect.stringMatching(/^OpenSSL 3.0.22 refuses TLS 1.0\/1.1/) });
    expect(one(" ssl_conf_command MinProtocol TLSv1;").settings[0]).toMatchObject({ enabled: ["TLSv1", "TLSv1.1", "TLSv1.2"] });
    expect(one("").settings[0]!.direction).toBe("inbound");
  });
  it.each([
    ["443 ssl default_server", "*:443", true],
    ["[::]:443 ssl", "[::]:443", false],
    ["198.18.0.21:443 ssl", "198.18.0.21:443", false],
    ["0.0.0.0:443 ssl", "*:443", false],
    ["10.0.0.1", "10.0.0.1:80", false],
  ])("listen %s is %s", (listen, address, isDefault) => {
    expect(listenAddress(listen)).toEqual({ address, isDefault });
  });
});