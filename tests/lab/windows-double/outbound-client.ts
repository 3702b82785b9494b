// TEST DOUBLE: the one outbound connection a script may make from this "host": tlsfleet's outbound
// check script (powershell.exe -EncodedCommand), which connects to an SMTP server, EHLO, STARTTLS,
// hands the socket to System.Net.Security.SslStream and calls AuthenticateAsClient(targetHost)
// without naming a protocol, then sends one message and QUIT, and prints a JSON report.
//
// The double really makes that connection, from its own process, with Node's TLS client limited
// to the versions this machine's .NET 4.x 64-bit client side allows as of the last boot
// (machine.ts `tlsClientVersions.dotnet["v4.0.30319"]["64-bit"]`, computed in schannel.ts from
// Microsoft's documents):
// - SslStream.AuthenticateAsClient(string) in .NET Framework 4.x passes
//   ServicePointManager's default protocols, the ones SchUseStrongCrypto / SystemDefaultTlsVersions
//   select (Microsoft Learn, "Transport Layer Security (TLS) best practices with the .NET
//   Framework"); Windows PowerShell 5.1 behaves as an application built for 4.5, the case
//   `dotNetClientVersions` models (without the values it offers TLS 1.0 only: the reason scripts
//   set [Net.ServicePointManager]::SecurityProtocol themselves);
// - powershell.exe started by WinRM (wsmprovhost.exe) or by Windows OpenSSH is the 64-bit
//   build, so the 64-bit registry view applies;
// - SCHANNEL reads its Protocols keys at start, so a registry change reaches this connection
//   only after a restart (the list is the one fixed at boot).
//
// Recognising the script: the double runs no PowerShell. It accepts a script only when it holds
// each statement whose effect it emulates (the TcpClient.Connect to an IP literal and port, the
// SMTP commands, an AuthenticateAsClient with the target host as its only argument, the JSON
// report) and none that would change the protocol choice (SslProtocols, SecurityProtocol): a
// script forcing versions would measure nothing, and the double does not model it. Anything else
// stays "not recognized" (powershell.ts).
//
// What the script prints is what Windows PowerShell 5.1 prints for its report: an ordered
// hashtable through ConvertTo-Json -Compress, one line, CRLF. 5.1's serializer
// (JavaScriptSerializer) writes < > & ' as \u003c \u003e \u0026 \u0027. The failure texts are
// .NET Framework's messages for the exceptions the script would catch (MethodInvocationException
// around SocketException / AuthenticationException + Win32Exception), joined with " -> " as the
// script joins inner exceptions.

import net from "node:net";
import tls from "node:tls";
import { tlsOptionsFor } from "./tls-versions";
import type { SchannelVersion } from "./schannel";

export interface OutboundScript {
  address: string;
  port: number;
  targetHost: string;
  recipient: string;
  /** The EHLO name the script sends. */
  ehlo: string;
}

const CONNECT = /\$client\.Connect\('([0-9A-Fa-f.:]+)',\s*(\d{1,5})\)/g;
const AUTHENTICATE = /\.AuthenticateAsClient\(([^)]*)\)/gi;
const RECIPIENT = /'RCPT TO:<(tlsfleet-check-[0-9a-f]{8,64}@\[[0-9A-Fa-f.:Pv]+\])>'/g;
const REQUIRED = ["New-Object System.Net.Sockets.TcpClient", "'STARTTLS'", "New-Object System.Net.Security.SslStream(", "'MAIL FROM:<>'", "'DATA'", "'QUIT'", "$report | ConvertTo-Json -Compress"];
const EHLO_NAME = /\$name = '(tlsfleet-check-[0-9a-f]{8,64})'/g;
const PROTOCOL_CHOICE = /SslProtocols|SecurityProtocol/i;

/** The parameters of tlsfleet's outbound check script, or null when it is some other script. */
export function recognizeOutboundScript(script: string): OutboundScript | null {
  if (PROTOCOL_CHOICE.test(script) || REQUIRED.some((s) => !script.includes(s))) return null;
  const connects = [...script.matchAll(CONNECT)];
  const auths = [...script.matchAll(AUTHENTICATE)];
  const recipients = [...script.matchAll(RECIPIENT)];
  const names = [...script.matchAll(EHLO_NAME)];
  if (connects.length !== 1 || auths.length !== 1 || recipients.length !== 1 || names.length !== 1) return null;
  const target = /^'([^',]+)'$/.exec(auths[0]![1]!.trim());
  const [, address, port] = connects[0]!;
  if (!target || net.isIP(address!) === 0 || Number(port) < 1 || Number(port) > 65535) return null;
  return { address: address!, port: Number(port), targetHost: target[1]!, recipient: recipients[0]![1]!, ehlo: names[0]![1]! };
}

