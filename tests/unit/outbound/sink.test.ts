// The outbound check sink against real TLS clients on loopback: OpenSSL's s_client (a client
// that owes nothing to our code) pinned to one version, Node's TLS client, and a plain SMTP
// client that never starts TLS. What each connection offered, negotiated, and whether a message
// got through is what the sink must record.
import { spawn } from "node:child_process";
import { connect as connectTcp } from "node:net";
import { connect as connectTls } from "node:tls";
import { describe, expect, it } from "vitest";
import { ClientHelloReader } from "../../../lib/outbound/client-hello-reader";
import { recordingSink } from "./recording-sink";

const sink = recordingSink();
const nextRecord = sink.nextRecord;

const MESSAGE = (token: string) =>
  ["EHLO mx-test.lab", "MAIL FROM:<check@mx-test.lab>", `RCPT TO:<tlsfleet-check-${token}@outbound-check.lab>`, "DATA", "Subject: check", "", "hello", ".", "QUIT", ""].join("\r\n");

/** openssl s_client -starttls smtp with one version flag; the SMTP session comes on stdin. */
function sClient(versionFlag: string, input: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn("openssl", ["s_client", "-starttls", "smtp", "-name", "mx-test.lab", "-connect", `127.0.0.1:${sink.port}`, versionFlag, "-quiet", "-nocommands", "-crlf"], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill(), 15_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    // s_client -crlf turns LF into CRLF itself.
    child.stdin.end(input.replace(/\r\n/g, "\n"));
  });
}

describe("the outbound check sink", () => {
  it("takes a message over TLS 1.2 and records the version and the check token", async () => {
    const r = await nextRecord(() => sClient("-tls1_2", MESSAGE("abcdef0123")));
    expect(r).toMatchObject({ startTls: true, negotiated: "TLSv1.2", failure: null, messages: 1, tokens: ["abcdef0123"], ehlo: "mx-test.lab" });
    // OpenSSL pinned to 1.2 sends no supported_versions: the hello names only its highest version.
    expect(r.offered).toEqual({ highest: "TLSv1.2", versions: null });
  });

  it("refuses a client that offers only TLS 1.0, and records what it offered", async () => {
    const r = await nextRecord(() => sClient("-tls1", MESSAGE("abcdef0124")));
    expect(r.startTls).toBe(true);
    expect(r.negotiated).toBeNull();
    expect(r.messages).toBe(0);
    expect(r.offered).toEqual({ highest: "TLSv1", versions: null });
    expect(r.failure).toMatch(/^TLS handshake refused: the client offered up to TLSv1; the sink \(like Microsoft 365\) needs TLS 1\.2 or newer$/);
  });

  it("records the exact list a TLS 1.3 client offers (supported_versions)", async () => {
    const r = await nextRecord(() => sClient("-tls1_3", MESSAGE("abcdef0125")));
    expect(r).toMatchObject({ negotiated: "TLSv1.3", messages: 1, offered: { highest: "TLSv1.3", versions: ["TLSv1.3"] } });
  });

  it("answers MAIL without STARTTLS as Microsoft 365 does (451 5.7.3) and records no TLS", async () => {
    let replies = "";
    const r = await nextRecord(
      () =>
        new Promise<void>((resolve) => {
          const s = connectTcp(sink.port, "127.0.0.1");
          s.on("data", (d) => {
            replies += d.toString();
            if (replies.includes("220 ") && !replies.includes("EHLO-SENT")) {
              replies += "EHLO-SENT";
              s.write("EHLO plain.lab\r\nMAIL FROM:<a@plain.lab>\r\nQUIT\r\n");
            }
          });
          s.on("close", () => resolve());
        }),
    );
    expect(replies).toContain("451 5.7.3 Must issue a STARTTLS command first");
    expect(r).toMatchObject({ startTls: false, offered: null, negotiated: null, messages: 0, failure: "closed before a message was sent" });
  });

  it("with Node's TLS client offering 1.2 and 1.3, lists both", async () => {
    const r = await nextRecord(
      () =>
        new Promise<void>((resolve) => {
          const s = connectTcp(sink.port, "127.0.0.1");
          // Plain SMTP up to the STARTTLS reply, one step per complete reply.
          const steps = ["EHLO node.lab\r\n", "STARTTLS\r\n"];
          let text = "";
          const onData = (d: Buffer) => {
            text += d.toString();
            if (!/(^|\n)\d{3} [^\n]*\n$/.test(text)) return; // wait for the last line of a reply
            const ready = text.includes("Ready to start TLS");
            text = "";
            if (!ready) return void s.write(steps.shift()!);
            s.off("data", onData);
            const t = connectTls({ socket: s, rejectUnauthorized: false, minVersion: "TLSv1.2", maxVersion: "TLSv1.3" }, () => t.end("QUIT\r\n"));
            t.on("error", () => {});
            t.resume(); // read the 221 and the server's close, or "close" never comes
            t.on("close", () => resolve());
          };
          s.on("data", onData);
        }),
    );
    expect(r.offered).toEqual({ highest: "TLSv1.3", versions: ["TLSv1.3", "TLSv1.2"] });
    expect(r.negotiated).toBe("TLSv1.3");
  });
});

describe("ClientHelloReader", () => {
  it("reads a hello delivered one byte at a time, and calls anything else garbage without throwing", () => {
    // A TLS 1.2 ClientHello record: legacy_version 0x0303, no extensions.
    const body = Buffer.concat([Buffer.from([0x03, 0x03]), Buffer.alloc(32), Buffer.from([0, 0, 2, 0x00, 0x2f, 1, 0])]);
    const handshake = Buffer.concat([Buffer.from([1, 0, 0, body.length]), body]);
    const record = Buffer.concat([Buffer.from([22, 3, 1, 0, handshake.length]), handshake]);
    const reader = new ClientHelloReader();
    let result = reader.push(Buffer.alloc(0));
    for (const byte of record) result = reader.push(Buffer.from([byte]));
    expect(result).toEqual({ kind: "client-hello", highest: "TLSv1.2", offered: null, legacyVersion: 0x0303 });
    expect(new ClientHelloReader().push(Buffer.from("GET / HTTP/1.1\r\n"))).toMatchObject({ kind: "garbage" });
    expect(new ClientHelloReader().push(Buffer.from([22, 3, 1, 0xff, 0xff]))).toMatchObject({ kind: "garbage" });
    for (let i = 0; i < 2000; i++) {
      const junk = Buffer.from(Array.from({ length: (i % 300) + 1 }, (_, j) => (i * 31 + j * 17) & 0xff));
      if (i % 2 === 0) junk[0] = 22;
      expect(() => new ClientHelloReader().push(junk)).not.toThrow();
    }
  });
});
