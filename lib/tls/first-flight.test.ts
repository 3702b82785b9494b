import { randomBytes, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { CERTIFICATE_FLIGHT_CAP, FirstFlightReader, judgeFirstFlight, type FirstFlight } from "./first-flight";
import type { TlsVersion } from "./types";

// Builders for what servers send, byte for byte (RFC 5246 6.2, 7.4.1.3; RFC 8446 4.1.3).
function record(type: number, body: Buffer, version = 0x0303): Buffer {
  const header = Buffer.alloc(5);
  header[0] = type;
  header.writeUInt16BE(version, 1);
  header.writeUInt16BE(body.length, 3);
  return Buffer.concat([header, body]);
}

function handshakeMessage(type: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type, (body.length >> 16) & 0xff, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
}

const HRR_RANDOM = Buffer.from("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", "hex");

function serverHelloBody(o: { version: number; suite: number; supportedVersion?: number; random?: Buffer; extensions?: Buffer[] }): Buffer {
  const extensions = [...(o.extensions ?? [])];
  if (o.supportedVersion !== undefined) extensions.push(Buffer.from([0, 43, 0, 2, o.supportedVersion >> 8, o.supportedVersion & 0xff]));
  const ext = Buffer.concat(extensions);
  const parts = [
    Buffer.from([o.version >> 8, o.version & 0xff]),
    o.random ?? randomBytes(32),
    Buffer.from([32]),
    randomBytes(32),
    Buffer.from([o.suite >> 8, o.suite & 0xff, 0]),
  ];
  if (extensions.length > 0) parts.push(Buffer.from([ext.length >> 8, ext.length & 0xff]), ext);
  return Buffer.concat(parts);
}

function serverHello(o: Parameters<typeof serverHelloBody>[0]): Buffer {
  return record(22, handshakeMessage(2, serverHelloBody(o)));
}

function alert(level: number, description: number): Buffer {
  return record(21, Buffer.from([level, description]));
}

/** Feeds `bytes` in the given chunk sizes (cycled) and returns the first answer. */
function read(bytes: Buffer, chunkSizes: number[] = [bytes.length], cap?: number): FirstFlight | null {
  const reader = new FirstFlightReader(cap);
  let at = 0;
  let answer: FirstFlight | null = null;
  for (let i = 0; at < bytes.length && !answer; i++) {
    const size = Math.max(1, chunkSizes[i % chunkSizes.length]!);
    answer = reader.push(bytes.subarray(at, at + size));
    at += size;
  }
  return answer;
}

const tls12Hello = serverHello({ version: 0x0303, suite: 0xc02f, extensions: [Buffer.from([0xff, 0x01, 0, 1, 0])] });
const tls13Hello = serverHello({ version: 0x0303, suite: 0x1302, supportedVersion: 0x0304 });
// A real first flight goes on with Certificate etc.: bytes after the ServerHello must not matter.
const tail = Buffer.concat([record(22, handshakeMessage(11, randomBytes(600))), record(23, randomBytes(100))]);

type Row = [string, TlsVersion, Buffer, { outcome: string; reason: string | null; cipher?: string }];
const table: Row[] = [
  ["TLS 1.2 ServerHello to a 1.2 hello", "TLSv1.2", Buffer.concat([tls12Hello, tail]), { outcome: "accepted", reason: null, cipher: "ECDHE-RSA-AES128-GCM-SHA256" }],
  ["TLS 1.0 ServerHello (record version 0x0301)", "TLSv1", serverHello({ version: 0x0301, suite: 0x002f }), { outcome: "accepted", reason: null, cipher: "AES128-SHA" }],
  ["TLS 1.3 ServerHello: supported_versions decides, not legacy_version", "TLSv1.3", tls13Hello, { outcome: "accepted", reason: null, cipher: "TLS_AES_256_GCM_SHA384" }],
  [
    "TLS 1.3 HelloRetryRequest means 1.3 is accepted",
    "TLSv1.3",
    serverHello({ version: 0x0303, suite: 0x1301, supportedVersion: 0x0304, random: HRR_RANDOM }),
    { outcome: "accepted", reason: null, cipher: "TLS_AES_128_GCM_SHA256" },
  ],
  ["a 1.2 ServerHello to a 1.3 hello", "TLSv1.3", tls12Hello, { outcome: "rejected", reason: "unsupported_protocol" }],
  ["a 1.0 ServerHello to a 1.2 hello", "TLSv1.2", serverHello({ version: 0x0301, suite: 0x002f }), { outcome: "rejected", reason: "unsupported_protocol" }],
  ["a 1.2 ServerHello to a 1.0 hello (higher than offered)", "TLSv1", serverHello({ version: 0x0303, suite: 0x002f }), { outcome: "rejected", reason: "unsupported_protocol" }],
  ["an SSLv3 ServerHello to a 1.0 hello", "TLSv1", serverHello({ version: 0x0300, suite: 0x002f }), { outcome: "rejected", reason: "unsupported_protocol" }],
  ["alert protocol_version", "TLSv1", alert(2, 70), { outcome: "rejected", reason: "protocol_version" }],
  ["alert handshake_failure", "TLSv1.3", alert(2, 40), { outcome: "rejected", reason: "handshake_failure" }],
  ["alert insufficient_security", "TLSv1.1", alert(2, 71), { outcome: "rejected", reason: "insufficient_security" }],
  ["alert internal_error is no answer about the version", "TLSv1.2", alert(2, 80), { outcome: "unknown", reason: "internal_error" }],
  ["alert close_notify", "TLSv1.2", alert(1, 0), { outcome: "unknown", reason: "close_notify" }],
  ["an alert number nobody defined", "TLSv1.2", alert(2, 201), { outcome: "unknown", reason: "alert 201" }],
  ["warning unrecognized_name, then the ServerHello", "TLSv1.2", Buffer.concat([alert(1, 112), tls12Hello]), { outcome: "accepted", reason: null, cipher: "ECDHE-RSA-AES128-GCM-SHA256" }],
  [
    "HelloRequest before the ServerHello is skipped",
    "TLSv1.2",
    record(22, Buffer.concat([handshakeMessage(0, Buffer.alloc(0)), handshakeMessage(2, serverHelloBody({ version: 0x0303, suite: 0xc030 }))])),
    { outcome: "accepted", reason: null, cipher: "ECDHE-RSA-AES256-GCM-SHA384" },
  ],
  [
    "a ServerHello split over two handshake records",
    "TLSv1.2",
    (() => {
      const message = handshakeMessage(2, serverHelloBody({ version: 0x0303, suite: 0xc02f }));
      return Buffer.concat([record(22, message.subarray(0, 10)), record(22, message.subarray(10))]);
    })(),
    { outcome: "accepted", reason: null, cipher: "ECDHE-RSA-AES128-GCM-SHA256" },
  ],
  [
    "a cipher suite we never offered",
    "TLSv1.2",
    serverHello({ version: 0x0303, suite: 0x1301 }),
    { outcome: "unknown", reason: "garbage (ServerHello picks cipher suite 0x1301, which we did not offer)" },
  ],
  ["an SMTP banner", "TLSv1.2", Buffer.from("220 mx1.example ESMTP\r\n"), { outcome: "unknown", reason: 'garbage (not a TLS record: "220 m")' }],
  ["an HTTP reply", "TLSv1.3", Buffer.from("HTTP/1.1 400 Bad Request\r\n\r\n"), { outcome: "unknown", reason: 'garbage (not a TLS record: "HTTP/")' }],
  ["an SSLv2 record", "TLSv1", Buffer.from([0x80, 0x2e, 0x04, 0x00, 0x01, 0x00, 0x02]), { outcome: "unknown", reason: "garbage (not a TLS record: 80 2e 04 00 01)" }],
  ["application data first", "TLSv1.2", record(23, Buffer.alloc(20)), { outcome: "unknown", reason: "garbage (not a TLS record: 17 03 03 00 14)" }],
  ["a record longer than TLS allows", "TLSv1.2", Buffer.from([22, 3, 3, 0x50, 0x01]), { outcome: "unknown", reason: "garbage (record length 20481: 16 03 03 50 01)" }],
  ["an empty handshake record", "TLSv1.2", Buffer.from([22, 3, 3, 0, 0]), { outcome: "unknown", reason: "garbage (record length 0: 16 03 03 00 00)" }],
  ["a Certificate where the ServerHello belongs", "TLSv1.2", record(22, handshakeMessage(11, Buffer.alloc(40))), { outcome: "unknown", reason: "garbage (handshake message 11 where a ServerHello belongs)" }],
  ["a three-byte alert", "TLSv1.2", record(21, Buffer.from([2, 70, 0])), { outcome: "unknown", reason: "garbage (alert record of 3 bytes: 15 03 03 00 03)" }],
  [
    "a ServerHello whose extensions overrun it",
    "TLSv1.3",
    record(22, handshakeMessage(2, Buffer.concat([serverHelloBody({ version: 0x0303, suite: 0x1301 }), Buffer.from([0, 10, 0, 43, 0, 2, 3, 4])]))),
    { outcome: "unknown", reason: "garbage (malformed ServerHello (extensions length))" },
  ],
  [
    "supported_versions twice",
    "TLSv1.3",
    serverHello({ version: 0x0303, suite: 0x1301, supportedVersion: 0x0304, extensions: [Buffer.from([0, 43, 0, 2, 3, 3])] }),
    { outcome: "unknown", reason: "garbage (malformed ServerHello (extension 43 twice))" },
  ],
  [
    "a HelloRetryRequest that does not select TLS 1.3",
    "TLSv1.2",
    serverHello({ version: 0x0303, suite: 0xc02f, random: HRR_RANDOM }),
    { outcome: "unknown", reason: "garbage (malformed ServerHello (HelloRetryRequest without TLS 1.3))" },
  ],
  ["a ServerHello too short to hold its fields", "TLSv1.2", record(22, handshakeMessage(2, Buffer.from([3, 3, 1, 2]))), { outcome: "unknown", reason: "garbage (malformed ServerHello (too short))" }],
];

describe("judging the server's first flight", () => {
  it.each(table)("%s (offered %s)", (_name, offered, bytes, expected) => {
    const answer = read(bytes);
    expect(answer).not.toBeNull();
    expect(judgeFirstFlight(offered, answer!)).toEqual(expected);
  });

  it.each(table)("the same answer whatever the TCP segmentation: %s", (_name, offered, bytes) => {
    const whole = judgeFirstFlight(offered, read(bytes)!);
    for (const sizes of [[1], [2, 3], [5], [7, 1, 13], [bytes.length - 1, 1]]) {
      expect(judgeFirstFlight(offered, read(bytes, sizes)!), `chunks ${sizes.join(",")}`).toEqual(whole);
    }
  });

  it("asks for more while a record is incomplete, and answers as soon as the ServerHello is in", () => {
    const reader = new FirstFlightReader();
    expect(reader.push(tls12Hello.subarray(0, 4))).toBeNull();
    expect(reader.push(tls12Hello.subarray(4, tls12Hello.length - 1))).toBeNull();
    expect(reader.push(tls12Hello.subarray(tls12Hello.length - 1))).toMatchObject({ kind: "server-hello", versionCode: 0x0303, cipherSuite: 0xc02f });
    // Later bytes change nothing.
    expect(reader.push(Buffer.from("garbage"))).toMatchObject({ kind: "server-hello" });
  });

  it("gives up after the byte cap instead of buffering an endless handshake", () => {
    // Handshake records that never complete a message: a ServerHello claiming 16 MB.
    const endless = Buffer.concat([record(22, Buffer.from([2, 0xff, 0xff, 0xff]))]);
    expect(read(endless, [4096], 1024)).toEqual({ kind: "garbage", detail: "ServerHello of 16777215 bytes" });
    const reader = new FirstFlightReader(1024);
    let answer: FirstFlight | null = reader.push(record(22, Buffer.from([2, 0, 0x03, 0xf0])));
    for (let i = 0; i < 10 && !answer; i++) answer = reader.push(record(22, Buffer.alloc(200)));
    expect(answer).toEqual({ kind: "garbage", detail: "no ServerHello within 1024 bytes" });
  });
});

describe("fuzzing the first-flight reader", () => {
  const valid = [tls12Hello, tls13Hello, alert(2, 70), Buffer.concat([alert(1, 112), tls12Hello, tail])];
  const offered: TlsVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
  // A fixed seed (mulberry32): the same hostile inputs on every run, so a failure reproduces.
  let seed = 0x7f1eef;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const randomBuffer = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));

  function mutate(bytes: Buffer): Buffer {
    const out = Buffer.from(bytes);
    const flips = 1 + Math.floor(random() * 4);
    for (let i = 0; i < flips; i++) out[Math.floor(random() * out.length)] = Math.floor(random() * 256);
    const cut = random() < 0.3 ? Math.floor(random() * out.length) : out.length;
    return out.subarray(0, cut);
  }

  function inputs(): Buffer[] {
    const list: Buffer[] = [];
    for (let i = 0; i < 1500; i++) list.push(randomBuffer(1 + Math.floor(random() * 300)));
    // Random bodies behind plausible record headers reach the ServerHello parser itself.
    for (let i = 0; i < 1500; i++) list.push(record(22, handshakeMessage(2, randomBuffer(Math.floor(random() * 120)))));
    for (let i = 0; i < 3000; i++) list.push(mutate(valid[i % valid.length]!));
    return list;
  }

  it("never throws, always answers in the documented shapes, and segmentation never changes the answer", () => {
    const problems: string[] = [];
    let answered = 0;
    let accepted = 0;
    for (const bytes of inputs()) {
      const sizes = [1 + Math.floor(random() * 17), 1 + Math.floor(random() * 5)];
      const hex = bytes.toString("hex");
      let whole: FirstFlight | null;
      let pieces: FirstFlight | null;
      try {
        whole = read(bytes);
        pieces = read(bytes, sizes);
      } catch (error) {
        problems.push(`threw ${String(error)} on ${hex}`);
        continue;
      }
      if (JSON.stringify(whole) !== JSON.stringify(pieces)) problems.push(`chunks ${sizes.join(",")} changed the answer for ${hex}`);
      if (whole === null) continue;
      answered++;
      if (!["server-hello", "alert", "garbage"].includes(whole.kind)) problems.push(`answer ${JSON.stringify(whole)} for ${hex}`);
      for (const version of offered) {
        const judged = judgeFirstFlight(version, whole);
        // Only a well-formed positive answer is ever "accepted", with a cipher we offered.
        if (judged.outcome === "accepted" && !(whole.kind === "server-hello" && typeof judged.cipher === "string")) problems.push(`accepted ${hex}`);
        if (judged.outcome === "accepted") accepted++;
        else if (!["rejected", "unknown"].includes(judged.outcome) || typeof judged.reason !== "string") problems.push(`${JSON.stringify(judged)} for ${hex}`);
      }
    }
    expect(problems).toEqual([]);
    // The inputs do reach every branch: answers of every kind, some of them accepted.
    expect(answered).toBeGreaterThan(3000);
    expect(accepted).toBeGreaterThan(0);
  });
});