// The double dials only where tests and the lab live; anything else fails as an unreachable
// network would.
function dialable(address: string): boolean {
  if (net.isIPv4(address)) {
    const [a, b] = address.split(".").map(Number);
    return a === 127 || (a === 198 && (b === 18 || b === 19));
  }
  return address === "::1";
}

type Step = "connect" | "banner" | "ehlo" | "starttls" | "handshake" | "message" | "quit";

interface Report {
  tlsfleetOutboundCheck: 1;
  step: Step;
  banner: string | null;
  starttls: string | null;
  protocol: string | null;
  cipher: string | null;
  delivered: boolean;
  error: string | null;
}

/** ConvertTo-Json -Compress in Windows PowerShell 5.1. */
function convertToJson(report: Report): string {
  return JSON.stringify(report).replace(/[<>&']/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

class ScriptFailure extends Error {}

const invoke = (method: string, args: number, inner: string[]) => new ScriptFailure([`Exception calling "${method}" with "${args}" argument(s): "${inner[0]}"`, ...inner].join(" -> "));

// System.Security.Authentication.SslProtocols and CipherAlgorithmType names.
const DOTNET_PROTOCOL: Record<string, string> = { TLSv1: "Tls", "TLSv1.1": "Tls11", "TLSv1.2": "Tls12", "TLSv1.3": "Tls13" };
function dotNetCipher(name: string): string {
  if (/AES_?256/i.test(name)) return "Aes256";
  if (/AES_?128/i.test(name)) return "Aes128";
  if (/3DES|DES-CBC3/i.test(name)) return "TripleDes";
  return "None";
}

/** SMTP replies from a stream: one reply (its lines joined with " / ") at a time. */
class ReplyReader {
  private buffered = "";
  private waiting: (() => void) | null = null;
  private ended = false;
  constructor(private readonly stream: net.Socket | tls.TLSSocket) {
    stream.on("data", this.onData);
    stream.once("close", this.onEnd);
    stream.once("end", this.onEnd);
  }
  private onData = (d: Buffer) => {
    this.buffered += d.toString("latin1");
    this.waiting?.();
  };
  private onEnd = () => {
    this.ended = true;
    this.waiting?.();
  };
  detach(): void {
    this.stream.off("data", this.onData);
    this.stream.off("close", this.onEnd);
    this.stream.off("end", this.onEnd);
  }
  async reply(): Promise<string> {
    const lines: string[] = [];
    for (;;) {
      const nl = this.buffered.indexOf("\n");
      if (nl < 0) {
        if (this.ended) throw new ScriptFailure("the server closed the connection");
        await new Promise<void>((r) => (this.waiting = r));
        this.waiting = null;
        continue;
      }
      const line = this.buffered.slice(0, nl).replace(/\r$/, "");
      this.buffered = this.buffered.slice(nl + 1);
      lines.push(line);
      if (line.length < 4 || line[3] !== "-") return lines.join(" / ");
    }
  }
}

async function command(stream: net.Socket | tls.TLSSocket, reader: ReplyReader, text: string, expect: string): Promise<string> {
  stream.write(`${text}\r\n`);
  const reply = await reader.reply();
  if (!reply.startsWith(expect)) throw new ScriptFailure(`unexpected reply to ${text.split(" ")[0]}: ${reply}`);
  return reply;
}

function connectTcp(address: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (!dialable(address)) {
      reject(invoke("Connect", 2, [`A socket operation was attempted to an unreachable network ${address}:${port}`]));
      return;
    }
    const socket = net.connect({ host: address, port });
    socket.once("connect", () => resolve(socket));
    socket.once("error", (e: NodeJS.ErrnoException) => {
      const text = e.code === "ECONNREFUSED" ? "No connection could be made because the target machine actively refused it" : "A connection attempt failed because the connected party did not properly respond after a period of time, or established connection failed because connected host has failed to respond";
      reject(invoke("Connect", 2, [`${text} ${address}:${port}`]));
    });
  });
}

// SEC_E_ALGORITHM_MISMATCH (0x80090331), SCHANNEL's answer when client and server share no
// protocol version (or the client has none enabled).
const NO_COMMON_ALGORITHM = ["A call to SSPI failed, see inner exception.", "The client and server cannot communicate, because they do not possess a common algorithm"];

const ORDER: readonly SchannelVersion[] = ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"];

/** OpenSSL's client ends its range at the first disabled version above its minimum, where
 *  SCHANNEL offers up to its highest enabled one (a TLS 1.2 ClientHello says "up to 1.2" and
 *  does not list the versions below). So the double offers the run of versions that ends at the
 *  highest enabled one: the same ClientHello up to TLS 1.2, and the same outcome against a server
 *  that needs TLS 1.2. Against a server that picks a version below the hole it would differ. */
export function offeredRun(versions: readonly SchannelVersion[]): SchannelVersion[] {
  const enabled = ORDER.filter((v) => versions.includes(v));
  const run: SchannelVersion[] = [];
  for (let i = ORDER.length - 1; i >= 0; i--) {
    if (enabled.includes(ORDER[i]!)) run.unshift(ORDER[i]!);
    else if (run.length > 0) break;
  }
  return run;
}

function handshake(plain: net.Socket, targetHost: string, versions: readonly SchannelVersion[]): Promise<tls.TLSSocket> {
  const options = tlsOptionsFor(offeredRun(versions));
  // No version enabled: SCHANNEL fails before sending a ClientHello.
  if (!options) return Promise.reject(invoke("AuthenticateAsClient", 1, NO_COMMON_ALGORITHM));
  return new Promise((resolve, reject) => {
    // Opportunistic TLS: the script's validation callback accepts any certificate. .NET sends no
    // SNI for an IP address.
    const socket = tls.connect({ socket: plain, ...options, rejectUnauthorized: false, servername: net.isIP(targetHost) ? undefined : targetHost });
    socket.once("secureConnect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
    const onError = (e: NodeJS.ErrnoException) => {
      const closed = /socket hang up|ECONNRESET|disconnected/i.test(`${e.code ?? ""} ${e.message}`);
      reject(invoke("AuthenticateAsClient", 1, closed ? ["Authentication failed because the remote party has closed the transport stream."] : NO_COMMON_ALGORITHM));
    };
    socket.once("error", onError);
  });
}

/** Runs the script's conversation for real; resolves with what powershell.exe prints. */
export async function runOutboundScript(p: OutboundScript, opts: { versions: readonly SchannelVersion[]; signal: AbortSignal }): Promise<string> {
  const report: Report = { tlsfleetOutboundCheck: 1, step: "connect", banner: null, starttls: null, protocol: null, cipher: null, delivered: false, error: null };
  const sockets: net.Socket[] = [];
  const onAbort = () => sockets.forEach((s) => s.destroy());
  opts.signal.addEventListener("abort", onAbort, { once: true });
  try {
    const plain = await connectTcp(p.address, p.port);
    sockets.push(plain);
    // TcpClient.ReceiveTimeout / SendTimeout in the script: 30 s.
    plain.setTimeout(30_000, () => plain.destroy());
    plain.on("error", () => undefined);
    let reader = new ReplyReader(plain);
    report.step = "banner";
    report.banner = await reader.reply();
    report.step = "ehlo";
    await command(plain, reader, `EHLO ${p.ehlo}`, "250");
    report.step = "starttls";
    report.starttls = await command(plain, reader, "STARTTLS", "220");
    report.step = "handshake";
    reader.detach();
    const secure = await handshake(plain, p.targetHost, opts.versions);
    sockets.push(secure);
    secure.on("error", () => undefined);
    report.protocol = DOTNET_PROTOCOL[secure.getProtocol() ?? ""] ?? "None";
    report.cipher = dotNetCipher(secure.getCipher()?.name ?? "");
    reader = new ReplyReader(secure);
    report.step = "message";
    await command(secure, reader, `EHLO ${p.ehlo}`, "250");
    await command(secure, reader, "MAIL FROM:<>", "250");
    await command(secure, reader, `RCPT TO:<${p.recipient}>`, "250");
    await command(secure, reader, "DATA", "354");
    const token = /^tlsfleet-check-([0-9a-f]+)@/.exec(p.recipient)![1]!;
    await command(secure, reader, `Subject: tlsfleet outbound TLS check ${token}\r\n\r\nThis message tests which TLS versions this host offers. It is not delivered anywhere.\r\n.`, "250");
    report.delivered = true;
    report.step = "quit";
    await command(secure, reader, "QUIT", "221");
  } catch (e) {
    if (!(e instanceof ScriptFailure)) throw e;
    report.error = e.message;
  } finally {
    opts.signal.removeEventListener("abort", onAbort);
    // TcpClient.Close() in the script's finally block.
    for (const s of sockets.reverse()) s.destroy();
  }
  return `${convertToJson(report)}\r\n`;
}
