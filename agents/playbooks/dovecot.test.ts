// Addresses outside loopback and the lab (10.x, 1.2.3.4) in this file are data only: parsed, matched or stored, never dialled.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { snapshotOf, type TlsVersion } from "./linux-common";
import {
  BLOCK_BEGIN,
  dovecotPlaybook,
  evaluateMinProtocol,
  evaluateOldProtocols,
  interpretDovecot,
  parseDoveconf,
  planDovecot,
  renderManagedBlock,
  splitManagedBlock,
  withManagedBlock,
  type DovecotChange,
  type DovecotState,
} from "./dovecot";

const ALL: TlsVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

describe("Dovecot protocol values", () => {
  it.each([
    ["TLSv1", ALL],
    ["ANY", ALL],
    ["SSLv3", ALL],
    ["TLSv1.1", ["TLSv1.1", "TLSv1.2", "TLSv1.3"]],
    ["TLSv1.2", ["TLSv1.2", "TLSv1.3"]],
    ["TLSv1.3", ["TLSv1.3"]],
    ["LATEST", ["TLSv1.3"]],
    ["TLSv9", null],
    ["tlsv1.2", null],
  ])("ssl_min_protocol = %s -> %j", (v, e) => {
    expect(evaluateMinProtocol(v)).toEqual(e);
  });

  it.each([
    ["!SSLv2 !SSLv3", ALL],
    ["!SSLv3 !TLSv1 !TLSv1.1", ["TLSv1.2", "TLSv1.3"]],
    ["TLSv1.2", ["TLSv1.2"]],
    ["!SSLv2 !bogus", null],
  ])("2.2 ssl_protocols = %s -> %j", (v, e) => {
    expect(evaluateOldProtocols(v)).toEqual(e);
  });
});

// doveconf -n of the lab's imap-legacy (Dovecot 2.3.19.1), trimmed.
const LAB_N = `# 2.3.19.1 (9b53102964): /etc/dovecot/dovecot.conf
# Pigeonhole version 0.5.19 (4eae2f79)
# OS: Linux 6.1.0 x86_64 Debian 12.11
base_dir = /run/dovecot
passdb {
  args = password=#hidden_use-P_to_show#
  driver = static
}
protocols = imap pop3
service imap-login {
  inet_listener imaps {
    port = 993
    ssl = yes
  }
}
ssl_cert = </etc/dovecot/cert.pem
ssl_cipher_list = ALL:@SECLEVEL=0
ssl_key = # hidden, use -P to show it
ssl_min_protocol = TLSv1
`;

const FILTERS_N = `${LAB_N}local 10.0.0.1 {
  protocol imap {
    ssl_min_protocol = TLSv1.1
  }
}
protocol pop3 {
  ssl_min_protocol = TLSv1.2
}
remote 192.0.2.0/24 {
  ssl_min_protocol = ANY
}
`;

describe("doveconf -n", () => {
  it("reads the version and main file from the header, globals, and filter overrides", () => {
    const p = parseDoveconf(FILTERS_N);
    expect(p.version).toBe("2.3.19.1");
    expect(p.configFile).toBe("/etc/dovecot/dovecot.conf");
    expect(p.globals.get("ssl_min_protocol")).toBe("TLSv1");
    expect(p.globals.get("ssl_key")).toBe("# hidden, use -P to show it");
    expect(p.globals.has("port")).toBe(false); // inside service blocks
    expect(p.filters).toEqual([
      { filter: ["local 10.0.0.1", "protocol imap"], setting: "ssl_min_protocol", value: "TLSv1.1" },
      { filter: ["protocol pop3"], setting: "ssl_min_protocol", value: "TLSv1.2" },
      { filter: ["remote 192.0.2.0/24"], setting: "ssl_min_protocol", value: "ANY" },
    ]);
  });
});

const FILE = "# main\nssl = yes\nssl_min_protocol = TLSv1\n!include_try local.conf\n";

const OPENSSL_DEBIAN12 = { argv: ["sh"], exitCode: 0, stdout: readFileSync(new URL("./testdata/openssl-policy-debian12.out", import.meta.url), "utf8"), stderr: "" };