// A fixed self-signed P-256 certificate (valid 2026-2126) standing for a server's leaf.
const LEAF_PEM = `-----BEGIN CERTIFICATE-----
MIIBrTCCAVKgAwIBAgIBATAKBggqhkjOPQQDAjAqMRAwDgYDVQQDDAdteDEubGFi
MRYwFAYDVQQKDA10bHNmbGVldCB0ZXN0MCAXDTI2MTIwODAwMTMxM1oYDzIxMjYx
MTE0MDAxMzEzWjAqMRAwDgYDVQQDDAdteDEubGFiMRYwFAYDVQQKDA10bHNmbGVl
dCB0ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAESwVJnUdBzcJfuo0Nzzzk
glGKCeG5H3ujC2eQ1Oo/o2tmNGwkxHawT52ReBGpHl88/ikd4SpXlCPbwPh4XXU1
TaNnMGUwHQYDVR0OBBYEFBkrIdG+PYCk/2J3h2s7sI5UXhEYMB8GA1UdIwQYMBaA
FBkrIdG+PYCk/2J3h2s7sI5UXhEYMA8GA1UdEwEB/wQFMAMBAf8wEgYDVR0RBAsw
CYIHbXgxLmxhYjAKBggqhkjOPQQDAgNJADBGAiEAuRCnTM8BalQcp6bFTC2pzB1V
4/EwxzSMfEHQCfhoUOYCIQDKix/Q6J73qTiA+Bjv6H3SkvY5yvZJpgCx/xKAVIO8
Ow==
-----END CERTIFICATE-----`;
const LEAF = new X509Certificate(LEAF_PEM).raw;
const LEAF_SUMMARY = { subject: "CN=mx1.lab, O=tlsfleet test", issuer: "CN=mx1.lab, O=tlsfleet test", san: ["DNS:mx1.lab"], notBefore: "2026-12-08T00:13:13Z", notAfter: "2126-11-14T00:13:13Z" };

