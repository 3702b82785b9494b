// The prober against peers that misbehave the way real mail servers and middleboxes do, and
// against real Node TLS servers limited to particular versions. Everything on loopback.
import { createServer as createTlsServer, type SecureVersion, type TlsOptions } from "node:tls";
import { connect as connectTcp, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeEndpoint, probeMany, type ProbeOptions } from "../../lib/tls";
import type { ProbeMode } from "../../lib/tls/probe";
import { TLS13_FROM_SENTINEL } from "../../lib/tls/version-schedule";
import type { ProbeReport, ProbeTarget, TlsVersion } from "../../lib/tls/types";
import { selfSignedCertificate, type PeerCertificate } from "../lab/peers/common";
import { startPeer, type RunningPeer } from "../lab/peers/spawn";

const VERSIONS: readonly TlsVersion[] = ["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];
// Every behaviour below holds in both probing modes.
const MODES: ProbeMode[] = ["hello", "full"];
const peers: RunningPeer[] = [];
const servers: Server[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
let certificate: PeerCertificate;

async function peer(script: string, args: string[] = []): Promise<RunningPeer> {
  const running = await startPeer(script, args);
  peers.push(running);
  return running;
}

/**
 * A Node TLS server accepting exactly [min, max]; returns its port, a live connection count, and
 * how many handshakes it finished (`secureConnection`) and at which versions.
 */
async function tlsServer(minVersion: SecureVersion, maxVersion: SecureVersion, host = "127.0.0.1") {
  const stats = { open: 0, maxOpen: 0, total: 0, finished: [] as string[] };
  const server = quietTlsServer({ minVersion, maxVersion, ciphers: "ALL:@SECLEVEL=0" });
  server.on("secureConnection", (socket) => stats.finished.push(String(socket.getProtocol())));
  server.on("connection", (socket) => {
    stats.total++;
    stats.maxOpen = Math.max(stats.maxOpen, ++stats.open);
    let counted = true;
    const gone = () => {
      if (counted) stats.open--;
      counted = false;
    };
    // The client's FIN (or RST) is when it let go of the connection.
    socket.once("end", gone);
    socket.once("close", gone);
  });
  return { port: await listenForFile(server, host), stats };
}

/** A TLS server with the lab certificate that reads and ignores what it is sent, and never logs a failed handshake. */
function quietTlsServer(options: TlsOptions) {
  const server = createTlsServer({ ...certificate, ...options }, (socket) => {
    socket.on("error", () => {});
    socket.resume();
    socket.on("end", () => socket.end());
  });
  server.on("tlsClientError", () => {});
  return server;
}

/** Listens on a free port, closed with the file's other servers; resolves to the port. */
async function listenForFile(server: Server, host = "127.0.0.1"): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  servers.push(server);
  return (server.address() as AddressInfo).port;
}

/**
 * A quiet TLS server behind a TCP front that reads each connection's first bytes (the ClientHello):
 * `intercept` may deal with the connection itself and return true; otherwise it is passed through.
 */
async function behindHelloFront(options: TlsOptions, intercept: (hello: Buffer, socket: Socket) => boolean, o: { stripSentinel?: boolean } = {}): Promise<number> {
  return behindHelloFrontOf(await listenForFile(quietTlsServer(options)), intercept, o);
}

/** The same front for a server already listening on `innerPort`. */
async function behindHelloFrontOf(innerPort: number, intercept: (hello: Buffer, socket: Socket) => boolean, o: { stripSentinel?: boolean } = {}): Promise<number> {
  const front = createTcpServer((socket) => {
    socket.on("error", () => {});
    socket.once("data", (hello: Buffer) => {
      if (intercept(hello, socket)) return;
      const upstream = connectTcp(innerPort, "127.0.0.1");
      upstream.write(hello);
      upstream.on("error", () => socket.destroy());
      socket.pipe(upstream);
      let first = true;
      upstream.on("data", (chunk: Buffer) => {
        // Record header (5), handshake header (4), legacy_version (2), then the random: its last
        // 8 bytes are where RFC 8446 4.1.3 puts "DOWNGRD\x01".
        if (first && o.stripSentinel && chunk.length >= 43 && chunk[0] === 22 && chunk[5] === 2) chunk.fill(0, 35, 43);
        first = false;
        socket.write(chunk);
      });
      upstream.on("end", () => socket.end());
    });
  });
  return listenForFile(front);
}

function noneRejected(report: ProbeReport): void {
  for (const version of VERSIONS) expect(report.protocols[version], `${version}: ${report.reasons[version]}`).not.toBe("rejected");
}

beforeAll(() => {
  process.on("unhandledRejection", onUnhandled);
  certificate = selfSignedCertificate("server.lab");
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  await Promise.all(peers.map((p) => p.stop()));
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  expect(unhandled).toEqual([]);
});

describe.each(MODES)("real TLS servers limited to particular versions (%s mode)", (mode) => {
  it.each([
    ["TLSv1", "TLSv1.3", { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "accepted" }, "noncompliant"],
    ["TLSv1.2", "TLSv1.3", { TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" }, "compliant"],
    ["TLSv1.2", "TLSv1.2", { TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "rejected" }, "compliant"],
    ["TLSv1.3", "TLSv1.3", { TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "rejected", "TLSv1.3": "accepted" }, "compliant"],
    ["TLSv1", "TLSv1.1", { TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "rejected", "TLSv1.3": "rejected" }, "at_risk"],
  ] as const)("server %s..%s: %j is %s", async (min, max, protocols, verdict) => {
    const { port } = await tlsServer(min, max);
    const report = await probeEndpoint({ host: "127.0.0.1", port, service: "tls" }, { mode });
    expect(report.protocols).toEqual(protocols);
    expect(report.verdict).toBe(verdict);
    expect(report.notTested).toEqual(["SSLv3"]);
    for (const version of VERSIONS) {
      // TLS 1.3 proven by the 1.2 ServerHello's downgrade sentinel had no 1.3 connection, so no 1.3 cipher.
      const bySentinel = report.reasons[version] === TLS13_FROM_SENTINEL;
      if (protocols[version] === "accepted" && !bySentinel) expect(report.cipher[version], version).toMatch(/^[A-Z0-9_-]+$/);
      else expect(report.cipher[version]).toBeUndefined();
    }
    expect(report.certificate).toMatchObject({ subject: "CN=server.lab, O=tlsfleet lab", issuer: "CN=server.lab, O=tlsfleet lab" });
    expect(report.certificate!.san).toContain("IP Address:127.0.0.1");
    expect(Date.parse(report.certificate!.notAfter)).toBeGreaterThan(Date.now());
  });

  /**
   * Dovecot 2.3 with ssl_min_protocol: a TLS server that hangs up on a ClientHello whose
   * client_version is below TLS 1.2, without an alert (or, with `partial`, after one stray byte).
   */
  async function hangsUpOnLegacy(partial: boolean): Promise<number> {
    return behindHelloFront({ minVersion: "TLSv1.2" }, (hello, socket) => {
      // Record header (5 bytes), handshake header (4), then client_version.
      if (hello.length < 11 || hello.readUInt16BE(9) >= 0x0303) return false;
      if (partial) socket.end(Buffer.from([0x16]));
      else socket.end();
      return true;
    });
  }

  it("a version the server hangs up on without a word is rejected when another version completed", async () => {
    const port = await hangsUpOnLegacy(false);
    const report = await probeEndpoint({ host: "127.0.0.1", port, service: "tls" }, { mode });
    expect(report.protocols).toEqual({ TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" });
    expect(report.reasons).toMatchObject({ TLSv1: "closed without alert after ClientHello", "TLSv1.1": "closed without alert after ClientHello" });
    expect(report.verdict).toBe("compliant");
  });

  it("a hang-up after the server sent a byte stays unknown, completed handshakes or not", async () => {
    const port = await hangsUpOnLegacy(true);
    const report = await probeEndpoint({ host: "127.0.0.1", port, service: "tls" }, { mode });
    expect(report.protocols).toEqual({ TLSv1: "unknown", "TLSv1.1": "unknown", "TLSv1.2": "accepted", "TLSv1.3": "accepted" });
    expect(report.verdict).toBe("error");
  });

  it("names the rejecting alert or the other version the server chose", async () => {
    const legacyOnly = await tlsServer("TLSv1", "TLSv1");
    const report = await probeEndpoint({ host: "127.0.0.1", port: legacyOnly.port, service: "tls" }, { mode });
    expect(report.reasons).toEqual({ TLSv1: null, "TLSv1.1": "unsupported_protocol", "TLSv1.2": "unsupported_protocol", "TLSv1.3": "protocol_version" });
  });

  it("never has more than 2 connections open to one address, across endpoints and callers", async () => {
    const { port, stats } = await tlsServer("TLSv1", "TLSv1.3");
    const targets: ProbeTarget[] = Array.from({ length: 6 }, () => ({ host: "127.0.0.1", port, service: "tls" as const }));
    const many = (async () => {
      const reports: ProbeReport[] = [];
      for await (const report of probeMany(targets, { concurrency: 6, mode })) reports.push(report);
      return reports;
    })();
    const [reports, single] = await Promise.all([many, probeEndpoint({ host: "127.0.0.1", port, service: "tls" }, { mode })]);
    expect([...reports, single].map((r) => r.verdict)).toEqual(Array(7).fill("noncompliant"));
    // Hello mode: 1.2 (its sentinel settles 1.3), 1.0, 1.1.
    expect(stats.total).toBe(7 * (mode === "hello" ? 3 : 4));
    expect(stats.maxOpen).toBeLessThanOrEqual(2);
  });
});

describe("hello mode", () => {
  it("an OpenSSL server accepting TLS 1.0-1.3: 3 connections, no finished handshake, and the certificate a full handshake sees", async () => {
    const { port, stats } = await tlsServer("TLSv1", "TLSv1.3");
    const report = await probeEndpoint({ host: "127.0.0.1", port, service: "tls" }, { mode: "hello" });
    expect(report.protocols).toEqual({ TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "accepted" });
    expect(report.reasons["TLSv1.3"]).toBe(TLS13_FROM_SENTINEL);
    expect(stats.total).toBe(3);
    expect(stats.finished).toEqual([]);
    // Each from its version's ServerHello (this Node server picks by its own order); none for 1.3.
    expect(Object.keys(report.cipher).sort()).toEqual(["TLSv1", "TLSv1.1", "TLSv1.2"]);
    const full = await probeEndpoint({ host: "127.0.0.1", port, service: "tls" }, { mode: "full" });
    expect(report.certificate).not.toBeNull();
    expect(report.certificate).toEqual(full.certificate);
  });

  it("TLS 1.3 disabled: the 1.3 answer comes from a real 1.3 hello, never from the missing sentinel; the certificate from the 1.2 flight", async () => {
    const { port, stats } = await tlsServer("TLSv1", "TLSv1.2");
    let offered13 = 0;
    const front = await behindHelloFrontOf(port, (hello) => {
      if (offersTls13(hello)) offered13++;
      return false;
    });
    const report = await probeEndpoint({ host: "127.0.0.1", port: front, service: "tls" }, { mode: "hello" });
    expect(report.protocols).toEqual({ TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "rejected" });
    // The server's own alert to our 1.3 hello.
    expect(report.reasons["TLSv1.3"]).toBe("protocol_version");
    expect(offered13).toBe(1);
    // 1.2, 1.3, 1.0, 1.1 hellos and no certificate handshake: none finished.
    expect(stats.total).toBe(4);
    expect(stats.finished).toEqual([]);
    expect(report.certificate).toMatchObject({ subject: "CN=server.lab, O=tlsfleet lab" });
    const full = await probeEndpoint({ host: "127.0.0.1", port, service: "tls" }, { mode: "full" });
    expect(report.certificate).toEqual(full.certificate);
  });

  it("a TLS 1.3-only server: the certificate from one full handshake at 1.3, the only one finished", async () => {
    const { port, stats } = await tlsServer("TLSv1.3", "TLSv1.3");
    const report = await probeEndpoint({ host: "127.0.0.1", port, service: "tls" }, { mode: "hello" });
    expect(report.protocols).toEqual({ TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "rejected", "TLSv1.3": "accepted" });
    expect(report.certificate).toMatchObject({ subject: "CN=server.lab, O=tlsfleet lab" });
    expect(stats.total).toBe(5);
    // The server counts a handshake finished once our Finished arrives, a moment after we do.
    await expect.poll(() => stats.finished).toEqual(["TLSv1.3"]);
  });

  /** True when a ClientHello record offers TLS 1.3 (a supported_versions extension, RFC 8446 4.2.1). */
  function offersTls13(hello: Buffer): boolean {
    try {
      let at = 5 + 4 + 2 + 32;
      at += 1 + hello[at]!;
      at += 2 + hello.readUInt16BE(at);
      at += 1 + hello[at]!;
      const end = at + 2 + hello.readUInt16BE(at);
      for (at += 2; at + 4 <= end; at += 4 + hello.readUInt16BE(at + 2)) if (hello.readUInt16BE(at) === 43) return true;
    } catch {
      // A hello we cannot read offers nothing we can see.
    }
    return false;
  }

  it("retries a TLS 1.3 handshake that failed as a 1.3 hello; a HelloRetryRequest counts as accepted", async () => {
    // The server only does P-384, so our hello's X25519 key share gets a HelloRetryRequest.
    // In front: the first connection that offers TLS 1.3 is hung up on, the rest pass.
    // The front also blanks the 1.2 ServerHello's downgrade sentinel, or no 1.3 hello would be needed.
    let dropped = 0;
    const port = await behindHelloFront(
      { minVersion: "TLSv1.2", ecdhCurve: "P-384" },
      (hello, socket) => {
        if (!offersTls13(hello) || dropped++ !== 0) return false;
        socket.destroy();
        return true;
      },
      { stripSentinel: true },
    );
    const report = await probeEndpoint({ host: "127.0.0.1", port, service: "tls" }, { mode: "hello" });
    expect(dropped).toBeGreaterThanOrEqual(2);
    expect(report.protocols, JSON.stringify(report.reasons)).toEqual({ TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" });
    expect(report.cipher["TLSv1.3"]).toMatch(/^TLS_AES_|^TLS_CHACHA20_/);
    // The certificate comes from the 1.2 hello's flight.
    expect(report.certificate).toMatchObject({ subject: "CN=server.lab, O=tlsfleet lab" });
  });

  it("reads the server's answer correctly when every byte arrives in its own TCP segment", async () => {
    const { port: tlsPort } = await tlsServer("TLSv1.1", "TLSv1.2");
    let trickled = 0;
    const relay = createTcpServer((client) => {
      client.on("error", () => {});
      const upstream = connectTcp(tlsPort, "127.0.0.1");
      upstream.on("error", () => client.destroy());
      client.pipe(upstream);
      client.setNoDelay(true);
      // One byte per write, each on its own turn of the event loop: separate segments on loopback.
      let pending = Buffer.alloc(0);
      let ended = false;
      let pumping = false;
      const pump = () => {
        if (client.destroyed) return;
        if (pending.length === 0) {
          pumping = false;
          if (ended) client.end();
          return;
        }
        pumping = true;
        trickled++;
        const byte = pending.subarray(0, 1);
        pending = pending.subarray(1);
        client.write(byte, () => setImmediate(pump));
      };
      upstream.on("data", (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        if (!pumping) pump();
      });
      upstream.on("end", () => {
        ended = true;
        if (!pumping) pump();
      });
    });
    const report = await probeEndpoint({ host: "127.0.0.1", port: await listenForFile(relay), service: "tls" }, { mode: "hello" });
    expect(report.protocols, JSON.stringify(report.reasons)).toEqual({ TLSv1: "rejected", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "rejected" });
    expect(report.cipher["TLSv1.1"]).toMatch(/^[A-Z0-9-]+$/);
    expect(trickled).toBeGreaterThan(1000);
  });
});

describe("probing many endpoints", () => {
  it("yields in input order by default, in completion order on request, and stops early on break", async () => {
    const silent = await peer("never-greets.ts");
    const fast = await tlsServer("TLSv1.2", "TLSv1.3");
    const targets: ProbeTarget[] = [
      { host: silent.host, port: silent.port, service: "smtp" },
      { host: "127.0.0.1", port: fast.port, service: "tls" },
      { host: "::1", port: (await tlsServer("TLSv1", "TLSv1.3", "::1")).port, service: "tls" },
    ];
    const collect = async (order: "input" | "completion") => {
      const seen: string[] = [];
      for await (const report of probeMany(targets, { order, timeoutMs: 700 })) seen.push(`${report.target} ${report.verdict}`);
      return seen;
    };
    const [silentLine, fastLine, v6Line] = [
      `127.0.0.1:${silent.port} unreachable`,
      `127.0.0.1:${fast.port} compliant`,
      `${formatV6(targets[2]!.port)} noncompliant`,
    ];
    expect(await collect("input")).toEqual([silentLine, fastLine, v6Line]);
    // The silent peer shares 127.0.0.1 with the fast server and holds both per-address slots
    // until its greeting times out; the IPv6 server has an address of its own.
    expect(await collect("completion")).toEqual([v6Line, silentLine, fastLine]);

    const started = Date.now();
    for await (const report of probeMany([targets[1]!, ...Array(20).fill(targets[0]!)], { timeoutMs: 5000, concurrency: 4 })) {
      expect(report.verdict).toBe("compliant");
      break;
    }
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

function formatV6(port: number): string {
  return `[::1]:${port}`;
}

describe.each(MODES)("STARTTLS dialogs with a real upgrade (%s mode)", (mode) => {
  it("SMTP: waits out a slow greeting cut mid-line without talking first, then sees TLS 1.2+ only", async () => {
    const slow = await peer("slow-greeting.ts", ["--greeting-ms", "1500"]);
    const report = await probeEndpoint({ host: slow.host, port: slow.port, service: "smtp" }, { timeoutMs: 5000, mode });
    // The peer answers 554 to a client that speaks before the final "220 ", which would show as no-tls.
    expect(report).toMatchObject({ starttls: "offered", verdict: "compliant", error: null });
    expect(report.protocols).toEqual({ TLSv1: "rejected", "TLSv1.1": "rejected", "TLSv1.2": "accepted", "TLSv1.3": "accepted" });
  });

  it("IMAP: a002 STARTTLS upgrade, all versions accepted", async () => {
    const imap = await peer("mail-server.ts", ["--protocol", "imap", "--min-version", "TLSv1"]);
    const report = await probeEndpoint({ host: imap.host, port: imap.port, service: "imap" }, { mode });
    expect(report).toMatchObject({ starttls: "offered", verdict: "noncompliant" });
    expect(Object.values(report.protocols)).toEqual(["accepted", "accepted", "accepted", "accepted"]);
  });

  it("POP3: STLS upgrade, legacy versions rejected", async () => {
    const pop3 = await peer("mail-server.ts", ["--protocol", "pop3"]);
    const report = await probeEndpoint({ host: pop3.host, port: pop3.port, service: "pop3" }, { mode });
    expect(report).toMatchObject({ starttls: "offered", verdict: "compliant" });
  });

  it("SMTP without STARTTLS in EHLO is no-tls, reported as not offered, and quickly", async () => {
    const plain = await peer("mail-server.ts", ["--no-starttls"]);
    const report = await probeEndpoint({ host: plain.host, port: plain.port, service: "submission" }, { mode });
    expect(report).toMatchObject({ starttls: "not-offered", verdict: "no-tls", error: "STARTTLS not offered in the EHLO reply" });
    expect(report.durationMs).toBeLessThan(1000);
  });
});

describe.each(MODES)("misbehaving peers (%s mode)", (mode) => {
  it("a server that never greets is unreachable after one greeting timeout, never rejected", async () => {
    const silent = await peer("never-greets.ts");
    const started = Date.now();
    const report = await probeEndpoint({ host: silent.host, port: silent.port, service: "smtp" }, { timeoutMs: 1000, mode });
    expect(report.verdict).toBe("unreachable");
    expect(report.error).toMatch(/no complete reply within 1000 ms \(waiting for the greeting\)/);
    noneRejected(report);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("a server that drops the connection after '220' to STARTTLS gives unknown, never rejected", async () => {
    const dropper = await peer("drop-after-starttls.ts");
    const report = await probeEndpoint({ host: dropper.host, port: dropper.port, service: "smtp" }, { mode });
    expect(report).toMatchObject({ starttls: "offered", verdict: "error" });
    expect(Object.values(report.protocols)).toEqual(["unknown", "unknown", "unknown", "unknown"]);
    for (const version of VERSIONS) expect(report.reasons[version]).toMatch(/^(closed|reset)$/);
    expect(report.durationMs).toBeLessThan(2000);
  });

  it("a server that stalls after STARTTLS gives unknown (timeout) and the endpoint ends by its deadline", async () => {
    const staller = await peer("drop-after-starttls.ts", ["--stall"]);
    const options: ProbeOptions = { timeoutMs: 800, deadlineMs: 2500, mode };
    const started = Date.now();
    const report = await probeEndpoint({ host: staller.host, port: staller.port, service: "smtp" }, options);
    const elapsed = Date.now() - started;
    expect(report.verdict).toBe("error");
    noneRejected(report);
    expect(Object.values(report.reasons).every((r) => r === "timeout" || r === "deadline")).toBe(true);
    expect(elapsed).toBeLessThan(2500 + 500);
  });

  it("retries an unknown once: 4 versions x 2 attempts against a peer that stalls", async () => {
    const staller = await peer("drop-after-starttls.ts", ["--stall"]);
    const started = Date.now();
    const report = await probeEndpoint({ host: staller.host, port: staller.port, service: "smtp" }, { timeoutMs: 400, deadlineMs: 20_000, mode });
    // Two lanes, eight handshakes of 400 ms each: about 1.6 s, and every reason is the timeout.
    expect(Object.values(report.reasons)).toEqual(["timeout", "timeout", "timeout", "timeout"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  });

  it.each([[[]], [["--no-newlines"]]])("an endless banner %j is cut at 64 KiB: fast, error, bounded memory", async (args) => {
    const banner = await peer("endless-banner.ts", args);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const report = await probeEndpoint({ host: banner.host, port: banner.port, service: "smtp" }, { mode });
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    expect(report.verdict).toBe("error");
    expect(report.error).toMatch(/more than 65536 bytes before TLS/);
    noneRejected(report);
    expect(report.durationMs).toBeLessThan(1000);
    expect(peak - before).toBeLessThan(50 * 1024 * 1024);
  });

  it.each([[["--reply", "http"]], [["--reply", "binary"]]])("garbage answered to the ClientHello %j is unknown, never rejected", async (args) => {
    const garbage = await peer("garbage-after-hello.ts", args);
    const report = await probeEndpoint({ host: garbage.host, port: garbage.port, service: "tls" }, { mode });
    expect(report.verdict).toBe("error");
    noneRejected(report);
    for (const version of VERSIONS) expect(report.reasons[version]).toMatch(/^garbage \(/);
  });

  /** A plain TCP server on loopback whose every connection is handed to `behave`. */
  async function tcpServer(behave: (socket: Socket) => void): Promise<number> {
    const server = createTcpServer((socket) => {
      socket.on("error", () => {});
      // Read (and drop) what the client sends, or its FIN is never seen and the socket never closes.
      socket.resume();
      behave(socket);
    });
    return listenForFile(server);
  }

  it("a service that hangs up before greeting is unreachable, tried twice per version, never rejected", async () => {
    let connections = 0;
    const port = await tcpServer((socket) => {
      connections++;
      socket.destroy();
    });
    const report = await probeEndpoint({ host: "127.0.0.1", port, service: "imap" }, { mode });
    expect(report.verdict).toBe("unreachable");
    expect(report.error).toMatch(/^no greeting from the service: closed/);
    noneRejected(report);
    expect(connections).toBe(8);
  });

  it("an SMTP server busy with '421' is retried until the window is spent and ends as error, never no-tls or rejected", async () => {
    const port = await tcpServer((socket) => socket.end("421 4.7.0 mx1 Error: too many connections\r\n"));
    // A short window: the default (the endpoint deadline, 30 s) would make this test wait as long.
    const report = await probeEndpoint({ host: "127.0.0.1", port, service: "smtp" }, { mode, deadlineMs: 1_500 });
    expect(report).toMatchObject({ verdict: "error", starttls: "not-applicable" });
    for (const version of VERSIONS) expect(report.reasons[version]).toMatch(/^try again later \(greeting refused: 421 4\.7\.0/);
  });

  it("a closed port is unreachable at once", async () => {
    const { port } = await tlsServer("TLSv1.2", "TLSv1.3");
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const report = await probeEndpoint({ host: "127.0.0.1", port, service: "https" }, { mode });
    expect(report).toMatchObject({ verdict: "unreachable", error: "connection refused" });
  });
});