function state(n: string, opts: { current?: string; defaults?: string; file?: string; openssl?: boolean } = {}): DovecotState {
  const current = opts.current ?? "ssl = yes\nssl_min_protocol = TLSv1\n";
  const s = interpretDovecot({
    n,
    current,
    defaults: opts.defaults ?? "ssl_min_protocol = TLSv1.2\n",
    original: snapshotOf("/etc/dovecot/dovecot.conf", Buffer.from(opts.file ?? FILE, "latin1")),
    openssl: opts.openssl ? OPENSSL_DEBIAN12 : null,
    raw: [],
    collectedAt: new Date("2026-11-28T10:00:00Z"),
  });
  if (typeof s === "string") throw new Error(s);
  return s;
}

describe("Dovecot state", () => {
  it("reports TLS 1.0 enabled with ssl_min_protocol = TLSv1 (imap-legacy)", () => {
    const s = state(LAB_N);
    expect(s).toMatchObject({ playbookId: "dovecot", legacyEnabled: true, tls12Enabled: true, setting: "ssl_min_protocol", configFile: "/etc/dovecot/dovecot.conf", managed: null });
    expect(s.global).toEqual({ value: "TLSv1", default: "TLSv1.2", explicit: true, enabled: ALL });
    expect(s.summary).toBe("Dovecot 2.3.19.1; TLS 1.0/1.1 enabled by dovecot.conf: ssl_min_protocol = TLSv1");
  });

  it("a filter can keep TLS 1.0 on while the global value is compliant", () => {
    const s = state(FILTERS_N.replace("ssl_min_protocol = TLSv1\n", ""), { current: "ssl = yes\nssl_min_protocol = TLSv1.2\n" });
    expect(s.global).toMatchObject({ value: "TLSv1.2", explicit: false });
    expect(s.legacyEnabled).toBe(true);
    expect(s.summary).toContain("remote 192.0.2.0/24: ssl_min_protocol = ANY");
  });

  it("is compliant with TLSv1.2 (imap-modern)", () => {
    expect(state(LAB_N.replace("= TLSv1\n", "= TLSv1.2\n"), { current: "ssl = yes\nssl_min_protocol = TLSv1.2\n" })).toMatchObject({ legacyEnabled: false, tls12Enabled: true });
  });

  it("ssl = no: no TLS at all", () => {
    expect(state(LAB_N, { current: "ssl = no\nssl_min_protocol = TLSv1\n" })).toMatchObject({ legacyEnabled: false, tls12Enabled: false, settings: [] });
  });

  it("Dovecot 2.2 is read through ssl_protocols", () => {
    const s = state(LAB_N.replace("2.3.19.1", "2.2.36").replace("ssl_min_protocol = TLSv1", "ssl_protocols = !SSLv2 !SSLv3"), {
      current: "ssl = yes\nssl_protocols = !SSLv2 !SSLv3\n",
      defaults: "ssl_protocols = !SSLv2 !SSLv3\n",
    });
    expect(s).toMatchObject({ setting: "ssl_protocols", legacyEnabled: true });
    expect(planDovecot(s, "disable-legacy")[0]).toMatchObject({ value: "ssl_protocols", to: "!SSLv2 !SSLv3 !TLSv1 !TLSv1.1" });
  });

  it("sees tlsfleet's block in the main file", () => {
    const s = state(LAB_N, { file: withManagedBlock(FILE, [{ filter: [], setting: "ssl_min_protocol", value: "TLSv1.2" }]) });
    expect(s.managed).toEqual([{ filter: [], setting: "ssl_min_protocol", value: "TLSv1.2" }]);
  });
});

describe("Dovecot plans (dry-run diff)", () => {
  const row = (c: DovecotChange) => [c.scope, c.value, c.from, c.to];

  it("disable-legacy raises the global minimum (imap-legacy)", () => {
    expect(planDovecot(state(LAB_N), "disable-legacy").map(row)).toEqual([["global", "ssl_min_protocol", "TLSv1", "TLSv1.2"]]);
  });

  it("disable-legacy also overrides every filter that allows TLS 1.0/1.1", () => {
    expect(planDovecot(state(FILTERS_N), "disable-legacy").map(row)).toEqual([
      ["global", "ssl_min_protocol", "TLSv1", "TLSv1.2"],
      ["local 10.0.0.1 / protocol imap", "local 10.0.0.1 / protocol imap / ssl_min_protocol", "TLSv1.1", "TLSv1.2"],
      ["remote 192.0.2.0/24", "remote 192.0.2.0/24 / ssl_min_protocol", "ANY", "TLSv1.2"],
    ]);
  });

  it("enable-tls12 only touches minimums above TLS 1.2", () => {
    expect(planDovecot(state(LAB_N), "enable-tls12")).toEqual([]);
    const s = state(LAB_N.replace("= TLSv1\n", "= LATEST\n"), { current: "ssl = yes\nssl_min_protocol = LATEST\n" });
    expect(planDovecot(s, "enable-tls12").map(row)).toEqual([["global", "ssl_min_protocol", "LATEST", "TLSv1.2"]]);
  });

  it("applies to Linux hosts with the dovecot role", () => {
    expect(dovecotPlaybook.appliesTo({ name: "imap1", platform: "linux", roles: ["dovecot"] })).toBe(true);
    expect(dovecotPlaybook.appliesTo({ name: "imap1", platform: "windows", roles: ["dovecot"] })).toBe(false);
  });
});

