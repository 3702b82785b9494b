// A small SMTP / IMAP / POP3 server with a real STARTTLS upgrade, whose misbehaviours are
// switched on by options. The other peers are thin presets of it; it also runs on its own:
//   node --import tsx tests/lab/peers/mail-server.ts --listen 127.0.0.1:2587 --protocol smtp \
//        [--min-version TLSv1 --max-version TLSv1.3] [--greeting-ms 3000] [--no-starttls]
//        [--after-starttls tls|drop|stall]
import { createServer, type Server, type Socket } from "node:net";
import { createSecureContext, TLSSocket, type SecureVersion } from "node:tls";
import { listenAndAnnounce, numberOption, parsePeerArguments, selfSignedCertificate, sleep, type PeerArguments, type PeerCertificate } from "./common";

export type MailProtocol = "smtp" | "imap" | "pop3";

export interface MailServerOptions {
  protocol: MailProtocol;
  minVersion: SecureVersion;
  maxVersion: SecureVersion;
  /** Spread the greeting over this long, in pieces cut mid-line. 0 sends it at once. */
  greetingMs: number;
  offerStartTls: boolean;
  /** What happens after the positive STARTTLS reply. */
  afterStartTls: "tls" | "drop" | "stall";
  certificate: PeerCertificate;
  /**
   * SMTP only: simultaneous sessions one client address may hold, as Postfix's
   * smtpd_client_connection_count_limit (postconf(5), default 50; enforced through anvil(8)).
   * Past it the server answers the greeting with Postfix's words, smtpd.c:
   * "421 4.7.0 <myhostname> Error: too many connections from <client address>", and hangs up.
   * Absent: no limit.
   */
  clientConnectionLimit?: number;
  /** Called for every connection refused by that limit (tests count them). */
  onTooManyConnections?: () => void;
}

const GREETINGS: Record<MailProtocol, string> = {
  smtp: "220-peer.lab ESMTP tlsfleet lab peer\r\n220-Unsolicited bulk mail prohibited\r\n220 peer.lab ready\r\n",
  imap: "* OK tlsfleet lab peer ready\r\n",
  pop3: "+OK tlsfleet lab peer ready\r\n",
};

/** Cuts `text` into `count` pieces at uneven offsets, so lines (and reply codes) arrive split. */
export function cutIntoPieces(text: string, count: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  for (let i = 1; i < count && start < text.length; i++) {
    // Uneven, deterministic cut points: 2 bytes, then about a third, ... never on a line boundary on purpose.
    const end = Math.min(text.length, start + Math.max(2, Math.floor(((text.length - start) * i) / (count + i))));
    pieces.push(text.slice(start, end));
    start = end;
  }
  if (start < text.length) pieces.push(text.slice(start));
  return pieces;
}

export function createMailServer(options: MailServerOptions): Server {
  const secureContext = createSecureContext({
    key: options.certificate.key,
    cert: options.certificate.cert,
    minVersion: options.minVersion,
    maxVersion: options.maxVersion,
    // Lets the server speak TLS 1.0/1.1 when asked to (OpenSSL 3 needs security level 0 for them).
    ciphers: "ALL:@SECLEVEL=0",
  });
  const open = new Set<Socket>();
  const sessions = new Map<string, number>();
  const server = createServer((socket) => {
    open.add(socket);
    socket.on("close", () => open.delete(socket));
    socket.on("error", () => {});
    const client = socket.remoteAddress ?? "unknown";
    if (options.protocol === "smtp" && options.clientConnectionLimit !== undefined && (sessions.get(client) ?? 0) >= options.clientConnectionLimit) {
      options.onTooManyConnections?.();
      socket.end(`421 4.7.0 peer.lab Error: too many connections from ${client}\r\n`);
      return;
    }
    sessions.set(client, (sessions.get(client) ?? 0) + 1);
    socket.once("close", () => sessions.set(client, (sessions.get(client) ?? 1) - 1));
    void converse(socket, options, secureContext);
  });
  server.on("close", () => open.forEach((s) => s.destroy()));
  return server;
}