const u24 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
/** A Certificate message (RFC 5246 7.4.2) carrying `chain`, leaf first. */
function certificateMessage(chain: Buffer[]): Buffer {
  const list = Buffer.concat(chain.map((der) => Buffer.concat([u24(der.length), der])));
  return handshakeMessage(11, Buffer.concat([u24(list.length), list]));
}
/** A server random ending in RFC 8446 4.1.3's sentinel. */
const sentinelRandom = (last: number) => Buffer.concat([randomBytes(24), Buffer.from("DOWNGRD", "latin1"), Buffer.from([last])]);
const serverKeyExchange = handshakeMessage(12, randomBytes(300));
const serverHelloDone = handshakeMessage(14, Buffer.alloc(0));

/** A TLS 1.0-1.2 server flight: ServerHello, Certificate, ServerKeyExchange, ServerHelloDone, all in one record. */
function flight(o: { version?: number; suite?: number; random?: Buffer; chain?: Buffer[] } = {}): Buffer {
  const version = o.version ?? 0x0303;
  const messages = [handshakeMessage(2, serverHelloBody({ version, suite: o.suite ?? 0x009c, random: o.random })), certificateMessage(o.chain ?? [LEAF, randomBytes(900)]), serverKeyExchange, serverHelloDone];
  return record(22, Buffer.concat(messages), version);
}