describe("tlsfleet's block in dovecot.conf", () => {
  const entries = [
    { filter: [], setting: "ssl_min_protocol" as const, value: "TLSv1.2" },
    { filter: ["local 10.0.0.1", "protocol imap"], setting: "ssl_min_protocol" as const, value: "TLSv1.2" },
  ];

  it("renders nested filters the way Dovecot reads them", () => {
    const text = renderManagedBlock(entries);
    expect(text).toContain("ssl_min_protocol = TLSv1.2\nlocal 10.0.0.1 {\n  protocol imap {\n    ssl_min_protocol = TLSv1.2\n  }\n}\n# END tlsfleet managed block\n");
    const p = parseDoveconf(text);
    expect(p.globals.get("ssl_min_protocol")).toBe("TLSv1.2");
    expect(p.filters).toEqual([{ filter: ["local 10.0.0.1", "protocol imap"], setting: "ssl_min_protocol", value: "TLSv1.2" }]);
  });

  it("goes at the very end, replaces itself on re-apply, and comes off leaving the file as it was", () => {
    const once = withManagedBlock(FILE, entries.slice(0, 1));
    expect(once.startsWith(FILE)).toBe(true);
    expect(once.slice(FILE.length).startsWith(BLOCK_BEGIN)).toBe(true);
    const twice = withManagedBlock(once, entries);
    expect(twice.split(BLOCK_BEGIN)).toHaveLength(2);
    expect(splitManagedBlock(twice)).toEqual({ rest: FILE, entries });
    expect(withManagedBlock(twice, [])).toBe(FILE);
  });

  it("adds the missing newline of a file that does not end with one", () => {
    expect(withManagedBlock("ssl = yes", entries.slice(0, 1)).startsWith(`ssl = yes\n${BLOCK_BEGIN}`)).toBe(true);
  });
});

describe("Dovecot as it behaves with Debian 12's OpenSSL 3", () => {
  it("ssl_min_protocol = TLSv1 with the lab's ALL:@SECLEVEL=0 accepts TLS 1.0: an inbound finding", () => {
    const s = state(LAB_N, { current: "ssl = yes\nssl_min_protocol = TLSv1\nssl_cipher_list = ALL:@SECLEVEL=0\n", openssl: true });
    expect(s.sides).toEqual([{ direction: "inbound", legacyEnabled: true, tls12Enabled: true, summary: expect.stringMatching(/^TLS 1.0\/1.1 enabled by dovecot.conf: ssl_min_protocol = TLSv1$/) }]);
  });
  it("ssl_min_protocol = TLSv1 with Dovecot's default cipher list does not: OpenSSL refuses TLS 1.0/1.1 at its default level", () => {
    const dflt = "ALL:!kRSA:!SRP:!kDHd:!DSS:!aNULL:!eNULL:!EXPORT:!DES:!3DES:!MD5:!PSK:!RC4:!ADH:!LOW@STRENGTH";
    const s = state(LAB_N.replace("ssl_cipher_list = ALL:@SECLEVEL=0\n", ""), { current: `ssl = yes\nssl_min_protocol = TLSv1\nssl_cipher_list = ${dflt}\n`, openssl: true });
    expect(s.sides[0]).toMatchObject({ direction: "inbound", legacyEnabled: false, tls12Enabled: true });
    expect(s.settings[0]!.library).toMatch(/^OpenSSL 3.0.22 refuses TLS 1.0\/1.1 at security level 1\+/);
  });
  it("ssl = no: the inbound side offers no TLS", () => {
    expect(state(LAB_N, { current: "ssl = no\nssl_min_protocol = TLSv1\n" }).sides).toEqual([expect.objectContaining({ direction: "inbound", tlsOffered: false })]);
  });
});