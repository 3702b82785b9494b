// The HTTP layer of the WinRM client: one keep-alive connection per session, Basic or NTLM
// authentication, certificate checks and pinning, and NTLM message sealing over plain HTTP.
//
// Authentication:
// - Basic: only over HTTPS. Over HTTP the password would cross the network in clear text (and
//   WinRM refuses it anyway unless AllowUnencrypted is set), so we refuse before connecting.
// - NTLM (NTLMv2, via the "Negotiate" HTTP scheme, which is how WinRM accepts NTLM tokens): the
//   handshake runs on an empty POST, and the authenticated TCP connection is reused (keep-alive,
//   one socket per session) because NTLM authenticates the connection, not the request.
//   Over HTTPS the NTLM response carries the TLS channel binding (RFC 5929 tls-server-end-point),
//   which WinRM requires when CbtHardeningLevel is Strict.
//   Over HTTP every message is sealed with the NTLM session keys (multipart/encrypted,
//   "application/HTTP-SPNEGO-session-encrypted"), as WinRM requires unless AllowUnencrypted is
//   set. Unencrypted success responses over HTTP are rejected.
//
// TLS: certificates are validated against the system CAs or a given CA by default. For
// self-signed listeners (the default `winrm quickconfig -transport:https` setup) pin the
// certificate thumbprint instead: SHA-1 (40 hex digits, what Windows shows as "Thumbprint")
// or SHA-256 (64 hex digits). When pinned, only that exact certificate is accepted, and it is
// checked before a single byte of the request (or a credential) is sent.

import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import { checkTransportTarget, type TargetCheckOptions } from "../target";
import { createAuthenticate, encodeNegotiate, NtlmError, type NtlmSession } from "../ntlm";
import { AuthError, HostKeyMismatchError, RemoteTimeoutError, TransportError } from "../types";
import { certificateBindingHash, normalizeThumbprint } from "./certificate";
import { sanitize } from "./soap";

export type WinRmAuth =
  | { kind: "basic"; username: string; password: string }
  /** username may be "DOMAIN\\user"; a local account needs no domain. */
  | { kind: "ntlm"; username: string; password: string; domain?: string };

export interface WinRmTlsOptions {
  /** PEM CA certificate(s) to trust instead of the system store. */
  ca?: string | Buffer | Array<string | Buffer>;
  caFile?: string;
  /** Pinned certificate thumbprint: SHA-1 (40 hex, Windows' "Thumbprint") or SHA-256 (64 hex);
   *  colons and spaces are ignored. When set, only this certificate is accepted. */
  thumbprint?: string;
  /** Name to verify the certificate against (and send as SNI) when it differs from `host`. */
  serverName?: string;
  /** Lowest TLS version for the management channel; default TLSv1.2. A host that still needs the
   *  fix may only speak TLS 1.0/1.1 on 5986 too (HTTP.sys uses SCHANNEL): lower it explicitly for
   *  such hosts, preferably together with a pinned thumbprint, or use HTTP with NTLM sealing. */
  minVersion?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3";
}

export interface WinRmOptions extends TargetCheckOptions {
  host: string;
  /** Default 5986 for https, 5985 for http. */
  port?: number;
  transport: "https" | "http";
  auth: WinRmAuth;
  /** For messages; default "host:port". */
  hostLabel?: string;
  tls?: WinRmTlsOptions;
  /** Per-Receive wait on the server (WS-Man OperationTimeout). Default 20 s. */
  operationTimeoutSec?: number;
  connectTimeoutMs?: number;
  /** Cap on one HTTP response body. Default 4 MiB (we ask for 512 kB envelopes). */
  maxResponseBytes?: number;
  path?: string;
  locale?: string;
  // allowList, resolver, denyList (TargetCheckOptions): the host is resolved once per session,
  // every address is checked, and every connection goes to that checked address; the name stays
  // in the Host header and the TLS server name.
}

interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  authenticate: string[];
  body: Buffer;
  socket: Duplex;
}

const ENCRYPTED_BOUNDARY = "Encrypted Boundary";
const ENCRYPTED_PROTOCOL = "application/HTTP-SPNEGO-session-encrypted";

type ConnectCallback = (err: Error | null, socket: Duplex) => void;

