import { describe, expect, it } from "vitest";
import { buildClientHello, keyShareX25519, LEGACY_SUITES, offeredSuites, TLS13_SUITES } from "./client-hello";
import type { TlsVersion } from "./types";

interface ParsedHello {
  recordVersion: number;
  legacyVersion: number;
  sessionIdLength: number;
  suites: number[];
  compression: number[];
  extensions: Map<number, Buffer>;
  handshakeLength: number;
}

/** Reads a ClientHello record the way a server does, checking every length on the way. */
function parse(record: Buffer): ParsedHello {
  expect(record[0]).toBe(22);
  expect(record.readUInt16BE(3)).toBe(record.length - 5);
  const hs = record.subarray(5);
  expect(hs[0]).toBe(1); // client_hello
  const length = (hs[1]! << 16) | (hs[2]! << 8) | hs[3]!;
  expect(length).toBe(hs.length - 4);
  const body = hs.subarray(4);
  let at = 34;
  const sessionIdLength = body[at]!;
  at += 1 + sessionIdLength;
  const suiteBytes = body.readUInt16BE(at);
  const suites = Array.from({ length: suiteBytes / 2 }, (_, i) => body.readUInt16BE(at + 2 + i * 2));
  at += 2 + suiteBytes;
  const compression = [...body.subarray(at + 1, at + 1 + body[at]!)];
  at += 1 + body[at]!;
  const extensionsEnd = at + 2 + body.readUInt16BE(at);
  expect(extensionsEnd).toBe(body.length);
  at += 2;
  const extensions = new Map<number, Buffer>();
  while (at < extensionsEnd) {
    const type = body.readUInt16BE(at);
    const len = body.readUInt16BE(at + 2);
    expect(extensions.has(type), `extension ${type} twice`).toBe(false);
    extensions.set(type, body.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  expect(at).toBe(extensionsEnd);
  return { recordVersion: record.readUInt16BE(1), legacyVersion: body.readUInt16BE(0), sessionIdLength, suites, compression, extensions, handshakeLength: length + 4 };
}

const u16list = (data: Buffer, lengthBytes: 1 | 2) => {
  const start = lengthBytes;
  const n = lengthBytes === 1 ? data[0]! : data.readUInt16BE(0);
  expect(n).toBe(data.length - lengthBytes);
  return Array.from({ length: n / 2 }, (_, i) => data.readUInt16BE(start + i * 2));
};

describe("buildClientHello", () => {
  it.each([
    ["TLSv1", 0x0301],
    ["TLSv1.1", 0x0302],
    ["TLSv1.2", 0x0303],
  ] as const)("%s: legacy_version %s, no supported_versions, legacy suites with the renegotiation SCSV", (version, code) => {
    const hello = parse(buildClientHello(version));
    expect(hello.recordVersion).toBe(0x0301);
    expect(hello.legacyVersion).toBe(code);
    expect(hello.extensions.has(43)).toBe(false);
    expect(hello.extensions.has(51)).toBe(false);
    expect(hello.suites).toEqual([...offeredSuites(version).keys(), 0x00ff]);
    expect(hello.suites.some((s) => TLS13_SUITES.has(s))).toBe(false);
    expect(hello.compression).toEqual([0]);
    expect(u16list(hello.extensions.get(10)!, 2)).toContain(0x001d); // supported_groups
    expect([...hello.extensions.get(11)!]).toEqual([1, 0]); // ec_point_formats: uncompressed
    // signature_algorithms only exists from TLS 1.2 on.
    expect(hello.extensions.has(13)).toBe(version === "TLSv1.2");
  });

  it("TLSv1.3: legacy_version 1.2, supported_versions = [1.3] only, an X25519 key share, PSK modes, 1.3 suites", () => {
    const key = keyShareX25519();
    const hello = parse(buildClientHello("TLSv1.3", { x25519PublicKey: key }));
    expect(hello.legacyVersion).toBe(0x0303);
    expect(hello.sessionIdLength).toBe(32);
    expect([...hello.extensions.get(43)!]).toEqual([2, 0x03, 0x04]);
    const share = hello.extensions.get(51)!;
    expect(share.readUInt16BE(0)).toBe(share.length - 2);
    expect(share.readUInt16BE(2)).toBe(0x001d);
    expect(share.readUInt16BE(4)).toBe(32);
    expect(share.subarray(6)).toEqual(key);
    expect([...hello.extensions.get(45)!]).toEqual([1, 1]); // psk_dhe_ke
    expect(u16list(hello.extensions.get(13)!, 2)).toContain(0x0804); // rsa_pss_rsae_sha256
    expect(hello.suites).toEqual([...TLS13_SUITES.keys()]);
  });

  it.each(["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"] as const)("%s: never the fallback SCSV, and no size an old F5 hangs on", (version: TlsVersion) => {
    for (const servername of [undefined, "mx1.example", "a".repeat(60) + ".example"]) {
      const hello = parse(buildClientHello(version, { servername }));
      expect(hello.suites).not.toContain(0x5600);
      expect(hello.handshakeLength < 256 || hello.handshakeLength >= 512, `${hello.handshakeLength} bytes`).toBe(true);
    }
  });

  it("sends SNI only when given a name", () => {
    expect(parse(buildClientHello("TLSv1.2")).extensions.has(0)).toBe(false);
    const sni = parse(buildClientHello("TLSv1.2", { servername: "mx1.example" })).extensions.get(0)!;
    // server_name_list length, host_name type 0, name length, name.
    expect(sni.readUInt16BE(0)).toBe(sni.length - 2);
    expect(sni[2]).toBe(0);
    expect(sni.subarray(5).toString("ascii")).toBe("mx1.example");
  });

  it("a fresh random in every hello", () => {
    const a = buildClientHello("TLSv1.2").subarray(11, 43);
    const b = buildClientHello("TLSv1.2").subarray(11, 43);
    expect(a.equals(b)).toBe(false);
  });

  it("TLS 1.0-1.2 put plain RSA key exchange first (AEAD first for 1.2), so the server signs nothing", () => {
    expect([...offeredSuites("TLSv1").values()].slice(0, 2)).toEqual(["AES128-SHA", "AES256-SHA"]);
    expect([...offeredSuites("TLSv1.2").values()].slice(0, 3)).toEqual(["AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA"]);
    expect(new Set(offeredSuites("TLSv1").keys())).toEqual(new Set(LEGACY_SUITES.keys()));
    expect(new Set(offeredSuites("TLSv1.2").keys())).toEqual(new Set(LEGACY_SUITES.keys()));
  });

  it("key shares are valid X25519 keys (32 bytes) and not one constant forever", () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200; i++) keys.add(keyShareX25519().toString("hex"));
    expect([...keys].every((k) => k.length === 64)).toBe(true);
    expect(keys.size).toBeGreaterThan(1);
  });
});