async function converse(socket: Socket, options: MailServerOptions, secureContext: ReturnType<typeof createSecureContext>): Promise<void> {
  let greeted = false;
  let buffered = "";
  const onData = (data: Buffer) => {
    if (!greeted) {
      // Postscreen's pregreet test: a client that talks before the greeting is over is a bot.
      socket.end(options.protocol === "smtp" ? "554 5.5.1 Error: you talked before the greeting\r\n" : "");
      return;
    }
    buffered += data.toString("latin1");
    for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
      const line = buffered.slice(0, nl).replace(/\r$/, "");
      buffered = buffered.slice(nl + 1);
      if (answer(line) === "upgrade") {
        socket.off("data", onData);
        upgrade();
        return;
      }
    }
  };
  socket.on("data", onData);

  const greeting = GREETINGS[options.protocol];
  const pieces = options.greetingMs > 0 ? cutIntoPieces(greeting, 6) : [greeting];
  for (const [index, piece] of pieces.entries()) {
    if (index > 0) await sleep(options.greetingMs / (pieces.length - 1));
    if (socket.destroyed) return;
    // Anything the client sends before it could have seen the final line is a pregreet.
    if (index === pieces.length - 1) greeted = true;
    socket.write(piece);
  }

  function answer(line: string): "upgrade" | void {
    const [word = "", ...rest] = line.split(" ");
    if (options.protocol === "smtp") {
      const verb = word.toUpperCase();
      if (verb === "EHLO") {
        const extensions = ["PIPELINING", "SIZE 10240000", ...(options.offerStartTls ? ["StartTLS"] : []), "8BITMIME"];
        socket.write(["peer.lab", ...extensions].map((e, i, all) => `250${i === all.length - 1 ? " " : "-"}${e}\r\n`).join(""));
      } else if (verb === "HELO") socket.write("250 peer.lab\r\n");
      else if (verb === "STARTTLS" && options.offerStartTls) {
        socket.write("220 2.0.0 Ready to start TLS\r\n");
        return "upgrade";
      } else if (verb === "QUIT") socket.end("221 2.0.0 Bye\r\n");
      else socket.write("502 5.5.2 Error: command not recognized\r\n");
    } else if (options.protocol === "imap") {
      const command = (rest[0] ?? "").toUpperCase();
      if (command === "CAPABILITY") {
        socket.write(`* CAPABILITY IMAP4rev1 SASL-IR${options.offerStartTls ? " STARTTLS LOGINDISABLED" : " AUTH=PLAIN"}\r\n${word} OK Capability completed\r\n`);
      } else if (command === "STARTTLS" && options.offerStartTls) {
        socket.write(`${word} OK Begin TLS negotiation now\r\n`);
        return "upgrade";
      } else if (command === "LOGOUT") socket.end(`* BYE Logging out\r\n${word} OK Logout completed\r\n`);
      else socket.write(`${word} BAD Error in IMAP command\r\n`);
    } else {
      const verb = word.toUpperCase();
      if (verb === "STLS" && options.offerStartTls) {
        socket.write("+OK Begin TLS negotiation\r\n");
        return "upgrade";
      } else if (verb === "QUIT") socket.end("+OK Logging out\r\n");
      else socket.write("-ERR Unknown command\r\n");
    }
  }

  function upgrade(): void {
    if (options.afterStartTls === "drop") {
      socket.destroy();
      return;
    }
    if (options.afterStartTls === "stall") {
      socket.resume(); // swallow the ClientHello, answer nothing, keep the connection open
      return;
    }
    const secure = new TLSSocket(socket, { isServer: true, secureContext });
    secure.on("error", () => socket.destroy());
    secure.on("data", (data: Buffer) => {
      if (/^(QUIT|a\d+ LOGOUT)/i.test(data.toString("latin1"))) secure.end(options.protocol === "smtp" ? "221 2.0.0 Bye\r\n" : "+OK bye\r\n");
    });
    secure.on("end", () => secure.end());
  }
}

export function mailServerOptionsFrom(args: PeerArguments, defaults: Partial<MailServerOptions> = {}): MailServerOptions {
  const protocol = (args.options.get("protocol") ?? defaults.protocol ?? "smtp") as MailProtocol;
  if (!["smtp", "imap", "pop3"].includes(protocol)) throw new Error(`--protocol expects smtp, imap or pop3, got '${protocol}'`);
  const after = (args.options.get("after-starttls") ?? defaults.afterStartTls ?? "tls") as MailServerOptions["afterStartTls"];
  if (!["tls", "drop", "stall"].includes(after)) throw new Error(`--after-starttls expects tls, drop or stall, got '${after}'`);
  return {
    protocol,
    minVersion: (args.options.get("min-version") ?? defaults.minVersion ?? "TLSv1.2") as SecureVersion,
    maxVersion: (args.options.get("max-version") ?? defaults.maxVersion ?? "TLSv1.3") as SecureVersion,
    greetingMs: numberOption(args, "greeting-ms", defaults.greetingMs ?? 0),
    offerStartTls: !args.flags.has("no-starttls") && (defaults.offerStartTls ?? true),
    afterStartTls: after,
    certificate: defaults.certificate ?? selfSignedCertificate(),
  };
}

// Run as a script (not when imported by the presets).
if (process.argv[1] && /mail-server\.[mt]?[jt]s$/.test(process.argv[1])) {
  const args = parsePeerArguments();
  listenAndAnnounce(createMailServer(mailServerOptionsFrom(args)), args, "mail-server");
}