/** Feeds `bytes` to a certificate-reading reader in the given chunk sizes; the answer, or what cutShort() says at the end. */
function readFlight(bytes: Buffer, chunkSizes: number[] = [bytes.length], cap = CERTIFICATE_FLIGHT_CAP): FirstFlight | null {
  const reader = new FirstFlightReader(cap, true);
  let answer: FirstFlight | null = null;
  for (let at = 0, i = 0; at < bytes.length && !answer; i++) {
    const size = Math.max(1, chunkSizes[i % chunkSizes.length]!);
    answer = reader.push(bytes.subarray(at, at + size));
    at += size;
  }
  return answer ?? reader.cutShort("connection closed");
}

describe("reading the certificate and the downgrade sentinel from a TLS 1.0-1.2 flight", () => {
  const segmentations = [[1], [3, 7], [5], [64], [1500], [100_000]];

  it("reads the leaf from a flight in one record, whatever the TCP segmentation", () => {
    const bytes = flight();
    for (const sizes of segmentations) {
      expect(judgeFirstFlight("TLSv1.2", readFlight(bytes, sizes)!), `chunks ${sizes.join(",")}`).toEqual({ outcome: "accepted", reason: null, cipher: "AES128-GCM-SHA256", certificate: LEAF_SUMMARY });
    }
  });

  it("reads the leaf when every handshake message has its own record, and when the Certificate spans records", () => {
    const hello = handshakeMessage(2, serverHelloBody({ version: 0x0303, suite: 0x009c }));
    const certificate = certificateMessage([LEAF, randomBytes(20_000)]);
    const split = [hello, certificate.subarray(0, 100), certificate.subarray(100, 16_000), certificate.subarray(16_000), serverKeyExchange, serverHelloDone];
    const bytes = Buffer.concat(split.map((part) => record(22, part)));
    for (const sizes of segmentations) {
      expect(judgeFirstFlight("TLSv1.2", readFlight(bytes, sizes)!).certificate, `chunks ${sizes.join(",")}`).toEqual(LEAF_SUMMARY);
    }
  });

  it("takes DOWNGRD\\x01 in a TLS 1.2 ServerHello as TLS 1.3 support, and its absence as nothing", () => {
    expect(judgeFirstFlight("TLSv1.2", readFlight(flight({ random: sentinelRandom(1) }))!)).toMatchObject({ outcome: "accepted", downgradeSentinel: "TLSv1.3", certificate: LEAF_SUMMARY });
    expect(judgeFirstFlight("TLSv1.2", readFlight(flight())!)).not.toHaveProperty("downgradeSentinel");
    // DOWNGRD\x00 belongs in a 1.0/1.1 ServerHello (a server of 1.2 or later); in a 1.2 one it means nothing.
    expect(judgeFirstFlight("TLSv1.2", readFlight(flight({ random: sentinelRandom(0) }))!)).not.toHaveProperty("downgradeSentinel");
    expect(judgeFirstFlight("TLSv1", readFlight(flight({ version: 0x0301, suite: 0x002f, random: sentinelRandom(0) }))!)).toMatchObject({ downgradeSentinel: "TLSv1.2", certificate: LEAF_SUMMARY });
    // ... and DOWNGRD\x01 in a 1.0 ServerHello breaks the RFC: no conclusion from it.
    expect(judgeFirstFlight("TLSv1", readFlight(flight({ version: 0x0301, suite: 0x002f, random: sentinelRandom(1) }))!)).not.toHaveProperty("downgradeSentinel");
    // The sentinel of a ServerHello that answers another version than ours counts for nothing either.
    expect(judgeFirstFlight("TLSv1.1", readFlight(flight({ random: sentinelRandom(1) }))!)).toEqual({ outcome: "rejected", reason: "unsupported_protocol" });
  });

  it("answers a TLS 1.3 ServerHello or HelloRetryRequest at once: nothing after it is in clear", () => {
    const reader = new FirstFlightReader(CERTIFICATE_FLIGHT_CAP, true);
    expect(reader.push(tls13Hello)).toMatchObject({ kind: "server-hello", versionCode: 0x0304 });
    const retry = new FirstFlightReader(CERTIFICATE_FLIGHT_CAP, true).push(serverHello({ version: 0x0303, suite: 0x1301, supportedVersion: 0x0304, random: HRR_RANDOM }));
    expect(judgeFirstFlight("TLSv1.3", retry!)).toEqual({ outcome: "accepted", reason: null, cipher: "TLS_AES_128_GCM_SHA256" });
  });

  it("an alert instead of the ServerHello is the version's answer; an alert after it costs only the certificate", () => {
    expect(judgeFirstFlight("TLSv1.2", readFlight(alert(2, 70))!)).toEqual({ outcome: "rejected", reason: "protocol_version" });
    const hello = record(22, handshakeMessage(2, serverHelloBody({ version: 0x0303, suite: 0x009c })));
    expect(judgeFirstFlight("TLSv1.2", readFlight(Buffer.concat([hello, alert(2, 80)]))!)).toEqual({
      outcome: "accepted",
      reason: null,
      cipher: "AES128-GCM-SHA256",
      certificateUnreadable: "alert internal_error after the ServerHello",
    });
    // A warning unrecognized_name between them is skipped, as before the ServerHello.
    expect(judgeFirstFlight("TLSv1.2", readFlight(Buffer.concat([hello, alert(1, 112), record(22, certificateMessage([LEAF]))]))!).certificate).toEqual(LEAF_SUMMARY);
  });

  it("a flight cut short inside the Certificate gives the version and no certificate (a full handshake fetches it)", () => {
    const whole = flight();
    const truncated = whole.subarray(0, 300);
    for (const sizes of segmentations) {
      expect(judgeFirstFlight("TLSv1.2", readFlight(truncated, sizes)!), `chunks ${sizes.join(",")}`).toEqual({
        outcome: "accepted",
        reason: null,
        cipher: "AES128-GCM-SHA256",
        certificateUnreadable: "connection closed before the Certificate message was complete",
      });
    }
    // Nothing at all before the close: not even a ServerHello to judge.
    expect(new FirstFlightReader(CERTIFICATE_FLIGHT_CAP, true).cutShort("timeout")).toBeNull();
  });

  it("a chain over the byte cap gives the version and no certificate, and stops buffering", () => {
    // Records of at most 2^14 bytes, as a server must cut them (RFC 5246 6.2.1).
    const messages = Buffer.concat([handshakeMessage(2, serverHelloBody({ version: 0x0303, suite: 0x009c })), certificateMessage([LEAF, randomBytes(15_000), randomBytes(15_000)])]);
    const records: Buffer[] = [];
    for (let at = 0; at < messages.length; at += 16_384) records.push(record(22, messages.subarray(at, at + 16_384)));
    const big = Buffer.concat(records);
    expect(judgeFirstFlight("TLSv1.2", readFlight(big)!).certificate).toEqual(LEAF_SUMMARY);
    const judged = judgeFirstFlight("TLSv1.2", readFlight(big, [1000], 8 * 1024)!);
    expect(judged).toMatchObject({ outcome: "accepted", cipher: "AES128-GCM-SHA256" });
    expect(judged.certificateUnreadable).toMatch(/^(Certificate message of \d+ bytes|no whole Certificate message within 8192 bytes)$/);
    expect(judged.certificate).toBeUndefined();
  });

  it("an anonymous suite's flight has no Certificate: the server has none to show", () => {
    const bytes = record(22, Buffer.concat([handshakeMessage(2, serverHelloBody({ version: 0x0303, suite: 0x0034 })), serverKeyExchange, serverHelloDone]));
    expect(judgeFirstFlight("TLSv1.2", readFlight(bytes)!)).toEqual({ outcome: "accepted", reason: null, cipher: "ADH-AES128-SHA", certificate: null });
  });

  it("garbage in place of the certificate costs only the certificate", () => {
    const hello = record(22, handshakeMessage(2, serverHelloBody({ version: 0x0303, suite: 0x009c })));
    const cases: [Buffer, string][] = [
      [Buffer.concat([hello, Buffer.from("HTTP/1.1 400\r\n")]), 'not a TLS record: "HTTP/"'],
      [Buffer.concat([hello, record(22, handshakeMessage(4, Buffer.alloc(10)))]), "handshake message 4 where a Certificate belongs"],
      [Buffer.concat([hello, record(22, handshakeMessage(11, Buffer.from([0, 0, 9, 0, 0, 1, 0])))]), "malformed Certificate message (list length)"],
      [Buffer.concat([hello, record(22, handshakeMessage(11, Buffer.from([0, 0, 0])))]), "malformed Certificate message (no certificate in it)"],
      [Buffer.concat([hello, record(22, certificateMessage([Buffer.from("not DER at all")]))]), "the leaf certificate does not parse"],
    ];
    for (const [bytes, detail] of cases) {
      const judged = judgeFirstFlight("TLSv1.2", readFlight(bytes)!);
      expect(judged.outcome, detail).toBe("accepted");
      expect(judged.certificateUnreadable, detail).toContain(detail);
    }
  });

  it("the certificate-reading reader never throws on hostile input either", () => {
    const base = flight({ random: sentinelRandom(1) });
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(base);
      for (let j = 0; j < 1 + Math.floor(random() * 6); j++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const cut = bytes.subarray(0, Math.floor(random() * bytes.length) + 1);
      const whole = readFlight(cut);
      expect(JSON.stringify(readFlight(cut, [1 + Math.floor(random() * 50)]))).toBe(JSON.stringify(whole));
      if (whole) expect(["accepted", "rejected", "unknown"]).toContain(judgeFirstFlight("TLSv1.2", whole).outcome);
    }
  });
});
