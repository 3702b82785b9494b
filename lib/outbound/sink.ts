// The outbound check sink: an SMTP server that accepts mail only over TLS 1.2 or newer, as
// Microsoft 365 does, and records for every connection which TLS versions the connecting host's
// mail client offered (its ClientHello), which one was negotiated, and whether it used STARTTLS
// at all. A host made to send one message here shows on the wire what it would do towards
// Microsoft 365: the direction of the "421 4.4.2 ... SocketError" and "451 5.7.3 Must issue a
// STARTTLS command first" failures, which probing the host's own ports cannot see.
//
// It is reachable by the fleet, so anything may connect: lines, messages, connections and time
// are bounded, nothing is relayed or stored but the record, and it never throws on input.
import { createServer, type Server, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { createSecureContext, TLSSocket } from "node:tls";
import type { TlsVersion } from "../tls/types";
import { ClientHelloReader, type ClientHelloRead } from "./client-hello-reader";

export interface SinkRecord {
  /** When the connection was accepted. */
  at: Date;
  /** The client's address and port as the sink saw them. */
  client: string;
  /** The name given in EHLO/HELO (the last one), if any. */
  ehlo: string | null;
  /** The client sent STARTTLS. */
  startTls: boolean;
  /** What the ClientHello offered; null when no ClientHello arrived. */
  offered: { highest: TlsVersion | "SSLv3" | null; versions: Array<TlsVersion | "SSLv3"> | null } | null;
  /** The version the handshake settled on; null when it failed or never started. */
  negotiated: TlsVersion | null;
  cipher: string | null;
  /** Why the connection ended without a message, in plain words; null when a message arrived. */
  failure: string | null;
  /** Check tokens from recipients `tlsfleet-check-<token>@...` of the messages accepted. */
  tokens: string[];
  /** Messages accepted (over TLS) on this connection. */
  messages: number;
}

export interface SinkOptions {
  host: string;
  /** 0: any free port (tests). */
  port: number;
  certificate: { key: string | Buffer; cert: string | Buffer };
  /** The name in the greeting and EHLO reply. Default "tlsfleet-outbound-check". */
  hostname?: string;
  /** Lowest version accepted. Default TLS 1.2 (what Microsoft 365 requires). */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  /** Called once per connection when it ends. Must not throw; errors are swallowed. */
  onRecord: (record: SinkRecord) => void;
  /** Connections at once; more are refused by the kernel queue. Default 64. */
  maxConnections?: number;
  /** A connection silent this long is closed. Default 60 s. */
  idleTimeoutMs?: number;
  /** Largest message accepted. Default 64 KiB (a check message is a few hundred bytes). */
  maxMessageBytes?: number;
}

export interface RunningSink {
  address: string;
  port: number;
  close(): Promise<void>;
}

/** RFC 5321 4.5.3.1.4-6: command lines up to 512 octets, text lines up to 1000; we allow more. */
const MAX_LINE = 4096;
const TOKEN = /^tlsfleet-check-([a-z0-9]{8,64})@/i;

export async function startOutboundSink(options: SinkOptions): Promise<RunningSink> {
  const name = options.hostname ?? "tlsfleet-outbound-check";
  const secureContext = createSecureContext({ key: options.certificate.key, cert: options.certificate.cert, minVersion: options.minVersion ?? "TLSv1.2" });
  const open = new Set<Socket>();
  const server: Server = createServer((socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    serve(socket, { ...options, hostname: name }, secureContext);
  });
  server.maxConnections = options.maxConnections ?? 64;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  if (!bound || typeof bound === "string") throw new Error("the outbound check sink has no TCP address");
  return {
    address: bound.address,
    port: bound.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

type Channel = { write(text: string): void; end(text: string): void };

function serve(socket: Socket, options: SinkOptions & { hostname: string }, secureContext: ReturnType<typeof createSecureContext>): void {
  const record: SinkRecord = { at: new Date(), client: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? "?"}`, ehlo: null, startTls: false, offered: null, negotiated: null, cipher: null, failure: null, tokens: [], messages: 0 };
  let finished = false;
  const finish = (failure: string | null) => {
    if (finished) return;
    finished = true;
    if (record.messages === 0) record.failure ??= failure ?? "closed before a message was sent";
    try {
      options.onRecord(record);
    } catch {
      // the caller's problem; the sink keeps serving
    }
  };
  const maxMessage = options.maxMessageBytes ?? 64 * 1024;
  socket.setTimeout(options.idleTimeoutMs ?? 60_000, () => {
    finish("the client went silent");
    socket.destroy();
  });
  socket.on("error", () => socket.destroy());
  socket.once("close", () => finish(null));

  let channel: Channel = { write: (t) => void socket.write(t), end: (t) => void socket.end(t) };
  let secure = false;
  let state: "command" | "data" = "command";
  let buffered = "";
  let messageBytes = 0;
  let recipients: string[] = [];
  let mailFrom = false;

  const onLine = (line: string): "upgrade" | void => {
    if (state === "data") {
      if (line === ".") {
        state = "command";
        if (messageBytes > maxMessage) return channel.write(`552 5.3.4 Message larger than ${maxMessage} bytes\r\n`);
        record.messages++;
        for (const r of recipients) {
          const m = TOKEN.exec(r);
          if (m && record.tokens.length < 16) record.tokens.push(m[1]!.toLowerCase());
        }
        recipients = [];
        mailFrom = false;
        return channel.write("250 2.0.0 Ok: recorded by the tlsfleet outbound check\r\n");
      }
      messageBytes += line.length + 2;
      return;
    }
    const [verb = "", ...rest] = line.split(" ");
    const argument = rest.join(" ");
    switch (verb.toUpperCase()) {
      case "EHLO":
        record.ehlo = argument.slice(0, 255) || null;
        mailFrom = false;
        recipients = [];
        return channel.write([options.hostname, ...(secure ? [] : ["STARTTLS"]), `SIZE ${maxMessage}`, "8BITMIME"].map((e, i, all) => `250${i === all.length - 1 ? " " : "-"}${e}\r\n`).join(""));
      case "HELO":
        record.ehlo = argument.slice(0, 255) || null;
        return channel.write(`250 ${options.hostname}\r\n`);
      case "STARTTLS":
        if (secure) return channel.write("554 5.5.1 Error: TLS already active\r\n");
        record.startTls = true;
        channel.write("220 2.0.0 Ready to start TLS\r\n");
        return "upgrade";
      case "MAIL":
      case "RCPT":
      case "DATA":
      case "BDAT":
        // Microsoft 365's answer to a client that does not encrypt (the KB's second error).
        if (!secure) return channel.write("451 5.7.3 Must issue a STARTTLS command first\r\n");
        if (verb.toUpperCase() === "MAIL") {
          mailFrom = true;
          return channel.write("250 2.1.0 Ok\r\n");
        }
        if (verb.toUpperCase() === "RCPT") {
          if (!mailFrom) return channel.write("503 5.5.1 Error: need MAIL command\r\n");
          const address = /^TO:\s*<([^>]{0,320})>/i.exec(argument)?.[1];
          if (address === undefined) return channel.write("501 5.1.3 Bad recipient address syntax\r\n");
          if (recipients.length >= 16) return channel.write("452 4.5.3 Error: too many recipients\r\n");
          recipients.push(address);
          return channel.write("250 2.1.5 Ok\r\n");
        }
        if (verb.toUpperCase() === "BDAT") return channel.write("502 5.5.1 Error: BDAT not offered\r\n");
        if (recipients.length === 0) return channel.write("503 5.5.1 Error: need RCPT command\r\n");
        state = "data";
        messageBytes = 0;
        return channel.write("354 End data with <CR><LF>.<CR><LF>\r\n");
      case "RSET":
        mailFrom = false;
        recipients = [];
        return channel.write("250 2.0.0 Ok\r\n");
      case "NOOP":
        return channel.write("250 2.0.0 Ok\r\n");
      case "QUIT":
        return channel.end("221 2.0.0 Bye\r\n");
      default:
        return channel.write("502 5.5.2 Error: command not recognized\r\n");
    }
  };

  /** Feeds received text to onLine; true when STARTTLS asked to upgrade (the rest is dropped). */
  const feed = (text: string): boolean => {
    buffered += text;
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl).replace(/\r$/, "");
      buffered = buffered.slice(nl + 1);
      if (onLine(line) === "upgrade") {
        // Plaintext after STARTTLS would be injected into the TLS session (CVE-2011-0411): dropped.
        buffered = "";
        return true;
      }
    }
    if (buffered.length > MAX_LINE) {
      finish("a line longer than the sink accepts");
      channel.end("500 5.5.0 Error: line too long\r\n");
      buffered = "";
    }
    return false;
  };

  const onPlain = (data: Buffer) => {
    if (feed(data.toString("latin1"))) {
      socket.off("data", onPlain);
      upgrade();
    }
  };
  socket.on("data", onPlain);
  socket.write(`220 ${options.hostname} ESMTP tlsfleet outbound check (TLS 1.2 or newer only)\r\n`);

  function upgrade(): void {
    // The TLS socket reads through this stream, so the sink sees the ClientHello on its way.
    const reader = new ClientHelloReader();
    let hello: ClientHelloRead = { kind: "need-more" };
    const wire = new Duplex({
      read: () => void socket.resume(),
      write: (chunk: Buffer, _encoding, done) => void socket.write(chunk, done),
      final: (done) => {
        socket.end();
        done();
      },
    });
    socket.on("data", (data: Buffer) => {
      if (hello.kind === "need-more") {
        hello = reader.push(data);
        if (hello.kind === "client-hello") record.offered = { highest: hello.highest, versions: hello.offered };
      }
      if (!wire.push(data)) socket.pause();
    });
    socket.once("end", () => wire.push(null));
    socket.once("close", () => wire.destroy());
    const tls = new TLSSocket(wire, { isServer: true, secureContext });
    tls.on("error", (error: NodeJS.ErrnoException) => {
      finish(handshakeFailure(error, hello));
      socket.destroy();
    });
    tls.once("secure", () => {
      secure = true;
      record.negotiated = (tls.getProtocol() as TlsVersion | null) ?? null;
      record.cipher = tls.getCipher()?.name ?? null;
    });
    channel = { write: (t) => void tls.write(t), end: (t) => void tls.end(t) };
    tls.on("data", (data: Buffer) => void feed(data.toString("latin1")));
  }
}

function handshakeFailure(error: NodeJS.ErrnoException, hello: ClientHelloRead): string {
  if (hello.kind === "garbage") return `not a TLS ClientHello after STARTTLS: ${hello.detail}`;
  const text = `${error.code ?? ""} ${error.message}`.toLowerCase();
  if (text.includes("unsupported protocol") || text.includes("version")) {
    const offered = hello.kind === "client-hello" ? (hello.offered?.join(", ") ?? `up to ${hello.highest ?? "an unknown version"}`) : "nothing readable";
    return `TLS handshake refused: the client offered ${offered}; the sink (like Microsoft 365) needs TLS 1.2 or newer`;
  }
  return `TLS handshake failed: ${error.message.slice(0, 200)}`;
}
