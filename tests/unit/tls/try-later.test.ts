// "Try again later" from a mail server (SMTP 421 before TLS) is pacing, not evidence: the prober
// comes back after a pause until the endpoint's window is spent, and an endpoint is reported
// incomplete only then, in the server's words. Against a loopback SMTP server that enforces a
// per-client connection limit the way Postfix's smtpd_client_connection_count_limit does.
import type { AddressInfo, Server, Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionGate, probeEndpoint } from "../../../lib/tls";
import { TryLater } from "../../../lib/tls/try-later";
import { greetingDomain } from "../../../lib/tls/dialog";
import { selfSignedCertificate, type PeerCertificate } from "../../lab/peers/common";
import { createMailServer } from "../../lab/peers/mail-server";

let certificate: PeerCertificate;
const servers: Server[] = [];
const sockets = new Set<Socket>();

beforeAll(() => {
  certificate = selfSignedCertificate("limited.lab");
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** An SMTP server accepting TLS 1.0-1.3 that allows `limit` sessions per client at once. */
async function limitedSmtp(limit: number): Promise<{ port: number; refused: () => number }> {
  let refused = 0;
  const server = createMailServer({
    protocol: "smtp",
    minVersion: "TLSv1",
    maxVersion: "TLSv1.3",
    greetingMs: 0,
    offerStartTls: true,
    afterStartTls: "tls",
    certificate,
    clientConnectionLimit: limit,
    onTooManyConnections: () => refused++,
  });
  servers.push(server);
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, refused: () => refused };
}

describe("a server that says: too many connections, try again later", () => {
  it("still gets a complete matrix when it allows one connection at a time and we would open two", async () => {
    const smtp = await limitedSmtp(1);
    const report = await probeEndpoint({ host: "127.0.0.1", port: smtp.port, service: "smtp" }, { connectionGate: new ConnectionGate(2, 16) });
    expect(smtp.refused()).toBeGreaterThan(0);
    expect(report.protocols).toEqual({ TLSv1: "accepted", "TLSv1.1": "accepted", "TLSv1.2": "accepted", "TLSv1.3": "accepted" });
    expect(report.verdict).toBe("noncompliant");
  });

  it("gets a complete matrix from a limit of 2 while four endpoints' worth of connections press on it", async () => {
    const smtp = await limitedSmtp(2);
    const gate = new ConnectionGate(4, 16);
    const reports = await Promise.all([1, 2].map(() => probeEndpoint({ host: "127.0.0.1", port: smtp.port, service: "smtp" }, { connectionGate: gate, mode: "full" })));
    expect(smtp.refused()).toBeGreaterThan(0);
    for (const r of reports) expect(Object.values(r.protocols)).toEqual(["accepted", "accepted", "accepted", "accepted"]);
  });

  it("reports the versions incomplete, with the server's words, once the window is spent", async () => {
    const smtp = await limitedSmtp(0);
    const started = Date.now();
    const report = await probeEndpoint({ host: "127.0.0.1", port: smtp.port, service: "smtp" }, { deadlineMs: 1_500, connectionGate: new ConnectionGate(2, 16) });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(Object.values(report.protocols)).toEqual(["unknown", "unknown", "unknown", "unknown"]);
    expect(report.reasons["TLSv1.2"]).toMatch(/^try again later \(greeting refused: 421 4\.7\.0 peer\.lab Error: too many connections from 127\.0\.0\.1\)$/);
    // It came back more than once per version before giving up, but not without end.
    expect(smtp.refused()).toBeGreaterThan(4);
    expect(smtp.refused()).toBeLessThan(60);
    // Never "no STARTTLS": a refusal of the connection is not a statement about TLS.
    expect(report.starttls).not.toBe("not-offered");
  });
});

describe("TryLater", () => {
  it("doubles the pause up to its cap and stops when the window is spent", () => {
    const t = new TryLater(10_000, 250, 4_000, () => 0);
    const pauses: number[] = [];
    let now = 0;
    for (let p = t.next(now); p !== null; p = t.next(now)) {
      pauses.push(p);
      now += p;
    }
    expect(pauses).toEqual([250, 500, 1000, 2000, 4000]);
    expect(now).toBeLessThanOrEqual(10_000);
  });

  it("shortens each pause by up to a quarter so endpoints refused together spread out", () => {
    expect(new TryLater(10_000, 1_000, 4_000, () => 1).next(0)).toBe(750);
  });
});

describe("ConnectionGate.slowDown", () => {
  it("allows one connection to a slowed address until the pause is over, then perHost again", () => {
    const gate = new ConnectionGate(3, 16);
    gate.slowDown("198.18.0.11", 1_000, 5_000);
    expect(gate.limitFor("198.18.0.11", 5_500)).toBe(1);
    expect(gate.limitFor("198.18.0.12", 5_500)).toBe(3);
    expect(gate.limitFor("198.18.0.11", 6_001)).toBe(3);
  });
});

describe("greetingDomain: who an SMTP server says it is", () => {
  it.each([
    [220, "mx1.example.com ESMTP Postfix", "mx1.example.com"],
    [421, "4.7.0 mx-limited.lab.tlsfleet.test Error: too many connections from 198.18.0.1", "mx-limited.lab.tlsfleet.test"],
    [220, "EXCH01.corp.example.net Microsoft ESMTP MAIL Service ready at Mon, 7 Dec 2026 20:00:00 +0000", "exch01.corp.example.net"],
    [220, "mail.example.org.", "mail.example.org"],
  ])("%i %s", (code, line, name) => {
    expect(greetingDomain({ code, lines: [line, "second line"] })).toBe(name);
  });

  it.each([
    ["localhost.localdomain ESMTP"],
    ["localhost ESMTP"],
    ["[192.0.2.1] ESMTP"],
    ["ESMTP ready"],
    ["-bad-.example ESMTP"],
    [""],
  ])("names no server in %j", (line) => {
    expect(greetingDomain({ code: 220, lines: [line] })).toBeNull();
  });
});

