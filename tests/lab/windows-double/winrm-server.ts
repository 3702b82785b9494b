// TEST DOUBLE: a WinRM (WS-Management, [MS-WSMV] Windows Remote Shell) listener.
//
// HTTPS (default 5986): Basic and Negotiate/NTLM, TLS versions as SCHANNEL allows at boot (HTTP.sys
// uses SCHANNEL, so a host that only speaks TLS 1.0/1.1 does so on 5986 too).
// HTTP (default 5985): Negotiate/NTLM with message encryption required, as WinRM does while
// AllowUnencrypted is false (its default); Basic is refused there.
// Shells: Create / Command / Send / Receive / Signal / Delete on the cmd resource URI. Receive
// waits up to the request's OperationTimeout and then answers the fault 2150858793
// (0x80338029, w:TimedOut), like the real service.
// Deliberate differences from the real service: Basic is enabled (WinRM ships with it off),
// one account list for both schemes, no quotas, no IdleTimeout.

import http from "node:http";
import https from "node:https";
import type net from "node:net";
import { randomUUID } from "node:crypto";
import {
  ACTION,
  certificateBindingHash,
  CMD_SHELL_URI,
  COMMAND_STATE_DONE,
  escapeXml,
  NS,
  parseXml,
  SIGNAL_TERMINATE,
  WSMAN_FAULT,
  xmlAttr,
  xmlChild,
  xmlChildren,
  xmlFind,
  xmlText,
  type XmlElement,
} from "../../../agents/transport/winrm";
import { createChallenge, verifyAuthenticate, type PendingChallenge } from "./ntlm-server";
import type { WindowsMachine } from "./machine";
import { EmulatedProcess } from "./programs";
import { decryptMessage, encryptedContentType, encryptMessage, isEncrypted, type MessageSealer } from "./encrypted-message";
import { close, listen, OpenConnections } from "./listener";
import { consoleStreams } from "./locale";
import { tlsOptionsFor } from "./tls-versions";

export interface WinRmServerOptions {
  machine: WindowsMachine;
  accounts: ReadonlyMap<string, string>;
  host: string;
  httpsPort: number;
  httpPort: number;
  certPem: string;
  keyPem: string;
  certDer: Buffer;
  /** CbtHardeningLevel Strict: NTLM over HTTPS must carry channel bindings. */
  requireChannelBinding?: boolean;
}

interface ConnState {
  pending: PendingChallenge | null;
  user: string | null;
  session: MessageSealer | null;
}

interface Shell {
  id: string;
  owner: string;
  codepage: number;
  commands: Map<string, EmulatedProcess>;
}

const MAX_BODY = 4 * 1024 * 1024;
const CHUNK = 48 * 1024; // per stream per Receive: well under the 512000-byte envelope

export class WinRmServer {
  private readonly conns = new WeakMap<net.Socket, ConnState>();
  private readonly sockets = new OpenConnections<net.Socket>((s) => s.destroy());
  private readonly shells = new Map<string, Shell>();
  private httpsServer: https.Server | null = null;
  private httpServer: http.Server | null = null;
  httpsPort: number;
  httpPort: number;

  private readonly certHash: Buffer;

  constructor(private readonly opts: WinRmServerOptions) {
    this.certHash = certificateBindingHash(opts.certDer);
    this.httpsPort = opts.httpsPort;
    this.httpPort = opts.httpPort;
  }

