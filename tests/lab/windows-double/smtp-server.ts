// TEST DOUBLE: an Exchange-like SMTP receive connector with STARTTLS. The TLS versions it accepts
// are fixed at the last (simulated) boot: SCHANNEL's server defaults, or TLS 1.0 only for an
// Exchange 2010 older than SP3 RU19 (exchange.ts). That is what makes the KB scenario
// observable: a registry fix changes nothing on the wire until the restart.
// Greeting and EHLO keywords follow what Exchange 2013-2019 front-end connectors announce.

import net from "node:net";
import tls from "node:tls";
import type { WindowsMachine } from "./machine";
import { close, listen, OpenConnections } from "./listener";
import { tlsOptionsFor } from "./tls-versions";

export interface SmtpServerOptions {
  machine: WindowsMachine;
  host: string;
  port: number;
  certPem: string;
  keyPem: string;
}

const MAX_LINE = 4096;
const IDLE_MS = 60_000;

export class SmtpServer {
  private server: net.Server | null = null;
  private readonly sockets = new OpenConnections<net.Socket>((s) => s.destroy());
  port: number;

  constructor(private readonly opts: SmtpServerOptions) {
    this.port = opts.port;
  }

  async start(): Promise<void> {
    const m = this.opts.machine;
    const tlsOpts = tlsOptionsFor(m.smtpServerVersions);
    const context = tlsOpts ? tls.createSecureContext({ cert: this.opts.certPem, key: this.opts.keyPem, ...tlsOpts }) : null;
    const fqdn = m.hostname.toLowerCase();
    const server = net.createServer((socket) => {
      if (!m.up) return void socket.destroy();
      this.sockets.add(socket);
      socket.on("error", () => undefined);
      socket.setTimeout(IDLE_MS, () => socket.destroy());
      this.converse(socket, context, fqdn, false);
      socket.write(`220 ${fqdn} Microsoft ESMTP MAIL Service ready at ${new Date().toUTCString().replace("GMT", "+0000")}\r\n`);
    });
    this.server = server;
    this.port = await listen(server, this.port, this.opts.host);
  }

  private converse(socket: net.Socket | tls.TLSSocket, context: tls.SecureContext | null, fqdn: string, secured: boolean): void {
    let buffer = "";
    let inData = false;
    const reply = (s: string) => socket.write(`${s}\r\n`);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString("latin1");
      if (buffer.length > MAX_LINE * 4 && !inData) {
        reply("500 5.3.3 Line too long");
        return void socket.destroy();
      }
      let nl: number;
      while ((nl = buffer.indexOf("\r\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            reply("250 2.6.0 Queued mail for delivery");
          }
          continue;
        }
        const verb = line.split(" ")[0]!.toUpperCase();
        switch (verb) {
          case "EHLO": {
            const ext = ["SIZE 37748736", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES"];
            if (!secured && context) ext.push("STARTTLS");
            ext.push("8BITMIME", "BINARYMIME", "CHUNKING", "SMTPUTF8");
            const peer = socket.remoteAddress ?? "unknown";
            const lines = [`${fqdn} Hello [${peer}]`, ...ext];
            socket.write(lines.map((l, i) => `250${i === lines.length - 1 ? " " : "-"}${l}\r\n`).join(""));
            break;
          }
          case "HELO":
            reply(`250 ${fqdn} Hello [${socket.remoteAddress ?? "unknown"}]`);
            break;
          case "STARTTLS": {
            if (secured || !context) {
              reply("554 5.7.3 Unable to initialize security subsystem");
              break;
            }
            if (buffer !== "") {
              // Pipelined data after STARTTLS is an injection attempt (CVE-2011-0411 class).
              reply("554 5.5.1 Error: pipelining after STARTTLS");
              return void socket.destroy();
            }
            socket.off("data", onData);
            socket.write("220 2.0.0 SMTP server ready\r\n", () => {
              const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
              secure.on("error", () => socket.destroy());
              secure.once("secure", () => this.converse(secure, context, fqdn, true));
            });
            return;
          }
          case "MAIL":
          case "RCPT":
            reply("250 2.1.0 Sender OK");
            break;
          case "DATA":
            inData = true;
            reply("354 Start mail input; end with <CRLF>.<CRLF>");
            break;
          case "RSET":
          case "NOOP":
            reply("250 2.0.0 OK");
            break;
          case "QUIT":
            reply("221 2.0.0 Service closing transmission channel");
            socket.end();
            return;
          default:
            reply("500 5.3.3 Unrecognized command");
        }
      }
    };
    socket.on("data", onData);
  }

  async stop(): Promise<void> {
    this.sockets.dropAll();
    const s = this.server;
    this.server = null;
    await close(s);
  }
}