/**
 * Makes `agent` get every connection from `open`, which makes (and verifies) it before the HTTP
 * layer may write. The agent itself stays an http or an https one: https.request refuses an agent
 * of the other protocol.
 */
function connectingThrough<A extends http.Agent>(agent: A, open: (cb: ConnectCallback) => void): A {
  agent.createConnection = (_o: unknown, cb?: ConnectCallback): Duplex | null | undefined => {
    open(cb!);
    return undefined;
  };
  return agent;
}

export class WsmanHttp {
  private readonly agent: http.Agent;
  private readonly secure: boolean;
  private ntlm: { session: NtlmSession | null; socket: Duplex } | null = null;
  private readonly pin: { algorithm: "sha1" | "sha256"; hex: string } | null;

  constructor(
    private readonly opts: WinRmOptions & { port: number; path: string },
    private readonly hostLabel: string,
  ) {
    this.secure = opts.transport === "https";
    const pinRaw = opts.tls?.thumbprint;
    this.pin = pinRaw === undefined ? null : normalizeThumbprint(pinRaw);
    if (pinRaw !== undefined && !this.pin) {
      throw new TransportError(hostLabel, `The pinned WinRM thumbprint for ${hostLabel} is neither a SHA-1 (40 hex digits) nor a SHA-256 (64 hex digits) fingerprint.`, {
        code: "config",
      });
    }
    const connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    // One socket per session: NTLM authenticates the TCP connection, and WinRM's HTTP message
    // encryption keeps sequence numbers per connection.
    const agentOpts = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1 };
    if (this.secure) {
      let ca: Array<string | Buffer> | undefined;
      if (opts.tls?.caFile) ca = [readFileSync(opts.tls.caFile)];
      if (opts.tls?.ca) ca = [...(ca ?? []), ...(Array.isArray(opts.tls.ca) ? opts.tls.ca : [opts.tls.ca])];
      const minVersion = opts.tls?.minVersion ?? "TLSv1.2";
      this.agent = connectingThrough(new https.Agent(agentOpts), (cb) => this.connectTls(ca, minVersion, connectTimeoutMs, cb));
    } else {
      this.agent = connectingThrough(new http.Agent(agentOpts), (cb) => this.connectPlain(connectTimeoutMs, cb));
    }
  }

  private checked: Promise<string> | null = null;

  /** The address to connect to, resolved and checked once per session (every reconnect of this
   *  session goes to the same checked address); throws when the host is not an allowed target. */
  private resolveAllowed(): Promise<string> {
    this.checked ??= checkTransportTarget(this.opts.host, this.hostLabel, this.opts, this.opts.connectTimeoutMs ?? 10_000).then((t) => t.address);
    return this.checked;
  }

  private connectPlain(timeoutMs: number, cb: (err: Error | null, s: Duplex) => void): void {
    this.resolveAllowed().then(
      (address) => this.connectPlainTo(address, timeoutMs, cb),
      (e: unknown) => cb(e instanceof TransportError ? e : this.connectError("ENOTFOUND", e), new net.Socket()),
    );
  }

  private connectPlainTo(address: string, timeoutMs: number, cb: (err: Error | null, s: Duplex) => void): void {
    let done = false;
    const finish = (err: Error | null, s: Duplex) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cb(err, s);
    };
    const socket = net.connect({ host: address, port: this.opts.port });
    const timer = setTimeout(() => {
      socket.destroy();
      finish(this.connectError("ETIMEDOUT"), socket);
    }, timeoutMs);
    socket.once("connect", () => finish(null, socket));
    socket.once("error", (e: NodeJS.ErrnoException) => finish(this.connectError(e.code ?? e.message, e), socket));
  }

  /** Opens the TLS connection and checks the certificate (CA or pin) before handing the socket
   *  to the HTTP layer, so nothing is ever written to an unverified peer. */
  private connectTls(
    ca: Array<string | Buffer> | undefined,
    minVersion: tls.SecureVersion,
    timeoutMs: number,
    cb: (err: Error | null, s: Duplex) => void,
  ): void {
    this.resolveAllowed().then(
      (address) => this.connectTlsTo(address, ca, minVersion, timeoutMs, cb),
      (e: unknown) => cb(e instanceof TransportError ? e : this.connectError("ENOTFOUND", e), new net.Socket()),
    );
  }

  private connectTlsTo(
    address: string,
    ca: Array<string | Buffer> | undefined,
    minVersion: tls.SecureVersion,
    timeoutMs: number,
    cb: (err: Error | null, s: Duplex) => void,
  ): void {
    let done = false;
    const finish = (err: Error | null, s: Duplex) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) s.destroy();
      cb(err, s);
    };
    const servername = this.opts.tls?.serverName ?? (net.isIP(this.opts.host) ? undefined : this.opts.host);
    const legacy = minVersion === "TLSv1" || minVersion === "TLSv1.1";
    const socket = tls.connect({
      host: address,
      port: this.opts.port,
      servername,
      ca,
      minVersion,
      // OpenSSL 3 only negotiates TLS 1.0/1.1 at security level 0 (docs/domain.md "What the library allows").
      ciphers: legacy ? "ALL:@SECLEVEL=0" : undefined,
      // With a pin we verify ourselves (the certificate is usually self-signed); otherwise the
      // normal CA + host name verification applies and failures abort the handshake.
      rejectUnauthorized: this.pin === null,
    });
    const timer = setTimeout(() => finish(this.connectError("ETIMEDOUT"), socket), timeoutMs);
    socket.once("secureConnect", () => {
      if (this.pin) {
        const cert = socket.getPeerX509Certificate();
        const actual = cert ? (this.pin.algorithm === "sha1" ? cert.fingerprint : cert.fingerprint256).replace(/:/g, "").toLowerCase() : "none";
        if (actual !== this.pin.hex) {
          finish(new HostKeyMismatchError(this.hostLabel, "tls-certificate", this.pin.hex.toUpperCase(), actual.toUpperCase()), socket);
          return;
        }
      } else if (!socket.authorized) {
        finish(this.certError(String(socket.authorizationError)), socket);
        return;
      }
      finish(null, socket);
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|ERR_TLS_CERT/.test(e.code)) finish(this.certError(e.code, e), socket);
      else finish(this.connectError(e.code ?? e.message, e), socket);
    });
  }

  private certError(reason: string, cause?: unknown): TransportError {
    return new TransportError(
      this.hostLabel,
      `The WinRM certificate of ${this.hostLabel} is not trusted (${reason}). Nothing was sent. ` +
        `For a self-signed listener pin its thumbprint (Get-ChildItem Cert:\\LocalMachine\\My) in Settings > Hosts, or provide the issuing CA.`,
      { code: "certificate", cause },
    );
  }

  private connectError(reason: string, cause?: unknown): TransportError {
    const where = `${this.opts.transport.toUpperCase()} ${this.opts.host}:${this.opts.port}`;
    if (/protocol version|unsupported protocol|wrong version number|no protocols available|ERR_SSL_UNSUPPORTED_PROTOCOL|TLSV1_ALERT_PROTOCOL_VERSION/i.test(`${reason} ${(cause as Error | undefined)?.message ?? ""}`)) {
      return new TransportError(
        this.hostLabel,
        `WinRM on ${where} offers no TLS version we accept: the host probably still speaks only TLS 1.0/1.1 ` +
          `(the problem this tool fixes, which affects its WinRM listener too). Use WinRM over HTTP with NTLM, or allow legacy TLS for this host's management connection.`,
        { code: "connect", cause },
      );
    }
    const hint =
      reason === "ECONNREFUSED"
        ? "connection refused: is the WinRM listener enabled (winrm quickconfig) and the port open?"
        : reason === "ETIMEDOUT"
          ? "no answer: check routing and firewalls"
          : reason;
    return new TransportError(this.hostLabel, `Cannot reach WinRM on ${where} (${hint}).`, { code: "connect", cause });
  }

  /** One HTTP POST. Resolves with any status; rejects only on transport failures. */
  private send(headers: Record<string, string>, body: Buffer, timeoutMs: number): Promise<HttpResponse> {
    const maxBytes = this.opts.maxResponseBytes ?? 4 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const mod = this.secure ? https : http;
      let socket: Duplex | null = null;
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(e);
      };
      const req = mod.request({
        host: this.opts.host,
        port: this.opts.port,
        path: this.opts.path,
        method: "POST",
        agent: this.agent,
        headers: { ...headers, "Content-Length": String(body.length), "User-Agent": "tlsfleet WinRM client" },
      });
      const timer = setTimeout(() => {
        req.destroy();
        fail(new RemoteTimeoutError(this.hostLabel, timeoutMs, "A WinRM request"));
      }, timeoutMs);
      req.on("socket", (s) => (socket = s));
      req.on("error", (e: NodeJS.ErrnoException) => fail(e instanceof TransportError ? e : this.connectError(e.code ?? e.message, e)));
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) {
            req.destroy();
            fail(new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a response larger than ${maxBytes} bytes; the connection was closed.`, { code: "protocol" }));
            return;
          }
          chunks.push(c);
        });
        res.on("error", (e) => fail(this.connectError(e.message, e)));
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            authenticate: res.headersDistinct["www-authenticate"] ?? [],
            body: Buffer.concat(chunks),
            socket: socket!,
          });
        });
      });
      req.end(body);
    });
  }

  private basicHeader(): string {
    const a = this.opts.auth;
    return `Basic ${Buffer.from(`${a.username}:${a.password}`, "utf8").toString("base64")}`;
  }

  /** NTLM handshake on empty POSTs; leaves an authenticated keep-alive connection behind. */
  private async ntlmHandshake(timeoutMs: number): Promise<void> {
    const auth = this.opts.auth;
    if (auth.kind !== "ntlm") throw new Error("unreachable");
    this.ntlm = null;
    for (let attempt = 0; attempt < 2; attempt++) {
      const negotiate = encodeNegotiate();
      const r1 = await this.send({ Authorization: `Negotiate ${negotiate.toString("base64")}` }, Buffer.alloc(0), timeoutMs);
      const token = r1.authenticate
        .map((h) => /^(?:Negotiate|NTLM)\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h)?.[1])
        .find((t): t is string => t !== undefined);
      if (r1.status !== 401 || !token) {
        if (r1.status === 401) {
          throw new AuthError(this.hostLabel, `WinRM does not offer Negotiate/NTLM authentication (it offers: ${sanitize(r1.authenticate.join(", ") || "nothing", 120)})`);
        }
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered HTTP ${r1.status} to the NTLM negotiation.`, { code: "protocol" });
      }
      let result;
      try {
        const tlsSocket = r1.socket as tls.TLSSocket;
        const der = this.secure ? tlsSocket.getPeerX509Certificate?.()?.raw : undefined;
        result = createAuthenticate({ username: auth.username, password: auth.password, domain: auth.domain }, negotiate, Buffer.from(token, "base64"), {
          certificateHash: der ? certificateBindingHash(der) : undefined,
          targetSpn: `HTTP/${this.opts.host}`,
        });
      } catch (e) {
        if (e instanceof NtlmError) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent an unusable NTLM challenge: ${e.message}.`, { code: "protocol", cause: e });
        throw e;
      }
      const r2 = await this.send({ Authorization: `Negotiate ${result.authenticate.toString("base64")}` }, Buffer.alloc(0), timeoutMs);
      if (r2.socket !== r1.socket) continue; // the server closed the connection mid-handshake: start over
      if (r2.status === 401) throw new AuthError(this.hostLabel, "NTLM authentication failed (wrong user name or password, or the account may not use WinRM)");
      if (r2.status !== 200) {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered HTTP ${r2.status} to NTLM authentication.`, { code: "protocol" });
      }
      this.ntlm = { session: this.secure ? null : result.session, socket: r1.socket };
      return;
    }
    throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} kept closing the connection during NTLM authentication.`, { code: "protocol" });
  }

  private seal(session: NtlmSession, xml: Buffer): Buffer {
    const { signature, sealed } = session.seal(xml);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(signature.length);
    return Buffer.concat([
      Buffer.from(
        `--${ENCRYPTED_BOUNDARY}\r\n\tContent-Type: ${ENCRYPTED_PROTOCOL}\r\n` +
          `\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=${xml.length}\r\n` +
          `--${ENCRYPTED_BOUNDARY}\r\n\tContent-Type: application/octet-stream\r\n`,
        "latin1",
      ),
      len,
      signature,
      sealed,
      Buffer.from(`--${ENCRYPTED_BOUNDARY}--\r\n`, "latin1"),
    ]);
  }

  private unseal(session: NtlmSession, body: Buffer): Buffer {
    const header = body.subarray(0, Math.min(body.length, 1024)).toString("latin1");
    const m = /OriginalContent:\s*type=[^;\r\n]*;charset=UTF-8;Length=(\d{1,9})\r\n/i.exec(header);
    const marker = "Content-Type: application/octet-stream\r\n";
    const at = header.indexOf(marker, m ? m.index : 0);
    if (!m || at < 0) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a malformed encrypted message.`, { code: "protocol" });
    const length = Number(m[1]);
    const start = at + marker.length;
    if (start + 4 > body.length) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a truncated encrypted message.`, { code: "protocol" });
    const sigLen = body.readUInt32LE(start);
    if (sigLen !== 16 || start + 4 + sigLen + length > body.length) {
      throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent a truncated encrypted message.`, { code: "protocol" });
    }
    const signature = body.subarray(start + 4, start + 4 + sigLen);
    const sealed = body.subarray(start + 4 + sigLen, start + 4 + sigLen + length);
    try {
      return session.unseal(signature, sealed);
    } catch (e) {
      throw new TransportError(this.hostLabel, `A WinRM message from ${this.hostLabel} failed its NTLM integrity check; the session was dropped.`, {
        code: "protocol",
        cause: e,
      });
    }
  }

  /** Sends one SOAP envelope and returns the answer's XML text (decrypted when sealed), for any
   *  HTTP status that carries SOAP (200, or 500 with a fault). */
  async post(xml: string, timeoutMs: number): Promise<{ text: string; trusted: boolean }> {
    const auth = this.opts.auth;
    const payload = Buffer.from(xml, "utf8");
    for (let attempt = 0; attempt < 2; attempt++) {
      let headers: Record<string, string>;
      let body: Buffer;
      let session: NtlmSession | null = null;
      if (auth.kind === "basic") {
        headers = { Authorization: this.basicHeader(), "Content-Type": "application/soap+xml;charset=UTF-8" };
        body = payload;
      } else {
        if (!this.ntlm || (this.ntlm.socket as net.Socket).destroyed) await this.ntlmHandshake(timeoutMs);
        session = this.ntlm!.session;
        if (session) {
          headers = { "Content-Type": `multipart/encrypted;protocol="${ENCRYPTED_PROTOCOL}";boundary="${ENCRYPTED_BOUNDARY}"` };
          body = this.seal(session, payload);
        } else {
          headers = { "Content-Type": "application/soap+xml;charset=UTF-8" };
          body = payload;
        }
      }
      const r = await this.send(headers, body, timeoutMs);
      if (r.status === 401) {
        if (auth.kind === "basic") throw new AuthError(this.hostLabel, "Basic authentication failed (wrong user name or password, or Basic is disabled in the WinRM service)");
        // The authenticated connection was replaced (server restart, idle close): authenticate
        // again once. The server did not process the message, so resending is safe.
        this.ntlm = null;
        if (attempt === 0) continue;
        throw new AuthError(this.hostLabel, "NTLM authentication was not accepted for the request");
      }
      const contentType = String(r.headers["content-type"] ?? "");
      let text: string;
      let encrypted = session !== null;
      if (/^multipart\/encrypted/i.test(contentType)) {
        if (!session) throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} sent an encrypted answer on an unencrypted session.`, { code: "protocol" });
        text = this.unseal(session, r.body).toString("utf8");
      } else if (/^application\/soap\+xml/i.test(contentType)) {
        text = r.body.toString("utf8");
        encrypted = false;
      } else if (r.body.length === 0) {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered HTTP ${r.status} with no content.`, { code: "protocol" });
      } else {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered HTTP ${r.status} with unexpected content (${sanitize(contentType, 80)}).`, {
          code: "protocol",
        });
      }
      if (r.status !== 200 && r.status !== 500 && r.status !== 400) {
        throw new TransportError(this.hostLabel, `WinRM on ${this.hostLabel} answered HTTP ${r.status}.`, { code: "protocol" });
      }
      // Over HTTP an unencrypted answer may only be a fault (which ends the operation anyway): a
      // forged success could otherwise be injected by anyone on the path. call() checks that.
      return { text, trusted: encrypted || session === null };
    }
    throw new Error("unreachable");
  }

  destroy(): void {
    this.agent.destroy();
    this.ntlm = null;
  }
}