  async start(): Promise<void> {
    const m = this.opts.machine;
    const tlsOpts = tlsOptionsFor(m.tlsServerVersions);
    const setup = (server: http.Server, secure: boolean) => {
      server.keepAliveTimeout = 120_000; // HTTP.sys keeps idle connections about two minutes
      server.headersTimeout = 130_000;
      server.on("connection", (s: net.Socket) => {
        if (!m.up) return void s.destroy();
        this.sockets.add(s);
      });
      server.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => {
        m.log({ type: "winrm-client-error", error: err.code ?? err.message });
        socket.destroy();
      });
      server.on("request", (req, res) => {
        this.handle(req, res, secure).catch((e: unknown) => {
          m.log({ type: "double-error", where: "winrm", error: String(e) });
          if (!res.headersSent) res.writeHead(500).end();
        });
      });
    };
    if (tlsOpts) {
      this.httpsServer = https.createServer({ cert: this.opts.certPem, key: this.opts.keyPem, ...tlsOpts });
      setup(this.httpsServer, true);
      this.httpsPort = await listen(this.httpsServer, this.httpsPort, this.opts.host);
    }
    this.httpServer = http.createServer();
    setup(this.httpServer, false);
    this.httpPort = await listen(this.httpServer, this.httpPort, this.opts.host);
  }

  async stop(): Promise<void> {
    for (const shell of this.shells.values()) for (const p of shell.commands.values()) p.kill();
    this.shells.clear();
    this.sockets.dropAll();
    await Promise.all([close(this.httpsServer), close(this.httpServer)]);
    this.httpsServer = null;
    this.httpServer = null;
  }

  private conn(socket: net.Socket): ConnState {
    let c = this.conns.get(socket);
    if (!c) {
      c = { pending: null, user: null, session: null };
      this.conns.set(socket, c);
    }
    return c;
  }

  private challengeHeaders(secure: boolean): string[] {
    return secure ? ["Negotiate", 'Basic realm="WSMAN"'] : ["Negotiate"];
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse, secure: boolean): Promise<void> {
    const m = this.opts.machine;
    if (!m.up) return void req.socket.destroy();
    if ((req.url ?? "").toLowerCase().split("?")[0] !== "/wsman") return void res.writeHead(404).end();
    if (req.method !== "POST") return void res.writeHead(405).end();
    const body = await readBody(req);
    if (body === null) return void res.writeHead(413).end();
    const conn = this.conn(req.socket);
    const authz = req.headers.authorization ?? "";
    let user: string | null = null;

    const unauthorized = (headers: string[] = this.challengeHeaders(secure)) => {
      res.writeHead(401, { "WWW-Authenticate": headers, "Content-Length": "0" }).end();
    };

    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authz);
    const negotiate = /^(?:Negotiate|NTLM)\s+([A-Za-z0-9+/=]+)$/i.exec(authz);
    if (basic) {
      if (!secure) {
        m.log({ type: "auth-failure", scheme: "basic", reason: "Basic over HTTP refused (AllowUnencrypted false)" });
        return unauthorized();
      }
      const [u, ...p] = Buffer.from(basic[1]!, "base64").toString("utf8").split(":");
      const pw = [...this.opts.accounts].find(([k]) => k.toLowerCase() === (u ?? "").toLowerCase())?.[1];
      if (pw === undefined || pw !== p.join(":")) {
        m.log({ type: "auth-failure", scheme: "basic", user: u });
        return unauthorized();
      }
      user = u!;
    } else if (negotiate) {
      const token = Buffer.from(negotiate[1]!, "base64");
      const type = token.length >= 12 ? token.readUInt32LE(8) : 0;
      if (type === 1) {
        try {
          conn.pending = createChallenge(token, m.hostname);
        } catch {
          return unauthorized();
        }
        conn.user = null;
        conn.session = null;
        return unauthorized([`Negotiate ${conn.pending.challenge.toString("base64")}`]);
      }
      if (type !== 3 || !conn.pending) return unauthorized();
      const v = verifyAuthenticate(conn.pending, token, this.opts.accounts, {
        certificateHash: secure ? this.certHash : undefined,
        requireChannelBinding: secure && this.opts.requireChannelBinding === true,
      });
      conn.pending = null;
      if (!v.ok) {
        m.log({ type: "auth-failure", scheme: "ntlm", reason: v.reason });
        return unauthorized();
      }
      conn.user = v.user;
      conn.session = secure ? null : v.session;
      m.log({ type: "auth", scheme: "ntlm", user: v.user, sealed: !secure });
      if (body.length === 0) return void res.writeHead(200, { "Content-Length": "0" }).end();
      user = v.user;
    } else if (conn.user) {
      user = conn.user;
    } else {
      return unauthorized();
    }

    let xml: string;
    const contentType = String(req.headers["content-type"] ?? "");
    if (!secure) {
      // AllowUnencrypted=false: only sealed messages are accepted over HTTP.
      if (!conn.session || !isEncrypted(contentType)) {
        m.log({ type: "auth-failure", scheme: "none", reason: "unencrypted message over HTTP" });
        return unauthorized();
      }
      const plain = decryptMessage(conn.session, contentType, body);
      if (plain === null) {
        conn.user = null;
        conn.session = null;
        return unauthorized();
      }
      xml = plain.toString("utf8");
    } else {
      xml = body.toString("utf8");
    }
    if (body.length === 0) return void res.writeHead(200, { "Content-Length": "0" }).end();

    const answer = await this.dispatch(xml, user, secure);
    const out = Buffer.from(answer.xml, "utf8");
    if (!secure && conn.session) {
      const sealed = encryptMessage(conn.session, out);
      res.writeHead(answer.status, { "Content-Type": encryptedContentType, "Content-Length": String(sealed.length) });
      res.end(sealed);
    } else {
      res.writeHead(answer.status, { "Content-Type": "application/soap+xml;charset=UTF-8", "Content-Length": String(out.length) });
      res.end(out);
    }
  }

  private async dispatch(xml: string, user: string, secure: boolean): Promise<{ status: number; xml: string }> {
    let env: XmlElement;
    try {
      env = parseXml(xml);
    } catch {
      return fault("", "s:Sender", "w:SchemaValidationError", 2150858817, "The SOAP XML in the message does not match the corresponding XML schema definition.", this.opts.machine.hostname);
    }
    const header = xmlChild(env, NS.soap, "Header");
    const bodyEl = xmlChild(env, NS.soap, "Body");
    const action = xmlText(xmlChild(header, NS.wsa, "Action")).trim();
    const messageId = xmlText(xmlChild(header, NS.wsa, "MessageID")).trim();
    const resourceUri = xmlText(xmlChild(header, NS.wsman, "ResourceURI")).trim();
    const shellId = xmlText(xmlChildren(xmlChild(header, NS.wsman, "SelectorSet"), NS.wsman, "Selector").find((s) => xmlAttr(s, "Name") === "ShellId")).trim();
    const options = new Map(
      xmlChildren(xmlChild(header, NS.wsman, "OptionSet"), NS.wsman, "Option").map((o) => [String(xmlAttr(o, "Name")).toUpperCase(), xmlText(o).trim()]),
    );
    const opTimeout = /^PT(\d+(?:\.\d+)?)S$/.exec(xmlText(xmlChild(header, NS.wsman, "OperationTimeout")).trim());
    const opTimeoutMs = Math.min(300_000, opTimeout ? Number(opTimeout[1]) * 1000 : 60_000);
    const host = this.opts.machine.hostname;
    const m = this.opts.machine;

    if (resourceUri !== CMD_SHELL_URI) {
      return fault(messageId, "s:Sender", "w:DestinationUnreachable", 2150858770, "The WS-Management service cannot process the request because the resource URI is not supported.", host);
    }
    // A shell is its creator's: another account naming its ShellId is told it does not exist.
    const shell = this.shells.get(shellId);
    const ownShell = shell && shell.owner === user.toLowerCase() ? shell : undefined;
    const shellNotFound = () =>
      fault(
        messageId,
        "s:Sender",
        "w:InvalidSelectors",
        WSMAN_FAULT.shellNotFound,
        `The request for the Windows Remote Shell with ShellId ${shellId} failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation.`,
        host,
      );

    switch (action) {
      case ACTION.create: {
        const id = randomUUID().toUpperCase();
        // Without WINRS_CODEPAGE the shell writes in the system's OEM code page (locale.ts).
        const codepage = Number(options.get("WINRS_CODEPAGE") ?? String(m.locale.oemCodePage));
        this.shells.set(id, { id, owner: user.toLowerCase(), codepage, commands: new Map() });
        m.log({ type: "winrm-create", shellId: id, user, secure, options: Object.fromEntries(options) });
        const addr = `${secure ? "https" : "http"}://${this.opts.host}:${secure ? this.httpsPort : this.httpPort}/wsman`;
        return ok(
          action,
          messageId,
          `<x:ResourceCreated xmlns:x="${NS.transfer}"><a:Address>${escapeXml(addr)}</a:Address><a:ReferenceParameters>` +
            `<w:ResourceURI>${CMD_SHELL_URI}</w:ResourceURI><w:SelectorSet><w:Selector Name="ShellId">${id}</w:Selector></w:SelectorSet>` +
            `</a:ReferenceParameters></x:ResourceCreated>` +
            `<rsp:Shell><rsp:ShellId>${id}</rsp:ShellId><rsp:ResourceUri>${CMD_SHELL_URI}</rsp:ResourceUri><rsp:Owner>${escapeXml(user)}</rsp:Owner>` +
            `<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut><rsp:InputStreams>stdin</rsp:InputStreams><rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>`,
        );
      }
      case ACTION.delete: {
        if (!ownShell) return shellNotFound();
        for (const p of ownShell.commands.values()) p.kill();
        this.shells.delete(shellId);
        m.log({ type: "winrm-delete", shellId });
        return ok(action, messageId, "");
      }
      case ACTION.command: {
        if (!ownShell) return shellNotFound();
        const line = xmlChild(bodyEl, NS.shell, "CommandLine");
        const command = xmlText(xmlChild(line, NS.shell, "Command"));
        const args = xmlChildren(line, NS.shell, "Arguments").map((a) => xmlText(a));
        const full = [command, ...args].join(" ");
        const skip = (options.get("WINRS_SKIP_CMD_SHELL") ?? "FALSE").toUpperCase() === "TRUE";
        const id = randomUUID().toUpperCase();
        ownShell.commands.set(id, new EmulatedProcess(m, full, "winrm", { skipCmdShell: skip }));
        return ok(action, messageId, `<rsp:CommandResponse><rsp:CommandId>${id}</rsp:CommandId></rsp:CommandResponse>`);
      }
      case ACTION.send: {
        if (!ownShell) return shellNotFound();
        for (const s of xmlChildren(xmlChild(bodyEl, NS.shell, "Send"), NS.shell, "Stream")) {
          const p = ownShell.commands.get(commandId(s));
          if (!p) continue;
          p.writeStdin(Buffer.from(xmlText(s), "base64").toString("utf8"), (xmlAttr(s, "End") ?? "").toLowerCase() === "true");
        }
        return ok(action, messageId, `<rsp:SendResponse/>`);
      }
      case ACTION.signal: {
        if (!ownShell) return shellNotFound();
        const sig = xmlChild(bodyEl, NS.shell, "Signal");
        const id = commandId(sig);
        const p = ownShell.commands.get(id);
        if (p && xmlText(xmlChild(sig, NS.shell, "Code")).trim() === SIGNAL_TERMINATE) {
          if (p.exitCode === null) m.log({ type: "winrm-signal-terminate", commandId: id, line: p.commandLine });
          p.kill();
          ownShell.commands.delete(id);
        }
        return ok(action, messageId, `<rsp:SignalResponse/>`);
      }
      case ACTION.receive: {
        if (!ownShell) return shellNotFound();
        const id = commandId(xmlFind(bodyEl, NS.shell, "DesiredStream"));
        const p = ownShell.commands.get(id);
        if (!p) {
          return fault(messageId, "s:Sender", "w:InvalidParameter", 2150858843, "The command was not found.", host);
        }
        const hasOutput = () => p.stdout.length > 0 || p.stderr.length > 0 || p.exitCode !== null;
        if (!hasOutput()) {
          const got = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => done(false), opTimeoutMs);
            const check = () => {
              if (hasOutput()) done(true);
            };
            const done = (v: boolean) => {
              clearTimeout(t);
              p.stdout.off("data", check);
              p.stderr.off("data", check);
              p.off("exit", check);
              resolve(v);
            };
            p.stdout.on("data", check);
            p.stderr.on("data", check);
            p.on("exit", check);
          });
          if (!got) {
            m.log({ type: "winrm-receive-timeout", commandId: id });
            return fault(
              messageId,
              "s:Receiver",
              "w:TimedOut",
              WSMAN_FAULT.operationTimedOut,
              "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ",
              host,
            );
          }
        }
        const out = consoleStreams(p, ownShell.codepage).stdout(p.stdout.take(CHUNK));
        const err = consoleStreams(p, ownShell.codepage).stderr(p.stderr.take(CHUNK));
        const finished = p.exitCode !== null && p.stdout.length === 0 && p.stderr.length === 0;
        const end = finished ? ` End="true"` : "";
        let xmlOut = `<rsp:ReceiveResponse>`;
        xmlOut += `<rsp:Stream Name="stdout" CommandId="${id}"${out.length === 0 ? end : ""}>${out.toString("base64")}</rsp:Stream>`;
        xmlOut += `<rsp:Stream Name="stderr" CommandId="${id}"${err.length === 0 ? end : ""}>${err.toString("base64")}</rsp:Stream>`;
        if (finished) {
          // WinRM reports the exit code as a signed 32-bit value.
          const code = p.exitCode! > 0x7fffffff ? p.exitCode! - 0x100000000 : p.exitCode!;
          xmlOut += `<rsp:CommandState CommandId="${id}" State="${COMMAND_STATE_DONE}"><rsp:ExitCode>${code}</rsp:ExitCode></rsp:CommandState>`;
          ownShell.commands.delete(id);
        } else {
          xmlOut += `<rsp:CommandState CommandId="${id}" State="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"></rsp:CommandState>`;
        }
        xmlOut += `</rsp:ReceiveResponse>`;
        return ok(action, messageId, xmlOut);
      }
      default:
        return fault(messageId, "s:Sender", "a:ActionNotSupported", 2150858754, `The action ${action} is not supported by the service.`, host);
    }
  }
}

/** Command ids are GUIDs, which WinRM compares without regard to case. */
function commandId(el: XmlElement | undefined): string {
  return String(xmlAttr(el, "CommandId")).toUpperCase();
}

function header(action: string, relatesTo: string): string {
  return (
    `<s:Header><a:Action>${escapeXml(action)}</a:Action><a:MessageID>uuid:${randomUUID().toUpperCase()}</a:MessageID>` +
    `<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To><a:RelatesTo>${escapeXml(relatesTo)}</a:RelatesTo></s:Header>`
  );
}

const ENVELOPE_OPEN = `<s:Envelope xml:lang="en-US" xmlns:s="${NS.soap}" xmlns:a="${NS.wsa}" xmlns:w="${NS.wsman}" xmlns:rsp="${NS.shell}" xmlns:p="${NS.msWsman}">`;

function ok(action: string, relatesTo: string, body: string): { status: number; xml: string } {
  return { status: 200, xml: `${ENVELOPE_OPEN}${header(`${action}Response`, relatesTo)}<s:Body>${body}</s:Body></s:Envelope>` };
}

function fault(relatesTo: string, code: string, subcode: string, wsmanCode: number, message: string, machine: string): { status: number; xml: string } {
  return {
    status: 500,
    xml:
      `${ENVELOPE_OPEN}${header("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relatesTo)}<s:Body><s:Fault>` +
      `<s:Code><s:Value>${code}</s:Value><s:Subcode><s:Value>${subcode}</s:Value></s:Subcode></s:Code>` +
      `<s:Reason><s:Text xml:lang="en-US">${escapeXml(message)}</s:Text></s:Reason>` +
      `<s:Detail><f:WSManFault xmlns:f="${NS.wsmanFault}" Code="${wsmanCode}" Machine="${escapeXml(machine)}"><f:Message>${escapeXml(message)}</f:Message></f:WSManFault></s:Detail>` +
      `</s:Fault></s:Body></s:Envelope>`,
  };
}

function readBody(req: http.IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
